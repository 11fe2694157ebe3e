/**
 * Reads a whole topic once: every partition from its earliest offset to the end offset it had
 * when the read started. Loads compacted state topics (stored positions) and is what tests read
 * remote topics back with.
 */
import type { ClientConfig } from '../config/model.ts'
import type { KafkaAdmin } from './admin.ts'
import { PartitionReader } from './partition-reader.ts'
import { type ConsumedRecord, tpKey } from './types.ts'

/**
 * Records ordered by partition, then offset; undefined when the topic does not exist.
 * `readerConfig` may set `isolation.level` (read_committed by default). `last`: only the last N
 * offsets of each partition (a tail, e.g. the newest heartbeats). `committedOnly`: read up to the
 * last stable offset instead of the high watermark, so transactions still open are not waited for
 * (their records are not read either).
 */
export async function readTopic(
  admin: KafkaAdmin,
  readerConfig: ClientConfig,
  topic: string,
  clientId: string,
  opts: { timeoutMs?: number; last?: number; committedOnly?: boolean } = {}
): Promise<ConsumedRecord[] | undefined> {
  const description = (await admin.describeTopics([topic])).get(topic)
  if (description === undefined) return undefined
  const partitions = Array.from({ length: description.partitions }, (_, partition) => ({ topic, partition }))
  const [start, end] = await Promise.all([
    admin.listOffsets(partitions, 'earliest'),
    admin.listOffsets(partitions, 'latest', { committedOnly: opts.committedOnly === true })
  ])
  const endOf = (partition: number): bigint => end.get(tpKey(topic, partition)) ?? 0n
  const reader = new PartitionReader(readerConfig, clientId, { maxWaitMs: 100 })
  const byPartition: ConsumedRecord[][] = partitions.map(() => [])
  try {
    for (const { partition } of partitions) {
      const earliest = start.get(tpKey(topic, partition)) ?? 0n
      const tail = opts.last === undefined ? earliest : endOf(partition) - BigInt(opts.last)
      const from = tail > earliest ? tail : earliest
      if (from < endOf(partition)) reader.seek(topic, partition, from)
    }
    const deadline = Date.now() + (opts.timeoutMs ?? 60_000)
    while (reader.assigned().length > 0) {
      if (Date.now() > deadline)
        throw new Error(
          `reading ${topic} on cluster ${readerConfig.cluster} did not reach its end offsets in ${opts.timeoutMs ?? 60_000} ms`
        )
      const round = await reader.poll()
      for (const e of round.events) {
        if (e.kind !== 'error' || !e.error.retriable)
          throw new Error(
            `reading ${topic} on cluster ${readerConfig.cluster}: ${e.kind}${'error' in e ? ` (${e.error.message})` : ''}`
          )
      }
      for (const records of round.records.values()) for (const r of records) byPartition[r.partition]?.push(r)
      for (const { partition } of reader.assigned()) {
        if ((reader.position(topic, partition) ?? 0n) >= endOf(partition)) reader.remove(topic, partition)
      }
    }
    return byPartition.flat()
  } finally {
    await reader.close()
  }
}
