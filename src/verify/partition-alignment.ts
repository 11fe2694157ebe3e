/**
 * How a partition's copy on the target lines up with its source, record by record: which target
 * record copies which source record, what is missing, extra, copied twice or different. Pure: fed
 * with one digest per record (record-digest.ts) in offset order on both sides.
 *
 * The target holds the source's records in order, as an at-least-once copy does: a mirror that
 * restarts from its last stored position writes a stretch again (duplicates), and nothing else
 * may differ. Offsets alone cannot line the two up (compaction holes, transaction markers and
 * re-copies shift them, and the offset-syncs topic is compacted down to the latest sync per
 * partition), so the alignment follows the content: a greedy walk over both sequences that, where
 * they disagree, looks for the cheapest explanation within a window: a re-copied stretch (the
 * target record equals one already matched), source records missing on the target, target
 * records that copy nothing, or a record that differs. The offset syncs are then checked against
 * the alignment: every sync (source offset -> target offset) must name a pair it found.
 *
 * Not differences: source records past the last copied one (`pending`: the mirror may still be
 * running) and target records older than the source's first record (`olderOnTarget`: expired on
 * the source after they were copied).
 */

export interface Digested {
  readonly offset: bigint
  readonly digest: bigint
}

export interface SyncPair {
  readonly upstream: bigint
  readonly downstream: bigint
}

export type DifferenceKind = 'missing' | 'extra' | 'differing' | 'sync'

export interface PartitionAlignment {
  /** Source records with a copy on the target. */
  readonly matched: number
  /** Source records before the last copied one with no copy on the target. */
  readonly missing: number
  /** Target records that copy no source record. */
  readonly extra: number
  /** Target records that copy a source record already copied (a restarted copy's overlap). */
  readonly duplicates: number
  /** Aligned positions whose records differ (key, value, headers or timestamp). */
  readonly differing: number
  /** Source records past the last copied one: not copied yet. */
  readonly pending: number
  /** Target records older than the source's first record (expired on the source after the copy). */
  readonly olderOnTarget: number
  /** Offset syncs the alignment confirms, and those it contradicts. */
  readonly syncsConfirmed: number
  readonly syncsContradicted: number
  /** The first difference found, to look at. */
  readonly first?: { readonly kind: DifferenceKind; readonly sourceOffset?: bigint; readonly targetOffset?: bigint }
}

/** How far (in records) a disagreement looks for its explanation. */
export const ALIGNMENT_WINDOW = 10_000

export function alignPartition(
  source: readonly Digested[],
  target: readonly Digested[],
  syncs: readonly SyncPair[] = [],
  window = ALIGNMENT_WINDOW
): PartitionAlignment {
  let matched = 0
  let missing = 0
  let extra = 0
  let duplicates = 0
  let differing = 0
  let olderOnTarget = 0
  let first: PartitionAlignment['first']
  const note = (kind: DifferenceKind, sourceOffset?: bigint, targetOffset?: bigint): void => {
    first ??= {
      kind,
      ...(sourceOffset === undefined ? {} : { sourceOffset }),
      ...(targetOffset === undefined ? {} : { targetOffset })
    }
  }
  // Target offset -> the source offset it copies, for the target offsets the syncs name.
  const wanted = new Set(syncs.map(s => s.downstream))
  const copies = new Map<bigint, bigint>()
  const pair = (i: number, j: number): void => {
    matched++
    const t = target[j] as Digested
    if (wanted.has(t.offset)) copies.set(t.offset, (source[i] as Digested).offset)
  }
  const find = (seq: readonly Digested[], digest: bigint, from: number, to: number): number => {
    for (let k = from; k < to; k++) if ((seq[k] as Digested).digest === digest) return k
    return -1
  }
  const findBack = (digest: bigint, from: number, downTo: number): number => {
    for (let k = from; k >= downTo; k--) if ((source[k] as Digested).digest === digest) return k
    return -1
  }

  let i = 0
  let j = 0
  if (source.length > 0 && target.length > 0) {
    const head = (source[0] as Digested).digest
    const at = find(target, head, 0, Math.min(target.length, window))
    if (at > 0) {
      // The target starts with records the source no longer has (retention removed them after the copy).
      olderOnTarget = at
      j = at
    } else if (at < 0) {
      const start = find(source, (target[0] as Digested).digest, 1, Math.min(source.length, window))
      if (start > 0) {
        missing += start
        note('missing', (source[0] as Digested).offset, (target[0] as Digested).offset)
        i = start
      }
    }
  }

  // One walk over the target; past the source's last record only re-copies and extra records remain.
  while (j < target.length) {
    const t = target[j] as Digested
    const s = source[i]
    if (s !== undefined && s.digest === t.digest) {
      pair(i, j)
      i++
      j++
      continue
    }
    // A re-copied stretch: the target goes back to a source record already matched.
    let k = findBack(t.digest, i - 1, Math.max(0, i - window))
    if (k >= 0) {
      while (j < target.length && k < i && (target[j] as Digested).digest === (source[k] as Digested).digest) {
        duplicates++
        j++
        k++
      }
      continue
    }
    if (s === undefined) {
      note('extra', undefined, t.offset)
      extra++
      j++
      continue
    }
    // Source records the target skipped.
    k = find(source, t.digest, i + 1, Math.min(source.length, i + 1 + window))
    if (k >= 0) {
      note('missing', s.offset, t.offset)
      missing += k - i
      i = k
      continue
    }
    // Target records that copy nothing.
    k = find(target, s.digest, j + 1, Math.min(target.length, j + 1 + window))
    if (k >= 0) {
      note('extra', s.offset, t.offset)
      extra += k - j
      j = k
      continue
    }
    note('differing', s.offset, t.offset)
    differing++
    i++
    j++
  }
  const pending = source.length - i

  let syncsConfirmed = 0
  let syncsContradicted = 0
  for (const s of syncs) {
    const copied = copies.get(s.downstream)
    if (copied === undefined) continue // outside what both sides still hold, or not aligned
    if (copied === s.upstream) syncsConfirmed++
    else {
      syncsContradicted++
      note('sync', s.upstream, s.downstream)
    }
  }
  return {
    matched,
    missing,
    extra,
    duplicates,
    differing,
    pending,
    olderOnTarget,
    syncsConfirmed,
    syncsContradicted,
    ...(first === undefined ? {} : { first })
  }
}

/**
 * Whether the alignment shows a difference that matters for a cutover (duplicates, pending and older records do not).
 */
export function differs(a: PartitionAlignment): boolean {
  return a.missing > 0 || a.extra > 0 || a.differing > 0 || a.syncsContradicted > 0
}
