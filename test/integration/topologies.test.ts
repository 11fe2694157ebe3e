/**
 * Replication topologies on real brokers, each run by ONE mirror process from ONE mm2.properties:
 * active/active, a chain, fan-in and an identity-policy migration, with the heartbeats that make
 * the graph visible (`topology`) and the replication latency they show. Three clusters serve the
 * whole file; every test uses its own topic names (a unique run id in a `topics` filter), so the
 * record counts checked on every cluster are exact. Heartbeats topics are shared by design.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { decodeHeartbeat } from '../../src/formats/heartbeat.ts'
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import type { Mirror } from '../../src/mirror.ts'
import { runBinary } from '../harness/binary.ts'
import type { KafkaCluster } from '../harness/cluster.ts'
import {
  assertNamesCluster,
  clientConfig,
  clustersForFile,
  comparable,
  createTopic,
  produce,
  readAll,
  uniqueName,
  waitFor
} from '../harness/helpers.ts'
import { runJavaProgram } from '../harness/java-tools.ts'
import { writeMm2Properties } from '../harness/mirror-config.ts'
import { startMirror, testLogger } from '../harness/mirror-runner.ts'
import { waitForStoredPositions } from '../harness/positions.ts'

const IDENTITY = 'org.apache.kafka.connect.mirror.IdentityReplicationPolicy'
const WAIT = { timeoutMs: 90_000, intervalMs: 500 }

let A: KafkaCluster
let B: KafkaCluster
let C: KafkaCluster
clustersForFile([{ name: 'A' }, { name: 'B' }, { name: 'C' }], ([a, b, c]) => {
  A = a
  B = b
  C = c
})
/** Debug level: the flows log each topic discovery pass, which the active/active test counts. */
const logLines: string[] = []
const log = testLogger({ lines: logLines, level: 'debug' })

/** One mirror for the whole config; quick topic discovery so the tests do not wait 5 s per hop. */
async function mirrorFor(
  t: TestContext,
  clusters: Record<string, KafkaCluster>,
  extra: Record<string, string>
): Promise<{ mirror: Mirror; file: string }> {
  const flush = Object.fromEntries(Object.keys(clusters).map(alias => [`${alias}.offset.flush.interval.ms`, '500']))
  const file = writeMm2Properties(clusters, { 'refresh.topics.interval.seconds': '1', ...flush, ...extra })
  return { mirror: await startMirror(t, file, log), file }
}

async function topicsOf(cluster: KafkaCluster): Promise<string[]> {
  const admin = new KafkaAdmin(clientConfig(cluster), 'test-admin')
  try {
    return (await admin.listTopics()).sort()
  } finally {
    await admin.close()
  }
}

async function count(cluster: KafkaCluster, topic: string): Promise<number> {
  return (await readAll(cluster, topic).catch(() => [])).length
}

/** Waits until `topic` on `cluster` holds exactly `n` records. */
async function waitForCount(cluster: KafkaCluster, topic: string, n: number): Promise<void> {
  await waitFor(async () => (await count(cluster, topic)) === n, {
    ...WAIT,
    what: `${n} records in ${topic} on ${cluster.name}`
  })
}

/** Waits until `topic` on `cluster` holds a heartbeat from `emitter` (`S->T`). */
async function waitForHeartbeat(cluster: KafkaCluster, topic: string, emitter: string): Promise<void> {
  await waitFor(
    async () =>
      (await readAll(cluster, topic).catch(() => [])).some(r => {
        const hb = decodeHeartbeat(r.key, r.value)
        return `${hb.sourceClusterAlias}->${hb.targetClusterAlias}` === emitter
      }),
    { ...WAIT, what: `a heartbeat ${emitter} in ${topic} on ${cluster.name}` }
  )
}

function records(
  n: number,
  label: string,
  partitions: number
): Array<{ partition: number; key: string; value: string }> {
  return Array.from({ length: n }, (_, i) => ({ partition: i % partitions, key: `k${i}`, value: `${label}-${i}` }))
}

/** A remote topic name with two cluster prefixes among `aliases` (`A.B.x`): a record that went round a loop. */
function looped(topics: readonly string[], aliases: readonly string[]): string[] {
  return topics.filter(t => {
    const [p, q] = t.split('.')
    return aliases.includes(p ?? '') && aliases.includes(q ?? '') && t.split('.').length > 2
  })
}

test("active/active in one process: each side's records arrive once on the other and never come back", async t => {
  const run = uniqueName('aa')
  const onA = `${run}-a`
  const onB = `${run}-b`
  await Promise.all([createTopic(A, onA, { partitions: 2 }), createTopic(B, onB, { partitions: 2 })])
  await produce(A, onA, records(50, 'from-A', 2))
  await produce(B, onB, records(40, 'from-B', 2))
  // The filter matches the remote names too (A.<run>-a): only cycle detection keeps them home.
  const { mirror } = await mirrorFor(
    t,
    { A, B },
    { 'A->B.enabled': 'true', 'B->A.enabled': 'true', topics: `.*${run}.*` }
  )

  await waitForCount(B, `A.${onA}`, 50)
  await waitForCount(A, `B.${onB}`, 40)
  await produce(A, onA, records(10, 'from-A-later', 2))
  await produce(B, onB, records(5, 'from-B-later', 2))
  await waitForCount(B, `A.${onA}`, 60)
  await waitForCount(A, `B.${onB}`, 45)

  // Heartbeats: each emitter writes into its target's `heartbeats`; each flow replicates the
  // other side's `heartbeats` (the reverse emitter's records) as `<source>.heartbeats`.
  await waitForHeartbeat(B, 'heartbeats', 'A->B')
  await waitForHeartbeat(A, 'heartbeats', 'B->A')
  await waitForHeartbeat(B, 'A.heartbeats', 'B->A')
  await waitForHeartbeat(A, 'B.heartbeats', 'A->B')

  // Three more discovery passes of each flow: nothing may come back or go round. And every record
  // stored as copied (positions are stored after the target acknowledged): a duplicate is there by now.
  const passes = (flow: string): number => logLines.filter(l => l.includes(`[${flow}] topic discovery pass`)).length
  const passesBefore = { ab: passes('A->B'), ba: passes('B->A') }
  await waitFor(() => passes('A->B') >= passesBefore.ab + 3 && passes('B->A') >= passesBefore.ba + 3, {
    ...WAIT,
    what: 'three more topic discovery passes of A->B and B->A'
  })
  await waitForStoredPositions(A, [onA], B, { source: 'A' })
  await waitForStoredPositions(B, [onB], A, { source: 'B' })
  const [topicsA, topicsB] = await Promise.all([topicsOf(A), topicsOf(B)])
  assert.deepEqual(looped([...topicsA, ...topicsB], ['A', 'B']), [], 'no A.B.x / B.A.x topics anywhere')
  assert.deepEqual(
    topicsA.filter(x => x.startsWith('A.')),
    [],
    'nothing of A came back to A'
  )
  assert.deepEqual(
    topicsB.filter(x => x.startsWith('B.')),
    [],
    'nothing of B came back to B'
  )
  assert.deepEqual(
    topicsA.filter(x => x.includes(run)),
    [onA, `B.${onB}`].sort()
  )
  assert.deepEqual(
    topicsB.filter(x => x.includes(run)),
    [`A.${onA}`, onB].sort()
  )
  // Exact contents and counts on both clusters: once each, nothing appended to the originals.
  assert.deepEqual((await readAll(B, `A.${onA}`)).map(comparable), (await readAll(A, onA)).map(comparable))
  assert.deepEqual((await readAll(A, `B.${onB}`)).map(comparable), (await readAll(B, onB)).map(comparable))
  assert.equal(await count(A, onA), 60)
  assert.equal(await count(B, onB), 45)

  // Every emitter runs; each flow measured the latency of the heartbeats it copied.
  assert.deepEqual(
    mirror.heartbeatStatus().map(h => [h.flow, h.state]),
    [
      ['A->B', 'running'],
      ['B->A', 'running']
    ]
  )
  for (const s of mirror.status()) {
    const other = s.flow === 'A->B' ? 'A' : 'B'
    const sample = s.heartbeats.find(h => h.topic === `${other}.heartbeats`)
    assert.ok(sample !== undefined, `${s.flow} saw heartbeats from ${other}`)
    assert.equal(sample.hops, 1)
    assert.equal(sample.origin, other)
    assert.ok(sample.latencyMs >= 0 && sample.latencyMs < 60_000, `plausible latency ${sample.latencyMs} ms`)
    t.diagnostic(`${s.flow}: heartbeat replication latency ${sample.latencyMs} ms (${sample.topic}, ${sample.emitter})`)
  }
})

test('chain A->B->C in one process: B.A.<topic> and B.A.heartbeats on C; topology shows A 2 hops and B 1 hop from C', async t => {
  const run = uniqueName('ch')
  await createTopic(A, run, { partitions: 3 })
  await produce(A, run, records(90, 'chain', 3))
  const { mirror, file } = await mirrorFor(
    t,
    { A, B, C },
    { 'A->B.enabled': 'true', 'B->C.enabled': 'true', topics: `.*${run}.*` }
  )

  await waitForCount(B, `A.${run}`, 90)
  await waitForCount(C, `B.A.${run}`, 90)
  await waitForHeartbeat(C, 'B.A.heartbeats', 'B->A')
  await waitForHeartbeat(C, 'B.heartbeats', 'C->B')
  assert.deepEqual((await readAll(C, `B.A.${run}`)).map(comparable), (await readAll(A, run)).map(comparable))
  assert.equal(await count(A, run), 90)
  const [topicsA, topicsB, topicsC] = await Promise.all([topicsOf(A), topicsOf(B), topicsOf(C)])
  assert.deepEqual(
    topicsA.filter(x => x.includes(run)),
    [run]
  )
  assert.deepEqual(
    topicsB.filter(x => x.includes(run)),
    [`A.${run}`]
  )
  assert.deepEqual(
    topicsC.filter(x => x.includes(run)),
    [`B.A.${run}`]
  )

  const json = await runBinary(['topology', '--config', file, '--json'])
  assert.equal(json.status, 0, json.stderr)
  const report = JSON.parse(json.stdout) as {
    edges: Array<{ from: string; to: string }>
    clusters: Array<{
      alias: string
      heartbeatTopics: string[]
      upstreams: Array<{ alias: string; hops: number }>
      heartbeats: Array<{ topic: string; emitter: string; ageMs: number; hops: number }>
    }>
  }
  const viewC = report.clusters.find(c => c.alias === 'C')
  assert.ok(viewC !== undefined)
  assert.deepEqual(viewC.upstreams, [
    { alias: 'A', hops: 2 },
    { alias: 'B', hops: 1 }
  ])
  assert.deepEqual(viewC.heartbeatTopics, ['B.A.heartbeats', 'B.heartbeats', 'heartbeats'])
  assert.ok(report.edges.some(e => e.from === 'A' && e.to === 'B'))
  assert.ok(report.edges.some(e => e.from === 'B' && e.to === 'C'))
  assert.ok(!report.edges.some(e => e.to === 'C' && e.from === 'A'), 'A reaches C only through B')
  const twoHops = viewC.heartbeats.find(h => h.topic === 'B.A.heartbeats')
  assert.ok(twoHops !== undefined && twoHops.hops === 2 && twoHops.ageMs < 60_000, JSON.stringify(twoHops))
  t.diagnostic(`topology: newest B.A.heartbeats on C is ${twoHops.ageMs} ms old`)

  const text = await runBinary(['topology', '--config', file])
  assert.equal(text.status, 0, text.stderr)
  assert.match(text.stdout, /^ {2}A -> B$/m)
  assert.match(text.stdout, /^ {2}B -> C$/m)
  assert.match(
    text.stdout,
    /^C \(.*\)\n {2}heartbeats topics: B\.A\.heartbeats, B\.heartbeats, heartbeats\n {2}upstream clusters: A \(2 hops\), B \(1 hop\)$/m
  )
  assert.match(text.stdout, /B\.A\.heartbeats: heartbeat B->A, from A -> B -> C, newest \d+\.\d s old/)

  // Java's MirrorClient (RemoteClusterUtils) sees the same graph on C and decodes every heartbeat we wrote or copied.
  const java = (
    await runJavaProgram(new URL('../java/MirrorClientView.java', import.meta.url).pathname, [C.bootstrap()])
  ).stdout
    .trim()
    .split('\n')
  assert.equal(java[0], `topics ${viewC.heartbeatTopics.join(',')}`)
  assert.deepEqual(
    java.filter(l => l.startsWith('upstream ')),
    viewC.upstreams.map(u => `upstream ${u.alias} ${u.hops}`)
  )
  const decoded = java.find(l => l.startsWith('decoded B.A.heartbeats '))
  assert.match(
    decoded ?? '',
    /^decoded B\.A\.heartbeats [1-9]\d* .*Heartbeat\{sourceClusterAlias=B, targetClusterAlias=A, timestamp=\d+\}/
  )

  const bc = mirror
    .status()
    .find(s => s.flow === 'B->C')
    ?.heartbeats.find(h => h.topic === 'B.A.heartbeats')
  assert.ok(bc !== undefined && bc.hops === 2 && bc.origin === 'A')
  t.diagnostic(`B->C: two-hop heartbeat latency A->B->C ${bc.latencyMs} ms`)
})

test('fan-in A->C and B->C: the same topic name from two sources stays apart with exact counts', async t => {
  const run = uniqueName('fi')
  await Promise.all([createTopic(A, run, { partitions: 2 }), createTopic(B, run, { partitions: 3 })])
  await produce(A, run, records(30, 'fan-A', 2))
  await produce(B, run, records(45, 'fan-B', 3))
  await mirrorFor(t, { A, B, C }, { 'A->C.enabled': 'true', 'B->C.enabled': 'true', topics: run })

  await waitForCount(C, `A.${run}`, 30)
  await waitForCount(C, `B.${run}`, 45)
  await waitForHeartbeat(C, 'A.heartbeats', 'C->A')
  await waitForHeartbeat(C, 'B.heartbeats', 'C->B')
  assert.deepEqual((await readAll(C, `A.${run}`)).map(comparable), (await readAll(A, run)).map(comparable))
  assert.deepEqual((await readAll(C, `B.${run}`)).map(comparable), (await readAll(B, run)).map(comparable))
  assert.ok((await readAll(C, `A.${run}`)).every(r => r.value?.toString().startsWith('fan-A-')))
  assert.equal(await count(A, run), 30)
  assert.equal(await count(B, run), 45)
  const topicsC = await topicsOf(C)
  assert.deepEqual(
    topicsC.filter(x => x.includes(run)),
    [`A.${run}`, `B.${run}`]
  )
  assert.deepEqual(
    (await topicsOf(A)).filter(x => x.includes(run)),
    [run]
  )
  assert.deepEqual(
    (await topicsOf(B)).filter(x => x.includes(run)),
    [run]
  )
})

test('IdentityReplicationPolicy migration A->B keeps topic names; validate warns about identity both ways', async t => {
  const run = uniqueName('mig')
  await createTopic(A, run, { partitions: 3 })
  await produce(A, run, records(120, 'mig', 3))
  await mirrorFor(t, { A, B }, { 'A->B.enabled': 'true', 'A->B.topics': run, 'replication.policy.class': IDENTITY })

  await waitForCount(B, run, 120)
  // Heartbeats keep their prefix under identity (cycle-safe).
  await waitForHeartbeat(B, 'A.heartbeats', 'B->A')
  assert.deepEqual((await readAll(B, run)).map(comparable), (await readAll(A, run)).map(comparable))
  assert.equal(await count(A, run), 120)
  assert.deepEqual(
    (await topicsOf(B)).filter(x => x.includes(run)),
    [run]
  )
  assert.deepEqual(
    (await topicsOf(A)).filter(x => x.includes(run)),
    [run]
  )

  const dir = mkdtempSync(join(tmpdir(), 'km-identity-'))
  const both = join(dir, 'mm2.properties')
  writeFileSync(
    both,
    [
      'clusters = A, B',
      `A.bootstrap.servers = ${A.bootstrap()}`,
      `B.bootstrap.servers = ${B.bootstrap()}`,
      'A->B.enabled = true',
      'B->A.enabled = true',
      `replication.policy.class = ${IDENTITY}`
    ].join('\n') + '\n'
  )
  const warned = await runBinary(['validate', '--offline', '--config', both])
  assert.equal(warned.status, 0, warned.stderr)
  assert.match(
    warned.stderr,
    /WARN .*flows A->B, B->A form a loop .*IdentityReplicationPolicy, which cannot detect cycles/
  )
  // The one-way config of this test gets no such warning.
  const oneWay = join(dir, 'one-way.properties')
  writeFileSync(
    oneWay,
    [
      'clusters = A, B',
      `A.bootstrap.servers = ${A.bootstrap()}`,
      `B.bootstrap.servers = ${B.bootstrap()}`,
      'A->B.enabled = true',
      `replication.policy.class = ${IDENTITY}`
    ].join('\n') + '\n'
  )
  const quiet = await runBinary(['validate', '--offline', '--config', oneWay])
  assert.equal(quiet.status, 0, quiet.stderr)
  assert.doesNotMatch(quiet.stderr, /cannot detect cycles/)
})

test('heartbeats into a target that is down: not ready with the reason, then emitted again once it is back', async t => {
  await C.stop()
  let restarted = false
  t.after(async () => {
    if (!restarted) await C.restart()
  })
  const { mirror } = await mirrorFor(t, { A, C }, { 'A->C.enabled': 'true', topics: uniqueName('none') })
  const emitter = (flow: string): ReturnType<Mirror['heartbeatStatus']>[number] | undefined =>
    mirror.heartbeatStatus().find(h => h.flow === flow)
  await waitFor(() => emitter('A->C')?.state === 'not-ready', { ...WAIT, what: 'A->C heartbeats not ready' })
  assertNamesCluster(emitter('A->C')?.reason ?? '', 'C', C)
  // The other direction's target is up: its heartbeats do not wait for C.
  await waitFor(() => emitter('C->A')?.state === 'running', { ...WAIT, what: 'C->A heartbeats running' })
  const backAt = Date.now()
  await C.restart()
  restarted = true
  await waitFor(() => emitter('A->C')?.state === 'running', { ...WAIT, what: 'A->C heartbeats running again' })
  await waitFor(
    async () =>
      (await readAll(C, 'heartbeats')).some(r => {
        const hb = decodeHeartbeat(r.key, r.value)
        return hb.sourceClusterAlias === 'A' && hb.targetClusterAlias === 'C' && hb.timestamp >= BigInt(backAt)
      }),
    { ...WAIT, what: 'a fresh A->C heartbeat on C' }
  )
  t.diagnostic(
    `A->C heartbeats resumed ${Date.now() - backAt} ms after the restart began (emitted ${emitter('A->C')?.emitted ?? 0})`
  )
})
