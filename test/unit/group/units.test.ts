import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FormatError } from '../../../src/errors.ts'
import {
  compactUnitIds,
  compareUnitIds,
  copyUnitId,
  expandUnitIds,
  formatPartitionRanges,
  parsePartitionRanges,
  parseUnitId,
  singletonUnitId,
  sortUnitIds,
  unitFlow,
  unitId
} from '../../../src/group/units.ts'

test('unit ids: each kind round-trips', () => {
  assert.equal(copyUnitId('A->B', 'orders', 3), 'copy:A->B:orders:3')
  assert.deepEqual(parseUnitId('copy:A->B:orders:3'), { kind: 'copy', flow: 'A->B', topic: 'orders', partition: 3 })
  for (const kind of ['topics', 'checkpoints', 'heartbeats'] as const) {
    const id = singletonUnitId(kind, 'A->B')
    assert.equal(id, `${kind}:A->B`)
    assert.deepEqual(parseUnitId(id), { kind, flow: 'A->B' })
    assert.equal(unitId(parseUnitId(id)), id)
  }
})

test('unit ids: a flow name may contain colons, a copy id is parsed from the right', () => {
  const id = copyUnitId('dc:1->dc:2', 'a.b-c_d', 2147483647)
  assert.deepEqual(parseUnitId(id), { kind: 'copy', flow: 'dc:1->dc:2', topic: 'a.b-c_d', partition: 2147483647 })
  assert.equal(unitFlow(id), 'dc:1->dc:2')
  assert.deepEqual(parseUnitId('topics:dc:1->dc:2'), { kind: 'topics', flow: 'dc:1->dc:2' })
})

test('unit ids: malformed ids name what is wrong', () => {
  assert.throws(
    () => parseUnitId('orders'),
    /unit id: expected copy:<flow>:<topic>:<partition> or topics\|checkpoints\|heartbeats:<flow>, got "orders"/
  )
  assert.throws(() => parseUnitId('sync:A->B'), FormatError)
  assert.throws(() => parseUnitId('topics:'), /topics unit without a flow name/)
  assert.throws(() => parseUnitId('copy:orders:3'), /expected copy:<flow>:<topic>:<partition>/)
  assert.throws(() => parseUnitId('copy:A->B:orders:x'), /partition must be a number >= 0, got "x"/)
  assert.throws(() => parseUnitId('copy:A->B:orders:-1'), /partition must be a number >= 0, got "-1"/)
  assert.throws(() => parseUnitId('copy:A->B:orders:2147483648'), /larger than a Kafka partition number/)
  assert.throws(() => parseUnitId('copy:A->B:or ders:1'), /"or ders" is not a Kafka topic name/)
  assert.throws(() => parseUnitId('copy:A->B:orders:0-3'), /partition must be a number/)
})

test('order: by flow, singletons before copies, partitions as numbers', () => {
  const ids = [
    'copy:A->B:b:0',
    'copy:A->B:a:10',
    'heartbeats:A->B',
    'copy:A->B:a:2',
    'topics:B->A',
    'checkpoints:A->B',
    'topics:A->B'
  ]
  assert.deepEqual(sortUnitIds(ids), [
    'topics:A->B',
    'checkpoints:A->B',
    'heartbeats:A->B',
    'copy:A->B:a:2',
    'copy:A->B:a:10',
    'copy:A->B:b:0',
    'topics:B->A'
  ])
  assert.ok(compareUnitIds('copy:A->B:a:2', 'copy:A->B:a:10') < 0)
  assert.equal(compareUnitIds('topics:A->B', 'topics:A->B'), 0)
})

test('partition ranges: format and parse', () => {
  assert.equal(formatPartitionRanges([10, 0, 1, 2, 3, 7, 9, 3]), '0-3,7,9-10')
  assert.equal(formatPartitionRanges([5]), '5')
  assert.equal(formatPartitionRanges([]), '')
  assert.deepEqual(parsePartitionRanges('0-3,7,9-10'), [0, 1, 2, 3, 7, 9, 10])
  assert.deepEqual(parsePartitionRanges('4'), [4])
})

test('partition ranges: malformed text names what is wrong', () => {
  assert.throws(() => parsePartitionRanges(''), /partition ranges: empty/)
  assert.throws(() => parsePartitionRanges('3-1'), /range "3-1" goes backwards/)
  assert.throws(() => parsePartitionRanges('1,,2'), /partition must be a number >= 0, got ""/)
  assert.throws(() => parsePartitionRanges('0-2000000'), /spans more than 1000000 partitions/)
  assert.throws(() => parsePartitionRanges('a-b', 'owned[2]'), /owned\[2\]: partition must be a number/)
})

test('compact form merges copy units per flow and topic, and expands back to the same set', () => {
  const ids = [
    'copy:A->B:orders:5',
    'copy:A->B:orders:0',
    'topics:A->B',
    'copy:A->B:orders:1',
    'copy:A->B:pay:3',
    'copy:B->A:orders:2',
    'heartbeats:B->A',
    'copy:A->B:orders:2',
    'topics:A->B'
  ]
  const compact = compactUnitIds(ids)
  assert.deepEqual(compact, [
    'topics:A->B',
    'copy:A->B:orders:0-2,5',
    'copy:A->B:pay:3',
    'heartbeats:B->A',
    'copy:B->A:orders:2'
  ])
  assert.deepEqual(new Set(expandUnitIds(compact)), new Set(ids))
  assert.deepEqual(compactUnitIds([]), [])
})

test('compact form: 10,000 partitions of one topic take one short entry', () => {
  const ids = Array.from({ length: 10_000 }, (_, p) => copyUnitId('A->B', 'big', p))
  assert.deepEqual(compactUnitIds(ids), ['copy:A->B:big:0-9999'])
  assert.equal(expandUnitIds(['copy:A->B:big:0-9999']).length, 10_000)
})

test('expanding a malformed compact list names the entry', () => {
  assert.throws(
    () => expandUnitIds(['topics:A->B', 'copy:A->B:t:1-x'], 'owned'),
    /owned\[1\] "copy:A->B:t:1-x": partition must be a number/
  )
  assert.throws(() => expandUnitIds(['nonsense'], 'owned'), /owned\[0\]: expected copy:/)
})
