/**
 * Kafka's Java-compatible key partitioner: `Utils.murmur2` (seed 0x9747b28c) and the built-in
 * partitioner's `toPositive(murmur2(key)) % numPartitions`. Connect uses it to place offset
 * records; we must land each key on the same partition Java does so compaction and lookups agree.
 *
 * Invariants: all arithmetic is 32-bit two's complement like Java `int` (Math.imul, `>>>`, `| 0`);
 * bytes are treated as unsigned (Java's `& 0xff`).
 */

const SEED = 0x9747b28c
const M = 0x5bd1e995
const R = 24

/** Java `Utils.murmur2(byte[])`: a signed 32-bit hash. */
export function murmur2(data: Uint8Array): number {
  const length = data.length
  let h = (SEED ^ length) | 0
  const length4 = length >>> 2
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24) | 0
    k = Math.imul(k, M)
    k ^= k >>> R
    k = Math.imul(k, M)
    h = Math.imul(h, M)
    h ^= k
  }
  // Java's switch falls through 3 -> 2 -> 1; written as nested ifs.
  const tail = length & ~3
  const rest = length % 4
  if (rest > 0) {
    if (rest === 3) h ^= data[tail + 2]! << 16
    if (rest >= 2) h ^= data[tail + 1]! << 8
    h ^= data[tail]!
    h = Math.imul(h, M)
  }
  h ^= h >>> 13
  h = Math.imul(h, M)
  h ^= h >>> 15
  return h | 0
}

/** Java `Utils.toPositive`: clears the sign bit (not Math.abs). */
export function toPositive(n: number): number {
  return n & 0x7fffffff
}

/** The partition Java's default producer partitioner picks for a non-null key. */
export function javaPartition(keyBytes: Uint8Array, numPartitions: number): number {
  if (!Number.isInteger(numPartitions) || numPartitions < 1) {
    throw new RangeError(`numPartitions must be a positive integer, got ${numPartitions}`)
  }
  return toPositive(murmur2(keyBytes)) % numPartitions
}
