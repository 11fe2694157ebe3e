/**
 * What one unit of a partition's copy carries (PartitionProgress's payload in the copier), and
 * the rule for joining queued units into one send. Pure: no I/O.
 *
 * Why join: a partition has one send in flight at a time, and every fetch cuts its own units.
 * When small fetches come faster than sends are acknowledged (a steady trickle, a target slowed
 * for a moment), each would wait a round trip behind the one before: at 20,000 records/s the
 * last of 20 queued units waited most of a second. A Kafka producer fills its next batch while
 * one is in flight; joining the queued units before a send does the same here.
 */
import type { BatchBytes, DecodedRecord, RawBatch } from '../kafka/record-batch.ts'
import type { Unit } from './partition-progress.ts'

/** What a unit carries: one raw batch, source batches for the record path, or nothing (markers, aborted records). */
export interface Payload {
  readonly kind: 'raw' | 'records' | 'skip'
  readonly batches: readonly RawBatch[]
  /** Set once decoded (record path) or given (a narrowed-down unit). */
  records?: readonly DecodedRecord[]
  /** Set once encoded, kept for a retry. */
  encoded?: BatchBytes
}

export type CopyUnit = Unit<Payload>

/**
 * An uncompressed raw batch smaller than this is joined with its queued neighbours into one
 * record-path unit: re-encoding a few small batches costs less than a round trip each. A
 * compressed one, or a larger one (a producer's big batches, a backlog), stays raw, one per send
 * (a produce request takes one batch per partition): copied as bytes, it costs almost nothing.
 */
export const RAW_JOIN_MAX_BYTES = 64 * 1024

/**
 * Whether a unit may be joined with its neighbours: not yet decoded, encoded or narrowed down, and
 * not a raw batch worth keeping raw.
 */
export function joinable(u: CopyUnit): boolean {
  const p = u.payload
  if (p.records !== undefined || p.encoded !== undefined) return false
  if (p.kind !== 'raw') return true
  const b = p.batches[0]
  return b !== undefined && b.codec === 'none' && b.size < RAW_JOIN_MAX_BYTES
}

/**
 * Two contiguous units as one record-path unit of at most `maxBytes` (the producer's batch
 * size), or undefined when either must keep its own send or both would not fit. The result is
 * what one larger fetch would have cut: the batches of both (a batch in both is kept once), the
 * offsets of both; the record path decodes only the records inside [first, next).
 */
export function joinUnits(head: CopyUnit, following: CopyUnit, maxBytes: number): CopyUnit | undefined {
  if (!joinable(head) || !joinable(following)) return undefined
  const bytes = head.bytes + following.bytes
  if (bytes > maxBytes) return undefined
  const batches = [...head.payload.batches]
  for (const b of following.payload.batches) if (batches.at(-1)?.baseOffset !== b.baseOffset) batches.push(b)
  const empty = head.empty && following.empty
  return {
    first: head.first,
    next: following.next,
    bytes,
    empty,
    payload: { kind: empty ? 'skip' : 'records', batches }
  }
}
