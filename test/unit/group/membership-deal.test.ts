/**
 * The deal behind the membership state machine: Membership (src/group/membership.ts) with
 * createLeaderAssignor as its `assign` and the codec for its metadata, against the scripted
 * coordinator. Checks the seam between the two: the leader deals from the JoinGroup members'
 * bytes, sends every member an assignment, and each member decodes its own.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createLeaderAssignor, type Deal } from '../../../src/group/assignor.ts'
import {
  decodeAssignment,
  encodeMemberMetadata,
  type FlowCapability,
  type MemberMetadata
} from '../../../src/group/group-codec.ts'
import { Membership } from '../../../src/group/membership.ts'
import { compactUnitIds } from '../../../src/group/units.ts'
import type { SyncRequest } from '../../../src/kafka/group-wire.ts'
import { FakeClock, joinAnswer, ScriptedCoordinator, settle } from './fakes.ts'

const FLOWS = new Map<string, FlowCapability>([
  ['A->B', { digest: 'd1', tasksMax: 2, jobs: ['topics', 'checkpoints', 'heartbeats'] }]
])

function metadata(instance: string, owned: string[] = []): MemberMetadata {
  return {
    instance,
    flows: FLOWS,
    owned: new Set(owned),
    released: new Map(),
    topics: new Map([['A->B', new Map([['orders', 4]])]])
  }
}

function member(wire: ScriptedCoordinator, clock: FakeClock, deals: Deal[]): Membership {
  return new Membership({
    wire,
    groupId: 'A-mm2',
    cluster: 'B',
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 60_000,
    heartbeatIntervalMs: 1000,
    metadata: () => encodeMemberMetadata(metadata('host-a')),
    assign: createLeaderAssignor({ flows: () => FLOWS, onDeal: d => deals.push(d) }),
    clock
  })
}

test('a lone leader deals itself every unit of its flows and decodes its assignment', async () => {
  const clock = new FakeClock()
  const wire = new ScriptedCoordinator(clock)
  const deals: Deal[] = []
  const m = member(wire, clock, deals)
  const assigned: Buffer[] = []
  m.on('assigned', a => {
    assigned.push(a.assignment)
  })
  m.start()
  await settle()
  assert.equal(assigned.length, 1)
  const mine = decodeAssignment(assigned[0] as Buffer)
  assert.deepEqual(compactUnitIds(mine.units), [
    'topics:A->B',
    'checkpoints:A->B',
    'heartbeats:A->B',
    'copy:A->B:orders:0-3'
  ])
  assert.deepEqual([...mine.tasks], [['A->B', 2]])
  assert.equal(deals[0]?.instances.get('me-1'), 'host-a')
  await m.close()
})

test('a leader with a second member sends both assignments, disjoint, each decodable', async () => {
  const clock = new FakeClock()
  const wire = new ScriptedCoordinator(clock)
  const deals: Deal[] = []
  const m = member(wire, clock, deals)
  const other = encodeMemberMetadata(
    metadata('host-b', ['copy:A->B:orders:0', 'copy:A->B:orders:1', 'copy:A->B:orders:2'])
  )
  wire.joins.push(req =>
    joinAnswer({
      memberId: 'me-1',
      leader: 'me-1',
      generationId: 4,
      members: [
        { memberId: 'me-1', metadata: req.protocols[0]?.metadata ?? Buffer.alloc(0) },
        { memberId: 'other', metadata: other }
      ]
    })
  )
  m.start()
  await settle()
  const sync = wire.of<SyncRequest>('sync')[0]
  const dealt = new Map(sync?.assignments.map(a => [a.memberId, decodeAssignment(a.assignment)]))
  assert.deepEqual([...dealt.keys()].sort(), ['me-1', 'other'])
  const a = dealt.get('me-1')
  const b = dealt.get('other')
  // The other member keeps two of its three partitions and releases the third; the leader gets
  // the partition nobody owned now (the released one comes in the next generation), and the
  // singletons are spread.
  assert.deepEqual(compactUnitIds(b?.units ?? []), ['checkpoints:A->B', 'copy:A->B:orders:0-1'])
  assert.deepEqual(compactUnitIds(b?.revoked ?? []), ['copy:A->B:orders:2'])
  assert.deepEqual(compactUnitIds(a?.units ?? []), ['topics:A->B', 'heartbeats:A->B', 'copy:A->B:orders:3'])
  assert.equal(deals[0]?.generation, 4)
  await m.close()
})
