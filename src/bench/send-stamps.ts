/**
 * The send times of stamped records (stampedValue: the first 8 bytes of the value), read straight
 * from a fetched record batch.
 *
 * Why not decode: a latency reader at 270,000 records/s decodes every record into objects (a
 * BigInt timestamp each, key, value and header views) on the machine whose latency it measures;
 * with a second such reader for the source side, the bench process fell seconds behind (one run,
 * 4 December). An uncompressed v2 batch lays its records out one after the other (length,
 * attributes, timestamp delta, offset delta, key, value, headers; DefaultRecord in Apache
 * Kafka), so the stamp is found by skipping a few varints. A compressed batch is decoded as usual.
 */
import { decodeBatch, type RawBatch } from '../kafka/record-batch.ts'

// DefaultRecordBatch: where the records start, and the records count field.
const RECORDS_OFFSET = 61
const RECORDS_COUNT_OFFSET = 57

/**
 * Send times (epoch ms) of the batch's records at offsets `from` and after, in order; records
 * without a stamp (a null value or one shorter than 8 bytes) are left out.
 */
export function sendStamps(batch: RawBatch, from: bigint): number[] {
  if (batch.codec !== 'none' || batch.logAppendTime) return decodedStamps(batch, from)
  const bytes = Buffer.isBuffer(batch.bytes) ? batch.bytes : Buffer.concat(batch.bytes)
  const count = bytes.readInt32BE(RECORDS_COUNT_OFFSET)
  const firstDelta = from > batch.baseOffset ? Number(from - batch.baseOffset) : 0
  const stamps: number[] = []
  const at = { pos: RECORDS_OFFSET }
  for (let i = 0; i < count; i++) {
    const length = readVarint(bytes, at)
    const next = at.pos + length
    at.pos += 1 // attributes
    skipVarint(bytes, at) // timestamp delta (a varlong)
    const offsetDelta = readVarint(bytes, at)
    const keyLength = readVarint(bytes, at)
    if (keyLength > 0) at.pos += keyLength
    const valueLength = readVarint(bytes, at)
    if (offsetDelta >= firstDelta && valueLength >= 8) stamps.push(Number(bytes.readBigInt64BE(at.pos)))
    at.pos = next
  }
  return stamps
}

function decodedStamps(batch: RawBatch, from: bigint): number[] {
  const stamps: number[] = []
  for (const r of decodeBatch(batch))
    if (r.offset >= from && r.value !== null && r.value.length >= 8) stamps.push(Number(r.value.readBigInt64BE(0)))
  return stamps
}

/** A zigzag varint (Kafka's ByteUtils.readVarint) at `at.pos`, which moves past it. */
function readVarint(bytes: Buffer, at: { pos: number }): number {
  let raw = 0
  let shift = 0
  let b: number
  do {
    b = bytes[at.pos++] ?? 0
    raw += (b & 0x7f) * 2 ** shift
    shift += 7
  } while (b & 0x80 && shift < 35)
  return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2
}

function skipVarint(bytes: Buffer, at: { pos: number }): void {
  let b: number
  do b = bytes[at.pos++] ?? 0
  while (b & 0x80)
}
