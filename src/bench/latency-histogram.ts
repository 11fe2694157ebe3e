/**
 * End-to-end latency of stamped records: each value starts with its send time (Date.now() as a
 * big-endian int64); a reader subtracts that from the time it received the record. A histogram
 * with 1 ms buckets keeps the percentiles exact to the millisecond at any record count.
 */

/** A value of `size` bytes (at least 8) carrying `sentAt` in its first 8 bytes. */
export function stampedValue(size: number, sentAt = Date.now()): Buffer {
  const value = Buffer.alloc(Math.max(8, size))
  value.writeBigInt64BE(BigInt(sentAt))
  return value
}

export interface LatencySummary {
  readonly count: number
  readonly p50: number
  readonly p95: number
  readonly p99: number
  readonly max: number
}

export class LatencyHistogram {
  static readonly #LIMIT_MS = 600_000
  readonly #buckets = new Uint32Array(LatencyHistogram.#LIMIT_MS + 1)
  count = 0
  #max = 0

  add(ms: number): void {
    const bucket = Math.min(LatencyHistogram.#LIMIT_MS, Math.max(0, Math.round(ms)))
    this.#buckets[bucket] = (this.#buckets[bucket] ?? 0) + 1
    this.#max = Math.max(this.#max, ms)
    this.count++
  }

  /** Nearest-rank percentile (q in 0..1), in ms; undefined with no samples. */
  percentile(q: number): number | undefined {
    if (this.count === 0) return undefined
    const rank = Math.max(1, Math.ceil(q * this.count))
    let seen = 0
    for (let ms = 0; ms < this.#buckets.length; ms++) {
      seen += this.#buckets[ms] ?? 0
      if (seen >= rank) return ms
    }
    return this.#max
  }

  summary(): LatencySummary | undefined {
    if (this.count === 0) return undefined
    return {
      count: this.count,
      p50: this.percentile(0.5) ?? 0,
      p95: this.percentile(0.95) ?? 0,
      p99: this.percentile(0.99) ?? 0,
      max: this.#max
    }
  }
}
