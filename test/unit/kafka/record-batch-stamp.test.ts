/**
 * stampTransactional and nextSequence against Java Kafka's own transactional batches
 * (test/fixtures/formats/transactional-batches.json, printed by test/java/TransactionalBatches.java;
 * test/integration/transactional-batches-golden.test.ts checks the fixture is still what Java prints).
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import {
  type BatchBytes,
  type Codec,
  type EncodableRecord,
  MAX_SEQUENCE,
  decodeBatch,
  encodeBatch,
  forTarget,
  nextSequence,
  splitBatches,
  stampTransactional
} from '../../../src/kafka/record-batch.ts'
import { KafkaError } from '../../../src/errors.ts'

interface GoldenCase {
  codec: Codec
  producerId: string
  producerEpoch: number
  baseSequence: number
  recordCount: number
  lastSequence: number
  nextSequence: number
  plain: string
  source: string
  transactional: string
}

interface Golden {
  generatedBy: string
  kafkaVersion: string
  records: Array<{
    timestamp: string
    key: string | null
    value: string | null
    headers: Array<[string, string | null]>
  }>
  batches: GoldenCase[]
  sequences: Array<{ sequence: number; increment: number; incremented: number }>
}

const golden = JSON.parse(
  readFileSync(new URL('../../fixtures/formats/transactional-batches.json', import.meta.url), 'utf8')
) as Golden

const hex = (s: string): Buffer => Buffer.from(s, 'hex')
const orNull = (s: string | null): Buffer | null => (s === null ? null : hex(s))

const RECORDS: EncodableRecord[] = golden.records.map(r => ({
  timestamp: BigInt(r.timestamp),
  key: orNull(r.key),
  value: orNull(r.value),
  headers: r.headers.map(([k, v]) => [hex(k), orNull(v)] as const)
}))

/** Bitwise CRC-32C (Castagnoli, reflected 0x82F63B78), independent of the module's code and the library's. */
function crc32cRef(data: Uint8Array): number {
  let crc = 0xffffffff
  for (const byte of data) {
    crc ^= byte
    for (let k = 0; k < 8; k++) crc = (crc & 1) !== 0 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1
  }
  return (crc ^ 0xffffffff) >>> 0
}

function assertCrc(batch: Buffer, what: string): void {
  assert.equal(batch.readUInt32BE(17), crc32cRef(batch.subarray(21)), `${what}: CRC-32C over attributes..end`)
}

const stampOf = (c: GoldenCase, batch: BatchBytes) =>
  stampTransactional(batch, BigInt(c.producerId), c.producerEpoch, c.baseSequence)

const label = (c: GoldenCase): string =>
  `${c.codec}, producer ${c.producerId}, epoch ${c.producerEpoch}, sequence ${c.baseSequence}`

test('the fixture is what test/java/TransactionalBatches.java prints, for the brokers the tests run', () => {
  assert.equal(golden.generatedBy, 'test/java/TransactionalBatches.java')
  const pom = readFileSync(new URL('../../../kafka/pom.xml', import.meta.url), 'utf8')
  assert.equal(golden.kafkaVersion, /<kafka\.version>([^<]+)</.exec(pom)?.[1])
  assert.deepEqual([...new Set(golden.batches.map(c => c.codec))].sort(), ['gzip', 'lz4', 'none', 'snappy', 'zstd'])
})

for (const c of golden.batches) {
  test(`stamping Java's plain batch gives Java's transactional batch byte for byte (${label(c)})`, () => {
    const plain = hex(c.plain)
    const want = hex(c.transactional)
    const kept = Buffer.from(plain)
    const stamped = stampOf(c, plain)
    const got = Buffer.concat(stamped.bytes)
    assert.equal(got.toString('hex'), want.toString('hex'))
    assertCrc(got, label(c))
    assert.ok(plain.equals(kept), 'the input is not written to')
    assert.equal(stamped.bytes.length, 2)
    assert.equal(stamped.bytes[0]!.length, 61)
    assert.equal(stamped.bytes[1]!.buffer, plain.buffer, 'the records are a view of the input, not a copy')
    assert.equal(stamped.bytes[1]!.byteOffset, plain.byteOffset + 61)
    assert.equal(stamped.count, c.recordCount)
    assert.equal(stamped.nextSequence, c.nextSequence, "Java's incrementSequence(base, count)")
  })

  test(`a raw source batch through forTarget, then stamped, is Java's transactional batch; the payload is the fetch buffer's (${label(c)})`, () => {
    // As a broker stored it: offset 1000, leader epoch 7, another producer's transaction.
    const fetched = hex(c.source)
    const [raw] = splitBatches(fetched)
    assert.ok(raw !== undefined && raw.baseOffset === 1000n && raw.transactional && raw.producerId === 555n)
    assert.equal(raw.codec, c.codec)
    const stamped = stampOf(c, forTarget(raw))
    const got = Buffer.concat(stamped.bytes)
    assert.equal(got.toString('hex'), c.transactional)
    assertCrc(got, label(c))
    const records = stamped.bytes[1]!
    assert.equal(records.buffer, fetched.buffer, 'compressed or not, the records are never copied')
    assert.equal(records.byteOffset, fetched.byteOffset + 61)
    assert.ok(records.equals(fetched.subarray(61)))

    const [again] = splitBatches(got)
    assert.ok(again !== undefined)
    assert.deepEqual(
      [again.baseOffset, again.transactional, again.control, again.producerId, again.codec],
      [0n, true, false, BigInt(c.producerId), c.codec]
    )
    assert.equal(got.readInt32BE(12), -1, 'partitionLeaderEpoch')
    assert.equal(got.readInt16BE(51), c.producerEpoch)
    assert.equal(got.readInt32BE(53), c.baseSequence)
    const decoded = decodeBatch(again)
    assert.deepEqual(
      decoded.map(r => [r.offset, r.timestamp, r.key, r.value, r.headers]),
      RECORDS.map((r, i) => [BigInt(i), r.timestamp, r.key, r.value, r.headers])
    )
  })
}

test('the stamp is the same wherever the input is cut into pieces (a header split across them too)', () => {
  const c = golden.batches.find(x => x.codec === 'zstd')!
  const plain = hex(c.plain)
  for (const cuts of [[], [61], [10], [20, 40], [60, 62], [0, 61, 61, 100], [plain.length - 1], [plain.length]]) {
    const pieces: Buffer[] = []
    let from = 0
    for (const cut of [...cuts, plain.length]) {
      pieces.push(plain.subarray(from, cut))
      from = cut
    }
    const stamped = stampOf(c, pieces)
    assert.equal(Buffer.concat(stamped.bytes).toString('hex'), c.transactional, `cut at ${cuts.join(',')}`)
    for (const p of stamped.bytes.slice(1)) assert.equal(p.buffer, plain.buffer, 'records stay views')
  }
})

test('stamping a stamped batch again replaces its producer fields', () => {
  const first = golden.batches.find(x => x.codec === 'lz4' && x.baseSequence === 0 && x.producerId === '0')!
  const second = golden.batches.find(x => x.codec === 'lz4' && x.baseSequence !== 0)!
  const once = stampOf(first, hex(first.plain))
  assert.equal(Buffer.concat(once.bytes).toString('hex'), first.transactional)
  assert.equal(Buffer.concat(stampOf(second, once.bytes).bytes).toString('hex'), second.transactional)
})

for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
  test(`a batch we encoded, stamped, is a valid transactional batch with the same records (${codec})`, async () => {
    const encoded = await encodeBatch(RECORDS, codec)
    const stamped = stampTransactional(encoded, 4242n, 12, MAX_SEQUENCE - 1)
    const got = Buffer.concat(stamped.bytes)
    assertCrc(got, codec)
    assert.ok(got.subarray(57).equals(encoded.subarray(57)), 'records count and records untouched')
    assert.ok(got.subarray(23, 43).equals(encoded.subarray(23, 43)), 'lastOffsetDelta and timestamps untouched')
    assert.equal(got.readInt16BE(21), encoded.readInt16BE(21) | 0x10, 'attributes: only bit 4 added')
    const [batch] = splitBatches(got)
    assert.ok(batch !== undefined && batch.transactional && batch.producerId === 4242n)
    assert.equal(got.readInt16BE(51), 12)
    assert.equal(got.readInt32BE(53), MAX_SEQUENCE - 1)
    assert.equal(stamped.nextSequence, RECORDS.length - 2, 'five records from MAX - 1: MAX, 0, 1, 2, 3; next 3')
    assert.deepEqual(
      decodeBatch(batch).map(r => [r.key, r.value, r.headers, r.timestamp]),
      RECORDS.map(r => [r.key, r.value, r.headers, r.timestamp])
    )
    if (codec === 'none') {
      // Uncompressed, our encoder writes the records as Java does, so the whole batch matches.
      const java = golden.batches.find(x => x.codec === 'none')!
      assert.equal(Buffer.concat(stampOf(java, encoded).bytes).toString('hex'), java.transactional)
    }
  })
}

test("nextSequence counts as Java's DefaultRecordBatch.incrementSequence, wrapping past Int.MAX to 0", () => {
  assert.ok(golden.sequences.length >= 10)
  for (const s of golden.sequences)
    assert.equal(nextSequence(s.sequence, s.increment), s.incremented, `${s.sequence} + ${s.increment}`)
  for (const c of golden.batches) {
    assert.equal(nextSequence(c.baseSequence, c.recordCount), c.nextSequence)
    // The broker's last sequence of a batch is base + lastOffsetDelta, one before the next base.
    assert.equal(nextSequence(c.baseSequence, c.recordCount - 1), c.lastSequence)
  }
  assert.equal(nextSequence(MAX_SEQUENCE, 1), 0)
  for (const [sequence, increment] of [
    [-1, 1],
    [MAX_SEQUENCE + 1, 0],
    [0, -1],
    [0, MAX_SEQUENCE + 1],
    [1.5, 1],
    [0, Number.NaN]
  ] as const)
    assert.throws(() => nextSequence(sequence, increment), RangeError, `${sequence} + ${increment}`)
})

test('out-of-range producer fields are refused before any byte is written', () => {
  const plain = hex(golden.batches[0]!.plain)
  for (const [pid, epoch, seq] of [
    [-1n, 0, 0],
    [1n << 63n, 0, 0],
    [0n, -1, 0],
    [0n, 0x8000, 0],
    [0n, 0.5, 0],
    [0n, 0, -1],
    [0n, 0, MAX_SEQUENCE + 1]
  ] as const)
    assert.throws(() => stampTransactional(plain, pid, epoch, seq), RangeError, `${pid}/${epoch}/${seq}`)
})

test('batches the broker would refuse in a transaction are refused, with the reason', () => {
  const plain = hex(golden.batches.find(x => x.codec === 'none')!.plain)
  const edited = (edit: (b: Buffer) => void): Buffer => {
    const b = Buffer.from(plain)
    edit(b)
    b.writeUInt32BE(crc32cRef(b.subarray(21)), 17)
    return b
  }
  const cases: Array<[string, Buffer | Buffer[], RegExp]> = [
    ['shorter than a header', plain.subarray(0, 60), /fewer than the 61 of a v2 header/],
    ['magic 1', edited(b => b.writeInt8(1, 16)), /magic 1, not 2/],
    ['truncated', plain.subarray(0, plain.length - 1), /length field says \d+ bytes in all, but it has \d+/],
    ['a byte too many', [plain, Buffer.alloc(1)], /length field says/],
    ['control', edited(b => b.writeInt16BE(b.readInt16BE(21) | 0x20, 21)), /control batch/],
    ['LogAppendTime', edited(b => b.writeInt16BE(b.readInt16BE(21) | 0x08, 21)), /LogAppendTime/],
    ['compacted (gaps)', edited(b => b.writeInt32BE(b.readInt32BE(23) + 3, 23)), /without gaps/],
    ['no records', edited(b => b.writeInt32BE(0, 57)), /records count 0/]
  ]
  for (const [name, batch, why] of cases) {
    assert.throws(
      () => stampTransactional(batch, 1n, 0, 0),
      (err: unknown) =>
        err instanceof KafkaError &&
        !err.retriable &&
        /cannot be stamped for a transaction/.test(err.message) &&
        why.test(err.message),
      name
    )
  }
})

test('a damaged batch stays damaged: the CRC is patched, never computed afresh over bad bytes', () => {
  const c = golden.batches.find(x => x.codec === 'lz4')!
  const damaged = hex(c.plain)
  damaged[damaged.length - 2]! ^= 0x40
  const got = Buffer.concat(stampOf(c, damaged).bytes)
  assert.notEqual(got.readUInt32BE(17), crc32cRef(got.subarray(21)))
  assert.equal(got.readUInt32BE(17), hex(c.transactional).readUInt32BE(17), 'the CRC of the undamaged batch')
})
