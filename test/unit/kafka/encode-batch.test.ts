// encodeBatch against the client library's own batch writer, which it replaced: the same bytes
// for every codec, except where the library's writer was wrong (timestamp deltas past 2^31 ms).
import assert from 'node:assert/strict'
import { test } from 'node:test'
// eslint-disable-next-line no-restricted-imports -- the oracle: the library's own writer, which encodeBatch replaced
import { crc32c, createRecordsBatchAsync } from '@platformatic/kafka'
import {
  type Codec,
  decodeBatch,
  type EncodableRecord,
  encodeBatch,
  splitBatches
} from '../../../src/kafka/record-batch.ts'

/** The library's writer with the fields encodeBatch fixes (as the replaced code set them). */
async function libraryBatch(records: readonly EncodableRecord[], codec: Codec): Promise<Buffer> {
  const messages = records.map(r => {
    const headers = new Map<Buffer, Buffer | null>()
    for (const [k, v] of r.headers) headers.set(headers.has(k) ? Buffer.from(k) : k, v)
    return { topic: '', key: r.key, value: r.value, headers, timestamp: r.timestamp }
  })
  const writer = await createRecordsBatchAsync(messages as never, {
    compression: codec,
    producerId: -1n,
    producerEpoch: -1,
    partitionLeaderEpoch: -1
  })
  const out = Buffer.concat(writer.buffers, writer.length)
  out.writeInt32BE(-1, 53) // baseSequence: the library writes 0
  out.writeUInt32BE(crc32c(out.subarray(21)), 17) // CRC-32C over attributes..end, again
  return out
}

function decoded(batch: Buffer): ReturnType<typeof decodeBatch> {
  const [b] = splitBatches(batch)
  assert.ok(b !== undefined, 'one whole batch')
  return decodeBatch(b)
}

function assertRecords(batch: Buffer, records: readonly EncodableRecord[]): void {
  const got = decoded(batch)
  assert.equal(got.length, records.length)
  got.forEach((d, i) => {
    const r = records[i] as EncodableRecord
    assert.equal(d.offset, BigInt(i))
    assert.equal(d.timestamp, r.timestamp, `record ${i}'s timestamp`)
    assert.deepEqual(d.key, r.key)
    assert.deepEqual(d.value, r.value)
    assert.deepEqual(
      d.headers.map(([k, v]) => [k, v]),
      r.headers.map(([k, v]) => [k, v])
    )
  })
}

function assertSameBytes(ours: Buffer, library: Buffer, what: string): void {
  assert.equal(ours.length, library.length, what)
  assert.ok(ours.equals(library), `${what}: the same bytes`)
}

/** A deterministic pseudo-random source, so a failure can be replayed. */
function prng(seed: number): () => number {
  let x = seed >>> 0
  return () => {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x / 0x100000000
  }
}

function bytes(random: () => number, max: number): Buffer {
  const b = Buffer.alloc(Math.floor(random() * max))
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(random() * 256)
  return b
}

const EDGE_CASES: ReadonlyArray<{ name: string; records: EncodableRecord[] }> = [
  {
    name: 'one record, null key and value, no header',
    records: [{ key: null, value: null, headers: [], timestamp: 0n }]
  },
  {
    name: 'empty key and value (length 0, not null)',
    records: [{ key: Buffer.alloc(0), value: Buffer.alloc(0), headers: [], timestamp: 1_700_000_000_000n }]
  },
  {
    name: 'headers: repeated keys, a null value, an empty key',
    records: [
      {
        key: Buffer.from('k'),
        value: Buffer.from('v'),
        headers: [
          [Buffer.from('h'), Buffer.from('1')],
          [Buffer.from('h'), null],
          [Buffer.alloc(0), Buffer.from('x')]
        ],
        timestamp: 1_700_000_000_000n
      }
    ]
  },
  {
    name: 'timestamps going back (negative deltas) and far apart (over 2^31 ms)',
    records: [
      { key: null, value: Buffer.from('a'), headers: [], timestamp: 1_700_000_000_000n },
      { key: null, value: Buffer.from('b'), headers: [], timestamp: 1_600_000_000_000n },
      { key: null, value: Buffer.from('c'), headers: [], timestamp: 1_800_000_000_000n },
      { key: null, value: Buffer.from('d'), headers: [], timestamp: -1n }
    ]
  },
  {
    name: 'values of multi-byte varint lengths (127, 128, 16383, 16384, 300000 bytes)',
    records: [127, 128, 16_383, 16_384, 300_000].map((n, i) => ({
      key: Buffer.alloc(i, 7),
      value: Buffer.alloc(n, i),
      headers: [],
      timestamp: 1_700_000_000_000n + BigInt(i)
    }))
  }
]

for (const { name, records } of EDGE_CASES) {
  test(`encodeBatch: ${name}`, async () => {
    const ours = await encodeBatch(records, 'none')
    assertRecords(ours, records)
    if (!name.startsWith('timestamps')) assertSameBytes(ours, await libraryBatch(records, 'none'), name)
  })
}

test("the library's writer lost timestamp deltas past 2^31 ms; encodeBatch keeps them", async () => {
  const base = 1_700_000_000_000n
  const records = [0n, 2n ** 31n + 5n, -(2n ** 31n) - 5n, 2n ** 40n].map(d => ({
    key: null,
    value: null,
    headers: [],
    timestamp: base + d
  }))
  assert.notEqual(decoded(await libraryBatch(records, 'none'))[1]?.timestamp, base + 2n ** 31n + 5n)
  for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const)
    assertRecords(await encodeBatch(records, codec), records)
})

test("encodeBatch: 200 random batches, the library's bytes, every codec", async () => {
  const random = prng(20261204)
  const codecs: readonly Codec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']
  for (let n = 0; n < 200; n++) {
    const codec = codecs[n % codecs.length] as Codec
    const count = 1 + Math.floor(random() * 300) // offset deltas past one varint byte
    const base = 1_700_000_000_000 + Math.floor(random() * 1e9)
    const records: EncodableRecord[] = Array.from({ length: count }, () => ({
      key: random() < 0.2 ? null : bytes(random, 40),
      value: random() < 0.05 ? null : bytes(random, 600),
      headers: Array.from(
        { length: Math.floor(random() * 3) },
        () => [bytes(random, 10), random() < 0.3 ? null : bytes(random, 20)] as const
      ),
      timestamp: BigInt(base + Math.floor((random() - 0.3) * 100_000))
    }))
    const ours = await encodeBatch(records, codec)
    assertSameBytes(ours, await libraryBatch(records, codec), `batch ${n} (${codec}) of ${count} records`)
    assertRecords(ours, records)
  }
})
