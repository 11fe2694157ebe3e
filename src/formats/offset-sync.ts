/**
 * OffsetSync records of the `mm2-offset-syncs.<alias>.internal` topic (OffsetSync): one
 * (upstream offset, downstream offset) pair for a source topic-partition, written by the source
 * task and read by the checkpoint task to translate consumer group offsets.
 *
 * Invariants: no version header in key or value; the value is always 16 bytes; decoding ignores
 * trailing bytes and throws FormatError on truncated or null input.
 */
import type { Buffer } from 'node:buffer'
import { StructReader, StructWriter } from './struct.ts'

export interface OffsetSync {
  /** The topic name on the source cluster (not renamed). */
  readonly topic: string
  readonly partition: number
  /** Offset of a record on the source. */
  readonly upstreamOffset: bigint
  /** Offset at which that same record was written on the target. */
  readonly downstreamOffset: bigint
}

/**
 * Key layout:
 *   topic      STRING  (INT16 length + UTF-8)
 *   partition  INT32
 * e.g. orders/3 -> 00 06 6f 72 64 65 72 73 | 00 00 00 03
 */
export function encodeOffsetSyncKey(sync: Pick<OffsetSync, 'topic' | 'partition'>): Buffer {
  return new StructWriter('OffsetSync key').string('topic', sync.topic).int32('partition', sync.partition).toBuffer()
}

/**
 * Value layout (16 bytes, no version header):
 *   upstreamOffset  INT64
 *   offset          INT64  (the downstream offset)
 * e.g. 1000/990 -> 00 00 00 00 00 00 03 e8 | 00 00 00 00 00 00 03 de
 */
export function encodeOffsetSyncValue(sync: Pick<OffsetSync, 'upstreamOffset' | 'downstreamOffset'>): Buffer {
  return new StructWriter('OffsetSync value')
    .int64('upstreamOffset', sync.upstreamOffset)
    .int64('offset', sync.downstreamOffset)
    .toBuffer()
}

export function encodeOffsetSync(sync: OffsetSync): { key: Buffer; value: Buffer } {
  return { key: encodeOffsetSyncKey(sync), value: encodeOffsetSyncValue(sync) }
}

export function decodeOffsetSync(key: Uint8Array | null | undefined, value: Uint8Array | null | undefined): OffsetSync {
  const k = new StructReader('OffsetSync key', key)
  const topic = k.string('topic')
  const partition = k.int32('partition')
  const v = new StructReader('OffsetSync value', value)
  const upstreamOffset = v.int64('upstreamOffset')
  const downstreamOffset = v.int64('offset')
  return { topic, partition, upstreamOffset, downstreamOffset }
}

/** Java's `OffsetSync.toString()` (what the console OffsetSyncFormatter prints). */
export function formatOffsetSync(s: OffsetSync): string {
  return `OffsetSync{topicPartition=${s.topic}-${s.partition}, upstreamOffset=${s.upstreamOffset}, downstreamOffset=${s.downstreamOffset}}`
}
