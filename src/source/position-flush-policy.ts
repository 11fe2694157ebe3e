/**
 * When a copier task stores its source positions. A crash re-copies what the target
 * acknowledged since the last store, so stores come:
 * - right after the first acknowledged send of a run: a mirror that is restarted again and
 *   again (a crash loop, a pod evicted every few seconds) keeps what each run copied;
 * - then after `offset.flush.interval.ms`, or once `maxRecords` records or `maxBytes` bytes were
 *   acknowledged since the last store, whichever comes first, so at high rates the re-copy after
 *   a crash stays small however long the interval is.
 *
 * Pure logic; the copier tells it what was acknowledged and stored, and asks whether a store is due.
 */

export interface PositionFlushLimits {
  /** `offset.flush.interval.ms` of the target (how long acknowledged positions may wait). */
  readonly intervalMs: number
  /** Store once this many records were acknowledged since the last store. */
  readonly maxRecords: number
  /** Store once this many bytes (keys, values, headers) were acknowledged since the last store. */
  readonly maxBytes: number
}

/** The record and byte thresholds; the interval comes from the flow's config. */
export const DEFAULT_FLUSH_THRESHOLDS = { maxRecords: 10_000, maxBytes: 8 * 1024 * 1024 } as const

export class PositionFlushPolicy {
  readonly #limits: PositionFlushLimits
  #lastStoreAt: number
  #storedThisRun = false
  #records = 0
  #bytes = 0
  /** After a failed store: no threshold store before this time (the interval one still comes). */
  #retryAt = 0
  #failures = 0

  constructor(limits: PositionFlushLimits, now: number) {
    this.#limits = limits
    this.#lastStoreAt = now
  }

  /** Records the target acknowledged (not yet stored). */
  acknowledged(records: number, bytes: number): void {
    this.#records += records
    this.#bytes += bytes
  }

  /**
   * Whether positions should be stored now. The interval store is due even with nothing new (offset syncs ride on it).
   */
  due(now: number): boolean {
    if (now - this.#lastStoreAt >= this.#limits.intervalMs) return true
    if (this.#records === 0 || now < this.#retryAt) return false
    return !this.#storedThisRun || this.#records >= this.#limits.maxRecords || this.#bytes >= this.#limits.maxBytes
  }

  /** Whether the interval itself has passed (a full flush: positions and the latest offset syncs). */
  intervalDue(now: number): boolean {
    return now - this.#lastStoreAt >= this.#limits.intervalMs
  }

  /** A store of everything acknowledged so far succeeded (an interval store may have had nothing to store). */
  stored(now: number): void {
    this.#lastStoreAt = now
    if (this.#records > 0) this.#storedThisRun = true
    this.#records = 0
    this.#bytes = 0
    this.#failures = 0
    this.#retryAt = 0
  }

  /** A store failed: try again after a backoff (1 s, doubling), and after the interval at the latest. */
  failed(now: number): void {
    this.#lastStoreAt = now
    this.#failures++
    this.#retryAt = now + Math.min(this.#limits.intervalMs, 1000 * 2 ** (this.#failures - 1))
  }
}
