/** Record batches for the bench's producers. */
import type { OutgoingRecord, PartitionBatch } from '../../src/kafka/types.ts'

/**
 * Records `first` .. `first + count - 1` (record i from `recordAt(i)`) on partition i mod `partitions`, one batch per
 * partition.
 */
export function roundRobinBatches(
  topic: string,
  partitions: number,
  first: number,
  count: number,
  recordAt: (i: number) => OutgoingRecord
): PartitionBatch[] {
  const byPartition = new Map<number, OutgoingRecord[]>()
  for (let i = first; i < first + count; i++) {
    const partition = i % partitions
    let records = byPartition.get(partition)
    if (records === undefined) byPartition.set(partition, (records = []))
    records.push(recordAt(i))
  }
  return [...byPartition].map(([partition, records]) => ({ topic, partition, records }))
}
