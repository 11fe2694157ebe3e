/**
 * The exactly-once mode on real brokers (issue 14; docs/exactly-once-plan.md §7.1, item 1 and
 * the single-instance copy of build step 5): with `B.exactly.once.source.support = enabled`, a
 * Java read_committed consumer on the target sees every source record exactly once, in order, on
 * its partition, whether the copy runs undisturbed or is killed (-9) every few seconds.
 *
 * The source records carry their partition and sequence number (test/harness/exactly-once-check.ts),
 * so the target is checked by content: markers and aborted attempts take offsets there. Besides
 * the Java verdict, each test reports the read_uncommitted view (the aborted attempts, never
 * judged) and checks that the stored positions are never ahead of the committed copy.
 *
 * The undisturbed copies (`poll`, and `interval` at 1 s) also show that transactions were used:
 * Kafka's DumpLogSegments finds every copied batch and every position record of the topic in
 * transactional batches, with COMMIT markers, and `kafka-transactions.sh list` knows the task's
 * transactional id (`<group.id>-<connector>-<task>`, plan §2.1) with no transaction left open.
 *
 * Size of the crash loop: KM_EOS_RECORDS (default 150,000 over 6 partitions);
 * `npm run test:exactly-once:full` runs 500,000.
 */
import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { test, type TestContext } from 'node:test'
import { loadConfig } from '../../src/config/load.ts'
import { transactionalIds } from '../../src/config/exactly-once.ts'
import type { KafkaCluster } from '../harness/cluster.ts'
import { runCrashLoop } from '../harness/crash-loop.ts'
import {
  checkExactlyOnce,
  describeReport,
  type ExactlyOnceReport,
  produceSequenced,
  waitForCommittedCopy
} from '../harness/exactly-once-check.ts'
import { clustersForFile, createTopic, uniqueName, waitFor } from '../harness/helpers.ts'
import { dumpLogBatches, listTransactions, setClientQuota } from '../harness/java-tools.ts'
import { writeCopyOnlyProperties } from '../harness/mirror-config.ts'
import { startMirror } from '../harness/mirror-runner.ts'
import { waitForStoredPositions } from '../harness/positions.ts'

let A: KafkaCluster
let B: KafkaCluster
clustersForFile([{ name: 'A' }, { name: 'B' }], ([a, b]) => {
  A = a
  B = b
})

const FLOW = { source: 'A' }
const OFFSETS_TOPIC = 'mm2-offsets.A.internal'
const EXACTLY_ONCE = { 'B.exactly.once.source.support': 'enabled' }

/** The Java view must be exact, and the positions at the last source record of each partition. */
function assertExact(report: ExactlyOnceReport, perPartition: readonly number[]): void {
  const c = report.committed
  const text = describeReport(report)
  assert.equal(c.duplicates, 0, `no duplicate in the read_committed view\n${text}`)
  assert.equal(c.gaps, 0, `no gap in the read_committed view\n${text}`)
  assert.equal(c.outOfOrder, 0, `source order in the read_committed view\n${text}`)
  assert.equal(c.misplaced + c.foreign, 0, `every record on its own partition, nothing else\n${text}`)
  assert.ok(c.exact, text)
  assert.deepEqual(report.positionsAhead, [], `no stored position ahead of the committed copy\n${text}`)
  assert.deepEqual(
    [...report.positions].sort(([p], [q]) => p - q),
    perPartition.map((n, p) => [p, BigInt(n - 1)]),
    `the stored positions (read_committed) are the last source offset of each partition\n${text}`
  )
}

/** What the target's logs say about how the copy of `topic` was written, per Kafka's DumpLogSegments. */
interface WrittenHow {
  /** Data batches of the remote topic: transactional, not. */
  readonly remoteTransactional: number
  readonly remotePlain: number
  /** Remote partitions without a COMMIT marker. */
  readonly remoteWithoutCommit: number[]
  readonly remoteCommits: number
  readonly remoteAborts: number
  /** Batches of the offsets topic holding a position of `topic`: transactional, not. */
  readonly positionsTransactional: number
  readonly positionsPlain: number
  /** COMMIT markers in the offsets-topic partitions holding those positions. */
  readonly positionCommits: number
}

async function writtenHow(topic: string, remote: string, partitions: number): Promise<WrittenHow> {
  const remoteNames = Array.from({ length: partitions }, (_, p) => `${remote}-${p}`)
  const offsetNames = readdirSync(`${B.dir}/data`).filter(d => d.startsWith(`${OFFSETS_TOPIC}-`))
  const dumped = await dumpLogBatches(B, [...remoteNames, ...offsetNames])
  let remoteTransactional = 0
  let remotePlain = 0
  let remoteCommits = 0
  let remoteAborts = 0
  const remoteWithoutCommit: number[] = []
  remoteNames.forEach((name, p) => {
    const batches = dumped.get(name) ?? []
    const data = batches.filter(b => !b.control)
    remoteTransactional += data.filter(b => b.transactional).length
    remotePlain += data.filter(b => !b.transactional).length
    const commits = batches.filter(b => b.marker === 'COMMIT').length
    remoteCommits += commits
    remoteAborts += batches.filter(b => b.marker === 'ABORT').length
    if (commits === 0) remoteWithoutCommit.push(p)
  })
  let positionsTransactional = 0
  let positionsPlain = 0
  let positionCommits = 0
  // Connect's offsets key names the topic as JSON:
  // ["MirrorSourceConnector",{"cluster":"A","partition":0,"topic":"..."}].
  const ofTopic = `"topic":"${topic}"`
  for (const name of offsetNames) {
    const batches = dumped.get(name) ?? []
    const positions = batches.filter(b => b.records.some(r => r.key.includes(ofTopic)))
    if (positions.length === 0) continue
    positionsTransactional += positions.filter(b => b.transactional).length
    positionsPlain += positions.filter(b => !b.transactional).length
    positionCommits += batches.filter(b => b.marker === 'COMMIT').length
  }
  return {
    remoteTransactional,
    remotePlain,
    remoteWithoutCommit,
    remoteCommits,
    remoteAborts,
    positionsTransactional,
    positionsPlain,
    positionCommits
  }
}

/** One instance copies 50,000 records over 4 partitions undisturbed, then stops cleanly; everything is checked. */
async function copyUndisturbed(
  t: TestContext,
  name: string,
  boundary: Readonly<Record<string, string>>
): Promise<void> {
  const topic = uniqueName(name)
  const remote = `A.${topic}`
  const partitions = 4
  const total = 50_000
  await createTopic(A, topic, { partitions })
  const perPartition = await produceSequenced(A, topic, { partitions, total })
  const file = writeCopyOnlyProperties({ A, B }, topic, {
    ...EXACTLY_ONCE,
    ...boundary,
    'B.offset.flush.interval.ms': '500'
  })
  const mirror = await startMirror(t, file)
  const started = Date.now()
  await waitForCommittedCopy(B, remote, perPartition, { timeoutMs: 180_000 })
  const copiedMs = Date.now() - started
  await waitForStoredPositions(A, [topic], B, FLOW, { timeoutMs: 60_000 })
  await mirror.close() // a clean stop: the last transaction is committed

  const report = await checkExactlyOnce({ target: B, flow: FLOW, topic, remoteTopic: remote, perPartition })
  const how = await writtenHow(topic, remote, partitions)
  const flow = (await loadConfig(file)).config.flows.find(f => f.source === 'A' && f.target === 'B')
  assert.ok(flow !== undefined && flow.tasksMax === 1, 'one copier task')
  const id = transactionalIds(flow)
  const listed = await listTransactions(B.bootstrap())
  t.diagnostic(`${total} records copied in ${copiedMs} ms\n${describeReport(report)}`)
  t.diagnostic(
    `remote topic: ${how.remoteTransactional} transactional and ${how.remotePlain} plain data batches, ` +
      `${how.remoteCommits} COMMIT and ${how.remoteAborts} ABORT markers; ` +
      `positions of the topic: ${how.positionsTransactional} transactional and ${how.positionsPlain} plain batches, ` +
      `${how.positionCommits} COMMIT markers in their offsets-topic partitions; ` +
      `transactional ids on B: ${listed.map(l => `${l.transactionalId} (${l.state})`).join(', ') || 'none'}`
  )

  assertExact(report, perPartition)
  assert.equal(
    report.uncommitted.logEnd - BigInt(report.uncommitted.check.records),
    BigInt(how.remoteCommits + how.remoteAborts),
    'every remote offset that holds no record holds a transaction marker'
  )
  assert.ok(how.remoteTransactional > 0 && how.remotePlain === 0, 'every copied batch is transactional')
  assert.deepEqual(how.remoteWithoutCommit, [], 'every remote partition has COMMIT markers')
  assert.ok(
    how.positionsTransactional > 0 && how.positionsPlain === 0,
    'every position record of the topic was written in a transaction'
  )
  assert.ok(how.positionCommits > 0, 'the positions were committed')
  const ours = listed.find(l => l.transactionalId === id)
  assert.ok(ours !== undefined, `the coordinator knows the task's transactional id ${id}`)
  await waitFor(
    async () => {
      const state = (await listTransactions(B.bootstrap())).find(l => l.transactionalId === id)?.state
      return state !== undefined && !['Ongoing', 'PrepareCommit', 'PrepareAbort'].includes(state)
    },
    { timeoutMs: 30_000, what: `no transaction of ${id} left open after the clean stop` }
  )
}

test('one instance, poll boundary: 50,000 records over 4 partitions, each exactly once, positions committed with them', async t => {
  await copyUndisturbed(t, 'eos-poll', { 'A->B.transaction.boundary': 'poll' })
})

test('one instance, interval boundary (1 s): 50,000 records over 4 partitions, each exactly once, positions committed with them', async t => {
  await copyUndisturbed(t, 'eos-interval', {
    'A->B.transaction.boundary': 'interval',
    'A->B.transaction.boundary.interval.ms': '1000'
  })
})

test('killed (-9) every 2-5 s, the copy still ends with each record exactly once in the read_committed view', async t => {
  const topic = uniqueName('eos-crash')
  const remote = `A.${topic}`
  const partitions = 6
  const total = Number(process.env.KM_EOS_RECORDS ?? 150_000)
  await createTopic(A, topic, { partitions })
  const perPartition = await produceSequenced(A, topic, { partitions, total })
  // Transactions of a second: most kills then land in an open transaction with records in it,
  // which the next run's fencing must abort (with poll they mostly land between transactions).
  const file = writeCopyOnlyProperties({ A, B }, topic, {
    ...EXACTLY_ONCE,
    'A->B.transaction.boundary': 'interval',
    'A->B.transaction.boundary.interval.ms': '1000'
  })
  // A source link of 1 MiB/s (a broker quota on the mirror's consumer) makes the copy span kills
  // however fast the copy itself is: some 25 s of copying at this size, 85 s at full size, in
  // runs that each copy for a second or two after their start.
  await setClientQuota(A.bootstrap(), 'A->B|MirrorSourceConnector|replication-consumer', {
    consumer_byte_rate: String(1024 * 1024)
  })

  const result = await runCrashLoop({
    source: A,
    target: B,
    sourceAlias: 'A',
    topic,
    remoteTopic: remote,
    partitions,
    total,
    configFile: file,
    killAfterMs: [2000, 5000],
    maxKills: Math.max(60, Math.ceil(total / 2500)),
    seed: 14,
    content: { perPartition },
    onRun: r => {
      t.diagnostic(
        `run ${r.index}: first copy after ${r.firstCopyMs ?? '-'} ms, ${r.copiedSoFar} committed, ${r.storedSoFar} below the positions, ` +
          `${r.recopiedNext} to copy again${r.killed ? ' (killed)' : ' (done, stopped)'}` +
          (r.positionsAhead.length > 0 ? `; POSITIONS AHEAD: ${r.positionsAhead.join('; ')}` : '')
      )
    }
  })
  const report = await checkExactlyOnce({ target: B, flow: FLOW, topic, remoteTopic: remote, perPartition })
  t.diagnostic(
    `${result.kills} kills in ${Math.round(result.elapsedMs / 1000)} s; ${result.recopied} records copied again after kills; ` +
      `read_uncommitted duplicates: ${report.uncommitted.check.duplicates}\n${describeReport(report)}`
  )
  assert.ok(
    result.completed,
    `the copy finished within ${result.kills} kills (${result.runs.at(-1)?.copiedSoFar} of ${total} committed)`
  )
  const ahead = result.runs.flatMap(r => r.positionsAhead.map(a => `run ${r.index}: ${a}`))
  assert.deepEqual(ahead, [], 'after no kill was a stored position ahead of the committed copy')
  assertExact(report, perPartition)
})
