/**
 * alignPartition: the target read as a copy of the source, record by record. Records are letters
 * (one digest each); offsets are positions unless a case gives them.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  alignPartition,
  differs,
  type Digested,
  type PartitionAlignment
} from '../../../src/verify/partition-alignment.ts'

/** 'abc' -> records a, b, c at offsets from `base` (a digest per letter). */
const seq = (letters: string, base = 0): Digested[] =>
  [...letters].map((c, i) => ({ offset: BigInt(base + i), digest: BigInt(c.charCodeAt(0)) }))

const counts = (a: PartitionAlignment): Record<string, number> => ({
  matched: a.matched,
  missing: a.missing,
  extra: a.extra,
  duplicates: a.duplicates,
  differing: a.differing,
  pending: a.pending,
  olderOnTarget: a.olderOnTarget
})

const zero = { matched: 0, missing: 0, extra: 0, duplicates: 0, differing: 0, pending: 0, olderOnTarget: 0 }

test('alignment cases', () => {
  const cases: Array<[string, string, string, Partial<typeof zero>, boolean]> = [
    ['a clean copy', 'abcdef', 'abcdef', { matched: 6 }, false],
    ['a copy still running: the rest is pending', 'abcdef', 'abc', { matched: 3, pending: 3 }, false],
    ['nothing copied yet', 'abc', '', { pending: 3 }, false],
    ['both empty', '', '', {}, false],
    ['a restart re-copied a stretch', 'abcdef', 'abcdcdef', { matched: 6, duplicates: 2 }, false],
    ['a restart re-copied the last stretch', 'abcd', 'abcdcd', { matched: 4, duplicates: 2 }, false],
    ['records deleted at the start of the target', 'abcdef', 'cdef', { matched: 4, missing: 2 }, true],
    ['a record missing in the middle', 'abcdef', 'abdef', { matched: 5, missing: 1 }, true],
    ['a record written on the target out of band', 'abcdef', 'abcXdef', { matched: 6, extra: 1 }, true],
    ['a foreign record after the copy', 'abc', 'abcX', { matched: 3, extra: 1 }, true],
    ['a record that differs', 'abcdef', 'abXdef', { matched: 5, differing: 1 }, true],
    [
      'target records older than the source (expired there after the copy)',
      'cdef',
      'abcdef',
      { matched: 4, olderOnTarget: 2 },
      false
    ],
    ['a target of entirely other records', 'abc', 'XYZ', { differing: 3 }, true]
  ]
  for (const [name, source, target, want, different] of cases) {
    const a = alignPartition(seq(source), seq(target))
    assert.deepEqual(counts(a), { ...zero, ...want }, name)
    assert.equal(differs(a), different, `${name}: differs`)
  }
})

test('the first difference names where to look', () => {
  assert.deepEqual(alignPartition(seq('abcdef', 100), seq('abcXdef', 500)).first, {
    kind: 'extra',
    sourceOffset: 103n,
    targetOffset: 503n
  })
  assert.deepEqual(alignPartition(seq('abcdef', 100), seq('abdef', 500)).first, {
    kind: 'missing',
    sourceOffset: 102n,
    targetOffset: 502n
  })
  assert.equal(alignPartition(seq('abc'), seq('abc')).first, undefined)
})

test('offset syncs are checked against the alignment, with compaction holes on the source and a re-copy on the target', () => {
  // Source offsets 0,1,2 then 5,6 (3 and 4 compacted away); the target re-copied 5 after a restart.
  const source: Digested[] = [...seq('abc'), ...seq('de', 5)]
  const target = seq('abcdde')
  const right = [
    { upstream: 0n, downstream: 0n },
    { upstream: 5n, downstream: 3n },
    { upstream: 5n, downstream: 4n },
    { upstream: 6n, downstream: 5n }
  ]
  // The sync (5 -> 4) names the re-copy, which the alignment counts as a duplicate: not confirmed, not contradicted.
  const ok = alignPartition(source, target, right)
  assert.deepEqual([ok.matched, ok.duplicates, ok.syncsConfirmed, ok.syncsContradicted], [5, 1, 3, 0])
  assert.equal(differs(ok), false)
  const wrong = alignPartition(source, target, [{ upstream: 2n, downstream: 3n }])
  assert.deepEqual([wrong.syncsConfirmed, wrong.syncsContradicted], [0, 1])
  assert.deepEqual(wrong.first, { kind: 'sync', sourceOffset: 2n, targetOffset: 3n })
  assert.equal(differs(wrong), true)
  // A sync outside what both sides hold is neither.
  const outside = alignPartition(source, target, [{ upstream: 50n, downstream: 70n }])
  assert.deepEqual([outside.syncsConfirmed, outside.syncsContradicted], [0, 0])
})

test('a disagreement is explained only within the window', () => {
  // 'X' then the source continues: within a window of 2 the skipped records are not found.
  const a = alignPartition(seq('abcdefg'), seq('aefg'), [], 2)
  assert.ok(a.missing === 0 && a.differing > 0, 'too far to explain as missing records')
  const b = alignPartition(seq('abcdefg'), seq('aefg'), [], 10)
  assert.deepEqual([b.missing, b.matched], [3, 4])
})
