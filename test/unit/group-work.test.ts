/**
 * GroupWork (src/group-work.ts) applying assignments, against the scripted coordinator: what a
 * member claims and releases in its JoinGroup metadata as generations follow one another.
 */
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadMm2Properties } from '../../src/config/mm2-properties.ts'
import type { RunGroup } from '../../src/config/run-groups.ts'
import {
  decodeAssignment,
  decodeMemberMetadata,
  encodeAssignment,
  encodeMemberMetadata,
  type MemberMetadata
} from '../../src/group/group-codec.ts'
import { compactUnitIds, copyUnitId } from '../../src/group/units.ts'
import { GroupWork } from '../../src/group-work.ts'
import { GroupErrorCode, type JoinRequest, type SyncRequest } from '../../src/kafka/group-wire.ts'
import { createLogger } from '../../src/observe/logger.ts'
import type { SourceFlow } from '../../src/source/source-flow.ts'
import { FakeClock, joinAnswer, ScriptedCoordinator, settle } from './group/fakes.ts'

process.env.KAFKA_MIRROR_STATE_DIR = mkdtempSync(join(tmpdir(), 'km-group-work-'))

/** The group of flow A->B; `extra` lines are added to its mm2.properties. */
function runGroup(extra: readonly string[] = []): RunGroup {
  const { config } = loadMm2Properties(
    [
      'clusters = A, B',
      'A.bootstrap.servers = a:9092',
      'B.bootstrap.servers = b:9092',
      'A->B.enabled = true',
      ...extra
    ].join('\n'),
    { file: 'mm2.properties', env: {} }
  )
  const flow = config.flows.find(f => f.name === 'A->B')
  assert.ok(flow !== undefined)
  return {
    cluster: 'B',
    groupId: 'A-mm2',
    clients: flow.clients.targetAdmin,
    timeouts: flow.group,
    pairs: [{ flow, jobs: ['topics'] }]
  }
}

/** The copying flow, reduced to what GroupWork asks of it; records what it is told to copy. */
function fakeFlow(): { flow: SourceFlow; owned: string[][] } {
  const owned: string[][] = []
  const fake = {
    flow: { name: 'A->B' },
    readyTopics: new Map([['orders', { source: 'orders', remote: 'A.orders', partitions: 6 }]]),
    firstDiscovery: Promise.resolve(),
    own: async (partitions: ReadonlySet<string>) => {
      owned.push([...partitions].sort())
      return []
    },
    setTopicsJob: () => {}
  }
  return { flow: fake as unknown as SourceFlow, owned }
}

const copy = (p: number): string => copyUnitId('A->B', 'orders', p)

function assignment(generation: number, units: number[], revoked: number[] = []): Buffer {
  return encodeAssignment({
    generation,
    units: new Set(units.map(copy)),
    revoked: new Set(revoked.map(copy)),
    handOver: new Map(),
    quiet: new Set(),
    tasks: new Map([['A->B', 1]])
  })
}

function metadataOf(r: JoinRequest): MemberMetadata {
  return decodeMemberMetadata(r.protocols[0]?.metadata ?? Buffer.alloc(0))
}

test('units given by a generation that is never confirmed, then taken away, are released in the next join (else nobody would run them)', async () => {
  const clock = new FakeClock()
  const wire = new ScriptedCoordinator(clock)
  const asFollower = (generation: number) => (r: JoinRequest) =>
    joinAnswer({ memberId: r.memberId === '' ? 'me-1' : r.memberId, leader: 'leader-x', generationId: generation })
  wire.joins.push(
    joinAnswer({ errorCode: GroupErrorCode.MEMBER_ID_REQUIRED, memberId: 'me-1' }),
    asFollower(2),
    asFollower(3),
    asFollower(4)
  )
  // Generation 2 gives partitions 0-5; before its first heartbeat is answered, a third member
  // joins and generation 3 keeps 0-3 here (4 and 5 go to the newcomer once released).
  wire.syncs.push(
    { errorCode: 0, assignment: assignment(2, [0, 1, 2, 3, 4, 5]) },
    { errorCode: 0, assignment: assignment(3, [0, 1, 2, 3], [4, 5]) },
    { errorCode: 0, assignment: assignment(4, [0, 1, 2, 3]) }
  )
  wire.heartbeats.push({ errorCode: GroupErrorCode.REBALANCE_IN_PROGRESS })
  const { flow, owned } = fakeFlow()
  const work = new GroupWork(
    runGroup(),
    createLogger('test', () => {}),
    'host-a:1',
    { wire, clock }
  )
  work.addFlow(flow)
  try {
    work.start()
    await settle()
    for (let i = 0; i < 10; i++) await clock.advance(1000)
    const joins = wire.of<JoinRequest>('join').map(metadataOf)
    assert.ok(joins.length >= 4, `joins: ${joins.length}`)
    // The join for generation 3 claims what generation 2 gave; the one after it releases 4 and 5.
    assert.deepEqual(compactUnitIds(joins[2]?.owned ?? []), ['copy:A->B:orders:0-5'])
    assert.deepEqual(compactUnitIds(joins[3]?.owned ?? []), ['copy:A->B:orders:0-3'])
    assert.deepEqual(
      [...(joins[3]?.released ?? [])],
      [
        [copy(4), null],
        [copy(5), null]
      ]
    )
    // Generation 4 is confirmed: the flow copies 0-3 and was never told to copy 4 or 5.
    assert.deepEqual(owned.at(-1), ['orders:0', 'orders:1', 'orders:2', 'orders:3'])
    assert.ok(owned.every(p => !p.includes('orders:4')))
  } finally {
    await work.close()
  }
})

test('leading, it deals a flow in exactly-once mode whole to one member, with all of tasks.max', async () => {
  const clock = new FakeClock()
  const wire = new ScriptedCoordinator(clock)
  // The other member runs the flow with the same config (it copies the leader's flows and
  // digest) and owns half of its partitions; the leader owns none.
  wire.joins.push(req => {
    const mine = req.protocols[0]?.metadata ?? Buffer.alloc(0)
    const other = encodeMemberMetadata({
      ...decodeMemberMetadata(mine),
      instance: 'host-b:2',
      owned: new Set([0, 1, 2].map(copy))
    })
    return joinAnswer({
      memberId: 'me-1',
      leader: 'me-1',
      generationId: 4,
      members: [
        { memberId: 'me-1', metadata: mine },
        { memberId: 'other', metadata: other }
      ]
    })
  })
  const { flow } = fakeFlow()
  const group = runGroup(['B.exactly.once.source.support = enabled', 'tasks.max = 3'])
  assert.equal(group.pairs[0]?.flow.exactlyOnce.enabled, true)
  const work = new GroupWork(
    group,
    createLogger('test', () => {}),
    'host-a:1',
    { wire, clock }
  )
  work.addFlow(flow)
  try {
    work.start()
    await settle()
    const sync = wire.of<SyncRequest>('sync')[0]
    const dealt = new Map(sync?.assignments.map(a => [a.memberId, decodeAssignment(a.assignment)]))
    assert.deepEqual(compactUnitIds(dealt.get('other')?.units ?? []), ['copy:A->B:orders:0-5'])
    assert.deepEqual([...(dealt.get('other')?.tasks ?? [])], [['A->B', 3]])
    assert.deepEqual(compactUnitIds(dealt.get('me-1')?.units ?? []), ['topics:A->B'])
    assert.deepEqual([...(dealt.get('me-1')?.tasks ?? [])], [])
  } finally {
    await work.close()
  }
})
