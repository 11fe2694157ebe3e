import assert from 'node:assert/strict'
import { test } from 'node:test'
import { gzipSync } from 'node:zlib'
import {
  type BatchBytes,
  type Codec,
  type EncodableRecord,
  type RawBatch,
  controlType,
  decodeBatch,
  encodeBatch,
  forTarget,
  hasValidCrc,
  isContiguous,
  rawCopyRefusal,
  splitBatches
} from '../../../src/kafka/record-batch.ts'
import { KafkaError } from '../../../src/errors.ts'

const CODECS: readonly Codec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']
const b = (s: string): Buffer => Buffer.from(s)
const flat = (bytes: BatchBytes): Buffer => (Buffer.isBuffer(bytes) ? bytes : Buffer.concat(bytes))

/** Bitwise CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), independent of the library's tables and bindings. */
function crc32cRef(data: Uint8Array): number {
  let crc = 0xffffffff
  for (const byte of data) {
    crc ^= byte
    for (let k = 0; k < 8; k++) crc = (crc & 1) !== 0 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1
  }
  return (crc ^ 0xffffffff) >>> 0
}

/** The batch's CRC field is right for its bytes (checked with crc32cRef, not the module's code). */
function assertCrc(batch: Buffer): void {
  assert.equal(batch.readUInt32BE(17), crc32cRef(batch.subarray(21)))
}

/** Rewrites header fields of a batch copy and fixes its CRC, as a broker would have written them. */
function patch(batch: Buffer, edit: (buf: Buffer) => void): Buffer {
  const out = Buffer.from(batch)
  edit(out)
  out.writeUInt32BE(crc32cRef(out.subarray(21)), 17)
  return out
}

function only(records: Buffer): RawBatch {
  const batches = splitBatches(records)
  assert.equal(batches.length, 1)
  return batches[0]!
}

// Records with what the record path must keep: null and empty keys/values, duplicate header
// keys, null header values, timestamps out of order (a negative delta).
const RECORDS: EncodableRecord[] = [
  {
    key: b('k1'),
    value: b('v1'),
    headers: [
      [b('h'), b('1')],
      [b('h'), b('2')],
      [b('n'), null]
    ],
    timestamp: 1_700_000_000_000n
  },
  { key: null, value: b('no key'), headers: [], timestamp: 1_700_000_000_500n },
  {
    key: b('tombstone'),
    value: null,
    headers: [
      [b('h'), null],
      [b('h'), null]
    ],
    timestamp: 1_699_999_999_000n
  },
  {
    key: Buffer.alloc(0),
    value: Buffer.alloc(0),
    headers: [[Buffer.alloc(0), Buffer.alloc(0)]],
    timestamp: 1_700_000_000_001n
  },
  { key: b('big'), value: Buffer.alloc(10_000, 'x'), headers: [[b('trace'), b('abc')]], timestamp: 1_700_000_000_002n }
]

function assertSameRecords(got: ReturnType<typeof decodeBatch>, want: readonly EncodableRecord[], base: bigint): void {
  assert.equal(got.length, want.length)
  got.forEach((r, i) => {
    const w = want[i]!
    assert.equal(r.offset, base + BigInt(i))
    assert.equal(r.timestamp, w.timestamp)
    assert.deepEqual(r.key, w.key)
    assert.deepEqual(r.value, w.value)
    assert.deepEqual(r.headers, w.headers)
  })
}

test('CRC-32C: the check value of "123456789" is 0xE3069283, from the module (the library\'s crc32c) and from the reference', () => {
  assert.equal(crc32cRef(b('123456789')), 0xe3069283)
  // hasValidCrc hashes bytes 21.. of a batch against the field at 17: put the check string there.
  const withCrc = (data: Buffer, crc: number): RawBatch => {
    const bytes = Buffer.concat([Buffer.alloc(21), data])
    bytes.writeUInt32BE(crc, 17)
    return { bytes } as RawBatch
  }
  assert.ok(hasValidCrc(withCrc(b('123456789'), 0xe3069283)))
  assert.equal(hasValidCrc(withCrc(b('123456789'), 0xe3069284)), false)
  const random = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) & 0xff))
  assert.ok(hasValidCrc(withCrc(random, crc32cRef(random))))
})

for (const codec of CODECS) {
  test(`encodeBatch -> splitBatches -> decodeBatch keeps every record (${codec})`, async () => {
    const bytes = await encodeBatch(RECORDS, codec)
    const batch = only(bytes)
    assert.equal(batch.codec, codec)
    assert.equal(batch.magic, 2)
    assert.equal(batch.baseOffset, 0n)
    assert.equal(batch.count, RECORDS.length)
    assert.equal(batch.lastOffsetDelta, RECORDS.length - 1)
    assert.equal(batch.nextOffset, BigInt(RECORDS.length))
    assert.equal(batch.producerId, -1n)
    assert.equal(batch.baseTimestamp, RECORDS[0]!.timestamp)
    assert.equal(batch.maxTimestamp, 1_700_000_000_500n)
    assert.deepEqual([batch.logAppendTime, batch.transactional, batch.control], [false, false, false])
    assert.ok(isContiguous(batch))
    assert.equal(rawCopyRefusal(batch), undefined)
    // A plain producer's header, which the library does not write by itself (see encodeBatch).
    assert.equal(bytes.readInt32BE(12), -1, 'partitionLeaderEpoch')
    assert.equal(bytes.readInt16BE(51), -1, 'producerEpoch')
    assert.equal(bytes.readInt32BE(53), -1, 'baseSequence')
    assertCrc(bytes)
    assert.ok(hasValidCrc(batch))
    assertSameRecords(decodeBatch(batch), RECORDS, 0n)
  })
}

test("encodeBatch leaves the callers' buffers alone and refuses an empty batch", async () => {
  const key = b('key')
  const header = b('h')
  await encodeBatch(
    [
      {
        key,
        value: null,
        headers: [
          [header, null],
          [header, b('x')]
        ],
        timestamp: 5n
      }
    ],
    'none'
  )
  assert.deepEqual([key, header], [b('key'), b('h')])
  await assert.rejects(encodeBatch([], 'none'), /at least one record/)
})

test('splitBatches: several batches in order, views into the fetch buffer, a truncated tail left out', async () => {
  const one = patch(await encodeBatch(RECORDS.slice(0, 2), 'none'), buf => buf.writeBigInt64BE(100n, 0))
  const two = patch(await encodeBatch(RECORDS.slice(2), 'zstd'), buf => buf.writeBigInt64BE(102n, 0))
  const three = patch(await encodeBatch(RECORDS.slice(0, 1), 'gzip'), buf => buf.writeBigInt64BE(105n, 0))
  const whole = Buffer.concat([one, two, three])
  const cases: Array<[string, Buffer, bigint[]]> = [
    ['empty', Buffer.alloc(0), []],
    ['shorter than a length field', whole.subarray(0, 10), []],
    ['one batch', one, [100n]],
    ['three batches', whole, [100n, 102n, 105n]],
    ['tail cut inside the header', Buffer.concat([one, two, three.subarray(0, 20)]), [100n, 102n]],
    ['tail cut inside the records', Buffer.concat([one, two, three.subarray(0, three.length - 1)]), [100n, 102n]],
    ['only a partial batch', two.subarray(0, 70), []]
  ]
  for (const [name, records, bases] of cases) {
    const batches = splitBatches(records)
    assert.deepEqual(
      batches.map(x => x.baseOffset),
      bases,
      name
    )
    for (const x of batches) {
      assert.ok(Buffer.isBuffer(x.bytes), `${name}: one chunk, one Buffer`)
      assert.equal(x.bytes.buffer, records.buffer, `${name}: a view, not a copy`)
      assert.equal(x.size, x.bytes.length)
    }
  }
  const [a, c, d] = splitBatches(whole)
  assert.deepEqual([a!.nextOffset, c!.nextOffset, d!.nextOffset], [102n, 105n, 106n])
  assert.deepEqual([a!.codec, c!.codec, d!.codec], ['none', 'zstd', 'gzip'])
  assert.ok(flat(a!.bytes).equals(one) && flat(c!.bytes).equals(two) && flat(d!.bytes).equals(three))
  assertSameRecords(decodeBatch(c!), RECORDS.slice(2), 102n)
})

test('splitBatches over socket chunks: the same batches wherever the chunks are cut; a batch inside one chunk is a view, a straddling one views of its pieces (nothing copied); CRC check and forTarget give the same on either', async () => {
  const one = patch(await encodeBatch(RECORDS.slice(0, 2), 'none'), buf => buf.writeBigInt64BE(100n, 0))
  const two = patch(await encodeBatch(RECORDS.slice(2), 'zstd'), buf => buf.writeBigInt64BE(102n, 0))
  const three = patch(await encodeBatch(RECORDS.slice(0, 1), 'gzip'), buf => buf.writeBigInt64BE(105n, 0))
  // Buffer.alloc takes no slice of the shared pool, so "same ArrayBuffer" means "a view of these bytes".
  const whole = Buffer.alloc(one.length + two.length + three.length)
  Buffer.concat([one, two, three]).copy(whole)
  const starts = [0, one.length, one.length + two.length]
  const ends = [one.length, one.length + two.length, whole.length]
  for (let cut = 0; cut <= whole.length; cut++) {
    for (const chunks of [
      [whole.subarray(0, cut), whole.subarray(cut)],
      [whole.subarray(0, cut), Buffer.alloc(0), whole.subarray(cut, cut + 7), whole.subarray(cut + 7)]
    ]) {
      const batches = splitBatches(chunks)
      assert.deepEqual(
        batches.map(x => x.baseOffset),
        [100n, 102n, 105n],
        `cut at ${cut}`
      )
      batches.forEach((x, i) => {
        assert.ok(flat(x.bytes).equals(whole.subarray(starts[i], ends[i])), `cut at ${cut}: batch ${i} bytes`)
        assert.equal(x.size, ends[i]! - starts[i]!, `cut at ${cut}: batch ${i} size`)
        assert.ok(hasValidCrc(x), `cut at ${cut}: batch ${i} CRC`)
        assert.deepEqual(
          Buffer.concat(forTarget(x)),
          Buffer.concat(forTarget(splitBatches(whole)[i]!)),
          `cut at ${cut}: batch ${i} for the target`
        )
        const inOneChunk = chunks.some(
          c =>
            c.byteOffset <= whole.byteOffset + starts[i]! &&
            whole.byteOffset + ends[i]! <= c.byteOffset + c.length &&
            c.length > 0
        )
        if (inOneChunk) {
          assert.ok(Buffer.isBuffer(x.bytes), `cut at ${cut}: batch ${i} lies in one chunk, so it is one Buffer`)
          assert.equal(x.bytes.buffer, whole.buffer, `cut at ${cut}: batch ${i} is a view`)
        } else {
          assert.ok(!Buffer.isBuffer(x.bytes), `cut at ${cut}: batch ${i} straddles chunks, so it is in pieces`)
          for (const piece of x.bytes)
            assert.equal(piece.buffer, whole.buffer, `cut at ${cut}: batch ${i} pieces are views`)
          for (const piece of forTarget(x).slice(1))
            assert.equal(piece.buffer, whole.buffer, `cut at ${cut}: batch ${i} goes to the target as views`)
        }
      })
      assertSameRecords(decodeBatch(batches[1]!), RECORDS.slice(2), 102n)
    }
  }
  // A cut tail stays out whatever the chunking.
  assert.deepEqual(
    splitBatches([one, two.subarray(0, 30), two.subarray(30, 60)]).map(x => x.baseOffset),
    [100n]
  )
})

for (const codec of CODECS) {
  test(`forTarget rewrites only the producer and offset fields, payload untouched (${codec})`, async () => {
    const encoded = await encodeBatch(RECORDS, codec)
    // A source batch as a transactional producer wrote it at offset 500.
    const source = patch(encoded, buf => {
      buf.writeBigInt64BE(500n, 0)
      buf.writeInt32BE(7, 12)
      buf.writeInt16BE(buf.readInt16BE(21) | 0x10, 21)
      buf.writeBigInt64BE(42n, 43)
      buf.writeInt16BE(3, 51)
      buf.writeInt32BE(10, 53)
    })
    const fetched = Buffer.concat([source])
    const batch = only(fetched)
    assert.ok(batch.transactional)
    assert.equal(batch.producerId, 42n)
    const pieces = forTarget(batch)
    assert.equal(pieces.length, 2)
    assert.equal(pieces[1]!.buffer, fetched.buffer, 'the records are a view of the fetch buffer, not a copy')
    const out = Buffer.concat(pieces)
    assert.ok(fetched.equals(source), 'the fetch buffer is not written to')
    assert.equal(out.length, source.length)
    assert.equal(out.readBigInt64BE(0), 0n, 'baseOffset')
    assert.equal(out.readInt32BE(8), source.readInt32BE(8), 'batchLength')
    assert.equal(out.readInt32BE(12), -1, 'partitionLeaderEpoch')
    assert.equal(out.readInt8(16), 2, 'magic')
    assert.equal(out.readInt16BE(21), encoded.readInt16BE(21), 'attributes: transactional bit cleared, codec kept')
    assert.ok(out.subarray(23, 43).equals(source.subarray(23, 43)), 'lastOffsetDelta and timestamps')
    assert.equal(out.readBigInt64BE(43), -1n, 'producerId')
    assert.equal(out.readInt16BE(51), -1, 'producerEpoch')
    assert.equal(out.readInt32BE(53), -1, 'baseSequence')
    assert.ok(out.subarray(57).equals(source.subarray(57)), 'count and records, byte for byte')
    assertCrc(out)
    assertSameRecords(decodeBatch(only(out)), RECORDS, 0n)
    assertSameRecords(decodeBatch(batch), RECORDS, 500n)
  })
}

test('a damaged batch is refused by forTarget and decodeBatch, not re-signed', async () => {
  const bytes = Buffer.from(await encodeBatch(RECORDS, 'none'))
  bytes[bytes.length - 3]! ^= 0x01
  const batch = only(bytes)
  assert.equal(hasValidCrc(batch), false)
  const corrupt = (err: unknown): boolean =>
    err instanceof KafkaError &&
    err.kafkaCode === 'CORRUPT_MESSAGE' &&
    err.retriable &&
    /offset 0 is corrupt: stored CRC/.test(err.message)
  assert.throws(() => forTarget(batch), corrupt)
  assert.throws(() => decodeBatch(batch), corrupt)
})

test("LogAppendTime: every record reads as the batch's maxTimestamp, and the batch is not copied as bytes", async () => {
  const appendTime = 1_800_000_000_000n
  const batch = only(
    patch(await encodeBatch(RECORDS, 'lz4'), buf => {
      buf.writeInt16BE(buf.readInt16BE(21) | 0x08, 21)
      buf.writeBigInt64BE(appendTime, 35)
    })
  )
  assert.ok(batch.logAppendTime)
  assert.deepEqual(
    decodeBatch(batch).map(r => r.timestamp),
    RECORDS.map(() => appendTime)
  )
  assert.match(rawCopyRefusal(batch) ?? '', /LogAppendTime/)
  assert.throws(() => forTarget(batch), /cannot be copied as bytes: .*LogAppendTime/)
})

// Hand-built uncompressed v2 batches (DefaultRecord layout), for what a producer through the
// library cannot make: offset gaps left by compaction, control records, null header keys.
interface HandRecord {
  offsetDelta: number
  timestampDelta: number
  key: Buffer | null
  value: Buffer | null
  headers?: Array<[Buffer | null, Buffer | null]>
}

function zigzag(n: number): number[] {
  let v = n >= 0 ? n * 2 : -n * 2 - 1
  const out: number[] = []
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80)
    v = Math.floor(v / 128)
  }
  out.push(v)
  return out
}
const bytesField = (x: Buffer | null): Buffer =>
  x === null ? Buffer.from(zigzag(-1)) : Buffer.concat([Buffer.from(zigzag(x.length)), x])

function handBatch(opts: {
  baseOffset: bigint
  attributes: number
  lastOffsetDelta: number
  producerId?: bigint
  records: HandRecord[]
}): Buffer {
  const records = opts.records.map(r => {
    const headers = r.headers ?? []
    const body = Buffer.concat([
      Buffer.from([0]),
      Buffer.from(zigzag(r.timestampDelta)),
      Buffer.from(zigzag(r.offsetDelta)),
      bytesField(r.key),
      bytesField(r.value),
      Buffer.from(zigzag(headers.length)),
      ...headers.flatMap(([k, v]) => [bytesField(k), bytesField(v)])
    ])
    return Buffer.concat([Buffer.from(zigzag(body.length)), body])
  })
  const head = Buffer.alloc(61)
  head.writeBigInt64BE(opts.baseOffset, 0)
  head.writeInt32BE(61 - 12 + records.reduce((n, r) => n + r.length, 0), 8)
  head.writeInt32BE(0, 12)
  head.writeInt8(2, 16)
  head.writeInt16BE(opts.attributes, 21)
  head.writeInt32BE(opts.lastOffsetDelta, 23)
  head.writeBigInt64BE(1000n, 27)
  head.writeBigInt64BE(1000n, 35)
  head.writeBigInt64BE(opts.producerId ?? -1n, 43)
  head.writeInt16BE(-1, 51)
  head.writeInt32BE(-1, 53)
  head.writeInt32BE(opts.records.length, 57)
  return patch(Buffer.concat([head, ...records]), () => {})
}

test('an encoded batch whose last offset delta is raised past count - 1 is not contiguous', async () => {
  const bytes = patch(await encodeBatch(RECORDS, 'snappy'), buf => buf.writeInt32BE(RECORDS.length + 2, 23))
  const batch = only(bytes)
  assert.equal(isContiguous(batch), false)
  assert.equal(batch.nextOffset, BigInt(RECORDS.length + 3))
  assert.throws(() => forTarget(batch), /offsets have gaps/)
})

test('a batch with compaction holes is not contiguous; its records keep their own offsets', () => {
  const records: HandRecord[] = [
    { offsetDelta: 0, timestampDelta: 0, key: b('a'), value: b('1') },
    { offsetDelta: 2, timestampDelta: 5, key: b('c'), value: b('3') },
    { offsetDelta: 5, timestampDelta: 9, key: b('f'), value: null }
  ]
  const batch = only(handBatch({ baseOffset: 40n, attributes: 0, lastOffsetDelta: 5, records }))
  assert.equal(batch.count, 3)
  assert.equal(batch.nextOffset, 46n)
  assert.equal(isContiguous(batch), false)
  assert.match(rawCopyRefusal(batch) ?? '', /gaps \(records count 3, last offset delta 5/)
  assert.throws(() => forTarget(batch), /cannot be copied as bytes/)
  assert.deepEqual(
    decodeBatch(batch).map(r => [r.offset, r.timestamp]),
    [
      [40n, 1000n],
      [42n, 1005n],
      [45n, 1009n]
    ]
  )
  const empty = only(handBatch({ baseOffset: 46n, attributes: 0, lastOffsetDelta: 2, records: [] }))
  assert.equal(isContiguous(empty), false, 'an empty batch kept by the cleaner')
  assert.deepEqual(decodeBatch(empty), [])
  assert.equal(empty.nextOffset, 49n)
})

test('a null header key reads as an empty Buffer; a null header value stays null', () => {
  const batch = only(
    handBatch({
      baseOffset: 0n,
      attributes: 0,
      lastOffsetDelta: 0,
      records: [
        {
          offsetDelta: 0,
          timestampDelta: 0,
          key: null,
          value: b('v'),
          headers: [
            [null, b('x')],
            [b('y'), null]
          ]
        }
      ]
    })
  )
  assert.deepEqual(decodeBatch(batch)[0]!.headers, [
    [Buffer.alloc(0), b('x')],
    [b('y'), null]
  ])
})

test('controlType reads the marker of a control batch', () => {
  const marker = (type: number): Buffer => {
    const key = Buffer.alloc(4)
    key.writeInt16BE(0, 0)
    key.writeInt16BE(type, 2)
    return handBatch({
      baseOffset: 9n,
      attributes: 0x30,
      lastOffsetDelta: 0,
      producerId: 77n,
      records: [{ offsetDelta: 0, timestampDelta: 0, key, value: Buffer.alloc(6) }]
    })
  }
  const cases: Array<[string, Buffer, number | undefined]> = [
    ['abort', marker(0), 0],
    ['commit', marker(1), 1],
    [
      'not a control batch',
      handBatch({
        baseOffset: 0n,
        attributes: 0,
        lastOffsetDelta: 0,
        records: [{ offsetDelta: 0, timestampDelta: 0, key: Buffer.alloc(4), value: null }]
      }),
      undefined
    ],
    [
      'control batch without records',
      handBatch({ baseOffset: 0n, attributes: 0x20, lastOffsetDelta: 0, records: [] }),
      undefined
    ]
  ]
  for (const [name, bytes, type] of cases) assert.equal(controlType(only(bytes)), type, name)
  const commit = only(marker(1))
  assert.ok(commit.control && commit.transactional)
  assert.equal(commit.producerId, 77n)
  assert.throws(() => forTarget(commit), /control batch/)
  const short = handBatch({
    baseOffset: 3n,
    attributes: 0x20,
    lastOffsetDelta: 0,
    records: [{ offsetDelta: 0, timestampDelta: 0, key: Buffer.alloc(2), value: null }]
  })
  assert.throws(() => controlType(only(short)), /control record key has 2 bytes/)
})

test('magic 0 and 1 (legacy message sets) are refused, naming the format; a partial one at the tail is left out', () => {
  for (const magic of [0, 1]) {
    // offset int64, size int32, crc int32, magic int8, attributes int8, (timestamp int64,) key, value
    const legacy = Buffer.alloc(12 + (magic === 0 ? 14 : 22))
    legacy.writeBigInt64BE(3n, 0)
    legacy.writeInt32BE(legacy.length - 12, 8)
    legacy.writeInt8(magic, 16)
    assert.throws(
      () => splitBatches(legacy),
      (err: unknown) =>
        err instanceof KafkaError &&
        !err.retriable &&
        new RegExp(`offset 3 has magic ${magic}: message formats v0 and v1 .* Kafka 4 brokers store only v2`).test(
          err.message
        )
    )
    assert.deepEqual(splitBatches(legacy.subarray(0, legacy.length - 1)), [])
  }
  const future = patch(handBatch({ baseOffset: 0n, attributes: 0, lastOffsetDelta: 0, records: [] }), buf =>
    buf.writeInt8(3, 16)
  )
  assert.throws(() => splitBatches(future), /magic 3: a record format newer than v2/)
})

test('compression bits that name no codec are refused, naming the id', async () => {
  const bytes = await encodeBatch(RECORDS.slice(0, 1), 'none')
  for (const id of [5, 6, 7]) {
    const odd = patch(bytes, buf => buf.writeInt16BE((buf.readInt16BE(21) & ~0x07) | id, 21))
    assert.throws(
      () => splitBatches(odd),
      (err: unknown) =>
        err instanceof KafkaError &&
        err.kafkaCode === 'UNSUPPORTED_COMPRESSION_TYPE' &&
        err.message.includes(`compression codec id ${id}`)
    )
  }
})

test('a length field shorter than a v2 header is corrupt', () => {
  const bytes = patch(handBatch({ baseOffset: 8n, attributes: 0, lastOffsetDelta: 0, records: [] }), buf =>
    buf.writeInt32BE(20, 8)
  )
  assert.throws(() => splitBatches(bytes), /offset 8 is corrupt: its length field says 20 bytes/)
})

test('a hand-gzipped batch from another producer decodes (the library does not decide the payload)', () => {
  const plain = handBatch({
    baseOffset: 0n,
    attributes: 0,
    lastOffsetDelta: 1,
    records: [
      { offsetDelta: 0, timestampDelta: 0, key: b('x'), value: b('1') },
      { offsetDelta: 1, timestampDelta: 1, key: b('y'), value: b('2') }
    ]
  })
  const payload = gzipSync(plain.subarray(61))
  const zipped = patch(Buffer.concat([plain.subarray(0, 61), payload]), buf => {
    buf.writeInt32BE(buf.length - 12, 8)
    buf.writeInt16BE(0x01, 21)
  })
  const batch = only(zipped)
  assert.equal(batch.codec, 'gzip')
  assert.deepEqual(
    decodeBatch(batch).map(r => [r.offset, r.timestamp, r.key, r.value]),
    [
      [0n, 1000n, b('x'), b('1')],
      [1n, 1001n, b('y'), b('2')]
    ]
  )
  assert.ok(Buffer.concat(forTarget(batch)).subarray(61).equals(payload))
})

test('sanity at scale: 25 batches of 100 records split, copied and decoded whole (no timing)', async () => {
  const batches: Buffer[] = []
  let next = 0n
  for (let i = 0; i < 25; i++) {
    const records = Array.from({ length: 100 }, (_, j) => ({
      key: b(`k${i}-${j}`),
      value: Buffer.alloc(100, j),
      headers: [],
      timestamp: BigInt(i * 1000 + j)
    }))
    const base = next
    batches.push(patch(await encodeBatch(records, CODECS[i % CODECS.length]!), buf => buf.writeBigInt64BE(base, 0)))
    next += 100n
  }
  const fetch = Buffer.concat(batches)
  const split = splitBatches(fetch)
  assert.equal(split.length, 25)
  assert.equal(split.at(-1)!.nextOffset, 2_500n)
  assert.ok(
    split.every(
      (x, i) =>
        x.baseOffset === BigInt(i * 100) &&
        isContiguous(x) &&
        Buffer.isBuffer(x.bytes) &&
        x.bytes.buffer === fetch.buffer
    )
  )
  let count = 0
  for (const x of split) {
    const out = Buffer.concat(forTarget(x))
    assertCrc(out)
    count += decodeBatch(only(out)).length
  }
  assert.equal(count, 2_500)
})

test('a batch in pieces with one damaged byte fails its CRC check wherever the chunks are cut', async () => {
  const whole = await encodeBatch(RECORDS, 'none')
  for (const at of [21, 40, 61, whole.length - 1]) {
    const damaged = Buffer.from(whole)
    damaged[at] = (damaged[at]! ^ 0x01) & 0xff
    for (const cut of [30, 61, 100, whole.length - 5]) {
      const [x] = splitBatches([damaged.subarray(0, cut), damaged.subarray(cut)])
      assert.ok(x !== undefined && !Buffer.isBuffer(x.bytes), `byte ${at}, cut at ${cut}: in pieces`)
      assert.equal(hasValidCrc(x), false, `byte ${at}, cut at ${cut}`)
      assert.throws(
        () => forTarget(x),
        (err: unknown) => err instanceof KafkaError && err.kafkaCode === 'CORRUPT_MESSAGE',
        `byte ${at}, cut at ${cut}`
      )
    }
  }
})
