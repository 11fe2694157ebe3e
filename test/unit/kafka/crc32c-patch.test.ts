import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { combinedCrc32c, crc32cAfterChange, patchedCrc32c } from '../../../src/kafka/crc32c-patch.ts'

/** CRC-32C the slow, obvious way (bit by bit, reflected Castagnoli polynomial), as the reference. */
function crc32c(bytes: Buffer): number {
  let crc = 0xffffffff
  for (const byte of bytes) {
    crc ^= byte
    for (let k = 0; k < 8; k++) crc = (crc & 1) !== 0 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1
  }
  return (crc ^ 0xffffffff) >>> 0
}

test('the reference CRC-32C gives the standard check value', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283)
})

test('a patched CRC-32C equals the CRC of the changed bytes hashed from scratch', () => {
  // Lengths around the powers of two the zero-byte operator is built from, 1 byte to 1 MiB.
  for (const length of [1, 2, 40, 41, 61, 100, 255, 256, 4096, 65_535, 65_536, 65_537, 1_048_576]) {
    const original = randomBytes(length)
    for (const [from, size] of [
      [0, Math.min(40, length)],
      [Math.floor(length / 2), Math.min(3, length - Math.floor(length / 2))],
      [length - 1, 1],
      [0, length]
    ] as const) {
      const replacement = randomBytes(size)
      const changed = Buffer.from(original)
      replacement.copy(changed, from)
      assert.equal(
        patchedCrc32c(crc32c(original), original, from, replacement),
        crc32c(changed),
        `length ${length}, bytes ${from}..${from + size}`
      )
    }
  }
})

test('a patch that changes nothing keeps the CRC, and the original bytes are never written', () => {
  const original = randomBytes(1000)
  const before = Buffer.from(original)
  const crc = crc32c(original)
  assert.equal(patchedCrc32c(crc, original, 10, original.subarray(10, 50)), crc)
  patchedCrc32c(crc, original, 10, randomBytes(40))
  assert.deepEqual(original, before)
})

test('a patch outside the covered bytes is refused', () => {
  assert.throws(
    () => patchedCrc32c(0, Buffer.alloc(10), 8, Buffer.alloc(3)),
    /bytes 8\.\.11 lie outside the 10 covered bytes/
  )
})

test('crc32cAfterChange needs only the changed stretch and how many bytes follow it', () => {
  for (const length of [61, 1000, 70_000]) {
    const original = randomBytes(length)
    for (const [from, size] of [
      [21, 36],
      [0, 4],
      [length - 8, 8]
    ] as const) {
      const replacement = randomBytes(size)
      const changed = Buffer.from(original)
      replacement.copy(changed, from)
      assert.equal(
        crc32cAfterChange(crc32c(original), original.subarray(from, from + size), replacement, length - from - size),
        crc32c(changed),
        `length ${length}, bytes ${from}..${from + size}`
      )
    }
  }
  assert.throws(() => crc32cAfterChange(0, Buffer.alloc(2), Buffer.alloc(3), 0), RangeError)
  assert.throws(() => crc32cAfterChange(0, Buffer.alloc(2), Buffer.alloc(2), -1), RangeError)
})

test('combinedCrc32c: the CRC of two stretches joined, from their own CRCs, wherever the bytes are cut', () => {
  const bytes = randomBytes(3000)
  for (const cut of [0, 1, 7, 61, 1024, 2999, 3000]) {
    const a = bytes.subarray(0, cut)
    const b = bytes.subarray(cut)
    assert.equal(combinedCrc32c(crc32c(a), crc32c(b), b.length), crc32c(bytes), `cut at ${cut}`)
  }
  // Three pieces folded left to right, as a batch in pieces is checked.
  const pieces = [bytes.subarray(0, 100), bytes.subarray(100, 2000), bytes.subarray(2000)]
  const folded = pieces.slice(1).reduce((crc, p) => combinedCrc32c(crc, crc32c(p), p.length), crc32c(pieces[0]!))
  assert.equal(folded, crc32c(bytes))
  assert.throws(() => combinedCrc32c(0, 0, -1), RangeError)
})
