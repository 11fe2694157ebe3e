/**
 * Group membership (issue 11, steps 1-2) against a real broker: two Membership instances in one
 * group on one KRaft broker, through the real wire (src/kafka/group-wire.ts).
 * - both join, the leader deals, each gets its own assignment bytes, DescribeGroups shows our
 *   protocol type and both members;
 * - one leaves with LeaveGroup: the other is in a new generation well before a session timeout;
 * - one loses its connection without leaving (socket closed, every later request fails): its
 *   lease ends BEFORE the survivor's next generation starts (the fencing argument, measured on
 *   one clock), and the survivor's next generation comes about one session timeout after the cut;
 * - a Kafka Connect worker (what Java MM2 runs) holds the group: our join is refused with a
 *   message naming Java MirrorMaker 2, the group and the worker; once it stops, we join;
 * - a Java consumer holds the group: the same with a message naming the consumer group.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, test, type TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { type Assignment, Membership } from '../../src/group/membership.ts'
import { KafkaError } from '../../src/errors.ts'
import {
  type Coordinator,
  GroupErrorCode,
  groupErrorName,
  type GroupWire,
  type HeartbeatRequest,
  type JoinRequest,
  KafkaGroupWire,
  type LeaveRequest,
  type SyncRequest
} from '../../src/kafka/group-wire.ts'
import { KafkaCluster } from '../harness/cluster.ts'
import { clientConfig, createTopic, uniqueName, waitFor } from '../harness/helpers.ts'
import { startJavaConnect } from '../harness/java-connect.ts'
import { runJavaProgram } from '../harness/java-tools.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
// The broker's smallest allowed session timeout (group.min.session.timeout.ms), so the test is short.
const S = 6000
const H = 500
const RT = 10_000
const MARGIN = 1000
/** How late a timer may fire on a loaded 2-core machine without the test calling it a defect. */
const TIMER_SLACK_MS = 250

let B: KafkaCluster
before(async () => {
  B = await KafkaCluster.start({ name: 'group-B' })
})
after(async () => {
  await B?.close()
})

const nowMs = (): number => Number(process.hrtime.bigint() / 1_000_000n)

/** The real wire, until cut: then the socket is closed (no LeaveGroup) and every request fails, as in a network cut. */
class CuttableWire implements GroupWire {
  readonly #inner: KafkaGroupWire
  #cut = false
  constructor(inner: KafkaGroupWire) {
    this.#inner = inner
  }
  async cut(): Promise<void> {
    this.#cut = true
    await this.#inner.close()
  }
  #check(): void {
    if (this.#cut) throw new KafkaError('network cut by the test', { retriable: true })
  }
  async findCoordinator(g: string): ReturnType<GroupWire['findCoordinator']> {
    this.#check()
    return await this.#inner.findCoordinator(g)
  }
  async join(c: Coordinator, r: JoinRequest): ReturnType<GroupWire['join']> {
    this.#check()
    return await this.#inner.join(c, r)
  }
  async sync(c: Coordinator, r: SyncRequest): ReturnType<GroupWire['sync']> {
    this.#check()
    return await this.#inner.sync(c, r)
  }
  async heartbeat(c: Coordinator, r: HeartbeatRequest): ReturnType<GroupWire['heartbeat']> {
    this.#check()
    return await this.#inner.heartbeat(c, r)
  }
  async leave(c: Coordinator, r: LeaveRequest): ReturnType<GroupWire['leave']> {
    this.#check()
    return await this.#inner.leave(c, r)
  }
  async describe(c: Coordinator, g: string): ReturnType<GroupWire['describe']> {
    this.#check()
    return await this.#inner.describe(c, g)
  }
  async close(): Promise<void> {
    if (!this.#cut) await this.#inner.close()
  }
}

interface Member {
  readonly name: string
  readonly membership: Membership
  readonly wire: CuttableWire
  readonly assigned: Array<Assignment & { atMs: number }>
  readonly fencedAt: number[]
  readonly lost: number[]
  readonly refused: string[]
}

/** A member whose metadata is its name and whose deal gives each member "<its metadata>@<generation>". */
function member(t: TestContext, group: string, name: string, opts: { refusedRetryMs?: number } = {}): Member {
  const wire = new CuttableWire(new KafkaGroupWire(clientConfig(B), `km-test-${name}`, { rebalanceTimeoutMs: RT }))
  const membership = new Membership({
    wire,
    groupId: group,
    cluster: B.name,
    sessionTimeoutMs: S,
    rebalanceTimeoutMs: RT,
    heartbeatIntervalMs: H,
    leaseMarginMs: MARGIN,
    refusedRetryMs: opts.refusedRetryMs,
    metadata: () => Buffer.from(name),
    assign: (members, generation) =>
      new Map([...members].map(([id, meta]) => [id, Buffer.from(`${meta.toString()}@${generation}`)]))
  })
  const m: Member = { name, membership, wire, assigned: [], fencedAt: [], lost: [], refused: [] }
  membership.on('assigned', a => {
    m.assigned.push({ ...a, atMs: nowMs() })
  })
  membership.on('fenced', () => {
    m.fencedAt.push(nowMs())
  })
  membership.on('lost', () => {
    m.lost.push(nowMs())
  })
  membership.on('refused', reason => {
    m.refused.push(reason)
  })
  t.after(async () => {
    await membership.close('test over')
  })
  membership.start()
  return m
}

async function describe(group: string): ReturnType<GroupWire['describe']> {
  const wire = new KafkaGroupWire(clientConfig(B), 'km-test-describe', { rebalanceTimeoutMs: RT })
  try {
    const found = await wire.findCoordinator(group)
    assert.ok(found.coordinator !== undefined, `coordinator of ${group}: error ${found.errorCode}`)
    return await wire.describe(found.coordinator, group)
  } finally {
    await wire.close()
  }
}

/** Both members in the same generation, each holding the assignment the leader dealt it. */
async function bothIn(a: Member, b: Member, afterGeneration = 0): Promise<number> {
  return await waitFor(
    () => {
      const ga = a.assigned.at(-1)?.generation ?? -1
      const gb = b.assigned.at(-1)?.generation ?? -1
      return ga === gb && ga > afterGeneration && a.membership.state === 'stable' && b.membership.state === 'stable'
        ? ga
        : undefined
    },
    { timeoutMs: 60_000, intervalMs: 50, what: `${a.name} and ${b.name} in one generation` }
  )
}

const notReady = (code: number): boolean =>
  code === GroupErrorCode.NOT_COORDINATOR ||
  code === GroupErrorCode.COORDINATOR_LOAD_IN_PROGRESS ||
  code === GroupErrorCode.COORDINATOR_NOT_AVAILABLE

test(
  'the wire: broker error codes come back as values (MEMBER_ID_REQUIRED, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID), never as exceptions',
  { timeout: 120_000 },
  async t => {
    const group = uniqueName('km-wire')
    const wire = new KafkaGroupWire(clientConfig(B), 'km-test-wire', { rebalanceTimeoutMs: RT })
    t.after(async () => {
      await wire.close()
    })
    const found = await waitFor(
      async () => {
        const f = await wire.findCoordinator(group)
        return f.errorCode === 0 ? f : undefined
      },
      { what: 'a coordinator' }
    )
    const coordinator = found.coordinator
    assert.ok(coordinator !== undefined)
    assert.equal(`${coordinator.host}:${coordinator.port}`, B.bootstrap())
    const request = {
      groupId: group,
      sessionTimeoutMs: S,
      rebalanceTimeoutMs: RT,
      protocolType: 'kafka-mirror',
      protocols: [{ name: 'kafka-mirror-v1', metadata: Buffer.from('m') }],
      reason: 'test'
    }
    // On a fresh broker the offsets topic partition may still be loading: NOT_COORDINATOR or
    // COORDINATOR_LOAD_IN_PROGRESS for a moment.
    const first = await waitFor(
      async () => {
        const answer = await wire.join(coordinator, { ...request, memberId: '' })
        return notReady(answer.errorCode) ? undefined : answer
      },
      { what: 'the coordinator to be ready' }
    )
    assert.equal(first.errorCode, GroupErrorCode.MEMBER_ID_REQUIRED)
    assert.match(first.memberId, /^km-test-wire-/, 'the id the coordinator generated')
    const joined = await wire.join(coordinator, { ...request, memberId: first.memberId })
    assert.equal(joined.errorCode, GroupErrorCode.NONE)
    assert.equal(joined.leader, first.memberId)
    assert.deepEqual(
      joined.members.map(m => [m.memberId, m.metadata.toString()]),
      [[first.memberId, 'm']]
    )
    const synced = await wire.sync(coordinator, {
      groupId: group,
      generationId: joined.generationId,
      memberId: first.memberId,
      protocolType: 'kafka-mirror',
      protocolName: 'kafka-mirror-v1',
      assignments: [{ memberId: first.memberId, assignment: Buffer.from('all of it') }]
    })
    assert.deepEqual([synced.errorCode, synced.assignment.toString()], [0, 'all of it'])
    const beat = { groupId: group, memberId: first.memberId }
    assert.equal(
      (await wire.heartbeat(coordinator, { ...beat, generationId: joined.generationId })).errorCode,
      GroupErrorCode.NONE
    )
    assert.equal(
      (await wire.heartbeat(coordinator, { ...beat, generationId: joined.generationId + 5 })).errorCode,
      GroupErrorCode.ILLEGAL_GENERATION
    )
    assert.equal(
      (await wire.leave(coordinator, { groupId: group, memberId: first.memberId, reason: 'test' })).errorCode,
      GroupErrorCode.NONE
    )
    assert.equal(
      (await wire.heartbeat(coordinator, { ...beat, generationId: joined.generationId })).errorCode,
      GroupErrorCode.UNKNOWN_MEMBER_ID
    )
    assert.equal(groupErrorName(GroupErrorCode.UNKNOWN_MEMBER_ID), 'UNKNOWN_MEMBER_ID')
    const described = await wire.describe(coordinator, group)
    assert.deepEqual([described.state, described.members.length], ['Empty', 0])
  }
)

test(
  'two members join, the leader deals, one leaves with LeaveGroup and the other is in a new generation quickly',
  { timeout: 180_000 },
  async t => {
    const group = uniqueName('km-group')
    const a = member(t, group, 'a')
    const b = member(t, group, 'b')
    const startedAt = nowMs()
    const generation = await bothIn(a, b)
    t.diagnostic(`start -> both members in generation ${generation}: ${nowMs() - startedAt} ms`)
    assert.equal([a, b].filter(m => m.membership.isLeader).length, 1, 'exactly one leader')
    assert.equal(a.assigned.at(-1)?.assignment.toString(), `a@${generation}`, 'a got what the leader dealt to a')
    assert.equal(b.assigned.at(-1)?.assignment.toString(), `b@${generation}`, 'b got what the leader dealt to b')
    assert.equal(a.membership.lease.valid(), true)

    const described = await describe(group)
    assert.equal(described.protocolType, 'kafka-mirror')
    assert.equal(described.protocolName, 'kafka-mirror-v1')
    assert.equal(described.state, 'Stable')
    assert.deepEqual(described.members.map(m => m.clientId).sort(), ['km-test-a', 'km-test-b'])
    assert.deepEqual(described.members.map(m => m.metadata.toString()).sort(), ['a', 'b'], 'member bytes kept raw')

    const leftAt = nowMs()
    await a.membership.close('test: a leaves')
    assert.equal(a.membership.lease.valid(), false, 'no write after leaving')
    const next = await waitFor(() => b.assigned.find(x => x.generation > generation), {
      timeoutMs: 30_000,
      intervalMs: 20,
      what: 'b in a new generation'
    })
    const took = next.atMs - leftAt
    t.diagnostic(`LeaveGroup -> survivor's next generation: ${took} ms (session timeout ${S} ms, heartbeat ${H} ms)`)
    assert.equal(next.assignment.toString(), `b@${next.generation}`)
    assert.ok(took < S / 2, `the survivor does not wait for a session timeout after a LeaveGroup (${took} ms)`)
    assert.deepEqual(
      (await describe(group)).members.map(m => m.clientId),
      ['km-test-b']
    )
  }
)

test(
  "a member cut off without leaving: its lease ends before the survivor's next generation starts, which comes about one session timeout later",
  { timeout: 180_000 },
  async t => {
    const group = uniqueName('km-group')
    const a = member(t, group, 'a')
    const b = member(t, group, 'b')
    const generation = await bothIn(a, b)
    // Let a few heartbeats go by, so the cut lands in the middle of steady state.
    await new Promise(resolve => setTimeout(resolve, 3 * H))
    const cutAt = nowMs()
    await a.wire.cut()
    const next = await waitFor(() => b.assigned.find(x => x.generation > generation), {
      timeoutMs: 60_000,
      intervalMs: 20,
      what: 'b in a new generation'
    })
    const fencedAt = await waitFor(() => a.fencedAt[0], { timeoutMs: 1000, what: "a's lease to end" })
    t.diagnostic(
      `cut -> a's lease ended: ${fencedAt - cutAt} ms; cut -> b's next generation: ${next.atMs - cutAt} ms; gap: ${next.atMs - fencedAt} ms (S ${S}, H ${H}, margin ${MARGIN})`
    )
    assert.ok(fencedAt < next.atMs, `a stopped writing (${fencedAt}) before b could be given its units (${next.atMs})`)
    assert.equal(a.membership.lease.valid(), false)
    // Writes stop at the deadline itself (every write asks lease.valid()); the 'fenced' event comes
    // from a timer, which a busy machine may run a little late (5002 ms against 5000 in one CI run).
    assert.ok(
      fencedAt - cutAt <= S - MARGIN + TIMER_SLACK_MS,
      `a's lease ended within S - m of the cut (${fencedAt - cutAt} ms)`
    )
    assert.ok(
      next.atMs - cutAt >= S - H - MARGIN,
      `b's next generation waited for a's session to expire (${next.atMs - cutAt} ms)`
    )
    assert.ok(next.atMs - cutAt <= S + 4 * H + 3000, `and not much longer (${next.atMs - cutAt} ms)`)
    assert.equal(next.assignment.toString(), `b@${next.generation}`)
    assert.equal(
      a.assigned.some(x => x.generation > generation),
      false,
      'a never joined the new generation'
    )
  }
)

test(
  'a Java consumer in the group: our join is refused with a message naming it; once it leaves we join',
  { timeout: 240_000 },
  async t => {
    const group = uniqueName('km-group')
    const topic = uniqueName('group-topic')
    await createTopic(B, topic)
    const stopFile = join(mkdtempSync(join(tmpdir(), 'km-member-')), 'stop')
    const java = runJavaProgram(
      join(root, 'test', 'java', 'GroupMember.java'),
      [B.bootstrap(), topic, group, stopFile, '200'],
      { timeoutMs: 230_000 }
    )
    let javaDone = false
    void java
      .finally(() => {
        javaDone = true
      })
      .catch(() => {})
    t.after(async () => {
      writeFileSync(stopFile, '')
      await java.catch(() => {})
    })
    await waitFor(
      async () => {
        if (javaDone)
          throw new Error(`the Java member exited early: ${JSON.stringify(await java.catch((e: Error) => e.message))}`)
        const d = await describe(group)
        return d.state === 'Stable' && d.protocolType === 'consumer' && d.members.length === 1
      },
      { timeoutMs: 120_000, intervalMs: 250, what: 'the Java consumer to hold the group' }
    )

    const ours = member(t, group, 'km', { refusedRetryMs: 1000 })
    const refusal = await waitFor(() => ours.refused[0], { timeoutMs: 30_000, what: 'the refusal' })
    t.diagnostic(refusal)
    assert.match(
      refusal,
      /a consumer group \(protocol type "consumer", 1 member: client ids [^;]+; hosts \/127\.0\.0\.1\)/
    )
    assert.match(refusal, new RegExp(`group ${group} on cluster ${B.name}`))
    assert.equal(ours.membership.state, 'refused')
    assert.equal(ours.assigned.length, 0)
    assert.equal(ours.membership.lease.valid(), false, 'no lease without a membership')

    const stoppedAt = nowMs()
    writeFileSync(stopFile, '')
    await java
    const joined = await waitFor(() => ours.assigned[0], {
      timeoutMs: 60_000,
      intervalMs: 50,
      what: 'our member to join once the Java consumer left'
    })
    t.diagnostic(
      `Java consumer told to stop -> our first generation: ${joined.atMs - stoppedAt} ms (retry every 1000 ms)`
    )
    assert.equal(ours.membership.refusal, undefined)
    assert.equal((await describe(group)).protocolType, 'kafka-mirror')
  }
)

test(
  "a Kafka Connect worker (Java MM2's runtime) in the group: our join is refused with a message naming Java MirrorMaker 2; once it stops we join",
  { timeout: 300_000 },
  async t => {
    const group = uniqueName('km-connect')
    const connect = await startJavaConnect(B.bootstrap(), {
      'group.id': group,
      'config.storage.topic': `${group}-configs`,
      'offset.storage.topic': `${group}-offsets`,
      'status.storage.topic': `${group}-status`,
      'client.id': 'A->B'
    })
    let stopped = false
    t.after(async () => {
      if (!stopped) await connect.stop()
    })
    await waitFor(
      async () => {
        const d = await describe(group)
        return d.protocolType === 'connect' && d.members.length === 1 && d.state === 'Stable'
      },
      { timeoutMs: 120_000, intervalMs: 250, what: 'the Connect worker to hold the group' }
    )

    const ours = member(t, group, 'km', { refusedRetryMs: 1000 })
    const refusal = await waitFor(() => ours.refused[0], { timeoutMs: 30_000, what: 'the refusal' })
    t.diagnostic(refusal)
    assert.match(
      refusal,
      /^Java MirrorMaker 2 \(Kafka Connect protocol "connect", 1 member: client ids A->B; hosts \/127\.0\.0\.1\)/
    )
    assert.match(
      refusal,
      new RegExp(`is running in group ${group} on cluster ${B.name}; stop it before starting kafka-mirror`)
    )
    assert.equal(ours.membership.state, 'refused')
    assert.equal(ours.assigned.length, 0)
    assert.equal(ours.membership.lease.valid(), false, 'no lease without a membership')

    const stoppedAt = nowMs()
    await connect.stop()
    stopped = true
    const joined = await waitFor(() => ours.assigned[0], {
      timeoutMs: 60_000,
      intervalMs: 50,
      what: 'our member to join once the Connect worker stopped'
    })
    t.diagnostic(`Connect worker stopped -> our first generation: ${joined.atMs - stoppedAt} ms (retry every 1000 ms)`)
    assert.equal((await describe(group)).protocolType, 'kafka-mirror')
  }
)

/** The broker JVM of B (found by its own properties file, so no other process can match). */
function brokerPid(): number {
  const pid = Number(
    execFileSync('pgrep', ['-f', `${B.dir}/server.properties`])
      .toString()
      .trim()
      .split('\n')[0]
  )
  assert.ok(Number.isInteger(pid) && pid > 0, 'the broker pid')
  return pid
}

test(
  'the wire: a coordinator that stops answering costs requestTimeoutMs, not the rebalance timeout; the next request reconnects',
  { timeout: 120_000 },
  async t => {
    const group = uniqueName('km-silent')
    const wire = new KafkaGroupWire(clientConfig(B), 'km-test-silent', {
      rebalanceTimeoutMs: RT,
      requestTimeoutMs: 1000
    })
    t.after(async () => {
      await wire.close()
    })
    const found = await waitFor(
      async () => {
        const f = await wire.findCoordinator(group)
        return f.coordinator
      },
      { what: 'a coordinator' }
    )
    await waitFor(async () => (await wire.describe(found, group)).errorCode === 0, {
      what: 'the coordinator to be ready'
    })
    const pid = brokerPid()
    process.kill(pid, 'SIGSTOP')
    let startedAt = 0
    try {
      startedAt = nowMs()
      await assert.rejects(
        wire.describe(found, group),
        (err: unknown) =>
          err instanceof KafkaError && err.retriable && /no answer within 1000 ms; connection dropped/.test(err.message)
      )
    } finally {
      process.kill(pid, 'SIGCONT')
    }
    const took = nowMs() - startedAt
    t.diagnostic(
      `request to a silent coordinator failed after ${took} ms (requestTimeoutMs 1000, rebalance timeout ${RT})`
    )
    assert.ok(took < 5000, `gave up after about requestTimeoutMs (${took} ms)`)
    assert.equal((await wire.describe(found, group)).errorCode, 0, 'a new connection once the broker answers again')
  }
)
