/**
 * joinUnits: which queued units of a partition are joined into one send (record path) and which
 * keep their own (raw batches worth copying as bytes, units already decoded, narrowed or encoded).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Codec, RawBatch } from '../../../src/kafka/record-batch.ts'
import { type CopyUnit, joinUnits, RAW_JOIN_MAX_BYTES } from '../../../src/source/copy-unit.ts'

function batch(baseOffset: number, count: number, size: number, codec: Codec = 'none'): RawBatch {
  return {
    baseOffset: BigInt(baseOffset),
    lastOffsetDelta: count - 1,
    nextOffset: BigInt(baseOffset + count),
    count,
    magic: 2,
    attributes: 0,
    codec,
    logAppendTime: false,
    transactional: false,
    control: false,
    producerId: -1n,
    baseTimestamp: 0n,
    maxTimestamp: 0n,
    bytes: Buffer.alloc(size),
    size
  }
}

const raw = (b: RawBatch): CopyUnit => ({
  first: b.baseOffset,
  next: b.nextOffset,
  bytes: b.size,
  empty: false,
  payload: { kind: 'raw', batches: [b] }
})
const records = (first: number, next: number, ...batches: RawBatch[]): CopyUnit => ({
  first: BigInt(first),
  next: BigInt(next),
  bytes: batches.reduce((n, b) => n + b.size, 0),
  empty: false,
  payload: { kind: 'records', batches }
})
const skip = (first: number, next: number): CopyUnit => ({
  first: BigInt(first),
  next: BigInt(next),
  bytes: 0,
  empty: true,
  payload: { kind: 'skip', batches: [] }
})

const MAX = 900 * 1024

test('joinable units become one record-path unit covering both', () => {
  const a = batch(0, 10, 2_000)
  const b = batch(10, 10, 3_000)
  const joined = joinUnits(raw(a), raw(b), MAX)
  assert.ok(joined !== undefined)
  assert.deepEqual(
    [joined.first, joined.next, joined.bytes, joined.empty, joined.payload.kind, joined.payload.batches],
    [0n, 20n, 5_000, false, 'records', [a, b]]
  )
  const c = batch(20, 5, 1_000)
  const again = joinUnits(joined, records(20, 25, c), MAX)
  assert.deepEqual(again?.payload.batches, [a, b, c])
  assert.equal(again?.next, 25n)
})

test('which units keep their own send', () => {
  const small = raw(batch(0, 10, 2_000))
  const next = (u: CopyUnit): CopyUnit => raw(batch(Number(u.next), 10, 2_000))
  const cases: Array<[string, CopyUnit, CopyUnit | undefined, boolean]> = [
    ['compressed raw batch', raw(batch(0, 10, 2_000, 'lz4')), undefined, false],
    ['large uncompressed raw batch', raw(batch(0, 10, RAW_JOIN_MAX_BYTES)), undefined, false],
    ['just under the raw limit', raw(batch(0, 10, RAW_JOIN_MAX_BYTES - 1)), undefined, true],
    [
      'decoded (narrowed down)',
      { ...records(0, 1), payload: { kind: 'records', batches: [], records: [] } },
      undefined,
      false
    ],
    ['encoded (sent before)', { ...small, payload: { ...small.payload, encoded: Buffer.alloc(1) } }, undefined, false],
    ['too large together', small, records(10, 20, batch(10, 10, MAX - 1_999)), false],
    ['exactly the batch size together', small, records(10, 20, batch(10, 10, MAX - 2_000)), true]
  ]
  for (const [name, head, following, joins] of cases) {
    const f = following ?? next(head)
    assert.equal(joinUnits(head, f, MAX) !== undefined, joins, `${name} (as head)`)
    if (following === undefined)
      assert.equal(
        joinUnits(small, { ...head, first: 10n, next: 20n }, MAX) !== undefined,
        joins,
        `${name} (following)`
      )
  }
})

test('offsets with nothing to copy join either side; two of them stay nothing to copy', () => {
  const a = batch(0, 10, 2_000)
  const withSkip = joinUnits(raw(a), skip(10, 14), MAX)
  assert.deepEqual(
    [withSkip?.first, withSkip?.next, withSkip?.empty, withSkip?.payload.kind],
    [0n, 14n, false, 'records']
  )
  const both = joinUnits(skip(0, 3), skip(3, 5), MAX)
  assert.deepEqual([both?.next, both?.empty, both?.bytes, both?.payload.kind], [5n, true, 0, 'skip'])
})

test('a batch cut between two units (a restart inside it) is kept once', () => {
  const a = batch(0, 10, 2_000)
  const joined = joinUnits(records(0, 5, a), records(5, 10, a), MAX)
  assert.deepEqual(joined?.payload.batches, [a])
})
