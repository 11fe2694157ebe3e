/**
 * The write lease of one group member: until when this instance may still write records and
 * positions for the units it owns (docs/scale-out-plan.md §4).
 *
 * The argument in short. The coordinator resets a member's session timer when a Heartbeat
 * arrives (or when a join phase completes), which is never earlier than the moment the member
 * sent that request. Apart from LeaveGroup, a classic-group member is removed only when that
 * timer runs out, or when it misses a rebalance that started after that answer (bounded by the
 * rebalance timeout, which we keep >= the session timeout). So the coordinator cannot give this
 * member's units to anyone else before `sentAt + session.timeout.ms`. The lease ends a margin
 * earlier: `deadline = sentAt + S - m`. Every write path asks `valid()` synchronously, so the last
 * write leaves before anyone else can be handed the unit. An answer other than NONE renews
 * nothing (REBALANCE_IN_PROGRESS in particular: the rebalance it announces may end without us).
 *
 * The deadline lives in a SharedArrayBuffer (nanoseconds of the process-wide monotonic clock,
 * 0 = fenced) so copier worker threads read it with Atomics and learn of the end without waiting
 * for a message (`LeaseView`). Only the owner (the membership, on the main thread) writes it.
 * A second cell holds the group generation the lease belongs to (-1 before the first), so a
 * worker can name the writer on the positions it stores (plan §4, "Position records show the
 * writer") without a message either.
 */
import { KafkaError } from '../errors.ts'
import { type Clock, msToNs, systemClock, type TimerHandle } from './clock.ts'

/** Cells of the shared buffer: the deadline, then the generation. */
const DEADLINE = 0
const GENERATION = 1
const CELLS = 2

/** A write refused because the lease ended: never retried as is, the unit is stopped or re-dealt. */
export class LeaseExpiredError extends KafkaError {
  constructor(what: string, groupId: string) {
    super(
      `${what} refused: this instance's lease in group ${groupId} has ended (its membership is not confirmed; another instance may own the unit now)`,
      { retriable: false, kafkaCode: 'LEASE_EXPIRED' }
    )
  }
}

/**
 * The margin when none is configured: 10% of the session timeout, at least 1 s (clock-rate drift and request transit).
 */
export function defaultLeaseMarginMs(sessionTimeoutMs: number): number {
  return Math.max(1000, Math.round(sessionTimeoutMs / 10))
}

/** Read side of a lease: cheap, synchronous, usable in any thread that has the buffer. */
export class LeaseView {
  readonly buffer: SharedArrayBuffer
  readonly groupId: string
  readonly #cells: BigInt64Array
  readonly #clock: Clock

  constructor(buffer: SharedArrayBuffer, groupId: string, clock: Clock = systemClock) {
    this.buffer = buffer
    this.groupId = groupId
    this.#cells = new BigInt64Array(buffer, 0, CELLS)
    this.#clock = clock
  }

  /** The deadline in clock nanoseconds; 0 when fenced or never granted. */
  get deadlineNs(): bigint {
    return Atomics.load(this.#cells, DEADLINE)
  }

  /** The generation the owner last set (-1 before any). */
  get generation(): number {
    return Number(Atomics.load(this.#cells, GENERATION))
  }

  valid(nowNs: bigint = this.#clock.nowNs()): boolean {
    return nowNs < this.deadlineNs
  }

  /** Milliseconds left (0 when expired). */
  remainingMs(nowNs: bigint = this.#clock.nowNs()): number {
    const left = this.deadlineNs - nowNs
    return left > 0n ? Number(left / 1000n) / 1000 : 0
  }

  /**
   * Throws LeaseExpiredError unless the lease is valid right now. `what` names the refused write;
   * a function is called only on refusal (the copy path asks before every request).
   */
  assertValid(what: string | (() => string)): void {
    if (!this.valid()) throw new LeaseExpiredError(typeof what === 'string' ? what : what(), this.groupId)
  }
}

export interface LeaseOptions {
  readonly groupId: string
  readonly sessionTimeoutMs: number
  readonly marginMs?: number
  readonly clock?: Clock
  /** Called once each time a valid lease runs out (not on fence()). */
  readonly onExpire?: () => void
}

/** The owner's side: renew from answered requests, fence on loss, a timer that reports the end. */
export class Lease extends LeaseView {
  readonly #lengthNs: bigint
  readonly #clockRef: Clock
  readonly #onExpire: () => void
  #timer: TimerHandle | undefined
  readonly #cells: BigInt64Array

  constructor(opts: LeaseOptions) {
    const buffer = new SharedArrayBuffer(CELLS * BigInt64Array.BYTES_PER_ELEMENT)
    const clock = opts.clock ?? systemClock
    super(buffer, opts.groupId, clock)
    const margin = opts.marginMs ?? defaultLeaseMarginMs(opts.sessionTimeoutMs)
    if (margin >= opts.sessionTimeoutMs)
      throw new RangeError(`lease margin ${margin} ms must be below the session timeout ${opts.sessionTimeoutMs} ms`)
    this.#lengthNs = msToNs(opts.sessionTimeoutMs - margin)
    this.#clockRef = clock
    this.#onExpire = opts.onExpire ?? (() => {})
    this.#cells = new BigInt64Array(buffer, 0, CELLS)
    Atomics.store(this.#cells, GENERATION, -1n)
  }

  /** The generation writes now belong to (set when a JoinGroup answer starts one). */
  setGeneration(generation: number): void {
    Atomics.store(this.#cells, GENERATION, BigInt(generation))
  }

  /**
   * A request sent at `sentAtNs` was answered NONE: the lease runs to sentAt + S - m. Never moves
   * the deadline back (answers can be handled out of send order). Returns whether the lease was
   * expired before (so the caller can report a resume).
   */
  renew(sentAtNs: bigint): boolean {
    const now = this.#clockRef.nowNs()
    const wasValid = this.valid(now)
    const next = sentAtNs + this.#lengthNs
    if (next > this.deadlineNs) {
      Atomics.store(this.#cells, DEADLINE, next)
      this.#arm(now)
    }
    return !wasValid && this.valid(now)
  }

  /** Ends the lease now (membership lost, or closing): writes stop at once. No onExpire call. */
  fence(): void {
    Atomics.store(this.#cells, DEADLINE, 0n)
    this.#disarm()
  }

  /** Stops the timer; the deadline is left as it is. */
  close(): void {
    this.#disarm()
  }

  /** One timer at the deadline; if it fires early (the deadline moved), it re-arms. */
  #arm(now: bigint): void {
    this.#disarm()
    const left = this.deadlineNs - now
    if (left <= 0n) return
    this.#timer = this.#clockRef.setTimer(Number((left + 999_999n) / 1_000_000n), () => {
      this.#timer = undefined
      const at = this.#clockRef.nowNs()
      if (this.deadlineNs === 0n) return
      if (this.valid(at)) {
        this.#arm(at)
        return
      }
      this.#onExpire()
    })
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clockRef.clearTimer(this.#timer)
    this.#timer = undefined
  }
}
