/**
 * One reused block of memory that a copier's fetched record bytes are copied into, so that the
 * socket chunks they arrived in die young.
 *
 * Why: Node allocates a new 64 KiB Buffer for every socket read. When queued batches are views
 * of those chunks, the chunks live as long as the batches wait to be sent and acknowledged, long
 * enough to be promoted to V8's old generation, where only a full (mark-compact) collection frees
 * them. Every ~10 MB of such Buffers started one: 30-34 full collections in a 1 GB lz4 copy, each
 * marking the whole heap of ~21 MB, a quarter of the copy's CPU. Copied here (one memcpy per byte)
 * the chunks are garbage as soon as the fetch answer is parsed and a scavenge frees them; the
 * block itself lives as long as the copy, so it starts no collection: 8-11 full collections
 * instead (docs/DESIGN.md, "Fetched bytes go into one reused block").
 *
 * The block is a ring. A copy takes the next free bytes; space comes back only from the oldest
 * end, when the oldest region's `held()` says its bytes are no longer read (its records are on
 * the target, or dropped, and no send that may still read them is in flight). A region whose
 * holder does not let go (a partition paused on a refused record) stops reuse: the ring grows
 * into a new block, up to its largest size, and then `copy` returns undefined and the caller
 * keeps the socket's bytes as before, slower but correct. Reusing bytes that are still read
 * would corrupt what is copied, so `held` must err on the side of true.
 */

/** Bytes of the ring that one fetched partition's records were copied into. */
export class ArenaRegion {
  /** Until the owner claims the region (holdWhile) or lets it go, it is held. */
  #held: () => boolean = always

  /** Whether the bytes may still be read. */
  held(): boolean {
    return this.#held()
  }

  /** Claims the region: held for as long as `stillRead` says so (asked when the ring needs room). */
  holdWhile(stillRead: () => boolean): void {
    this.#held = stillRead
  }

  /** Nothing will read these bytes again. */
  release(): void {
    this.#held = never
  }

  /** Lets the region go unless it was claimed: for a fetch answer that was never handed on (an error on the way). */
  releaseUnclaimed(): void {
    if (this.#held === always) this.#held = never
  }
}

const always = (): boolean => true
const never = (): boolean => false

interface Span {
  readonly start: number
  readonly end: number
  readonly region: ArenaRegion
}

export class FetchArena {
  readonly #maxBytes: number
  #capacity: number
  /** Allocated at the first copy, so a reader that never fetches costs nothing. */
  #buffer: Buffer | undefined
  /** Regions in the order they were taken: the first one is the oldest (the ring's tail). */
  readonly #spans: Span[] = []
  #copiedBytes = 0
  #fullBytes = 0

  /**
   * A ring of `initialBytes` that doubles, up to `maxBytes`, when it has no room: a copy whose
   * working set is small (many partitions of a few records) keeps a small ring, resident memory
   * being what the ring has touched. On growing, the old block is left to the regions in it
   * (their views keep it alive until they are released and collected) and never written again.
   */
  constructor(maxBytes: number, initialBytes = maxBytes) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0)
      throw new Error(`an arena needs a positive size, not ${maxBytes}`)
    if (!Number.isSafeInteger(initialBytes) || initialBytes <= 0 || initialBytes > maxBytes)
      throw new Error(`an arena's first size must be positive and at most ${maxBytes}, not ${initialBytes}`)
    this.#maxBytes = maxBytes
    this.#capacity = initialBytes
  }

  /** The ring's size now. */
  get capacity(): number {
    return this.#capacity
  }

  /** Bytes between the oldest region still held and the newest (what the ring cannot give out now). */
  get usedBytes(): number {
    const first = this.#spans[0]
    const last = this.#spans.at(-1)
    if (first === undefined || last === undefined) return 0
    return last.end > first.start ? last.end - first.start : this.#capacity - first.start + last.end
  }

  /** Bytes copied in so far. */
  get copiedBytes(): number {
    return this.#copiedBytes
  }

  /** Bytes refused so far because the ring had no room (the caller kept its own). */
  get fullBytes(): number {
    return this.#fullBytes
  }

  /** Regions taken and not yet given back. */
  get regions(): number {
    return this.#spans.length
  }

  /**
   * `pieces` copied into the ring, one after the other, as one contiguous view, with the region
   * to release when nothing reads it any more; undefined when there is nothing to copy or the
   * ring has no room for them (the caller then keeps its own bytes).
   */
  copy(pieces: readonly Buffer[]): { bytes: Buffer; region: ArenaRegion } | undefined {
    let length = 0
    for (const piece of pieces) length += piece.length
    if (length === 0) return undefined
    const start = this.#place(length) ?? this.#reclaimed(length) ?? this.#grown(length)
    if (start === undefined) {
      this.#fullBytes += length
      return undefined
    }
    this.#copiedBytes += length
    this.#buffer ??= Buffer.allocUnsafeSlow(this.#capacity)
    const bytes = this.#buffer.subarray(start, start + length)
    let at = 0
    for (const piece of pieces) {
      piece.copy(bytes, at)
      at += piece.length
    }
    const region = new ArenaRegion()
    this.#spans.push({ start, end: start + length, region })
    return { bytes, region }
  }

  /** Where `length` free bytes start, or undefined. Free space is after the newest region, up to the oldest. */
  #place(length: number): number | undefined {
    const first = this.#spans[0]
    const last = this.#spans.at(-1)
    if (first === undefined || last === undefined) return length <= this.#capacity ? 0 : undefined
    if (last.end > first.start) {
      // Not wrapped: free at the end of the block, then from its start up to the oldest region.
      if (this.#capacity - last.end >= length) return last.end
      return first.start >= length ? 0 : undefined
    }
    // Wrapped: free between the newest region and the oldest.
    return first.start - last.end >= length ? last.end : undefined
  }

  /** Where `length` bytes start once the oldest regions nobody holds are given back, or undefined. */
  #reclaimed(length: number): number | undefined {
    this.#reclaim()
    return this.#place(length)
  }

  /** Where `length` bytes start in a larger block, when the ring may still grow to hold them; or undefined. */
  #grown(length: number): number | undefined {
    const capacity = Math.min(this.#maxBytes, Math.max(this.#capacity * 2, length))
    if (capacity <= this.#capacity || capacity < length) return undefined
    this.#capacity = capacity
    this.#buffer = undefined
    this.#spans.length = 0
    return 0
  }

  /** Gives back the oldest regions nobody holds, up to the first one still held. */
  #reclaim(): void {
    let n = 0
    for (const span of this.#spans) {
      if (span.region.held()) break
      n++
    }
    if (n > 0) this.#spans.splice(0, n)
  }
}
