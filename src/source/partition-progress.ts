/**
 * What one partition's copy has fetched, sent, had acknowledged and stored, and what it may do
 * next: pure logic, no I/O, no clock of its own (callers pass `now`).
 *
 * The log of a partition is cut into units, in offset order, each covering [first, next): the
 * records of one send, or only offsets to step over (transaction markers, aborted records). The
 * invariants the copier relies on:
 * - units are contiguous: each starts where the previous ended (a jump, after data loss, goes
 *   through `restart`, which forgets everything queued);
 * - at most one unit of a partition is in flight, so records land on the target in source
 *   order even when a send fails and is retried (the target producer is not idempotent);
 * - `acked` only moves forward over units the target acknowledged or that carry nothing, so
 *   every offset below it is on the target: that, minus one, is the position that may be stored;
 * - a failed unit stays at the head of the queue and is sent again after a backoff (retriable)
 *   or after a pause (refused), nothing behind it is sent before it;
 * - units are kept until acknowledged; `queuedBytes` is what the fetcher uses for back-pressure.
 */

export interface Unit<P> {
  /** First offset covered (a record of the first batch below it is not part of the unit). */
  readonly first: bigint
  /** Offset after the unit. */
  readonly next: bigint
  /** Bytes held (raw batch bytes): the back-pressure measure. */
  readonly bytes: number
  /** Nothing to send: only offsets to step over. */
  readonly empty: boolean
  readonly payload: P
}

export type Pause = { readonly offset: bigint; readonly reason: string; readonly since: number }

export const RETRY_BACKOFF = { firstMs: 100, maxMs: 5_000 } as const
export const REFUSED_BACKOFF = { firstMs: 5_000, maxMs: 60_000 } as const

/** The wait before attempt number `attempt` (1, 2, ...): firstMs doubling up to maxMs. */
export function backoff(attempt: number, b: { readonly firstMs: number; readonly maxMs: number }): number {
  return Math.min(b.maxMs, b.firstMs * 2 ** Math.max(0, attempt - 1))
}

export class PartitionProgress<P> {
  readonly #queue: Array<Unit<P>> = []
  #queuedBytes = 0
  #inFlight: Unit<P> | undefined
  /** Every offset below this one is on the target (or had nothing to copy). */
  #acked: bigint
  /** `acked` when it was last stored (or started from). */
  #stored: bigint
  /** Where the next enqueued unit must start. */
  #end: bigint
  #attempts = 0
  #retryAt = 0
  #pause: Pause | undefined
  /** Bumped by restart(): an answer for a unit sent before it no longer moves anything. */
  #epoch = 0

  constructor(start: bigint) {
    this.#acked = start
    this.#stored = start
    this.#end = start
  }

  /** Every offset below this one is on the target. */
  get ackedTo(): bigint {
    return this.#acked
  }
  /** `acked` when it was last stored, or where the copy started (every offset below it is on the target). */
  get storedTo(): bigint {
    return this.#stored
  }
  /** Where the next enqueued unit must start (the fetch position this progress expects). */
  get end(): bigint {
    return this.#end
  }
  get queuedBytes(): number {
    return this.#queuedBytes
  }
  get queuedUnits(): number {
    return this.#queue.length
  }
  get inFlight(): boolean {
    return this.#inFlight !== undefined
  }
  get epoch(): number {
    return this.#epoch
  }
  /** Set while the head unit was refused by the target; cleared by the next acknowledgement. */
  get pause(): Pause | undefined {
    return this.#pause
  }
  /** When the head unit may be sent again (0: now). */
  get retryAt(): number {
    return this.#retryAt
  }

  /** Appends a fetched unit; it must start where the last one ended. */
  enqueue(unit: Unit<P>): void {
    if (unit.first !== this.#end) throw new Error(`unit starts at ${unit.first}, expected ${this.#end}`)
    this.#end = unit.next
    this.#queue.push(unit)
    this.#queuedBytes += unit.bytes
    this.#stepOverEmpty()
  }

  /** The head unit, if it may be sent now: nothing of this partition in flight, no backoff or pause running. */
  next(now: number): Unit<P> | undefined {
    if (this.#inFlight !== undefined || now < this.#retryAt) return undefined
    return this.#queue[0]
  }

  /** Marks the head unit as sent. */
  sending(unit: Unit<P>): void {
    if (this.#queue[0] !== unit || this.#inFlight !== undefined)
      throw new Error('only the head unit can be sent, one at a time')
    this.#inFlight = unit
  }

  /** The target acknowledged the unit in flight. Returns false when it no longer counts (a restart came in between). */
  acked(unit: Unit<P>, epoch: number): boolean {
    if (this.#inFlight === unit) this.#inFlight = undefined
    if (epoch !== this.#epoch || this.#queue[0] !== unit) return false
    this.#shift()
    this.#acked = unit.next
    this.#attempts = 0
    this.#retryAt = 0
    this.#pause = undefined
    this.#stepOverEmpty()
    return true
  }

  /** The unit in flight failed and may succeed later: sent again after a growing backoff. */
  failed(unit: Unit<P>, now: number): void {
    if (this.#inFlight === unit) this.#inFlight = undefined
    this.#attempts++
    this.#retryAt = now + backoff(this.#attempts, RETRY_BACKOFF)
  }

  /** The target refused the head unit's first record: the partition waits (longer each time), then tries it again. */
  refused(unit: Unit<P>, now: number, reason: string): Pause {
    if (this.#inFlight === unit) this.#inFlight = undefined
    this.#attempts++
    this.#retryAt = now + backoff(this.#attempts, REFUSED_BACKOFF)
    this.#pause = { offset: unit.first, reason, since: this.#pause?.since ?? now }
    return this.#pause
  }

  /**
   * The head unit's bytes are damaged (their CRC does not match): they cannot be sent, and
   * retrying them would fail forever. It and everything queued after it are dropped, to be
   * fetched again from its first offset; what was acknowledged and stored stays. An answer for a
   * fetch made before no longer fits (`end` moved back) and is dropped by the caller.
   */
  refetch(unit: Unit<P>): void {
    if (this.#queue[0] !== unit) throw new Error('only the head unit can be fetched again')
    this.#queue.length = 0
    this.#queuedBytes = 0
    this.#inFlight = undefined
    this.#epoch++
    this.#end = unit.first
  }

  /**
   * Replaces the head unit (not in flight) by smaller ones covering the same offsets (to narrow a refusal down, or to
   * fit a size).
   */
  splitHead(parts: ReadonlyArray<Unit<P>>): void {
    const head = this.#queue[0]
    if (head === undefined || this.#inFlight === head) throw new Error('the head unit is in flight or missing')
    let at = head.first
    for (const p of parts) {
      if (p.first !== at) throw new Error(`part starts at ${p.first}, expected ${at}`)
      at = p.next
    }
    if (at !== head.next) throw new Error(`parts end at ${at}, the unit at ${head.next}`)
    this.#shift()
    this.#queue.unshift(...parts)
    this.#queuedBytes += parts.reduce((n, p) => n + p.bytes, 0)
    this.#stepOverEmpty()
  }

  /**
   * Joins the head unit with the units queued behind it, in order, for as long as `join` returns
   * the unit covering both (it returns undefined to stop), so that what was fetched while the
   * partition's last send was in flight goes out in one send, as a Kafka producer fills the next
   * batch while one is in flight: with one unit per fetch and one send per partition at a time,
   * small fetches arriving faster than sends return would otherwise queue up, each waiting a
   * round trip. Nothing is joined while a unit is in flight, or once the head was tried and
   * failed (its retry, or its narrowing down, keeps its shape). Returns how many units were
   * joined into the head (0: none).
   */
  coalesceHead(join: (head: Unit<P>, following: Unit<P>) => Unit<P> | undefined): number {
    if (this.#inFlight !== undefined || this.#attempts > 0) return 0
    let head = this.#queue[0]
    if (head === undefined) return 0
    let joined = 0
    for (let following = this.#queue[1]; following !== undefined; following = this.#queue[1]) {
      const both = join(head, following)
      if (both === undefined) break
      if (both.first !== head.first || both.next !== following.next)
        throw new Error(
          `a joined unit must cover [${head.first}, ${following.next}), not [${both.first}, ${both.next})`
        )
      this.#queue.splice(0, 2, both)
      this.#queuedBytes += both.bytes - head.bytes - following.bytes
      head = both
      joined++
    }
    return joined
  }

  /**
   * Starts again at `offset` (data loss: retention overtook the copy, the topic was re-created
   * or truncated). Everything queued is dropped; the answer for a unit in flight is ignored.
   */
  restart(offset: bigint): void {
    this.#queue.length = 0
    this.#queuedBytes = 0
    this.#inFlight = undefined
    this.#epoch++
    this.#acked = offset
    // The stored position may belong to records that are gone (a re-created topic): the next
    // acknowledgement is stored whatever it was.
    this.#stored = offset
    this.#end = offset
    this.#attempts = 0
    this.#retryAt = 0
    this.#pause = undefined
  }

  /**
   * The partition is given up (released to another task or instance): everything queued is
   * dropped except the unit in flight, whose answer still moves `acked` so its position can be
   * stored. Nothing is enqueued or sent after this.
   */
  release(): void {
    const keep = this.#inFlight
    this.#queue.length = 0
    this.#queuedBytes = 0
    if (keep !== undefined) {
      this.#queue.push(keep)
      this.#queuedBytes = keep.bytes
    }
    this.#end = keep?.next ?? this.#acked
  }

  /** The offset of the last copied record when it moved since the last store, else undefined. */
  storable(): bigint | undefined {
    return this.#acked > this.#stored ? this.#acked - 1n : undefined
  }

  /** Positions up to `offset` (a value storable() returned) were stored. */
  stored(offset: bigint): void {
    if (offset + 1n > this.#stored) this.#stored = offset + 1n
  }

  #shift(): void {
    const head = this.#queue.shift()
    if (head !== undefined) this.#queuedBytes -= head.bytes
  }

  /** Units with nothing to send at the head count as acknowledged at once. */
  #stepOverEmpty(): void {
    while (this.#inFlight === undefined && this.#queue[0]?.empty === true) {
      const head = this.#queue[0]
      this.#shift()
      this.#acked = head.next
    }
  }
}
