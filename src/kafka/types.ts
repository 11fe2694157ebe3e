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

export interface RecordToSend {
  readonly topic: string
  readonly partition: number
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: readonly Header[]
  readonly timestamp?: bigint
}

export function tpKey (topic: string, partition: number): string {
  return `${topic}:${partition}`
}
