import assert from 'node:assert/strict'
import { test } from 'node:test'
import { PositionFlushPolicy } from '../../../src/source/position-flush-policy.ts'

const limits = { intervalMs: 5000, maxRecords: 100, maxBytes: 1000 }

type Step = {
  ack?: [records: number, bytes: number]
  store?: true
  fail?: true
  at: number
  due: boolean
  interval?: boolean
}

const cases: Array<{ name: string; steps: Step[] }> = [
  {
    name: 'nothing acknowledged: nothing due before the interval',
    steps: [
      { at: 10, due: false },
      { at: 4999, due: false }
    ]
  },
  {
    name: 'the interval is due even with nothing new (offset syncs ride on it)',
    steps: [{ at: 5000, due: true, interval: true }]
  },
  {
    name: 'the first acknowledged send of a run is stored at once',
    steps: [{ ack: [1, 10], at: 1, due: true, interval: false }]
  },
  {
    name: 'after the first store, only the interval or a threshold makes a store due',
    steps: [
      { ack: [1, 10], at: 1, due: true },
      { store: true, at: 2, due: false },
      { ack: [50, 500], at: 3, due: false },
      { ack: [49, 10], at: 4, due: false },
      { ack: [1, 1], at: 5, due: true, interval: false }
    ]
  },
  {
    name: 'the byte threshold counts too',
    steps: [
      { ack: [1, 1], at: 1, due: true },
      { store: true, at: 1, due: false },
      { ack: [2, 999], at: 2, due: false },
      { ack: [1, 1], at: 3, due: true }
    ]
  },
  {
    name: 'the interval counts from the last store',
    steps: [
      { ack: [1, 1], at: 100, due: true },
      { store: true, at: 100, due: false },
      { ack: [1, 1], at: 5099, due: false },
      { at: 5100, due: true, interval: true }
    ]
  },
  {
    name: 'a failed store is tried again after a backoff of 1 s, then 2 s',
    steps: [
      { ack: [1, 1], at: 1, due: true },
      { fail: true, at: 2, due: false, interval: false },
      { at: 1001, due: false },
      { at: 1002, due: true },
      { fail: true, at: 1002, due: false },
      { at: 3001, due: false },
      { at: 3002, due: true },
      { store: true, at: 3003, due: false }
    ]
  },
  {
    name: 'the backoff never exceeds the interval',
    steps: [
      { ack: [1, 1], at: 0, due: true },
      { fail: true, at: 0, due: false },
      { fail: true, at: 0, due: false },
      { fail: true, at: 0, due: false },
      { fail: true, at: 0, due: false },
      { at: 4999, due: false },
      { at: 5000, due: true, interval: true }
    ]
  },
  {
    name: 'an interval store with nothing acknowledged does not use up the first-ack store',
    steps: [
      { at: 5000, due: true, interval: true },
      { store: true, at: 5000, due: false },
      { ack: [1, 1], at: 5001, due: true, interval: false }
    ]
  }
]

for (const c of cases) {
  test(`position flush: ${c.name}`, () => {
    const policy = new PositionFlushPolicy(limits, 0)
    c.steps.forEach((s, i) => {
      if (s.ack !== undefined) policy.acknowledged(...s.ack)
      if (s.store === true) policy.stored(s.at)
      if (s.fail === true) policy.failed(s.at)
      assert.equal(policy.due(s.at), s.due, `step ${i}: due`)
      if (s.interval !== undefined) assert.equal(policy.intervalDue(s.at), s.interval, `step ${i}: interval due`)
    })
  })
}

test('position flush: a store resets the counters', () => {
  const policy = new PositionFlushPolicy(limits, 0)
  policy.acknowledged(150, 10)
  assert.equal(policy.due(1), true)
  policy.stored(1)
  assert.equal(policy.due(2), false)
  policy.acknowledged(99, 10)
  assert.equal(policy.due(3), false, 'the threshold counts from the last store')
})
