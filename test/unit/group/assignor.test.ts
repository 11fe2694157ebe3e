import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Buffer } from 'node:buffer'
import {
  assignGroup,
  createLeaderAssignor,
  dealUnits,
  type Deal,
  type GroupMember
} from '../../../src/group/assignor.ts'
import { decodeAssignment, encodeMemberMetadata } from '../../../src/group/group-codec.ts'
import { compactUnitIds } from '../../../src/group/units.ts'
import { ALL_JOBS, COPY_FLOW, copies, ctx, FLOW, member, summary, units } from './deal-fixture.ts'

test('a first deal: copy units even per flow, singletons spread, all quiet without a previous table', () => {
  const view = { [FLOW]: { orders: 12 } }
  const deal = dealUnits(
    [member('a', { topics: view }), member('b', { topics: view }), member('c', { topics: view })],
    ctx()
  )
  assert.deepEqual(summary(deal), {
    a: {
      units: ['topics:A->B', 'copy:A->B:orders:0,3,6,9'],
      revoked: [],
      quiet: ['topics:A->B', 'copy:A->B:orders:0,3,6,9']
    },
    b: {
      units: ['checkpoints:A->B', 'copy:A->B:orders:1,4,7,10'],
      revoked: [],
      quiet: ['checkpoints:A->B', 'copy:A->B:orders:1,4,7,10']
    },
    c: {
      units: ['heartbeats:A->B', 'copy:A->B:orders:2,5,8,11'],
      revoked: [],
      quiet: ['heartbeats:A->B', 'copy:A->B:orders:2,5,8,11']
    }
  })
  assert.equal(deal.table.get('copy:A->B:orders:0')?.state, 'starting')
  assert.match(
    deal.table.get('copy:A->B:orders:0')?.reason ?? '',
    /not released by any member \(new, or its owner was lost\)/
  )
})

test('with the previous table showing nobody ran them, new units are not quiet', () => {
  const view = { [FLOW]: { orders: 2 } }
  const deal = dealUnits([member('a', { topics: view }), member('b', { topics: view })], ctx({ previous: new Map() }))
  for (const a of deal.assignments.values()) assert.equal(a.quiet.size, 0)
  assert.equal(deal.table.get('copy:A->B:orders:1')?.reason, 'new unit')
})

test('sticky: a settled group deals the same again, nothing moves', () => {
  const view = { [FLOW]: { orders: 7 } }
  const members = [
    member('a', { topics: view, owned: ['topics:A->B', ...copies('orders', 0, 3)] }),
    member('b', { topics: view, owned: ['checkpoints:A->B', 'heartbeats:A->B', ...copies('orders', 4, 6)] })
  ]
  const deal = dealUnits(members, ctx())
  assert.deepEqual(summary(deal), {
    a: { units: ['topics:A->B', 'copy:A->B:orders:0-3'], revoked: [], quiet: [] },
    b: { units: ['checkpoints:A->B', 'heartbeats:A->B', 'copy:A->B:orders:4-6'], revoked: [], quiet: [] }
  })
  for (const p of deal.table.values()) assert.equal(p.state, 'running')
})

test('rounding never moves a unit: the member owning more keeps the extra one', () => {
  const view = { [FLOW]: { orders: 7 } }
  const flows = COPY_FLOW
  // b owns 4 and a 3: b keeps its 4 although a sorts first.
  const deal = dealUnits(
    [
      member('a', { flows, topics: view, owned: copies('orders', 0, 2) }),
      member('b', { flows, topics: view, owned: copies('orders', 3, 6) })
    ],
    ctx({ flows })
  )
  assert.deepEqual(units(deal, 'a'), ['topics:A->B', 'copy:A->B:orders:0-2'])
  assert.deepEqual(units(deal, 'b'), ['copy:A->B:orders:3-6'])
})

test('a joining member: first the others revoke its share, then it gets them with the released positions', () => {
  const flows = COPY_FLOW
  const view = { [FLOW]: { orders: 12 } }
  const first = dealUnits(
    [
      member('a', { flows, topics: view, owned: ['topics:A->B', ...copies('orders', 0, 5)] }),
      member('b', { flows, topics: view, owned: copies('orders', 6, 11) }),
      member('c', { flows, topics: view })
    ],
    ctx({ flows })
  )
  assert.deepEqual(summary(first), {
    a: { units: ['topics:A->B', 'copy:A->B:orders:0-3'], revoked: ['copy:A->B:orders:4-5'], quiet: [] },
    b: { units: ['copy:A->B:orders:6-9'], revoked: ['copy:A->B:orders:10-11'], quiet: [] },
    c: { units: [], revoked: [], quiet: [] }
  })
  assert.match(
    first.table.get('copy:A->B:orders:4')?.reason ?? '',
    /balance: host-a \(a\) runs more than its share of copy units of A->B \(4\)/
  )

  const second = dealUnits(
    [
      member('a', {
        flows,
        topics: view,
        owned: ['topics:A->B', ...copies('orders', 0, 3)],
        released: { 'copy:A->B:orders:4': '400', 'copy:A->B:orders:5': null }
      }),
      member('b', {
        flows,
        topics: view,
        owned: copies('orders', 6, 9),
        released: { 'copy:A->B:orders:10': '1000', 'copy:A->B:orders:11': '1100' }
      }),
      member('c', { flows, topics: view })
    ],
    ctx({ flows, generation: 6, previous: first.table })
  )
  assert.deepEqual(summary(second), {
    a: { units: ['topics:A->B', 'copy:A->B:orders:0-3'], revoked: [], quiet: [] },
    b: { units: ['copy:A->B:orders:6-9'], revoked: [], quiet: [] },
    c: { units: ['copy:A->B:orders:4-5,10-11'], revoked: [], quiet: [] }
  })
  assert.deepEqual(
    [...(second.assignments.get('c')?.handOver ?? [])],
    [
      ['copy:A->B:orders:4', 400n],
      ['copy:A->B:orders:10', 1000n],
      ['copy:A->B:orders:11', 1100n]
    ]
  )
  assert.equal(second.table.get('copy:A->B:orders:10')?.reason, 'released by host-b (b)')
})

test('a member that left cleanly hands its positions over; a lost one makes its units quiet', () => {
  const flows = COPY_FLOW
  const view = { [FLOW]: { orders: 4 } }
  const before = dealUnits(
    [
      member('a', { flows, topics: view, owned: ['topics:A->B', ...copies('orders', 0, 1)] }),
      member('b', { flows, topics: view, owned: copies('orders', 2, 3) })
    ],
    ctx({ flows })
  )
  // b is gone without releasing anything (kill -9, session expired).
  const lost = dealUnits(
    [member('a', { flows, topics: view, owned: ['topics:A->B', ...copies('orders', 0, 1)] })],
    ctx({ flows, generation: 6, previous: before.table })
  )
  assert.deepEqual(summary(lost).a, {
    units: ['topics:A->B', 'copy:A->B:orders:0-3'],
    revoked: [],
    quiet: ['copy:A->B:orders:2-3']
  })
  assert.equal(lost.table.get('copy:A->B:orders:2')?.reason, 'its owner host-b (b) left without releasing it')
  // A clean hand-over: b released its units (revoked earlier) and rejoined; they are dealt back
  // to it, with the positions it reported, and are not quiet.
  const clean = dealUnits(
    [
      member('a', { flows, topics: view, owned: ['topics:A->B', ...copies('orders', 0, 1)] }),
      member('b', { flows, topics: view, released: { 'copy:A->B:orders:2': '20', 'copy:A->B:orders:3': '30' } })
    ],
    ctx({ flows, generation: 6, previous: before.table })
  )
  assert.deepEqual(summary(clean).a, { units: ['topics:A->B', 'copy:A->B:orders:0-1'], revoked: [], quiet: [] })
  assert.deepEqual(summary(clean).b, { units: ['copy:A->B:orders:2-3'], revoked: [], quiet: [] })
  assert.deepEqual(
    [...(clean.assignments.get('b')?.handOver ?? [])],
    [
      ['copy:A->B:orders:2', 20n],
      ['copy:A->B:orders:3', 30n]
    ]
  )
  assert.equal(clean.table.get('copy:A->B:orders:2')?.reason, 'released and dealt back')
})

test('a unit claimed by two members is revoked from both and given to nobody', () => {
  const flows = COPY_FLOW
  const view = { [FLOW]: { orders: 4 } }
  const deal = dealUnits(
    [
      member('a', { flows, topics: view, owned: ['topics:A->B', ...copies('orders', 0, 1)] }),
      member('b', { flows, topics: view, owned: ['copy:A->B:orders:1', ...copies('orders', 2, 3)] })
    ],
    ctx({ flows })
  )
  assert.deepEqual(summary(deal), {
    a: { units: ['topics:A->B', 'copy:A->B:orders:0'], revoked: ['copy:A->B:orders:1'], quiet: [] },
    b: { units: ['copy:A->B:orders:2-3'], revoked: ['copy:A->B:orders:1'], quiet: [] }
  })
  const placement = deal.table.get('copy:A->B:orders:1')
  assert.equal(placement?.state, 'revoking')
  assert.match(placement?.reason ?? '', /claimed by host-a \(a\) and host-b \(b\); dealt again once released/)
})

test('new partitions from the topics owner are dealt without moving anything', () => {
  const flows = COPY_FLOW
  const deal = dealUnits(
    [
      member('a', {
        flows,
        owned: ['topics:A->B', ...copies('orders', 0, 1)],
        topics: { [FLOW]: { orders: 4, fresh: 3 } }
      }),
      member('b', { flows, owned: copies('orders', 2, 3), topics: { [FLOW]: { orders: 4 } } })
    ],
    ctx({ flows, previous: new Map() })
  )
  assert.deepEqual(summary(deal), {
    a: { units: ['topics:A->B', 'copy:A->B:fresh:0,2', 'copy:A->B:orders:0-1'], revoked: [], quiet: [] },
    b: { units: ['copy:A->B:fresh:1', 'copy:A->B:orders:2-3'], revoked: [], quiet: [] }
  })
})

test("the topics owner's view is authoritative: a deleted topic's units are revoked", () => {
  const flows = COPY_FLOW
  const deal = dealUnits(
    [
      member('a', { flows, owned: ['topics:A->B', 'copy:A->B:gone:0'], topics: { [FLOW]: { orders: 2 } } }),
      member('b', { flows, owned: ['copy:A->B:gone:1'], topics: { [FLOW]: { orders: 2, gone: 2 } } })
    ],
    ctx({ flows })
  )
  assert.deepEqual(compactUnitIds(deal.assignments.get('a')?.revoked ?? []), ['copy:A->B:gone:0'])
  assert.deepEqual(compactUnitIds(deal.assignments.get('b')?.revoked ?? []), ['copy:A->B:gone:1'])
  assert.match(deal.table.get('copy:A->B:gone:1')?.reason ?? '', /no longer a unit of the group/)
})

test('without a topics owner the units are the union of the views and of what members own', () => {
  const flows = COPY_FLOW
  const deal = dealUnits(
    [
      member('a', { flows, owned: ['copy:A->B:old:0'], topics: { [FLOW]: { orders: 2 } } }),
      member('b', { flows, topics: { [FLOW]: { orders: 3, pay: 1 } } })
    ],
    ctx({ flows })
  )
  const all = [...deal.assignments.values()].flatMap(a => [...a.units])
  assert.deepEqual(compactUnitIds(all), ['topics:A->B', 'copy:A->B:old:0', 'copy:A->B:orders:0-2', 'copy:A->B:pay:0'])
  for (const a of deal.assignments.values()) assert.equal(a.revoked.size, 0)
})

test('a member with another config for a flow gets none of its units, and gives back what it has', () => {
  const view = { [FLOW]: { orders: 4 } }
  const deal = dealUnits(
    [
      member('a', { topics: view }),
      member('b', { topics: view }),
      member('c', {
        topics: view,
        owned: ['copy:A->B:orders:0', 'heartbeats:A->B'],
        flows: { [FLOW]: { ...ALL_JOBS, digest: 'd2' } }
      })
    ],
    ctx()
  )
  assert.deepEqual(summary(deal).c, { units: [], revoked: ['heartbeats:A->B', 'copy:A->B:orders:0'], quiet: [] })
  const dealtToOthers = [...deal.assignments.get('a')!.units, ...deal.assignments.get('b')!.units]
  assert.deepEqual(compactUnitIds(dealtToOthers), ['topics:A->B', 'checkpoints:A->B', 'copy:A->B:orders:1-3'])
  assert.ok(
    deal.warnings.some(w => /host-c \(c\) runs flow A->B with another config \(digest d2, the leader's d1\)/.test(w)),
    deal.warnings.join('\n')
  )
  // orders:0 and heartbeats stay with c until it released them: nobody else gets them yet.
  assert.equal(deal.table.get('copy:A->B:orders:0')?.owner, 'c')
})

test('flows the leader does not run are not dealt, and the deal says so', () => {
  const deal = dealUnits(
    [member('a'), member('b', { flows: { [FLOW]: ALL_JOBS, 'C->B': ALL_JOBS }, owned: ['topics:C->B'] })],
    ctx()
  )
  assert.deepEqual(summary(deal).b?.revoked, ['topics:C->B'])
  assert.ok(
    deal.warnings.some(w => /host-b \(b\) runs flow C->B, which the leader does not; its units are not dealt/.test(w)),
    deal.warnings.join('\n')
  )
})

test('singletons go to the members with the fewest units overall', () => {
  const flows = COPY_FLOW
  const view = { [FLOW]: { orders: 3 } }
  const deal = dealUnits(
    [
      member('a', { flows, topics: view, owned: copies('orders', 0, 1) }),
      member('b', { flows, topics: view, owned: ['copy:A->B:orders:2'] })
    ],
    ctx({ flows })
  )
  assert.deepEqual(units(deal, 'b'), ['topics:A->B', 'copy:A->B:orders:2'])
})

test('singletons are spread evenly over the group', () => {
  const flows = { 'A->B': ALL_JOBS, 'C->B': ALL_JOBS }
  const deal = dealUnits([member('a', { flows }), member('b', { flows }), member('c', { flows })], ctx({ flows }))
  assert.deepEqual(
    Object.values(summary(deal)).map(s => s.units.length),
    [2, 2, 2]
  )
})

test('tasks.max counts tasks across the group, at least 1 and at most the share per member', () => {
  const budget = (tasksMax: number, partitions: number, memberCount: number): number[] => {
    const flows = { [FLOW]: { ...ALL_JOBS, tasksMax, jobs: ['topics' as const] } }
    const view = { [FLOW]: { orders: partitions } }
    const members = ['a', 'b', 'c', 'd'].slice(0, memberCount).map(id => member(id, { flows, topics: view }))
    const deal = dealUnits(members, ctx({ flows }))
    return [...deal.assignments.values()].map(a => a.tasks.get(FLOW) ?? 0)
  }
  assert.deepEqual(budget(4, 12, 3), [2, 1, 1])
  assert.deepEqual(budget(1, 12, 3), [1, 1, 1])
  assert.deepEqual(budget(10, 6, 3), [2, 2, 2])
  assert.deepEqual(budget(4, 12, 1), [4])
  assert.deepEqual(budget(8, 2, 3), [1, 1, 0])
})

test('the task budget is the same in both phases of a hand-over', () => {
  const flows = { [FLOW]: { ...ALL_JOBS, tasksMax: 4, jobs: ['topics' as const] } }
  const view = { [FLOW]: { orders: 8 } }
  const first = dealUnits(
    [
      member('a', { flows, topics: view, owned: ['topics:A->B', ...copies('orders', 0, 7)] }),
      member('b', { flows, topics: view })
    ],
    ctx({ flows })
  )
  assert.deepEqual(units(first, 'b'), [])
  const released = Object.fromEntries(copies('orders', 4, 7).map(id => [id, '1']))
  const second = dealUnits(
    [
      member('a', { flows, topics: view, owned: ['topics:A->B', ...copies('orders', 0, 3)], released }),
      member('b', { flows, topics: view })
    ],
    ctx({ flows })
  )
  assert.deepEqual(units(second, 'b'), ['copy:A->B:orders:4-7'])
  for (const deal of [first, second]) {
    assert.deepEqual(
      [...deal.assignments.values()].map(a => a.tasks.get(FLOW)),
      [2, 2]
    )
  }
})

test('the deal is deterministic: the order of the members does not matter', () => {
  const view = { [FLOW]: { orders: 10, pay: 3 } }
  const members = [
    member('c', { topics: view, owned: copies('orders', 0, 6) }),
    member('a', { topics: view }),
    member('b', { topics: view, owned: ['topics:A->B'] })
  ]
  const one = assignGroup(new Map(members.map(m => [m.memberId, encodeMemberMetadata(m.metadata)])), ctx())
  const two = assignGroup(
    new Map([...members].reverse().map(m => [m.memberId, encodeMemberMetadata(m.metadata)])),
    ctx()
  )
  assert.deepEqual([...one.assignments].sort(), [...two.assignments].sort())
})

test('bytes in, bytes out: every member gets an assignment it can decode', () => {
  const view = { [FLOW]: { orders: 3 } }
  const members = [member('a', { topics: view }), member('b', { topics: view })]
  const { assignments, deal } = assignGroup(
    new Map(members.map(m => [m.memberId, encodeMemberMetadata(m.metadata)])),
    ctx({ generation: 9 })
  )
  assert.deepEqual([...assignments.keys()].sort(), ['a', 'b'])
  for (const [id, bytes] of assignments) assert.deepEqual(decodeAssignment(bytes), deal.assignments.get(id))
  assert.equal(decodeAssignment(assignments.get('a')!).generation, 9)
})

test('unreadable metadata: its member is told why, nobody gets anything new, owners keep their units', () => {
  const flows = COPY_FLOW
  const view = { [FLOW]: { orders: 4 } }
  const a = member('a', { flows, topics: view, owned: copies('orders', 0, 2) })
  const { assignments, deal } = assignGroup(
    new Map([
      ['a', encodeMemberMetadata(a.metadata)],
      ['x', Buffer.from('0002', 'hex')]
    ]),
    ctx({ flows })
  )
  assert.deepEqual(compactUnitIds(decodeAssignment(assignments.get('a')!).units), ['copy:A->B:orders:0-2'])
  const x = decodeAssignment(assignments.get('x')!)
  assert.equal(x.units.size, 0)
  assert.match(x.error ?? '', /format version 2 is newer than this kafka-mirror reads/)
  assert.equal(deal.table.get('copy:A->B:orders:3')?.state, 'unassigned')
  assert.match(
    deal.table.get('copy:A->B:orders:3')?.reason ?? '',
    /the metadata of member x cannot be read, so nothing new is dealt/
  )
  assert.ok(deal.warnings.some(w => /^member x: kafka-mirror member metadata: format version 2/.test(w)))
})

test('the leader assignor passes its last table on only to the generation right after it', () => {
  const view = { [FLOW]: { orders: 2 } }
  const deals: Deal[] = []
  const assign = createLeaderAssignor({ flows: () => new Map([[FLOW, ALL_JOBS]]), onDeal: d => deals.push(d) })
  const bytes = (m: GroupMember): Map<string, Buffer> => new Map([[m.memberId, encodeMemberMetadata(m.metadata)]])
  const first = decodeAssignment(assign(bytes(member('a', { topics: view })), 3).get('a')!)
  assert.equal(first.quiet.size, first.units.size, 'no previous table: every unit is quiet')
  // Generation 4 follows 3: units nobody ran in 3 are not quiet; a unit a ran and dropped is.
  const owned = [...first.units].filter(id => id !== 'copy:A->B:orders:1')
  const next = decodeAssignment(assign(bytes(member('a', { topics: view, owned })), 4).get('a')!)
  assert.deepEqual([...next.quiet], ['copy:A->B:orders:1'])
  // Generation 7 after 4: another member led 5 and 6, the table is stale and not used.
  const later = decodeAssignment(assign(bytes(member('a', { topics: view, owned })), 7).get('a')!)
  assert.deepEqual([...later.quiet], ['copy:A->B:orders:1'])
  assert.deepEqual(
    deals.map(d => d.generation),
    [3, 4, 7]
  )
  assert.match(deals[2]?.table.get('copy:A->B:orders:1')?.reason ?? '', /not released by any member/)
  assert.match(
    deals[1]?.table.get('copy:A->B:orders:1')?.reason ?? '',
    /its owner host-a \(a\) left without releasing it/
  )
})
