/**
 * Offset translation from offset syncs: where, on the target, a consumer group that committed
 * upstream offset `u` on the source must resume so that it reads exactly the records it has not
 * read yet. Pure: fed with offset syncs in the order they were read from the offset-syncs topic.
 *
 * Java MM2 (OffsetSyncStore) answers "last sync's downstream + 1": never too far, but a group that
 * fails over re-reads up to offset.lag.max records per partition. Our writer links each sync to
 * the previous one (formats/offset-sync-chain.ts), so when two syncs s1, s2 around `u` are proven
 * consecutive (s2.link names s1 exactly), the mapping of every offset between them is known:
 *
 *   u == s1.up                    -> s1.down
 *   s1.up < u <= s2.link.runEnd   -> s1.down + (u - s1.up)   (inside the contiguous run)
 *   runEnd < u <= s2.up           -> s2.down                 (u fell in a gap: the next record copied is s2's)
 *
 * Anything else falls back to Java's safe rule: s1.down + 1 for u > s1.up (s1's record was read,
 * so everything up to s1.down was), nothing when u is older than every sync kept.
 *
 * Invariants:
 * - Per partition the syncs are kept sorted by upstream offset. A sync whose upstream offset is
 *   below the newest one (replication restarted earlier, topic re-created) drops every sync at or
 *   above it: those described an older copy. A sync whose downstream offset goes below the newest
 *   one (target truncated or re-created) drops all history: old downstream offsets mean nothing now.
 * - Never past the true position: exact answers only come from proven links; the fallback is
 *   Java's rule applied to a real sync.
 * - Bounded memory: past MAX_SYNCS_PER_PARTITION the older half is thinned (every other sync
 *   dropped), which only turns exact answers for old offsets into fallback ones.
 */
import type { SyncLink } from '../formats/offset-sync-chain.ts'
import { tpKey } from '../kafka/types.ts'

export interface StoredSync {
  readonly upstream: bigint
  readonly downstream: bigint
  readonly link: SyncLink | undefined
}

export interface Translation {
  /** Target offset at which the group resumes. */
  readonly offset: bigint
  /** True when proven exact by linked syncs (or u is right after a sync); false for Java's "+1" fallback. */
  readonly exact: boolean
}

export const MAX_SYNCS_PER_PARTITION = 4096

/** The syncs of one source partition and the translation over them. */
export class PartitionSyncs {
  #syncs: StoredSync[] = []
  readonly #max: number

  constructor(max = MAX_SYNCS_PER_PARTITION) {
    this.#max = Math.max(4, max)
  }

  get size(): number {
    return this.#syncs.length
  }

  get latest(): StoredSync | undefined {
    return this.#syncs[this.#syncs.length - 1]
  }

  all(): readonly StoredSync[] {
    return this.#syncs
  }

  add(sync: StoredSync): void {
    const syncs = this.#syncs
    const last = syncs[syncs.length - 1]
    if (last !== undefined) {
      if (sync.upstream < last.upstream) {
        // An older upstream offset again: what was synced from there on belongs to an earlier copy.
        const keep = this.#firstAtOrAbove(sync.upstream)
        syncs.length = keep
      } else if (sync.upstream === last.upstream) {
        syncs.pop() // the later sync for the same record wins (a re-copy, or a repeat)
      }
      const prev = syncs[syncs.length - 1]
      if (prev !== undefined && sync.downstream < prev.downstream) syncs.length = 0
    }
    syncs.push(sync)
    if (syncs.length > this.#max) this.#thin()
  }

  /** Index of the first sync with upstream >= u (syncs.length if none). */
  #firstAtOrAbove(u: bigint): number {
    let lo = 0
    let hi = this.#syncs.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if ((this.#syncs[mid] as StoredSync).upstream < u) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  #thin(): void {
    const half = this.#syncs.length >> 1
    const older = this.#syncs.slice(0, half).filter((_, i) => i % 2 === 1)
    this.#syncs = [...older, ...this.#syncs.slice(half)]
  }

  /** Translation of committed upstream offset `u`, or undefined when no sync is at or below it. */
  translate(u: bigint): Translation | undefined {
    const i = this.#firstAtOrAbove(u + 1n) - 1 // last sync with upstream <= u
    const s1 = this.#syncs[i]
    if (s1 === undefined) return undefined
    if (u === s1.upstream) return { offset: s1.downstream, exact: true }
    const s2 = this.#syncs[i + 1]
    const link = s2?.link
    if (
      s2 !== undefined &&
      link !== undefined &&
      link.prevUpstream === s1.upstream &&
      link.prevDownstream === s1.downstream &&
      link.runEndUpstream < s2.upstream
    ) {
      if (u <= link.runEndUpstream) return { offset: s1.downstream + (u - s1.upstream), exact: true }
      return { offset: s2.downstream, exact: true }
    }
    // Java's "+1" rule; exact when u is the record right after s1: everything copied after
    // s1.downstream came from upstream offsets past s1.upstream.
    return { offset: s1.downstream + 1n, exact: u === s1.upstream + 1n }
  }
}

/** Syncs of every source partition of one flow. */
export class OffsetSyncStore {
  readonly #partitions = new Map<string, PartitionSyncs>()
  readonly #max: number
  #count = 0

  constructor(maxPerPartition = MAX_SYNCS_PER_PARTITION) {
    this.#max = maxPerPartition
  }

  /** Syncs read so far (including ones later replaced or dropped). */
  get count(): number {
    return this.#count
  }

  add(topic: string, partition: number, sync: StoredSync): void {
    const k = tpKey(topic, partition)
    let p = this.#partitions.get(k)
    if (p === undefined) {
      p = new PartitionSyncs(this.#max)
      this.#partitions.set(k, p)
    }
    p.add(sync)
    this.#count++
  }

  partition(topic: string, partition: number): PartitionSyncs | undefined {
    return this.#partitions.get(tpKey(topic, partition))
  }

  translate(topic: string, partition: number, upstream: bigint): Translation | undefined {
    return this.partition(topic, partition)?.translate(upstream)
  }
}
