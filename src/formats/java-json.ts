/**
 * The few JSON pieces Connect's JsonConverter (Jackson, schemas.enable=false) writes for offset
 * keys and values, reproduced byte for byte, plus a reader that keeps integers exact.
 *
 * Invariants of the writer (Jackson defaults, checked against Java golden bytes):
 * - compact, no whitespace; object keys in the order given;
 * - in strings: `"` and `\` are backslash-escaped; \b \t \n \f \r use their short forms; other
 *   control characters (< 0x20) and every UTF-16 surrogate code unit (paired or not) are written as
 *   `\uXXXX` with UPPERCASE hex; everything else (including `/`, DEL, U+2028) is raw UTF-8.
 */
import { Buffer } from 'node:buffer'
import { FormatError } from '../errors.ts'

const SHORT_ESCAPES: Readonly<Record<number, string>> = {
  0x08: '\\b',
  0x09: '\\t',
  0x0a: '\\n',
  0x0c: '\\f',
  0x0d: '\\r',
  0x22: '\\"',
  0x5c: '\\\\'
}
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/

/** A JSON string literal exactly as Jackson writes it. */
export function jacksonString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`
  let out = '"'
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    const short = SHORT_ESCAPES[c]
    if (short !== undefined) out += short
    else if (c < 0x20 || (c >= 0xd800 && c <= 0xdfff)) out += '\\u' + c.toString(16).toUpperCase().padStart(4, '0')
    else out += s[i]
  }
  return out + '"'
}

/** A JSON value as parsed by {@link parseJsonExact}: integers are bigint, other numbers number. */
export type JsonValue =
  null | boolean | string | number | bigint | readonly JsonValue[] | { readonly [k: string]: JsonValue }

type Reviver = (this: unknown, key: string, value: unknown, context?: { source?: string }) => unknown

const keepIntegersExact: Reviver = (_key, value, context) => {
  if (typeof value === 'number' && context?.source !== undefined && /^-?\d+$/.test(context.source)) {
    return BigInt(context.source)
  }
  return value
}

/** JSON.parse of UTF-8 bytes that keeps integers exact (as bigint); throws FormatError naming `what`. */
export function parseJsonExact(bytes: Uint8Array, what: string): JsonValue {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')
  try {
    return JSON.parse(text, keepIntegersExact as (this: unknown, key: string, value: unknown) => unknown) as JsonValue
  } catch (err) {
    throw new FormatError(`${what}: not valid JSON (${(err as Error).message})`)
  }
}
