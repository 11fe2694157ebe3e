/**
 * The membership state machine against a scripted coordinator and a fake clock: one test per
 * transition of docs/scale-out-plan.md §2 (join handshake, leader and follower sync, heartbeat
 * answers, coordinator moves, network loss and the lease, refusal by a Connect group, rejoin
 * requests and leave).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type Assignment, Membership, type MembershipOptions } from '../../../src/group/membership.ts'
import {
  type DescribedGroup,
  GroupErrorCode as E,
  type HeartbeatRequest,
  type JoinRequest,
  type LeaveRequest,
  type SyncRequest
} from '../../../src/kafka/group-wire.ts'
import { FakeClock, joinAnswer, ScriptedCoordinator, settle } from './fakes.ts'

const S = 10_000
const H = 1000
const MARGIN = 1000

interface Harness {
  clock: FakeClock
  wire: ScriptedCoordinator
  member: Membership
  events: string[]
  assigned: Assignment[]
}

function harness(opts: Partial<MembershipOptions> = {}): Harness {
  const clock = new FakeClock()
  const wire = new ScriptedCoordinator(clock)
  const events: string[] = []
  const assigned: Assignment[] = []
  let joins = 0
  const member = new Membership({
    wire,
    groupId: 'A-mm2',
    cluster: 'B',
    sessionTimeoutMs: S,
    rebalanceTimeoutMs: 60_000,
    heartbeatIntervalMs: H,
    leaseMarginMs: MARGIN,
    metadata: () => Buffer.from(`meta-${++joins}`),
    assign: members => new Map([...members.keys()].map(id => [id, Buffer.from(`units-of-${id}`)])),
    clock,
    ...opts
  })
  member.on('assigned', a => {
    events.push(`assigned:${a.generation}`)
    assigned.push(a)
  })
  member.on('confirmed', g => {
    events.push(`confirmed:${g}`)
  })
  member.on('fenced', () => {
    events.push(`fenced@${clock.nowMs}`)
  })
  member.on('resumed', () => {
    events.push(`resumed@${clock.nowMs}`)
  })
  member.on('lost', () => {
    events.push(`lost@${clock.nowMs}`)
  })
  member.on('refused', () => {
    events.push('refused')
  })
  return { clock, wire, member, events, assigned }
}

async function stable(h: Harness): Promise<void> {
  h.member.start()
  await settle()
  assert.equal(h.member.state, 'stable', `stable after start (requests: ${h.wire.kinds().join(', ')})`)
}

test('a new member joins twice (KIP-394 handshake, no backoff), leads, deals every member and confirms with a first heartbeat', async () => {
  const h = harness()
  await stable(h)
  assert.deepEqual(h.wire.kinds(), ['find', 'join', 'join', 'sync', 'heartbeat'])
  const [first, second] = h.wire.of<JoinRequest>('join')
  assert.equal(first?.memberId, '')
  assert.equal(second?.memberId, 'me-1', 'joins again with the id the coordinator gave')
  assert.equal(second?.protocolType, 'kafka-mirror')
  assert.equal(second?.protocols[0]?.name, 'kafka-mirror-v1')
  assert.equal(second?.rebalanceTimeoutMs, 60_000)
  assert.ok(
    h.wire.sent.every(s => s.atMs === 0),
    'the handshake is not a retry: no wait'
  )
  const sync = h.wire.of<SyncRequest>('sync')[0]
  assert.deepEqual(
    sync?.assignments.map(a => [a.memberId, a.assignment.toString()]),
    [['me-1', 'units-of-me-1']]
  )
  assert.deepEqual(h.events, ['assigned:1', 'confirmed:1'])
  assert.equal(h.assigned[0]?.assignment.toString(), 'units-of-me-1')
  assert.equal(h.member.isLeader, true)
  assert.equal(h.member.lease.remainingMs(), S - MARGIN, 'the lease runs from the heartbeat send time')
  await h.member.close()
})

test('a follower sends no assignments, never deals, and gets its own bytes', async () => {
  let dealt = false
  const h = harness({
    assign: () => {
      dealt = true
      return new Map()
    }
  })
  h.wire.joins.push(
    joinAnswer({ errorCode: E.MEMBER_ID_REQUIRED, memberId: 'me-1' }),
    joinAnswer({ memberId: 'me-1', leader: 'other', generationId: 7 })
  )
  h.wire.syncs.push({ errorCode: 0, assignment: Buffer.from('mine') })
  await stable(h)
  assert.equal(dealt, false)
  assert.deepEqual(h.wire.of<SyncRequest>('sync')[0]?.assignments, [])
  assert.equal(h.assigned[0]?.generation, 7)
  assert.equal(h.assigned[0]?.assignment.toString(), 'mine')
  assert.equal(h.member.isLeader, false)
  await h.member.close()
})

test('heartbeats go out every interval and each NONE moves the lease on', async () => {
  const h = harness()
  await stable(h)
  await h.clock.advance(5 * H)
  const times = h.wire.sent.filter(s => s.kind === 'heartbeat').map(s => s.atMs)
  assert.deepEqual(times, [0, 1000, 2000, 3000, 4000, 5000])
  assert.equal(h.member.lease.remainingMs(), S - MARGIN)
  await h.member.close()
})

test('REBALANCE_IN_PROGRESS on a heartbeat: rejoin with the same id, units kept, the lease not renewed by that answer', async () => {
  const h = harness()
  await stable(h)
  h.wire.heartbeats.push({ errorCode: E.REBALANCE_IN_PROGRESS })
  h.wire.joins.push(
    joinAnswer({
      memberId: 'me-1',
      leader: 'me-1',
      generationId: 2,
      members: [{ memberId: 'me-1', metadata: Buffer.alloc(0) }]
    })
  )
  await h.clock.advance(H)
  const joins = h.wire.of<JoinRequest>('join')
  assert.equal(joins.length, 3)
  assert.equal(joins[2]?.memberId, 'me-1')
  assert.equal(joins[2]?.reason, 'the group is rebalancing')
  assert.equal(joins[2]?.protocols[0]?.metadata.toString(), 'meta-3', 'metadata rebuilt for the join')
  assert.ok(!h.events.some(e => e.startsWith('lost')), 'no unit dropped')
  assert.deepEqual(
    h.events.filter(e => e.startsWith('assigned')),
    ['assigned:1', 'assigned:2']
  )
  await h.member.close()
})

test('the lease is not renewed by a REBALANCE_IN_PROGRESS answer (the rebalance may end without us)', async () => {
  const h = harness()
  await stable(h)
  // The join of the rebalance hangs: the only answer since the first heartbeat was REBALANCE_IN_PROGRESS.
  h.wire.heartbeats.push({ errorCode: E.REBALANCE_IN_PROGRESS })
  h.wire.joins.push(async () => await h.wire.hang())
  await h.clock.advance(H)
  assert.equal(h.member.state, 'joining')
  assert.equal(h.member.lease.remainingMs(), S - MARGIN - H, 'deadline still from the heartbeat sent at 0')
  await h.clock.advance(S)
  assert.deepEqual(
    h.events.filter(e => e.startsWith('fenced')),
    [`fenced@${S - MARGIN}`]
  )
  const closing = h.member.close('test', 10)
  await h.clock.advance(10)
  await closing
})

for (const [code, keepsId] of [
  [E.UNKNOWN_MEMBER_ID, false],
  [E.ILLEGAL_GENERATION, true],
  [E.FENCED_INSTANCE_ID, false]
] as const) {
  test(`heartbeat answered ${code}: membership lost (units dropped, lease fenced at once), then a fresh join ${keepsId ? 'with the same id' : 'with no id'}`, async () => {
    const h = harness()
    await stable(h)
    h.wire.heartbeats.push({ errorCode: code })
    let validWhenJoining: boolean | undefined
    h.wire.joins.push(r => {
      validWhenJoining = h.member.lease.valid()
      return joinAnswer({ memberId: r.memberId === '' ? 'me-2' : r.memberId, leader: 'other', generationId: 5 })
    })
    await h.clock.advance(H)
    assert.deepEqual(h.events.slice(2, 3), [`lost@${H}`])
    assert.equal(validWhenJoining, false, 'no write between the loss and the next generation')
    const joins = h.wire.of<JoinRequest>('join')
    assert.equal(joins[2]?.memberId, keepsId ? 'me-1' : '')
    await h.member.close()
  })
}

test('NOT_COORDINATOR on a heartbeat: find the coordinator again and keep heartbeating the same generation', async () => {
  const h = harness()
  await stable(h)
  h.wire.heartbeats.push({ errorCode: E.NOT_COORDINATOR })
  await h.clock.advance(H + 500)
  assert.deepEqual(h.wire.kinds().slice(5), ['heartbeat', 'find', 'heartbeat'])
  const last = h.wire.of<HeartbeatRequest>('heartbeat').at(-1)
  assert.equal(last?.generationId, 1)
  assert.ok(!h.events.some(e => e.startsWith('lost')))
  await h.member.close()
})

test('network loss: heartbeats keep trying, the lease ends at last NONE send + S - m, and a NONE in the same generation resumes', async () => {
  const h = harness()
  await stable(h) // last NONE heartbeat sent at 0
  let cut = true
  const fail = (): never => {
    throw new Error('connection reset')
  }
  for (let i = 0; i < 200; i++) {
    h.wire.heartbeats.push(r => (cut ? fail() : { errorCode: 0, ...(r === undefined ? {} : {}) }))
    h.wire.find.push(() =>
      cut ? fail() : { errorCode: 0, errorMessage: null, coordinator: { nodeId: 1, host: 'broker', port: 9092 } }
    )
  }
  await h.clock.advance(S - MARGIN - 1)
  assert.equal(h.member.lease.valid(), true)
  assert.ok(!h.events.some(e => e.startsWith('fenced')))
  await h.clock.advance(1)
  assert.equal(h.member.lease.valid(), false)
  assert.deepEqual(h.events.slice(2), [`fenced@${S - MARGIN}`])
  assert.equal(h.member.state, 'stable', 'still a member as far as it knows')
  cut = false
  await h.clock.advance(2000)
  assert.equal(h.member.lease.valid(), true)
  assert.equal(h.events[3]?.startsWith('resumed'), true, h.events.join(' '))
  assert.ok(
    !h.events.some(e => e.startsWith('lost')),
    'nothing dropped: the coordinator still had us in this generation'
  )
  await h.member.close()
})

test('a SIGSTOP past the lease: the first check after the resume refuses writes before any timer runs', async () => {
  const h = harness()
  await stable(h)
  h.clock.jump(S + 5000)
  assert.equal(h.member.lease.valid(), false)
  // Whichever runs first after the resume (here the overdue heartbeat, answered UNKNOWN_MEMBER_ID),
  // the units are dropped and nothing was writable in between.
  h.wire.heartbeats.push(() => {
    assert.equal(h.member.lease.valid(), false)
    return { errorCode: E.UNKNOWN_MEMBER_ID }
  })
  await h.clock.advance(1)
  assert.deepEqual(h.events.slice(2, 3), [`lost@${S + 5000}`])
  assert.equal(h.wire.of<JoinRequest>('join')[2]?.memberId, '', 'joins again as a new member')
  await h.member.close()
})

test('a long join renews the lease when it completes with us (the join phase restarted our session)', async () => {
  const h = harness()
  await stable(h)
  let release: (() => void) | undefined
  h.wire.heartbeats.push({ errorCode: E.REBALANCE_IN_PROGRESS })
  h.wire.joins.push(async r => {
    await new Promise<void>(resolve => {
      release = resolve
    })
    return joinAnswer({ memberId: r.memberId, leader: 'other', generationId: 2 })
  })
  await h.clock.advance(H) // join sent at 1000: a completed join renews to 1000 + 9000
  await h.clock.advance(S - MARGIN - H + 500) // the lease from the heartbeat at 0 ran out at 9000
  assert.equal(h.member.lease.valid(), false)
  release?.() // answered at 9500
  await settle()
  assert.equal(h.member.lease.valid(), true)
  assert.equal(h.member.lease.remainingMs(), S - MARGIN, 'then renewed by the first heartbeat of generation 2')
  assert.deepEqual(h.events.slice(2), [
    `fenced@${S - MARGIN}`,
    `resumed@${S - MARGIN + 500}`,
    'assigned:2',
    'confirmed:2'
  ])
  await h.member.close()
})

test('REBALANCE_IN_PROGRESS on sync: join again at once', async () => {
  const h = harness()
  h.wire.syncs.push({ errorCode: E.REBALANCE_IN_PROGRESS, assignment: Buffer.alloc(0) })
  await stable(h)
  assert.deepEqual(h.wire.kinds(), ['find', 'join', 'join', 'sync', 'join', 'sync', 'heartbeat'])
  assert.deepEqual(h.events, ['assigned:1', 'confirmed:1'])
  await h.member.close()
})

test('join errors: retriable ones back off and retry, a moved coordinator is found again', async () => {
  const h = harness()
  h.wire.joins.push(
    joinAnswer({ errorCode: E.COORDINATOR_LOAD_IN_PROGRESS }),
    joinAnswer({ errorCode: E.NOT_COORDINATOR })
  )
  h.member.start()
  await h.clock.advance(1000)
  assert.equal(h.member.state, 'stable')
  const sent = h.wire.sent.map(s => `${s.kind}@${s.atMs}`)
  assert.deepEqual(sent.slice(0, 5), ['find@0', 'join@0', 'join@100', 'find@300', 'join@300'])
  await h.member.close()
})

test('INCONSISTENT_GROUP_PROTOCOL: the group is described and the refusal names Java MM2, the group and its members; retried every 5 s', async () => {
  const h = harness()
  h.wire.joins.push(joinAnswer({ errorCode: E.INCONSISTENT_GROUP_PROTOCOL }))
  h.wire.describes.push({
    errorCode: 0,
    groupId: 'A-mm2',
    state: 'Stable',
    protocolType: 'connect',
    protocolName: 'sessioned',
    members: [
      {
        memberId: 'A->B-1',
        clientId: 'A->B',
        clientHost: '/10.0.0.7',
        metadata: Buffer.alloc(0),
        assignment: Buffer.alloc(0)
      },
      {
        memberId: 'A->B-2',
        clientId: 'A->B',
        clientHost: '/10.0.0.8',
        metadata: Buffer.alloc(0),
        assignment: Buffer.alloc(0)
      }
    ]
  })
  h.member.start()
  await settle()
  assert.equal(h.member.state, 'refused')
  const why = h.member.refusal ?? ''
  assert.match(why, /Java MirrorMaker 2/)
  assert.match(why, /group A-mm2 on cluster B/)
  assert.match(why, /2 members: client ids A->B; hosts \/10\.0\.0\.7, \/10\.0\.0\.8/)
  assert.deepEqual(h.events, ['refused'])
  await h.clock.advance(4_999)
  assert.equal(h.wire.of('join').length, 1, 'no retry before 5 s')
  await h.clock.advance(1)
  assert.equal(h.member.state, 'stable', 'joined once the Connect workers were gone')
  assert.equal(h.member.refusal, undefined)
  await h.member.close()
})

test('a refusal repeated at every attempt is logged once; a changed reason is logged again', async () => {
  const lines: Array<{ level: string; message: string }> = []
  const record =
    (level: string) =>
    (message: string): void => {
      lines.push({ level, message })
    }
  const log = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') }
  const h = harness({ log })
  const connect = (workers: number): DescribedGroup => ({
    errorCode: 0,
    groupId: 'A-mm2',
    state: 'Stable',
    protocolType: 'connect',
    protocolName: 'sessioned',
    members: Array.from({ length: workers }, (_, i) => ({
      memberId: `A->B-${i}`,
      clientId: 'A->B',
      clientHost: `/10.0.0.${i}`,
      metadata: Buffer.alloc(0),
      assignment: Buffer.alloc(0)
    }))
  })
  for (const workers of [1, 1, 1, 2]) {
    h.wire.joins.push(joinAnswer({ errorCode: E.INCONSISTENT_GROUP_PROTOCOL }))
    h.wire.describes.push(connect(workers))
  }
  h.member.start()
  await settle()
  await h.clock.advance(3 * 5_000)
  assert.deepEqual(h.events, ['refused', 'refused', 'refused', 'refused'], 'every attempt is reported to the owner')
  const errors = lines.filter(l => l.level === 'error').map(l => l.message)
  assert.equal(errors.length, 2, `one line per distinct reason: ${errors.join('\n')}`)
  assert.match(
    errors[0] ?? '',
    /^Java MirrorMaker 2 \(Kafka Connect protocol "connect", 1 member: .*; nothing of this group runs here/
  )
  assert.match(errors[1] ?? '', /2 members/)
  await h.clock.advance(5_000)
  assert.equal(h.member.state, 'stable', 'joined once the Connect workers were gone')
  await h.member.close()
})

test('requestRejoin while stable: a JoinGroup with fresh metadata and the reason, units kept', async () => {
  const h = harness()
  await stable(h)
  await h.clock.advance(300)
  h.member.requestRejoin('released 3 partitions')
  await settle()
  const joins = h.wire.of<JoinRequest>('join')
  assert.equal(joins.length, 3)
  assert.equal(joins[2]?.reason, 'released 3 partitions')
  assert.equal(joins[2]?.protocols[0]?.metadata.toString(), 'meta-3')
  assert.equal(h.wire.sent.at(-3)?.atMs, 300, 'at once, not at the next heartbeat')
  await h.member.close()
})

test('close: the lease ends before the LeaveGroup goes out; the LeaveGroup names the member and the reason; the wire is closed', async () => {
  const h = harness()
  await stable(h)
  let validAtLeave: boolean | undefined
  h.wire.leaves.push(() => {
    validAtLeave = h.member.lease.valid()
    return { errorCode: 0 }
  })
  await h.member.close('SIGTERM')
  assert.equal(validAtLeave, false)
  assert.deepEqual(h.wire.of<LeaveRequest>('leave'), [{ groupId: 'A-mm2', memberId: 'me-1', reason: 'SIGTERM' }])
  assert.equal(h.wire.closed, true)
  assert.equal(h.member.state, 'closed')
  const before = h.wire.sent.length
  await h.clock.advance(10_000)
  assert.equal(h.wire.sent.length, before, 'nothing sent after close')
})

test('timeouts the lease argument cannot work with are refused', () => {
  assert.throws(
    () => harness({ rebalanceTimeoutMs: 5000 }),
    /rebalance.timeout.ms \(5000\) must be at least session.timeout.ms/
  )
  assert.throws(() => harness({ heartbeatIntervalMs: S }), /heartbeat.interval.ms/)
})

for (const [code, keepsId] of [
  [E.UNKNOWN_MEMBER_ID, false],
  [E.ILLEGAL_GENERATION, true]
] as const) {
  test(`sync answered ${code} after a rebalance: the units of the previous generation are lost, then a fresh join`, async () => {
    const h = harness()
    await stable(h)
    h.wire.heartbeats.push({ errorCode: E.REBALANCE_IN_PROGRESS })
    h.wire.syncs.push({ errorCode: code, assignment: Buffer.alloc(0) })
    await h.clock.advance(H)
    assert.deepEqual(h.events.slice(2), [`lost@${H}`, 'assigned:1', 'confirmed:1'])
    assert.equal(h.wire.of<JoinRequest>('join')[3]?.memberId, keepsId ? 'me-1' : '')
    await h.member.close()
  })
}

test('join answered UNKNOWN_MEMBER_ID while holding units: lost, then a join as a new member', async () => {
  const h = harness()
  await stable(h)
  h.member.requestRejoin('config changed')
  h.wire.joins.push(joinAnswer({ errorCode: E.UNKNOWN_MEMBER_ID }))
  await settle()
  assert.deepEqual(h.events.slice(2, 3), ['lost@0'])
  assert.deepEqual(
    h.wire
      .of<JoinRequest>('join')
      .slice(2)
      .map(j => j.memberId),
    ['me-1', '', 'me-1']
  )
  await h.member.close()
})

test('join refusals a person must fix (INVALID_SESSION_TIMEOUT, GROUP_MAX_SIZE_REACHED, GROUP_AUTHORIZATION_FAILED) are reported and retried slowly', async () => {
  for (const [code, name] of [
    [E.INVALID_SESSION_TIMEOUT, 'INVALID_SESSION_TIMEOUT'],
    [E.GROUP_MAX_SIZE_REACHED, 'GROUP_MAX_SIZE_REACHED'],
    [E.GROUP_AUTHORIZATION_FAILED, 'GROUP_AUTHORIZATION_FAILED']
  ] as const) {
    const h = harness({ refusedRetryMs: 5000 })
    h.wire.joins.push(joinAnswer({ errorCode: code }))
    h.member.start()
    await settle()
    assert.equal(h.member.state, 'refused', name)
    assert.equal(h.member.refusal, `joining group A-mm2 on cluster B was refused: ${name}`)
    await h.clock.advance(4999)
    assert.equal(h.wire.of('join').length, 1, `${name}: no retry before refusedRetryMs`)
    await h.clock.advance(1)
    assert.equal(h.member.state, 'stable', name)
    await h.member.close()
  }
})

test('FindCoordinator: COORDINATOR_NOT_AVAILABLE is waited out with growing backoff; GROUP_AUTHORIZATION_FAILED is a refusal', async () => {
  const h = harness()
  for (let i = 0; i < 5; i++) h.wire.find.push({ errorCode: E.COORDINATOR_NOT_AVAILABLE, errorMessage: null })
  h.member.start()
  await h.clock.advance(5000)
  assert.deepEqual(
    h.wire.sent.filter(s => s.kind === 'find').map(s => s.atMs),
    [0, 100, 300, 700, 1500, 2500]
  )
  assert.equal(h.member.state, 'stable')
  await h.member.close()

  const denied = harness()
  denied.wire.find.push({ errorCode: E.GROUP_AUTHORIZATION_FAILED, errorMessage: null })
  denied.member.start()
  await settle()
  assert.equal(denied.member.state, 'refused')
  assert.match(denied.member.refusal ?? '', /not authorised to use group A-mm2 on cluster B/)
  await denied.member.close()
})

test('a deal that throws is not sent: the leader joins again, which sends the others back to join', async () => {
  let calls = 0
  const h = harness({
    assign: () => {
      if (++calls === 1) throw new Error('bad metadata')
      return new Map([['me-1', Buffer.from('ok')]])
    }
  })
  h.member.start()
  await h.clock.advance(200)
  assert.deepEqual(h.wire.kinds().slice(0, 6), ['find', 'join', 'join', 'join', 'sync', 'heartbeat'])
  assert.equal(h.wire.of<JoinRequest>('join')[2]?.reason, 'the leader could not deal')
  assert.equal(h.assigned[0]?.assignment.toString(), 'ok')
  await h.member.close()
})
