/**
 * Values for `kafka-mirror bench`: JSON-like order events after the send time and a sequence
 * number, so a compressed run sees about the ratio real JSON gets (zero-filled values would
 * compress a hundredfold and flatter every codec). The text is made once; each value is a window of it at
 * a pseudo-random place, so consecutive values differ.
 */
import { stampedValue } from './latency-histogram.ts'

const CORPUS_BYTES = 1 << 20
/** Send time (bytes 0-7), then the sequence number (bytes 8-15), then text. */
export const SEQUENCE_END = 16

/** The sequence number a value of SyntheticValues carries. */
export function sequenceOf(value: Buffer): number {
  return Number(value.readBigInt64BE(8))
}

export class SyntheticValues {
  readonly #corpus: Buffer
  #seed: number

  constructor(seed = 42) {
    this.#seed = seed >>> 0 || 1
    const lines: string[] = []
    let bytes = 0
    for (let seq = 0; bytes < CORPUS_BYTES; seq++) {
      const line =
        JSON.stringify({
          seq,
          customer: `c-${this.#next() % 50_000}`,
          sku: `sku-${(this.#next() % 9_000).toString(36)}`,
          qty: 1 + (this.#next() % 9),
          price: (this.#next() % 100_000) / 100,
          currency: ['EUR', 'USD', 'GBP'][this.#next() % 3],
          status: ['new', 'paid', 'shipped', 'cancelled'][this.#next() % 4],
          at: 1_764_000_000_000 + seq * 37
        }) + '\n'
      lines.push(line)
      bytes += line.length
    }
    this.#corpus = Buffer.from(lines.join(''), 'utf8')
  }

  /**
   * A value of `size` bytes (at least 16) stamped with `sentAt`, then the record's sequence
   * number (int64 at byte 8), by which the reader tells a duplicate from a new record.
   */
  next(size: number, sentAt: number, sequence: number): Buffer {
    const value = stampedValue(Math.max(SEQUENCE_END, size), sentAt)
    value.writeBigInt64BE(BigInt(sequence), 8)
    const body = value.length - SEQUENCE_END
    let from = body < this.#corpus.length ? this.#next() % (this.#corpus.length - body + 1) : 0
    // A value longer than the text repeats it.
    for (let at = SEQUENCE_END; at < value.length; from = 0)
      at += this.#corpus.copy(value, at, from, Math.min(this.#corpus.length, from + value.length - at))
    return value
  }

  /** xorshift32: cheap, deterministic, good enough to vary text. */
  #next(): number {
    let x = this.#seed
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.#seed = x >>> 0
    return this.#seed
  }
}
