/** When an exactly-once transaction commits: when idle (poll) or per interval, and at the record or byte cap. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TransactionBoundary } from '../../../src/source/transaction-boundary.ts'

test('poll: due once nothing is ready to send, or at the record or byte cap; never by time', () => {
  const b = new TransactionBoundary({ boundary: 'poll', intervalMs: 5000, maxRecords: 100, maxBytes: 1000 })
  assert.equal(b.due(0), false)
  assert.equal(b.dueWhenIdle(), false, 'nothing open')
  assert.equal(b.dueIn(0), Number.POSITIVE_INFINITY)
  b.round(10, 0, 0)
  assert.equal(b.dueWhenIdle(), true, 'a round with nothing acknowledged still ends its transaction when idle')
  assert.equal(b.due(60_000), false, 'more rounds may join while records are ready')
  assert.equal(b.dueIn(10), Number.POSITIVE_INFINITY)
  b.round(20, 100, 10)
  assert.equal(b.due(20), true, 'the record cap')
  b.ended()
  assert.equal(b.open, false)
  assert.equal(b.due(30), false)
  b.round(40, 1, 1000)
  assert.equal(b.due(40), true, 'the byte cap')
})

test('interval: due once the interval passed since the transaction opened, or at the record or byte cap', () => {
  const cases: Array<{ rounds: Array<[number, number, number]>; at: number; due: boolean; dueIn?: number }> = [
    { rounds: [[1000, 10, 100]], at: 1500, due: false, dueIn: 500 },
    {
      rounds: [
        [1000, 10, 100],
        [1800, 10, 100]
      ],
      at: 2000,
      due: true,
      dueIn: 0
    },
    {
      rounds: [
        [1000, 60, 0],
        [1100, 40, 0]
      ],
      at: 1100,
      due: true
    },
    {
      rounds: [
        [1000, 1, 600],
        [1100, 1, 500]
      ],
      at: 1100,
      due: true
    },
    { rounds: [[1000, 99, 999]], at: 1100, due: false }
  ]
  for (const c of cases) {
    const b = new TransactionBoundary({ boundary: 'interval', intervalMs: 1000, maxRecords: 100, maxBytes: 1000 })
    for (const [now, records, bytes] of c.rounds) b.round(now, records, bytes)
    assert.equal(b.due(c.at), c.due, JSON.stringify(c))
    if (c.dueIn !== undefined) assert.equal(b.dueIn(c.at), c.dueIn, JSON.stringify(c))
  }
})
