/**
 * The content check of the exactly-once tests (test/harness/exactly-once-check.ts) on made-up
 * views: it must see every kind of problem the real-broker tests rely on it to see, count it
 * once, and describe a re-copied stretch in one line.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseSequenced, SequenceView, sequencedValue } from '../harness/exactly-once-check.ts'

const v = (p: number, seq: number): string => sequencedValue(p, seq, 40)

test('a value names its partition and sequence number, padded to the size asked', () => {
  assert.equal(v(3, 123), `p=3 seq=0000123 ${'x'.repeat(40 - 16)}`)
  assert.deepEqual(parseSequenced(v(3, 123)), { partition: 3, seq: 123 })
  assert.equal(parseSequenced('seq=1'), undefined)
  assert.equal(parseSequenced(null), undefined)
})

test('every record once, in order, on its partition: exact', () => {
  const view = new SequenceView([3, 2])
  for (const [p, seq] of [
    [0, 0],
    [1, 0],
    [0, 1],
    [1, 1],
    [0, 2]
  ] as const)
    view.add(p, v(p, seq), 'x')
  const r = view.result()
  assert.equal(r.exact, true)
  assert.equal(r.records, 5)
  assert.deepEqual(r.problems, [])
  assert.equal(view.prefix(0), 3)
})

test('a re-copied stretch counts each duplicate and is described as one stretch', () => {
  const view = new SequenceView([10])
  for (const seq of [0, 1, 2, 3, 4, 5, 2, 3, 4, 5, 6, 7, 8, 9]) view.add(0, v(0, seq), `at ${seq}`)
  const r = view.result()
  assert.equal(r.duplicates, 4)
  assert.equal(r.gaps, 0)
  assert.equal(r.outOfOrder, 0)
  assert.equal(r.exact, false)
  assert.deepEqual(r.problems, ['partition 0 from at 2: seqs 2-5 (4) again'])
})

test('gaps, order, partitions and foreign records are each counted', () => {
  const view = new SequenceView([6, 2])
  view.add(0, v(0, 0), 'o0')
  view.add(0, v(0, 3), 'o1') // 1 and 2 skipped for now
  view.add(0, v(0, 1), 'o2') // out of order
  view.add(1, v(0, 4), 'o0') // on the wrong partition
  view.add(0, 'hello', 'o3')
  view.add(0, v(0, 99), 'o4') // beyond the source
  assert.equal(view.prefix(0), 2)
  const r = view.result()
  assert.equal(r.outOfOrder, 1)
  assert.equal(r.misplaced, 1)
  assert.equal(r.foreign, 2)
  assert.equal(r.gaps, 2 + 2, 'seq 2 and 5 of partition 0, both of partition 1')
  assert.equal(r.exact, false)
  assert.ok(r.problems.includes('partition 0 from o2: seq 1 after seq 3'), r.problems.join('\n'))
  assert.ok(r.problems.includes('partition 1: seqs 0-1 (2) missing'), r.problems.join('\n'))
})

test('missing records alone make the view inexact', () => {
  const view = new SequenceView([3])
  view.add(0, v(0, 0), 'x')
  view.add(0, v(0, 1), 'x')
  const r = view.result()
  assert.equal(r.gaps, 1)
  assert.equal(r.exact, false)
  assert.deepEqual(r.problems, ['partition 0: seq 2 missing'])
})
