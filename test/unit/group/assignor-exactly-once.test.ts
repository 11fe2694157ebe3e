/**
 * The deal of a flow in exactly-once mode (src/group/assignor.ts; docs/exactly-once-plan.md
 * §5.2, the simplified form): its copy units go whole to one member, which runs all of its
 * `tasks.max`, so each transactional id `<group>-<connector>-<i>` lives in one process and the
 * flow's next owner takes (and fences) all of them. A flow in the default mode beside it still
 * spreads. Here the exactly-once flow is C->B and the default one A->B.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { dealUnits, type Deal, type LeaderFlow } from '../../../src/group/assignor.ts'
import { compactUnitIds } from '../../../src/group/units.ts'
import { copies, ctx, FLOW, member, summary } from './deal-fixture.ts'

const EOS = 'C->B'
const EOS_FLOW: LeaderFlow = { digest: 'e1', tasksMax: 4, jobs: ['topics'], exactlyOnce: true }
const PLAIN_FLOW: LeaderFlow = { digest: 'd1', tasksMax: 3, jobs: ['topics'] }
const BOTH = { [FLOW]: PLAIN_FLOW, [EOS]: EOS_FLOW }
const ONLY_EOS = { [EOS]: EOS_FLOW }

const pay = (from: number, to: number): string[] => copies('pay', from, to, EOS)

/** Member id -> flow -> tasks, members without any left out. */
function budgets(deal: Deal): Record<string, Record<string, number>> {
  return Object.fromEntries(
    [...deal.assignments].filter(([, a]) => a.tasks.size > 0).map(([id, a]) => [id, Object.fromEntries(a.tasks)])
  )
}

test('a first deal puts the exactly-once flow on one member and spreads the other flow', () => {
  const view = { [FLOW]: { orders: 6 }, [EOS]: { pay: 12 } }
  const flows = BOTH
  const deal = dealUnits(
    [member('a', { flows, topics: view }), member('b', { flows, topics: view }), member('c', { flows, topics: view })],
    ctx({ flows, previous: new Map() })
  )
  assert.deepEqual(summary(deal), {
    a: { units: ['copy:A->B:orders:0,3', 'copy:C->B:pay:0-11'], revoked: [], quiet: [] },
    b: { units: ['topics:A->B', 'copy:A->B:orders:1,4'], revoked: [], quiet: [] },
    c: { units: ['copy:A->B:orders:2,5', 'topics:C->B'], revoked: [], quiet: [] }
  })
  assert.deepEqual(budgets(deal), { a: { [FLOW]: 1, [EOS]: 4 }, b: { [FLOW]: 1 }, c: { [FLOW]: 1 } })
})

test('several exactly-once flows go to the least loaded members, one each', () => {
  const flows = { 'C->B': EOS_FLOW, 'D->B': EOS_FLOW, 'E->B': EOS_FLOW }
  const view = { 'C->B': { pay: 3 }, 'D->B': { pay: 5 }, 'E->B': { pay: 2 } }
  const deal = dealUnits(
    [member('a', { flows, topics: view }), member('b', { flows, topics: view }), member('c', { flows, topics: view })],
    ctx({ flows, previous: new Map() })
  )
  assert.deepEqual(summary(deal), {
    a: { units: ['copy:C->B:pay:0-2', 'topics:D->B'], revoked: [], quiet: [] },
    b: { units: ['copy:D->B:pay:0-4', 'topics:E->B'], revoked: [], quiet: [] },
    c: { units: ['topics:C->B', 'copy:E->B:pay:0-1'], revoked: [], quiet: [] }
  })
})

test('sticky: the member running the flow keeps all of it and gets its new partitions, however loaded', () => {
  const flows = ONLY_EOS
  const deal = dealUnits(
    [
      member('a', { flows, topics: { [EOS]: { pay: 6 } } }),
      member('b', { flows, owned: ['topics:C->B', ...pay(0, 5)], topics: { [EOS]: { pay: 6, fresh: 2 } } }),
      member('c', { flows, topics: { [EOS]: { pay: 6 } } })
    ],
    ctx({ flows, previous: new Map() })
  )
  assert.deepEqual(summary(deal), {
    a: { units: [], revoked: [], quiet: [] },
    b: { units: ['topics:C->B', 'copy:C->B:fresh:0-1', 'copy:C->B:pay:0-5'], revoked: [], quiet: [] },
    c: { units: [], revoked: [], quiet: [] }
  })
  assert.equal(deal.table.get('copy:C->B:pay:3')?.state, 'running')
  assert.equal(deal.table.get('copy:C->B:fresh:1')?.state, 'starting')
  assert.deepEqual(budgets(deal), { b: { [EOS]: 4 } })
})

test('a flow split over members: the one owning most keeps its part, the others revoke, then it gets all', () => {
  const flows = ONLY_EOS
  const view = { [EOS]: { pay: 13 } }
  // pay:12 is new: it waits too, so nothing of the flow starts while a still runs part of it.
  const first = dealUnits(
    [
      member('a', { flows, topics: view, owned: pay(0, 4) }),
      member('b', { flows, topics: view, owned: ['topics:C->B', ...pay(5, 11)] }),
      member('c', { flows, topics: view })
    ],
    ctx({ flows, previous: new Map() })
  )
  assert.deepEqual(summary(first), {
    a: { units: [], revoked: ['copy:C->B:pay:0-4'], quiet: [] },
    b: { units: ['topics:C->B', 'copy:C->B:pay:5-11'], revoked: [], quiet: [] },
    c: { units: [], revoked: [], quiet: [] }
  })
  const table = (id: string): [string | undefined, string | undefined] => [
    first.table.get(id)?.state,
    first.table.get(id)?.reason
  ]
  assert.deepEqual(table('copy:C->B:pay:0'), ['revoking', 'exactly-once: C->B runs whole on one member, host-b (b)'])
  assert.deepEqual(table('copy:C->B:pay:12'), [
    'unassigned',
    'exactly-once: C->B goes whole to host-b (b) once host-a (a) released its units'
  ])
  assert.deepEqual(budgets(first), { b: { [EOS]: 4 } })

  const released = Object.fromEntries(pay(0, 4).map((id, i) => [id, String(100 * i)]))
  const second = dealUnits(
    [
      member('a', { flows, topics: view, released }),
      member('b', { flows, topics: view, owned: ['topics:C->B', ...pay(5, 11)] }),
      member('c', { flows, topics: view })
    ],
    ctx({ flows, generation: 6, previous: first.table })
  )
  assert.deepEqual(summary(second), {
    a: { units: [], revoked: [], quiet: [] },
    b: { units: ['topics:C->B', 'copy:C->B:pay:0-12'], revoked: [], quiet: [] },
    c: { units: [], revoked: [], quiet: [] }
  })
  assert.deepEqual(
    [...(second.assignments.get('b')?.handOver ?? [])],
    pay(0, 4).map((id, i) => [id, BigInt(100 * i)])
  )
  assert.equal(second.table.get('copy:C->B:pay:12')?.reason, 'new unit')
  assert.deepEqual(budgets(second), { b: { [EOS]: 4 } })
})

test('a tie in what members own goes to the least loaded, then by member id', () => {
  const flows = BOTH
  const view = { [FLOW]: { orders: 3 }, [EOS]: { pay: 4 } }
  // A->B is dealt first: a keeps 2 of its units and b 1, so b is the less loaded.
  const loaded = dealUnits(
    [
      member('a', { flows, topics: view, owned: [...copies('orders', 0, 1), ...pay(0, 1)] }),
      member('b', { flows, topics: view, owned: ['copy:A->B:orders:2', ...pay(2, 3)] })
    ],
    ctx({ flows, previous: new Map() })
  )
  assert.deepEqual(summary(loaded), {
    a: { units: ['topics:A->B', 'copy:A->B:orders:0-1'], revoked: ['copy:C->B:pay:0-1'], quiet: [] },
    b: { units: ['copy:A->B:orders:2', 'topics:C->B', 'copy:C->B:pay:2-3'], revoked: [], quiet: [] }
  })
  const even = dealUnits(
    [
      member('a', { flows: ONLY_EOS, topics: view, owned: pay(0, 1) }),
      member('b', { flows: ONLY_EOS, topics: view, owned: pay(2, 3) })
    ],
    ctx({ flows: ONLY_EOS, previous: new Map() })
  )
  assert.deepEqual(compactUnitIds(even.assignments.get('a')?.units ?? []), ['copy:C->B:pay:0-1'])
  assert.deepEqual(compactUnitIds(even.assignments.get('b')?.revoked ?? []), ['copy:C->B:pay:2-3'])
})

test('a unit claimed twice: revoked from both, the flow waits, then goes whole to the owner of the rest', () => {
  const flows = ONLY_EOS
  const view = { [EOS]: { pay: 5 } }
  const first = dealUnits(
    [
      member('a', { flows, topics: view, owned: ['topics:C->B', ...pay(0, 3)] }),
      member('b', { flows, topics: view, owned: ['copy:C->B:pay:0'] })
    ],
    ctx({ flows, previous: new Map() })
  )
  assert.deepEqual(summary(first), {
    a: { units: ['topics:C->B', 'copy:C->B:pay:1-3'], revoked: ['copy:C->B:pay:0'], quiet: [] },
    b: { units: [], revoked: ['copy:C->B:pay:0'], quiet: [] }
  })
  assert.equal(first.table.get('copy:C->B:pay:4')?.state, 'unassigned')
  const second = dealUnits(
    [
      member('a', {
        flows,
        topics: view,
        owned: ['topics:C->B', ...pay(1, 3)],
        released: { 'copy:C->B:pay:0': '40' }
      }),
      member('b', { flows, topics: view, released: { 'copy:C->B:pay:0': '38' } })
    ],
    ctx({ flows, generation: 6, previous: first.table })
  )
  assert.deepEqual(summary(second), {
    a: { units: ['topics:C->B', 'copy:C->B:pay:0-4'], revoked: [], quiet: [] },
    b: { units: [], revoked: [], quiet: [] }
  })
  assert.deepEqual([...(second.assignments.get('a')?.handOver ?? [])], [['copy:C->B:pay:0', 40n]])
})

test('a member still running part of the flow with another config (the mode off) holds it up until released', () => {
  const view = { [EOS]: { pay: 7 } }
  const deal = dealUnits(
    [
      member('a', { flows: ONLY_EOS, topics: view, owned: ['topics:C->B', ...pay(0, 3)] }),
      member('b', { flows: ONLY_EOS, topics: view }),
      member('c', { flows: { [EOS]: { ...EOS_FLOW, digest: 'off' } }, topics: view, owned: pay(4, 5) })
    ],
    ctx({ flows: ONLY_EOS, previous: new Map() })
  )
  assert.deepEqual(summary(deal), {
    a: { units: ['topics:C->B', 'copy:C->B:pay:0-3'], revoked: [], quiet: [] },
    b: { units: [], revoked: [], quiet: [] },
    c: { units: [], revoked: ['copy:C->B:pay:4-5'], quiet: [] }
  })
  assert.equal(
    deal.table.get('copy:C->B:pay:6')?.reason,
    'exactly-once: C->B goes whole to host-a (a) once host-c (c) released its units'
  )
})

test("a departed owner's units all go to one member, the least loaded, quiet", () => {
  const flows = BOTH
  const view = { [FLOW]: { orders: 3 }, [EOS]: { pay: 6 } }
  const before = dealUnits(
    [
      member('a', { flows, topics: view, owned: ['topics:C->B', ...pay(0, 5)] }),
      member('b', { flows, topics: view, owned: ['topics:A->B', ...copies('orders', 0, 1)] }),
      member('c', { flows, topics: view, owned: ['copy:A->B:orders:2'] })
    ],
    ctx({ flows })
  )
  // a is lost (kill -9, session expired): c runs less of A->B than b, so C->B goes whole to c.
  const lost = dealUnits(
    [
      member('b', { flows, topics: view, owned: ['topics:A->B', ...copies('orders', 0, 1)] }),
      member('c', { flows, topics: view, owned: ['copy:A->B:orders:2'] })
    ],
    ctx({ flows, generation: 6, previous: before.table })
  )
  assert.deepEqual(summary(lost), {
    b: { units: ['topics:A->B', 'copy:A->B:orders:0-1'], revoked: [], quiet: [] },
    c: {
      units: ['copy:A->B:orders:2', 'topics:C->B', 'copy:C->B:pay:0-5'],
      revoked: [],
      quiet: ['topics:C->B', 'copy:C->B:pay:0-5']
    }
  })
  assert.equal(lost.table.get('copy:C->B:pay:0')?.reason, 'its owner host-a (a) left without releasing it')
  assert.deepEqual(budgets(lost), { b: { [FLOW]: 2 }, c: { [FLOW]: 1, [EOS]: 4 } })
})

test('the member running the flow has all of tasks.max, the others none', () => {
  const budget = (tasksMax: number, partitions: number, memberCount: number): number[] => {
    const flows = { [EOS]: { ...EOS_FLOW, tasksMax } }
    const view: Record<string, Record<string, number>> = { [EOS]: partitions === 0 ? {} : { pay: partitions } }
    const members = ['a', 'b', 'c', 'd'].slice(0, memberCount).map(id => member(id, { flows, topics: view }))
    const deal = dealUnits(members, ctx({ flows }))
    return [...deal.assignments.values()].map(a => a.tasks.get(EOS) ?? 0)
  }
  assert.deepEqual(budget(4, 12, 3), [4, 0, 0])
  assert.deepEqual(budget(4, 2, 3), [4, 0, 0])
  assert.deepEqual(budget(1, 12, 3), [1, 0, 0])
  assert.deepEqual(budget(10, 6, 1), [10])
  assert.deepEqual(budget(4, 0, 2), [0, 0])
})
