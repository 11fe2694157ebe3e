import assert from 'node:assert/strict'
import { test } from 'node:test'
import { stampedValue } from '../../../src/bench/latency-histogram.ts'
import { sendStamps } from '../../../src/bench/send-stamps.ts'
import { encodeBatch, type EncodableRecord, splitBatches } from '../../../src/kafka/record-batch.ts'

const T0 = 1_764_000_000_000

function record(value: Buffer | null, extra: Partial<EncodableRecord> = {}): EncodableRecord {
  return { key: null, value, headers: [], timestamp: BigInt(T0), ...extra }
}

async function batchOf(records: EncodableRecord[], codec: 'none' | 'gzip', baseOffset = 0n) {
  const bytes = await encodeBatch(records, codec)
  bytes.writeBigInt64BE(baseOffset, 0)
  return { bytes, batch: splitBatches(bytes)[0]! }
}

const mixed = [
  record(stampedValue(200, T0 + 1)),
  record(stampedValue(8, T0 + 2), {
    key: Buffer.from('a key of some length'),
    headers: [[Buffer.from('h'), Buffer.from('v')]],
    timestamp: BigInt(T0 + 40 * 86_400_000)
  }),
  record(null),
  record(Buffer.from('short')),
  record(stampedValue(1000, T0 + 5), { key: Buffer.alloc(300, 1) })
]

test('the send times of an uncompressed batch are read from its bytes, unstamped records left out', async () => {
  const { batch } = await batchOf(mixed, 'none', 100n)
  assert.deepEqual(sendStamps(batch, 0n), [T0 + 1, T0 + 2, T0 + 5])
})

test('records before the fetch position (the first batch of a fetch may start before it) are left out', async () => {
  const { batch } = await batchOf(mixed, 'none', 100n)
  assert.deepEqual(sendStamps(batch, 101n), [T0 + 2, T0 + 5])
  assert.deepEqual(sendStamps(batch, 104n), [T0 + 5])
  assert.deepEqual(sendStamps(batch, 105n), [])
})

test('a batch that arrived in pieces and a compressed batch give the same stamps', async () => {
  const { bytes } = await batchOf(mixed, 'none')
  const [inPieces] = splitBatches([bytes.subarray(0, 100), bytes.subarray(100, 300), bytes.subarray(300)])
  assert.ok(inPieces !== undefined && !Buffer.isBuffer(inPieces.bytes))
  assert.deepEqual(sendStamps(inPieces, 0n), [T0 + 1, T0 + 2, T0 + 5])
  const { batch: gzipped } = await batchOf(mixed, 'gzip', 100n)
  assert.equal(gzipped.codec, 'gzip')
  assert.deepEqual(sendStamps(gzipped, 101n), [T0 + 2, T0 + 5])
})

test('a thousand records of 200 B: every stamp, in order', async () => {
  const records = Array.from({ length: 1000 }, (_, i) => record(stampedValue(200, T0 + i)))
  const { batch } = await batchOf(records, 'none')
  assert.deepEqual(
    sendStamps(batch, 0n),
    records.map((_, i) => T0 + i)
  )
})
