/**
 * Checkpoint records of the `<S>.checkpoints.internal` topic on the target (Checkpoint): a
 * consumer group's source offset and its translation on the target, per renamed topic-partition.
 *
 * Invariants:
 * - The value starts with an INT16 version header; we always write version 0.
 * - Readers read the version and then the v0 layout whatever the version says (Java only asserts
 *   version == 0, and asserts are off in production). Trailing bytes are ignored.
 * - Java MM2 sets no record headers on checkpoint records (nor on heartbeats or offset syncs), so
 *   there is nothing to add besides key and value; records go to partition 0.
 */
import type { Buffer } from 'node:buffer'
import { StructReader, StructWriter } from './struct.ts'

export const CHECKPOINT_VERSION = 0

export interface Checkpoint {
  readonly group: string
  /** The target-side (renamed) topic, e.g. `A.orders`. */
  readonly topic: string
  readonly partition: number
  /** The group's committed offset on the source. */
  readonly upstreamOffset: bigint
  /** The translated offset on the target. */
  readonly downstreamOffset: bigint
  /** The group's commit metadata, "" if none. */
  readonly metadata: string
}

/**
 * Key layout:
 *   group      STRING
 *   topic      STRING
 *   partition  INT32
 * e.g. g1/A.orders/3 -> 00 02 67 31 | 00 08 41 2e 6f 72 64 65 72 73 | 00 00 00 03
 */
export function encodeCheckpointKey(cp: Pick<Checkpoint, 'group' | 'topic' | 'partition'>): Buffer {
  return new StructWriter('Checkpoint key')
    .string('group', cp.group)
    .string('topic', cp.topic)
    .int32('partition', cp.partition)
    .toBuffer()
}

/**
 * Value layout (header struct, then the v0 struct):
 *   version         INT16  (always 0)
 *   upstreamOffset  INT64
 *   offset          INT64  (the downstream offset)
 *   metadata        STRING
 * e.g. 1000/991/"" -> 00 00 | 00 00 00 00 00 00 03 e8 | 00 00 00 00 00 00 03 df | 00 00
 */
export function encodeCheckpointValue(
  cp: Pick<Checkpoint, 'upstreamOffset' | 'downstreamOffset' | 'metadata'>
): Buffer {
  return new StructWriter('Checkpoint value')
    .int16('version', CHECKPOINT_VERSION)
    .int64('upstreamOffset', cp.upstreamOffset)
    .int64('offset', cp.downstreamOffset)
    .string('metadata', cp.metadata)
    .toBuffer()
}

export function encodeCheckpoint(cp: Checkpoint): { key: Buffer; value: Buffer } {
  return { key: encodeCheckpointKey(cp), value: encodeCheckpointValue(cp) }
}

/** Decodes any version as v0, like Java. Throws FormatError on truncated or null input. */
export function decodeCheckpoint(key: Uint8Array | null | undefined, value: Uint8Array | null | undefined): Checkpoint {
  const k = new StructReader('Checkpoint key', key)
  const group = k.string('group')
  const topic = k.string('topic')
  const partition = k.int32('partition')
  const v = new StructReader('Checkpoint value', value)
  v.int16('version')
  const upstreamOffset = v.int64('upstreamOffset')
  const downstreamOffset = v.int64('offset')
  const metadata = v.string('metadata')
  return { group, topic, partition, upstreamOffset, downstreamOffset, metadata }
}

/** Java's `Checkpoint.toString()` (what the console CheckpointFormatter prints). */
export function formatCheckpoint(c: Checkpoint): string {
  return (
    `Checkpoint{consumerGroupId=${c.group}, topicPartition=${c.topic}-${c.partition}, ` +
    `upstreamOffset=${c.upstreamOffset}, downstreamOffset=${c.downstreamOffset}, metadata=${c.metadata}}`
  )
}
