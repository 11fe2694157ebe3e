/** Record and partition shapes shared by the Kafka adapters and the rest of the code. */

export interface TopicPartition {
  readonly topic: string
  readonly partition: number
}

export type Header = readonly [key: Buffer, value: Buffer | null]

/** A record as read from a source partition, with the timestamp the broker reports for it. */
export interface ConsumedRecord {
  readonly topic: string
  readonly partition: number
  readonly offset: bigint
  /** CreateTime, or the broker's append time when the topic uses LogAppendTime. */
  readonly timestamp: bigint
  readonly key: Buffer | null
  readonly value: Buffer | null
  /** All headers in order, duplicates and null values kept. */
  readonly headers: readonly Header[]
}

/** What a record to produce needs; a ConsumedRecord is one, so the copier passes them as they are. */
export interface OutgoingRecord {
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: readonly Header[]
  readonly timestamp?: bigint
}

/** Records for one partition, written contiguously in this order. */
export interface PartitionBatch {
  readonly topic: string
  readonly partition: number
  readonly records: readonly OutgoingRecord[]
}

export function tpKey(topic: string, partition: number): string {
  return `${topic}:${partition}`
}
