/**
 * A 64-bit digest of what a consumer sees of a record: key, value, headers (in order, duplicates
 * and null values included) and timestamp. Two records with the same digest are taken as equal
 * by `verify`; each field is length-prefixed, so no two different records run into the same bytes.
 */
import { createHash } from 'node:crypto'
import type { Header } from '../kafka/types.ts'

export interface DigestibleRecord {
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: readonly Header[]
  readonly timestamp: bigint
}

export function recordDigest(r: DigestibleRecord): bigint {
  const h = createHash('sha256')
  const field = (b: Buffer | null): void => {
    const len = Buffer.allocUnsafe(4)
    len.writeInt32BE(b === null ? -1 : b.length)
    h.update(len)
    if (b !== null) h.update(b)
  }
  field(r.key)
  field(r.value)
  const count = Buffer.allocUnsafe(12)
  count.writeInt32BE(r.headers.length)
  count.writeBigInt64BE(r.timestamp, 4)
  h.update(count)
  for (const [k, v] of r.headers) {
    field(k)
    field(v)
  }
  return h.digest().readBigUInt64BE(0)
}
