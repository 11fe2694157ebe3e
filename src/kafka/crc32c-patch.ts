/**
 * The CRC-32C of a record batch after a few of its first bytes changed, from the old CRC and
 * those bytes alone: the raw-batch path rewrites 40 header bytes of every copied batch (producer
 * fields, attributes) and would otherwise hash the whole batch again.
 *
 * Why it works: a CRC is affine in its input, so for two inputs of the same length that differ
 * by D (their XOR), crc(new) = crc(old) XOR crc0(D), where crc0 is the CRC with neither initial
 * value nor final XOR (purely linear). D is the changed bytes followed by n zero bytes, and
 * feeding n zero bytes through a CRC register multiplies it by x^(8n) modulo the polynomial, so
 * crc0(D) = crc0(changed bytes) * x^(8n) mod P: a few dozen multiplications instead of n bytes
 * hashed. The same algebra is zlib's crc32_combine (Mark Adler's multmodp / x2nmodp); here with
 * the Castagnoli polynomial Kafka's v2 batches use (org.apache.kafka.common.utils.Crc32C).
 *
 * Unsigned 32-bit values throughout, bit-reflected as CRC-32C is computed.
 */

/** The Castagnoli polynomial, bit-reflected. */
const POLY = 0x82f63b78
/** x^0 in the reflected representation. */
const ONE = 0x80000000

/** a(x) * b(x) modulo P. */
function multModP(a: number, b: number): number {
  let m = ONE
  let p = 0
  for (;;) {
    if ((a & m) !== 0) {
      p ^= b
      if ((a & (m - 1)) === 0) break
    }
    m >>>= 1
    b = (b & 1) !== 0 ? (b >>> 1) ^ POLY : b >>> 1
  }
  return p >>> 0
}

/** X2N[k] = x^(2^k) mod P. */
const X2N: number[] = (() => {
  const table = [ONE >>> 1] // x^1
  for (let k = 1; k < 64; k++) table.push(multModP(table[k - 1] as number, table[k - 1] as number))
  return table
})()

/** x^(8 * bytes) mod P: the operator of `bytes` zero bytes. */
function zeroBytesOperator(bytes: number): number {
  let p = ONE
  let k = 3 // 8 = 2^3 bits per byte
  for (let n = bytes; n > 0; n = Math.floor(n / 2), k++) {
    if (n % 2 === 1) p = multModP(X2N[k] as number, p)
  }
  return p
}

const TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256)
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let j = 0; j < 8; j++) c = (c & 1) !== 0 ? (c >>> 1) ^ POLY : c >>> 1
    t[i] = c >>> 0
  }
  return t
})()

/**
 * The CRC-32C of `covered` (the bytes a CRC covers) once `covered[from .. from + replacement.length)`
 * is replaced by `replacement`, given `oldCrc`, the CRC of `covered` as it is. `covered` is read,
 * never written.
 */
export function patchedCrc32c(oldCrc: number, covered: Buffer, from: number, replacement: Buffer): number {
  const end = from + replacement.length
  if (from < 0 || end > covered.length)
    throw new RangeError(`patchedCrc32c: bytes ${from}..${end} lie outside the ${covered.length} covered bytes`)
  return crc32cAfterChange(oldCrc, covered.subarray(from, end), replacement, covered.length - end)
}

/**
 * The same patch when the covered bytes are not one Buffer (a batch sent as a header and a view
 * of its records): `before` is the changed stretch as it was, `after` as it becomes (same
 * length), and `trailing` the number of covered bytes that follow it. What precedes the stretch
 * does not matter, since the CRC's affine part cancels out.
 */
export function crc32cAfterChange(oldCrc: number, before: Buffer, after: Buffer, trailing: number): number {
  if (before.length !== after.length)
    throw new RangeError(`crc32cAfterChange: ${before.length} bytes replaced by ${after.length}`)
  if (!Number.isInteger(trailing) || trailing < 0) throw new RangeError(`crc32cAfterChange: ${trailing} trailing bytes`)
  let reg = 0
  for (let i = 0; i < before.length; i++) {
    reg = (TABLE[(reg ^ (before[i] as number) ^ (after[i] as number)) & 0xff] as number) ^ (reg >>> 8)
  }
  if (reg === 0) return oldCrc >>> 0
  return (oldCrc ^ multModP(zeroBytesOperator(trailing), reg >>> 0)) >>> 0
}

/**
 * The CRC-32C of bytes A followed by bytes B, from crc(A), crc(B) and B's length (zlib's
 * crc32_combine): A's register is carried through B's length in zeros, and B's own CRC added.
 * Lets a batch that arrived in pieces be checked piece by piece, without joining it.
 */
export function combinedCrc32c(crcA: number, crcB: number, lengthB: number): number {
  if (!Number.isInteger(lengthB) || lengthB < 0) throw new RangeError(`combinedCrc32c: length ${lengthB}`)
  return (multModP(zeroBytesOperator(lengthB), crcA >>> 0) ^ crcB) >>> 0
}
