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

  get state(): { readonly prevUp: bigint; readonly prevDown: bigint; readonly lastSyncDown: bigint } {
    return { prevUp: this.#prevUp, prevDown: this.#prevDown, lastSyncDown: this.#lastSyncDown }
  }
}
