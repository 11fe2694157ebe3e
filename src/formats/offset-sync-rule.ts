/**
 * The per-partition "is an offset sync due?" rule of MirrorSourceTask (Java's
 * OffsetSyncWriter.PartitionState). Feed it every acknowledged (upstream, downstream) offset pair of
 * one source partition, in order; it says whether that pair must be written as an OffsetSync now
 * (pending) or may only be remembered as the latest (delayed) one.
 *
 * Invariants:
 * - State starts at prevUp = prevDown = lastSyncDown = -1 and lives for one task lifetime.
 * - A pair is due when: it is the first (lastSyncDown == -1); or down - (lastSyncDown + 1) >=
 *   offset.lag.max; or up - prevUp != 1 (upstream gap); or down < prevDown (downstream went back).
 * - When due, lastSyncDown = down. prevUp/prevDown always become the pair just seen.
 * - Pure: no clock, no I/O. Offsets are bigint (Java long).
 */

export class OffsetSyncRule {
  readonly offsetLagMax: bigint
  #prevUp = -1n
  #prevDown = -1n
  #lastSyncDown = -1n

  constructor(offsetLagMax: bigint | number) {
    this.offsetLagMax = BigInt(offsetLagMax)
  }

  /** Records one acked pair; true when an offset sync for it is due now. */
  update(upstreamOffset: bigint, downstreamOffset: bigint): boolean {
    const due =
      this.#lastSyncDown === -1n ||
      downstreamOffset - (this.#lastSyncDown + 1n) >= this.offsetLagMax ||
      upstreamOffset - this.#prevUp !== 1n ||
      downstreamOffset < this.#prevDown
    if (due) this.#lastSyncDown = downstreamOffset
    this.#prevUp = upstreamOffset
    this.#prevDown = downstreamOffset
    return due
  }

  /**
   * The first downstream offset after the last pair at which the next pair would be due if it
   * follows on both sides without a gap: then only offset.lag.max can make it due. Lets a caller
   * with a contiguous run of pairs jump from one due pair to the next.
   */
  nextDueDownstream(): bigint {
    const next = this.#prevDown + 1n
    if (this.#lastSyncDown === -1n) return next
    const stale = this.#lastSyncDown + 1n + this.offsetLagMax
    return stale > next ? stale : next
  }

  /**
   * Records that the pairs after the last one, up to (`upstreamOffset`, `downstreamOffset`), were
   * acked contiguously on both sides and none was due: the caller checked that the last of them
   * lies before nextDueDownstream().
   */
  passContiguous(upstreamOffset: bigint, downstreamOffset: bigint): void {
    this.#prevUp = upstreamOffset
    this.#prevDown = downstreamOffset
  }

  get state(): { readonly prevUp: bigint; readonly prevDown: bigint; readonly lastSyncDown: bigint } {
    return { prevUp: this.#prevUp, prevDown: this.#prevDown, lastSyncDown: this.#lastSyncDown }
  }
}
