/**
 * When a copier task in the exactly-once mode commits its open transaction (Connect's
 * `transaction.boundary`, KIP-618; docs/exactly-once-plan.md §5.1):
 * - `poll` (the default): a transaction ends as soon as no more copied records are ready to
 *   send, so records become visible to read_committed consumers within a round or two; when
 *   a backlog keeps records ready, rounds join the transaction up to the caps below, so the
 *   cost of a commit is shared by many records instead of falling behind;
 * - `interval`: rounds join the open transaction until `transaction.boundary.interval.ms` has
 *   passed since it opened, or it holds `maxRecords` records or `maxBytes` bytes (the position
 *   flush thresholds), which bounds what an abort throws away and keeps every transaction well
 *   inside the transaction timeout.
 *
 * Pure logic: the copier says when a transaction opened and what it acknowledged in it, and asks.
 */
import { DEFAULT_FLUSH_THRESHOLDS } from './position-flush-policy.ts'

export interface BoundaryConfig {
  readonly boundary: 'poll' | 'interval'
  readonly intervalMs: number
  readonly maxRecords?: number
  readonly maxBytes?: number
}

export class TransactionBoundary {
  readonly #config: Required<BoundaryConfig>
  #openedAt: number | undefined
  #rounds = 0
  #records = 0
  #bytes = 0

  constructor(config: BoundaryConfig) {
    this.#config = {
      maxRecords: DEFAULT_FLUSH_THRESHOLDS.maxRecords,
      maxBytes: DEFAULT_FLUSH_THRESHOLDS.maxBytes,
      ...config
    }
  }

  /** A transaction is open (something was sent in it since the last commit or abort). */
  get open(): boolean {
    return this.#openedAt !== undefined
  }

  /** A round was sent in the transaction (opening it at `now` if none is open); `records`/`bytes` acknowledged. */
  round(now: number, records: number, bytes: number): void {
    this.#openedAt ??= now
    this.#rounds++
    this.#records += records
    this.#bytes += bytes
  }

  /** The open transaction should commit now, before another round is sent in it. */
  due(now: number): boolean {
    if (this.#openedAt === undefined) return false
    const full = this.#records >= this.#config.maxRecords || this.#bytes >= this.#config.maxBytes
    if (this.#config.boundary === 'poll') return full
    return full || now - this.#openedAt >= this.#config.intervalMs
  }

  /** The open transaction should commit now that nothing is ready to send (`poll`). */
  dueWhenIdle(): boolean {
    return this.#openedAt !== undefined && this.#config.boundary === 'poll'
  }

  /** Milliseconds until the open transaction is due by time (Infinity when none is open or with `poll`). */
  dueIn(now: number): number {
    if (this.#openedAt === undefined || this.#config.boundary === 'poll') return Number.POSITIVE_INFINITY
    return Math.max(0, this.#openedAt + this.#config.intervalMs - now)
  }

  /** The transaction ended (committed or aborted): the next round opens a new one. */
  ended(): void {
    this.#openedAt = undefined
    this.#rounds = 0
    this.#records = 0
    this.#bytes = 0
  }
}
