/**
 * Kafka protocol `Struct` primitives, as used by the MM2 internal topics (Kafka's Struct and Schema types).
 *
 * Invariants:
 * - Integers are big-endian two's complement: INT16 = 2 bytes, INT32 = 4, INT64 = 8 (bigint).
 * - STRING = INT16 byte length N (0..32767) + N bytes of UTF-8. Not nullable. Like Java's
 *   `String.getBytes(UTF_8)`, an unpaired UTF-16 surrogate is encoded as `?` (0x3f).
 * - Java sizes the record buffer with `Utils.utf8Length`, which counts an unpaired surrogate as 3
 *   or 4 bytes, then returns the whole buffer: such strings leave zero bytes at the END of the
 *   record. The writer appends the same zeros so our keys stay byte-identical (compaction).
 * - No tags, no field count, no padding. A reader ignores bytes after the last field.
 * - Decoding problems (truncation, negative string length) throw FormatError naming the record
 *   and field; so do values that cannot be encoded (out of range, string too long).
 */
import { Buffer } from 'node:buffer'
import { FormatError } from '../errors.ts'

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n
const STRING_MAX_BYTES = 32767
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/** UTF-8 bytes exactly as Java's `String.getBytes(StandardCharsets.UTF_8)` produces them. */
export function javaUtf8(s: string): Buffer {
  return Buffer.from(s.isWellFormed() ? s : s.replace(LONE_SURROGATE, '?'), 'utf8')
}

/** Java `Utils.utf8Length`: the size Java reserves for a string (differs only for unpaired surrogates). */
export function javaUtf8Length(s: string): number {
  let count = 0
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i)
    if (ch <= 0x7f) count++
    else if (ch <= 0x7ff) count += 2
    else if (ch >= 0xd800 && ch <= 0xdbff) {
      count += 4
      i++
    } // counts 4 and skips the next unit, paired or not
    else count += 3
  }
  return count
}

/** Builds one struct by appending fields in schema order, into one buffer. */
export class StructWriter {
  readonly #what: string
  #buf = Buffer.allocUnsafe(64)
  #pos = 0
  /** Zero bytes Java leaves at the end of the record (see the module comment). */
  #javaPadding = 0

  /** `what` names the record being written, for error messages (e.g. `OffsetSync key`). */
  constructor(what: string) {
    this.#what = what
  }

  int16(field: string, v: number): this {
    this.#checkInt(field, v, -0x8000, 0x7fff, 'INT16')
    const at = this.#take(2)
    this.#buf.writeInt16BE(v, at)
    return this
  }

  int32(field: string, v: number): this {
    this.#checkInt(field, v, -0x80000000, 0x7fffffff, 'INT32')
    const at = this.#take(4)
    this.#buf.writeInt32BE(v, at)
    return this
  }

  int64(field: string, v: bigint): this {
    if (typeof v !== 'bigint' || v < INT64_MIN || v > INT64_MAX) {
      throw new FormatError(`${this.#what}: field ${field} must be an INT64 bigint, got ${String(v)}`)
    }
    const at = this.#take(8)
    this.#buf.writeBigInt64BE(v, at)
    return this
  }

  string(field: string, s: string): this {
    if (typeof s !== 'string') {
      throw new FormatError(`${this.#what}: field ${field} is a non-nullable STRING, got ${String(s)}`)
    }
    const bytes = javaUtf8(s)
    if (bytes.length > STRING_MAX_BYTES) {
      throw new FormatError(
        `${this.#what}: field ${field} is ${bytes.length} UTF-8 bytes, the maximum is ${STRING_MAX_BYTES}`
      )
    }
    const at = this.#take(2 + bytes.length)
    this.#buf.writeInt16BE(bytes.length, at)
    bytes.copy(this.#buf, at + 2)
    if (!s.isWellFormed()) this.#javaPadding += javaUtf8Length(s) - bytes.length
    return this
  }

  /** The record: a view of the fields written so far, plus Java's trailing zeros. */
  toBuffer(): Buffer {
    const end = this.#pos + this.#javaPadding
    this.#reserve(end)
    return this.#buf.fill(0, this.#pos, end).subarray(0, end)
  }

  /** Reserves the next `n` bytes; returns where they start. Call it before reading #buf: it may replace it. */
  #take(n: number): number {
    const at = this.#pos
    this.#reserve(at + n)
    this.#pos = at + n
    return at
  }

  /** Grows the buffer to hold at least `size` bytes, keeping what was written. */
  #reserve(size: number): void {
    if (size <= this.#buf.length) return
    const bigger = Buffer.allocUnsafe(Math.max(size, 2 * this.#buf.length))
    this.#buf.copy(bigger, 0, 0, this.#pos)
    this.#buf = bigger
  }

  #checkInt(field: string, v: number, min: number, max: number, type: string): void {
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new FormatError(`${this.#what}: field ${field} must be an ${type} in [${min}, ${max}], got ${String(v)}`)
    }
  }
}

/** Reads one struct field by field; every read checks that enough bytes are left. */
export class StructReader {
  readonly #what: string
  readonly #buf: Buffer
  #pos = 0

  constructor(what: string, bytes: Uint8Array | null | undefined) {
    this.#what = what
    if (bytes === null || bytes === undefined) throw new FormatError(`${what}: is null`)
    this.#buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  int16(field: string): number {
    return this.#buf.readInt16BE(this.#take(field, 'INT16', 2))
  }

  int32(field: string): number {
    return this.#buf.readInt32BE(this.#take(field, 'INT32', 4))
  }

  int64(field: string): bigint {
    return this.#buf.readBigInt64BE(this.#take(field, 'INT64', 8))
  }

  string(field: string): string {
    const len = this.#buf.readInt16BE(this.#take(field, 'STRING length', 2))
    if (len < 0) throw new FormatError(`${this.#what}: field ${field} has negative STRING length ${len}`)
    const at = this.#take(field, 'STRING', len)
    return this.#buf.toString('utf8', at, at + len)
  }

  /** Bytes not consumed yet (trailing bytes are allowed and ignored by decoders). */
  get remaining(): number {
    return this.#buf.length - this.#pos
  }

  /** Consumes the next `n` bytes, or throws if fewer are left; returns where they start. */
  #take(field: string, type: string, n: number): number {
    const at = this.#pos
    const left = this.#buf.length - at
    if (left < n) {
      throw new FormatError(
        `${this.#what}: truncated reading field ${field} (${type}) at byte ${at}: need ${n} bytes, ${left} left`
      )
    }
    this.#pos += n
    return at
  }
}
