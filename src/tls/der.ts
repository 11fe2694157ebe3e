/**
 * A minimal DER reader: just enough ASN.1 to walk PKCS#12 files (sequences, sets, OIDs, octet
 * strings, integers, context tags). Constructed OCTET STRINGs (BER, some Java versions write
 * them) are joined. Every read is bounds-checked; bad input throws `DerError`.
 */

export class DerError extends Error {}

export interface DerNode {
  /** The identifier octet (0x30 SEQUENCE, 0x06 OID, 0xa0 [0] constructed, ...). */
  readonly tag: number
  readonly content: Buffer
}

export const TAG = {
  INTEGER: 0x02,
  OCTET_STRING: 0x04,
  OID: 0x06,
  SEQUENCE: 0x30,
  SET: 0x31,
  CONTEXT_0: 0xa0,
  CONTEXT_0_PRIMITIVE: 0x80
} as const

/** Reads one node at `offset`; returns it and the offset after it. */
export function readNode(buf: Buffer, offset = 0): { node: DerNode; next: number } {
  if (offset + 2 > buf.length) throw new DerError('truncated DER header')
  const tag = buf[offset] as number
  let length = buf[offset + 1] as number
  let pos = offset + 2
  if (length === 0x80) throw new DerError('indefinite-length encoding is not supported')
  if (length > 0x80) {
    const n = length & 0x7f
    if (n > 4 || pos + n > buf.length) throw new DerError('bad DER length')
    length = 0
    for (let i = 0; i < n; i++) length = length * 256 + (buf[pos + i] as number)
    pos += n
  }
  if (pos + length > buf.length) throw new DerError('DER value runs past the end')
  return { node: { tag, content: buf.subarray(pos, pos + length) }, next: pos + length }
}

/** The nodes inside a constructed node (or a whole buffer). */
export function children(content: Buffer): DerNode[] {
  const out: DerNode[] = []
  let pos = 0
  while (pos < content.length) {
    const { node, next } = readNode(content, pos)
    out.push(node)
    pos = next
  }
  return out
}

export function expect(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (node === undefined || node.tag !== tag) throw new DerError(`expected ${what}`)
  return node
}

/** Dotted OID text from an OID node. */
export function oid(node: DerNode | undefined): string {
  const c = expect(node, TAG.OID, 'an object identifier').content
  if (c.length === 0) throw new DerError('empty object identifier')
  const first = c[0] as number
  const parts = [Math.min(2, Math.floor(first / 40)), first - Math.min(2, Math.floor(first / 40)) * 40]
  let v = 0
  for (let i = 1; i < c.length; i++) {
    const b = c[i] as number
    v = v * 128 + (b & 0x7f)
    if ((b & 0x80) === 0) {
      parts.push(v)
      v = 0
    }
  }
  return parts.join('.')
}

export function integer(node: DerNode | undefined): number {
  const c = expect(node, TAG.INTEGER, 'an integer').content
  if (c.length > 6) throw new DerError('integer too large')
  let v = 0
  for (const b of c) v = v * 256 + b
  return v
}

/** Bytes of an OCTET STRING, primitive or constructed (`tag` lets callers accept implicit tags). */
export function octets(node: DerNode | undefined, tags: readonly number[] = [TAG.OCTET_STRING]): Buffer {
  if (node === undefined) throw new DerError('expected an octet string')
  if (tags.includes(node.tag)) return node.content
  if (tags.some(t => (t | 0x20) === node.tag)) return Buffer.concat(children(node.content).map(n => octets(n)))
  throw new DerError('expected an octet string')
}
