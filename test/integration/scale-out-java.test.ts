/**
 * Java MirrorMaker 2 and kafka-mirror on one mm2.properties, through the real `kafka-mirror run`
 * binary and real Java MM2 (dedicated mode), issue 11: the two must never be members of the same
 * group at once. Java's Connect workers join `<source>-mm2` on the target with protocol type
 * `connect`; kafka-mirror joins the same group id with protocol type `kafka-mirror`; a non-empty
 * classic group refuses a joiner of another protocol type with INCONSISTENT_GROUP_PROTOCOL
 * (Apache Kafka's ClassicGroup.supportsProtocols), whichever came first.
 * 1. Java first: kafka-mirror copies nothing and stores nothing, stays up, says why on /readyz,
 *    /status and in its log (Java MirrorMaker 2, the group, the cluster), and keeps trying; once
 *    Java is stopped it joins and resumes from the positions Java stored: the remote topic is
 *    then an exact copy of the source (Java stopped cleanly, so not one duplicate).
 * 2. kafka-mirror first: Java's worker is refused (its log shows the fatal JoinGroup error),
 *    kafka-mirror's generation does not even change, every record produced meanwhile is on the
 *    target exactly once, and every stored position was written by kafka-mirror.
 * Each test uses its own cluster aliases (so its own group, offsets topic and remote topic) on the
 * file's two brokers.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { KafkaCluster } from '../harness/cluster.ts'
import {
  clustersForFile,
  comparable,
  createTopic,
  describeGroup,
  explained,
  logTail,
  produce,
  readAll,
  uniqueName,
  waitFor
} from '../harness/helpers.ts'
import { type Instance, startInstance } from '../harness/instances.ts'
import { startLoggedJavaMirrorMaker } from '../harness/java-tools.ts'
import { writeOneFlowProperties } from '../harness/mirror-config.ts'
import { positionRecords, waitForStoredPositions } from '../harness/positions.ts'

let SOURCE: KafkaCluster
let TARGET: KafkaCluster
clustersForFile([{ name: 'java-src' }, { name: 'java-tgt' }], ([s, t]) => {
  SOURCE = s
  TARGET = t
})

const PARTITIONS = 3
const BATCH = 300
/** Java MM2 starts slowly on a loaded 2-core machine (JVM, herder, connectors, tasks). */
const JAVA_COPY_WAIT_MS = 150_000
/** kafka-mirror asks a refusing group again every 5 s (Membership's refusedRetryMs default). */
const REFUSED_RETRY_MS = 5_000

/** A flow `source->target` copying `topic` only: no reverse flow, heartbeats, checkpoints or ACL sync. */
function properties(source: string, target: string, topic: string): string {
  return writeOneFlowProperties({ alias: source, cluster: SOURCE }, { alias: target, cluster: TARGET }, topic)
}

/** Records produced per topic so far. */
const produced = new Map<string, number>()
const producedTo = (topic: string): number => produced.get(topic) ?? 0

/** `BATCH` more records spread over the partitions, values numbered per topic. */
async function produceBatch(topic: string): Promise<void> {
  const from = producedTo(topic)
  produced.set(topic, from + BATCH)
  await produce(
    SOURCE,
    topic,
    Array.from({ length: BATCH }, (_, j) => ({
      partition: (from + j) % PARTITIONS,
      key: `k${from + j}`,
      value: `v${from + j}`
    }))
  )
}

interface Readyz {
  readonly status: number
  readonly body: {
    readonly ready: boolean
    readonly notReady: ReadonlyArray<{ component: string; cluster: string | null; reason: string }>
  }
}

async function readyz(i: Instance): Promise<Readyz | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${i.port}/readyz`, { signal: AbortSignal.timeout(2000) })
    return { status: res.status, body: (await res.json()) as Readyz['body'] }
  } catch {
    return undefined
  }
}

/** This instance's view of the group, from /status. */
async function groupOf(
  i: Instance,
  groupId: string
): Promise<{ state: string; generation: number; refusal?: string | null } | undefined> {
  const st = await i.status()
  return st?.groups.find(g => g.groupId === groupId)
}

/** The remote topic holds each source record once, in the same partition at the same offset. */
async function assertExactCopy(topic: string, remote: string, total: number): Promise<void> {
  const source = await readAll(SOURCE, topic)
  const copy = await readAll(TARGET, remote)
  assert.equal(source.length, total, 'the source holds each produced record once')
  assert.equal(
    copy.length,
    total,
    `${remote} has ${copy.length} records for ${total} on the source (gap or duplicates)`
  )
  assert.deepEqual(copy.map(comparable), source.map(comparable))
  assert.deepEqual(
    copy.map(r => [r.partition, r.offset]),
    source.map(r => [r.partition, r.offset]),
    'same offsets, partition by partition'
  )
}

test(
  "Java MM2 holds the group: kafka-mirror copies nothing, says why and keeps trying; once Java stops it joins and resumes from Java's positions with no duplicate",
  { timeout: 360_000 },
  async t => {
    const topic = uniqueName('java-first')
    const remote = `A.${topic}`
    const group = 'A-mm2'
    await createTopic(SOURCE, topic, { partitions: PARTITIONS })
    const file = properties('A', 'B', topic)
    const flow = { source: 'A' }
    await produceBatch(topic)

    // Java MM2 copies the first batch and stores its positions.
    const javaStarted = Date.now()
    const java = startLoggedJavaMirrorMaker(t, file)
    await explained(waitForStoredPositions(SOURCE, [topic], TARGET, flow, { timeoutMs: JAVA_COPY_WAIT_MS }), {
      'Java MM2': java.log
    })
    t.diagnostic(`Java MM2 copied and stored the first batch ${Date.now() - javaStarted} ms after start`)
    const connect = await describeGroup(TARGET, group)
    assert.deepEqual([connect.protocolType, connect.state], ['connect', 'Stable'], `Java holds ${group} on B`)

    // kafka-mirror on the same config: refused, and it says so where an operator looks.
    const mirror = await startInstance(t, file, { ownStateDir: true })
    const logs = { 'Java MM2': java.log, 'kafka-mirror': () => mirror.log.join('\n') }
    const refusedAt = Date.now()
    const notReady = await explained(
      waitFor(
        async () => {
          const r = await readyz(mirror)
          return r?.body.notReady.some(n => n.reason.includes('Java MirrorMaker 2')) === true ? r : undefined
        },
        { timeoutMs: 60_000, intervalMs: 250, what: '/readyz to name Java MirrorMaker 2' }
      ),
      logs
    )
    t.diagnostic(`kafka-mirror not ready because of Java ${Date.now() - refusedAt} ms after start`)
    assert.equal(notReady.status, 503)
    assert.equal(notReady.body.ready, false)
    const replication = notReady.body.notReady.find(n => n.component === 'replication A->B')
    assert.ok(replication !== undefined, `the flow is listed as not ready: ${JSON.stringify(notReady.body)}`)
    t.diagnostic(`/readyz reason: ${replication.reason}`)
    assert.match(
      replication.reason,
      /^Java MirrorMaker 2 \(Kafka Connect protocol "connect", 1 member: client ids A->B;/
    )
    assert.match(replication.reason, /is running in group A-mm2 on cluster B; stop it before starting kafka-mirror/)
    assert.equal(replication.cluster, 'B', 'the reason is about the target cluster')
    const status = await groupOf(mirror, group)
    assert.equal(status?.state, 'refused')
    assert.equal(status?.refusal, replication.reason, '/status gives the same reason')
    const refusalLines = (): string[] => mirror.log.filter(l => l.includes('Java MirrorMaker 2'))
    assert.ok(
      refusalLines().some(l => / ERROR /.test(l) && l.includes(replication.reason)),
      `an error line gives the same reason:\n${logTail(mirror.log.join('\n'))}`
    )

    // Records produced while both run: Java copies them, kafka-mirror does not.
    await produceBatch(topic)
    await explained(waitForStoredPositions(SOURCE, [topic], TARGET, flow, { timeoutMs: 60_000 }), logs)
    // At least one more attempt of kafka-mirror's while Java is there: it keeps trying, and quietly.
    const watchUntil = refusedAt + REFUSED_RETRY_MS + 5000
    await new Promise(resolve => setTimeout(resolve, Math.max(0, watchUntil - Date.now())))
    assert.equal(mirror.process.child.exitCode, null, 'kafka-mirror keeps running')
    assert.equal((await groupOf(mirror, group))?.state, 'refused')
    const st = await mirror.status()
    assert.equal(st?.flows.find(f => f.flow === 'A->B')?.recordsCopied, 0, 'kafka-mirror copied nothing')
    const owned = (await positionRecords(TARGET, flow, topic)).filter(r => r.owners.length > 0)
    assert.deepEqual(owned, [], 'no position stored by kafka-mirror while Java holds the group')
    t.diagnostic(`log lines naming Java over ${Date.now() - refusedAt} ms: ${refusalLines().length}`)
    assert.equal(
      refusalLines().length,
      1,
      `the refusal is logged once, not at every attempt:\n${refusalLines().join('\n')}`
    )
    await assertExactCopy(topic, remote, producedTo(topic))

    // Java stopped cleanly (its tasks store their positions): kafka-mirror joins at its next attempt.
    const stopStarted = Date.now()
    await java.proc.stop(60_000)
    const javaStoppedAt = Date.now()
    t.diagnostic(`Java MM2 exited with ${String(await java.proc.exited)} after ${javaStoppedAt - stopStarted} ms`)
    await produceBatch(topic)
    await explained(
      waitFor(async () => (await groupOf(mirror, group))?.state === 'stable', {
        timeoutMs: REFUSED_RETRY_MS + 30_000,
        intervalMs: 250,
        what: 'kafka-mirror to join the group Java left'
      }),
      logs
    )
    t.diagnostic(
      `Java MM2 gone -> kafka-mirror in the group: ${Date.now() - javaStoppedAt} ms (retry every ${REFUSED_RETRY_MS / 1000} s)`
    )
    assert.equal((await describeGroup(TARGET, group)).protocolType, 'kafka-mirror')
    await explained(
      waitFor(async () => (await readyz(mirror))?.status === 200, {
        timeoutMs: 30_000,
        intervalMs: 250,
        what: 'kafka-mirror ready once it holds the group'
      }),
      logs
    )
    await explained(waitForStoredPositions(SOURCE, [topic], TARGET, flow, { timeoutMs: 60_000 }), logs)
    await assertExactCopy(topic, remote, producedTo(topic))
    const copied = (await mirror.status())?.flows.find(f => f.flow === 'A->B')?.recordsCopied
    assert.equal(copied, BATCH, "kafka-mirror copied only the records Java had not: it resumed from Java's positions")
    const writers = new Set((await positionRecords(TARGET, flow, topic)).flatMap(r => r.owners))
    assert.ok(writers.size > 0, 'kafka-mirror stored positions once it held the group')
  }
)

test(
  'kafka-mirror holds the group: Java MM2 is refused (INCONSISTENT_GROUP_PROTOCOL), copies nothing, and kafka-mirror copies on undisturbed',
  { timeout: 300_000 },
  async t => {
    // Aliases of their own: group S-mm2 on T, offsets topic mm2-offsets.S.internal, remote S.<topic>.
    const topic = uniqueName('mirror-first')
    const remote = `S.${topic}`
    const group = 'S-mm2'
    await createTopic(SOURCE, topic, { partitions: PARTITIONS })
    const file = properties('S', 'T', topic)
    const flow = { source: 'S' }
    await produceBatch(topic)

    const mirror = await startInstance(t, file, { ownStateDir: true })
    const logs: Record<string, () => string> = { 'kafka-mirror': () => mirror.log.join('\n') }
    await explained(waitForStoredPositions(SOURCE, [topic], TARGET, flow, { timeoutMs: 90_000 }), logs)
    const held = await groupOf(mirror, group)
    assert.equal(held?.state, 'stable')
    const generation = held?.generation ?? -1

    // Java MM2 on the same config while kafka-mirror holds the group; records keep coming.
    const javaStarted = Date.now()
    const java = startLoggedJavaMirrorMaker(t, file)
    logs['Java MM2'] = java.log
    await produceBatch(topic)
    // AbstractCoordinator logs the answer as a fatal JoinGroup error (its message, not its name); the herder
    // then ends on the exception, InconsistentGroupProtocolException, which names it.
    const refusal = await explained(
      waitFor(
        () =>
          java
            .log()
            .split('\n')
            .find(l => l.includes('InconsistentGroupProtocolException')),
        { timeoutMs: JAVA_COPY_WAIT_MS, intervalMs: 250, what: "Java MM2's worker to be refused" }
      ),
      logs
    )
    assert.match(java.log(), /ERROR \[Worker clientId=S->T, groupId=S-mm2\] JoinGroup failed due to fatal error/)
    t.diagnostic(`Java MM2 refused ${Date.now() - javaStarted} ms after start: ${refusal}`)
    await produceBatch(topic)
    await explained(waitForStoredPositions(SOURCE, [topic], TARGET, flow, { timeoutMs: 60_000 }), logs)

    // Undisturbed: the same generation (a refused join starts no rebalance), one kafka-mirror member.
    const still = await groupOf(mirror, group)
    assert.deepEqual([still?.state, still?.generation], ['stable', generation], 'no rebalance because of Java')
    const described = await describeGroup(TARGET, group)
    assert.deepEqual([described.protocolType, described.state, described.members.length], ['kafka-mirror', 'Stable', 1])
    assert.equal((await readyz(mirror))?.status, 200)
    // Java copied nothing: exactly one copy of each record, and every stored position is kafka-mirror's.
    await assertExactCopy(topic, remote, producedTo(topic))
    const positions = await positionRecords(TARGET, flow, topic)
    assert.ok(positions.length > 0)
    assert.deepEqual(
      positions.filter(r => r.owners.length !== 1).map(r => `partition ${r.partition} at ${String(r.offset)}`),
      [],
      'every position record carries one kafka-mirror-owner header'
    )
    assert.doesNotMatch(java.log(), /Successfully joined group/, "Java's worker never joined")
    const exited = java.proc.child.exitCode
    const attempts = java
      .log()
      .split('\n')
      .filter(l => l.includes('JoinGroup failed')).length
    t.diagnostic(
      `Java MM2 ${exited === null ? 'still running' : `exited with ${exited}`} when the checks were done; refused joins in its log: ${attempts}`
    )
    // The refused herder ends its thread with Exit.exit(1) (DistributedHerder.run); the JVM's shutdown hook then
    // stops MirrorMaker, which waits for that herder, and the process hangs there (seen with Kafka 4.3): SIGTERM
    // cannot end it, so it gets a short grace before SIGKILL.
    const stopStarted = Date.now()
    await java.proc.stop(5000)
    t.diagnostic(`Java MM2 exited with ${String(await java.proc.exited)} after ${Date.now() - stopStarted} ms`)
    assert.equal((await groupOf(mirror, group))?.generation, generation)
  }
)
