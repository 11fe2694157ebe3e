/**
 * Values for `kafka-mirror bench`: the send time, a sequence number, then JSON order events
 * (src/bench/order-events.ts, the json-lz4 workload's events), so a compressed run sees about the
 * ratio real JSON gets (zero-filled values would compress a hundredfold and flatter every codec).
 * The text is made once; each value is a window of it at a pseudo-random place, so consecutive
 * values differ and making one costs a copy, not a JSON.stringify.
 */
import { stampedValue } from './latency-histogram.ts'
import { seededRandom } from '../util/seeded-random.ts'
import { orderEvent } from './order-events.ts'

const CORPUS_BYTES = 1 << 20
const EVENT_BYTES = 1024
/** Send time (bytes 0-7), then the sequence number (bytes 8-15), then text. */
export const SEQUENCE_END = 16

/** The sequence number a value of SyntheticValues carries. */
export function sequenceOf(value: Buffer): number {
  return Number(value.readBigInt64BE(8))
}

export class SyntheticValues {
  readonly #corpus: Buffer
  readonly #random: () => number

  constructor(seed = 42) {
    this.#random = seededRandom(seed)
    const events = Array.from({ length: Math.ceil(CORPUS_BYTES / (EVENT_BYTES + 1)) }, (_, i) =>
      orderEvent(i, EVENT_BYTES, this.#random)
    )
    this.#corpus = Buffer.from(events.join('\n'), 'utf8')
  }

  /**
   * A value of `size` bytes (at least 16) stamped with `sentAt`, then the record's sequence
   * number (int64 at byte 8), by which the reader tells a duplicate from a new record.
   */
  next(size: number, sentAt: number, sequence: number): Buffer {
    const value = stampedValue(Math.max(SEQUENCE_END, size), sentAt)
    value.writeBigInt64BE(BigInt(sequence), 8)
    const body = value.length - SEQUENCE_END
    let from = body < this.#corpus.length ? Math.floor(this.#random() * (this.#corpus.length - body + 1)) : 0
    // A value longer than the text repeats it.
    for (let at = SEQUENCE_END; at < value.length; from = 0)
      at += this.#corpus.copy(value, at, from, Math.min(this.#corpus.length, from + value.length - at))
    return value
  }
}
