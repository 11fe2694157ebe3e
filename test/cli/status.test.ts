/**
 * `kafka-mirror status` on a real broker, through the binary. Two Membership instances of this
 * test process join the config's group (A-mm2 on B) with kafka-mirror's metadata and the
 * leader's real deal (group-codec, assignor), releasing what they are told to as GroupWork will;
 * once both are stable, status (text and --json) shows both instances, the generation and the
 * units each runs, exactly as each member received them. Without members it says that no
 * instance runs the group; with the target down it exits 1 naming the cluster and its address.
 */
import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import {
  decodeAssignment,
  encodeMemberMetadata,
  type FlowCapability,
  type MemberAssignment
} from '../../src/group/group-codec.ts'
import { createLeaderAssignor } from '../../src/group/assignor.ts'
import { Membership } from '../../src/group/membership.ts'
import { compactUnitIds, expandUnitIds } from '../../src/group/units.ts'
import { KafkaGroupWire } from '../../src/kafka/group-wire.ts'
import { runBinary } from '../harness/binary.ts'
import type { KafkaCluster } from '../harness/cluster.ts'
import { clientConfig, clustersForFile, waitFor } from '../harness/helpers.ts'
import { writeMm2Properties } from '../harness/mirror-config.ts'

// The broker's smallest allowed session timeout (group.min.session.timeout.ms), so leaving is quick.
const S = 6000
const H = 500
const RT = 10_000
const GROUP = 'A-mm2'
const PARTITIONS = 6

const copyOnly = {
  'A->B.enabled': 'true',
  'A->B.topics': 'orders',
  'B->A.enabled': 'false',
  'emit.heartbeats.enabled': 'false',
  'emit.checkpoints.enabled': 'false'
}

let B: KafkaCluster
let file: string
// One broker serves as both aliases: status talks only to the target, where the group lives.
clustersForFile([{ name: 'B' }], ([b]) => {
  B = b
  file = writeMm2Properties({ A: B, B }, copyOnly)
})

interface Instance {
  readonly label: string
  readonly membership: Membership
  /** The newest assignment it received, decoded. */
  last: MemberAssignment | undefined
}

const flows = new Map<string, FlowCapability>([['A->B', { digest: 'd1', tasksMax: 3, jobs: ['topics'] }]])

/**
 * An instance as GroupWork will run one: its metadata lists what it owns, and a revocation is
 * released at once (no position) followed by a rejoin without it.
 */
function instance(t: TestContext, label: string): Instance {
  let owned = new Set<string>()
  let released = new Map<string, bigint | null>()
  const wire = new KafkaGroupWire(clientConfig(B), `km-status-test-${label}`, { rebalanceTimeoutMs: RT })
  const membership = new Membership({
    wire,
    groupId: GROUP,
    cluster: 'B',
    sessionTimeoutMs: S,
    rebalanceTimeoutMs: RT,
    heartbeatIntervalMs: H,
    metadata: () =>
      encodeMemberMetadata({
        instance: label,
        flows,
        owned,
        released,
        topics: new Map([['A->B', new Map([['orders', PARTITIONS]])]])
      }),
    assign: createLeaderAssignor({ flows: () => flows })
  })
  const i: Instance = { label, membership, last: undefined }
  membership.on('assigned', a => {
    const decoded = decodeAssignment(a.assignment)
    i.last = decoded
    owned = new Set(decoded.units)
    released = new Map([...decoded.revoked].map(id => [id, null]))
    if (decoded.revoked.size > 0) membership.requestRejoin('released revoked units')
  })
  t.after(async () => {
    await membership.close('test over')
  })
  membership.start()
  return i
}

interface StatusJson {
  groups: Array<{
    groupId: string
    cluster: string
    bootstrap: string
    condition: string
    state: string | null
    protocolType: string | null
    generation: number | null
    leader: string | null
    members: Array<{
      memberId: string
      instance: string | null
      generation: number | null
      units: string[]
      quiet: string[]
      revoked: string[]
      tasks: Record<string, number>
      error: string | null
    }>
    unowned: string[]
    note: string | null
  }>
}

async function status(args: string[] = []): ReturnType<typeof runBinary> {
  return await runBinary(['status', '--config', file, ...args])
}

test('status: no instance yet, then two instances with their generation and units by owner, then none again', async t => {
  const before = await status()
  assert.equal(before.status, 0, before.stderr)
  assert.match(
    before.stdout,
    /^group A-mm2 on cluster B \(127\.0\.0\.1:\d+\): \w+, /m,
    'the group is named with its cluster and bootstrap'
  )
  assert.match(before.stdout, /no instance is running this config's group A-mm2 on cluster B/)

  const a = instance(t, 'host-a/1')
  const b = instance(t, 'host-b/2')
  const everyUnit = ['topics:A->B', ...Array.from({ length: PARTITIONS }, (_, p) => `copy:A->B:orders:${p}`)]
  // Settled: both stable in one generation, nothing left to revoke, every unit dealt.
  const generation = await waitFor(
    () => {
      const [la, lb] = [a.last, b.last]
      if (la === undefined || lb === undefined) return undefined
      if (a.membership.state !== 'stable' || b.membership.state !== 'stable') return undefined
      if (la.generation !== lb.generation || la.revoked.size + lb.revoked.size > 0) return undefined
      const dealt = new Set([...la.units, ...lb.units])
      return everyUnit.every(u => dealt.has(u)) ? la.generation : undefined
    },
    { timeoutMs: 90_000, intervalMs: 100, what: 'both instances stable with every unit dealt' }
  )
  assert.ok(a.membership.generation === generation && b.membership.generation === generation)

  const json = await status(['--json'])
  assert.equal(json.status, 0, json.stderr)
  const report = JSON.parse(json.stdout) as StatusJson
  assert.equal(report.groups.length, 1)
  const g = report.groups[0]
  assert.ok(g !== undefined)
  assert.deepEqual(
    [g.groupId, g.cluster, g.bootstrap, g.condition, g.state, g.protocolType, g.generation, g.leader, g.note],
    [GROUP, 'B', B.bootstrap(), 'running', 'Stable', 'kafka-mirror', generation, null, null]
  )
  assert.deepEqual(g.unowned, [])
  assert.deepEqual(
    g.members.map(m => m.instance),
    ['host-a/1', 'host-b/2']
  )
  for (const [m, i] of [
    [g.members[0], a],
    [g.members[1], b]
  ] as const) {
    assert.ok(m !== undefined && i.last !== undefined)
    assert.equal(m.memberId, i.membership.memberId)
    assert.equal(m.generation, generation)
    assert.deepEqual(m.units, compactUnitIds(i.last.units), `${i.label}'s units as it received them`)
    assert.deepEqual([m.quiet, m.revoked, m.error], [compactUnitIds(i.last.quiet), [], null])
    assert.deepEqual(m.tasks, Object.fromEntries(i.last.tasks))
  }
  // The deal is even: 3 partitions each, the topics job to one of them.
  assert.deepEqual(
    g.members.map(m => expandUnitIds(m.units).filter(u => u.startsWith('copy:')).length),
    [3, 3],
    JSON.stringify(g.members.map(m => m.units))
  )

  const text = await status()
  assert.equal(text.status, 0, text.stderr)
  assert.match(
    text.stdout,
    /^group A-mm2 on cluster B \(127\.0\.0\.1:\d+\): Stable, protocol kafka-mirror\/kafka-mirror-v1, 2 members$/m
  )
  assert.match(text.stdout, new RegExp(`^  generation ${generation}; leader not reported by the coordinator$`, 'm'))
  for (const i of [a, b]) {
    const last = i.last
    assert.ok(last !== undefined)
    const line = `  ${i.label}  member ${i.membership.memberId}  client km-status-test-${i.label}  host `
    assert.ok(text.stdout.includes(line), `${line} in\n${text.stdout}`)
    const block = text.stdout.slice(text.stdout.indexOf(line))
    const units = /^ {4}units {2}(.*)$/m.exec(block)?.[1] ?? ''
    // Each compact entry the instance received appears (quiet ones marked).
    const quiet = new Set(compactUnitIds(last.quiet))
    for (const u of compactUnitIds([...last.units].filter(id => !last.quiet.has(id))))
      assert.ok(units.split(', ').includes(u), `${u} in ${units}`)
    for (const u of quiet) assert.ok(units.split(', ').includes(`${u} (quiet)`), `${u} (quiet) in ${units}`)
    const tasks = [...last.tasks].map(([f, n]) => `${f} ${n}`).join(', ')
    assert.match(block, new RegExp(`^ {4}tasks {2}${tasks.replace(/[-/\\^$*+?.()|[\]{}>]/g, '\\$&')}$`, 'm'))
  }

  await a.membership.close('test over')
  await b.membership.close('test over')
  const after = await status()
  assert.equal(after.status, 0, after.stderr)
  assert.match(after.stdout, /^group A-mm2 on cluster B \(127\.0\.0\.1:\d+\): Empty, /m)
  assert.match(after.stdout, /no instance is running this config's group A-mm2 on cluster B \(state Empty\)/)
})

test('status: a target that cannot be reached exits 1 naming the cluster and its bootstrap address', async () => {
  const down = writeMm2Properties({ A: B, B: { bootstrap: () => '127.0.0.1:1' } as KafkaCluster }, copyOnly)
  const r = await runBinary(['status', '--config', down])
  assert.equal(r.status, 1, `${r.stdout}\n${r.stderr}`)
  assert.match(r.stdout, /cannot describe group A-mm2 on cluster B \(bootstrap 127\.0\.0\.1:1\): .*ECONNREFUSED/)
  const json = await runBinary(['status', '--config', down, '--json'])
  assert.equal(json.status, 1)
  const g = (JSON.parse(json.stdout) as StatusJson).groups[0]
  assert.deepEqual([g?.condition, g?.cluster, g?.bootstrap], ['error', 'B', '127.0.0.1:1'])
})
