/**
 * The exactly-once mode under faults on real brokers (issue 14; docs/exactly-once-plan.md §7.1,
 * items 2 and 3), with a source written all along in records that say their partition and
 * sequence number (test/harness/exactly-once-check.ts), so a Java read_committed consumer on the
 * target can tell a duplicate or a gap by content.
 *
 * 1. Two `kafka-mirror run` instances in one group, `tasks.max = 2`. The group deals a flow in
 *    this mode whole to one member (src/group/assignor.ts). That owner is paused (SIGSTOP) past
 *    the session timeout; the other takes the flow, and fences the flow's transactional ids
 *    before its tasks start (src/source/task-transactions.ts). Resumed (SIGCONT), the old owner
 *    must write nothing more: its writes are refused by its ended write lease
 *    (docs/scale-out-plan.md §4) or by the broker (PRODUCER_FENCED / INVALID_PRODUCER_EPOCH), it
 *    never takes the ids back from the new owner, and it keeps running.
 * 2. One instance; the target's only broker is killed (-9) mid-copy and started again: the copy
 *    finishes, exactly once in the committed view; the aborted transactions (status counters,
 *    ABORT markers in the remote partitions) and the read_uncommitted duplicates are reported.
 *    Once with the `poll` boundary (MM2's default), once with `interval` at 2 s, which keeps a
 *    transaction open most of the time, so the kill surely falls inside one.
 */
import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { expandUnitIds, parseUnitId } from '../../src/group/units.ts'
import type { TransactionStats } from '../../src/source/copier.ts'
import type { KafkaCluster } from '../harness/cluster.ts'
import {
  checkExactlyOnce,
  describeReport,
  type ExactlyOnceReport,
  produceSequenced,
  waitForCommittedCopy,
  writeSequencedInBackground
} from '../harness/exactly-once-check.ts'
import { clustersForFile, createTopic, uniqueName, waitFor } from '../harness/helpers.ts'
import { type Instance, startInstances } from '../harness/instances.ts'
import { dumpLogBatches, setClientQuota } from '../harness/java-tools.ts'
import { writeCopyOnlyProperties } from '../harness/mirror-config.ts'
import { startMirror, testLogger } from '../harness/mirror-runner.ts'

let A: KafkaCluster
let B: KafkaCluster
clustersForFile([{ name: 'A' }, { name: 'B' }], ([a, b]) => {
  A = a
  B = b
})

const FLOW = { source: 'A' }
const GROUP = 'A-mm2'
const SESSION_TIMEOUT_MS = 10_000
const HEARTBEAT_INTERVAL_MS = 1_000
const EXACTLY_ONCE = { 'B.exactly.once.source.support': 'enabled' }
/** The source consumer's client id (both instances share it): a broker quota on it slows the copy. */
const SOURCE_CONSUMER = 'A->B|MirrorSourceConnector|replication-consumer'

/** The committed view must be exact, and no stored position ahead of it. */
function assertExact(report: ExactlyOnceReport): void {
  const c = report.committed
  const text = describeReport(report)
  assert.equal(c.duplicates, 0, `no duplicate in the read_committed view\n${text}`)
  assert.equal(c.gaps, 0, `no gap in the read_committed view\n${text}`)
  assert.equal(c.outOfOrder, 0, `source order in the read_committed view\n${text}`)
  assert.equal(c.misplaced + c.foreign, 0, `every record on its own partition, nothing else\n${text}`)
  assert.ok(c.exact, text)
  assert.deepEqual(report.positionsAhead, [], `no stored position ahead of the committed copy\n${text}`)
}

/** The flow's transactions as an instance's /status reports them. */
interface TransactionsOf {
  readonly committed: number
  readonly aborted: number
  readonly fenced: boolean
  readonly epoch: number | null
  readonly tasks: ReadonlyArray<{ readonly task: number; readonly epoch: number | null; readonly fenced: boolean }>
}

async function transactionsOf(i: Instance): Promise<TransactionsOf | null | undefined> {
  const st = (await i.status()) as
    { flows?: ReadonlyArray<{ flow: string; transactions?: TransactionsOf | null }> } | undefined
  return st?.flows?.find(f => f.flow === 'A->B')?.transactions
}

/** Partitions of `topic` an instance copies now (undefined while its group membership is not stable). */
async function copyUnits(i: Instance, topic: string): Promise<number[] | undefined> {
  const g = (await i.status())?.groups.find(x => x.groupId === GROUP)
  if (g === undefined || g.state !== 'stable') return undefined
  return expandUnitIds(g.units)
    .map(id => parseUnitId(id))
    .flatMap(u => (u.kind === 'copy' && u.flow === 'A->B' && u.topic === topic ? [u.partition] : []))
    .sort((a, b) => a - b)
}

async function generationOf(i: Instance): Promise<number | undefined> {
  return (await i.status())?.groups.find(g => g.groupId === GROUP)?.generation
}

async function readyz(i: Instance): Promise<number | undefined> {
  try {
    return (await fetch(`http://127.0.0.1:${i.port}/readyz`, { signal: AbortSignal.timeout(2000) })).status
  } catch {
    return undefined
  }
}

const since = (i: Instance, from: number, pattern: RegExp): string[] => i.log.slice(from).filter(l => pattern.test(l))

/** A write the resumed instance's lease refused, in the wording of the copier, the session or the sync writer. */
const LEASE_REFUSAL = /the write lease has ended|lease in group \S+ has ended|LEASE_EXPIRED/
const FENCED = /this task was fenced/

test(
  'the owner of a flow paused (SIGSTOP) past the session timeout: the other instance fences its ids and takes the flow; resumed, the old owner writes nothing and keeps running; the committed view is exact',
  { timeout: 240_000 },
  async t => {
    const topic = uniqueName('eos-paused')
    const remote = `A.${topic}`
    const partitions = 4
    await createTopic(A, topic, { partitions })
    const file = writeCopyOnlyProperties({ A, B }, topic, {
      ...EXACTLY_ONCE,
      'tasks.max': '2',
      'B.offset.flush.interval.ms': '500',
      'B.session.timeout.ms': String(SESSION_TIMEOUT_MS),
      'B.heartbeat.interval.ms': String(HEARTBEAT_INTERVAL_MS)
    })
    // About 400 records a second all along: the owner has a transaction open most of the time.
    const source = writeSequencedInBackground(t, A, topic, { partitions, batch: 40, everyMs: 100 })
    const instances = await startInstances(t, 2, file)

    // 1. The flow is dealt whole to one instance, which commits transactions.
    const dealt = await waitFor(
      async () => {
        const units = await Promise.all(instances.map(async i => await copyUnits(i, topic)))
        if (units.some(u => u === undefined)) return undefined
        const owners = instances.filter((_, k) => (units[k]?.length ?? 0) > 0)
        return owners.length === 1 && units.flatMap(u => u ?? []).length === partitions ? owners[0] : undefined
      },
      { timeoutMs: 90_000, what: 'the flow dealt whole to one instance' }
    )
    const owner = dealt
    const other = instances.find(i => i !== owner)
    assert.ok(other !== undefined)
    await waitFor(async () => ((await transactionsOf(owner))?.committed ?? 0) >= 5, {
      timeoutMs: 60_000,
      what: 'the owner committing transactions'
    })
    const before = await transactionsOf(owner)
    const pausedGeneration = await generationOf(owner)
    assert.ok(pausedGeneration !== undefined)
    t.diagnostic(
      `owner: instance ${owner.index} (pid ${owner.pid}), ${before?.tasks.length} tasks, ${before?.committed} transactions committed, epochs ${before?.tasks.map(x => x.epoch).join('/')}, generation ${pausedGeneration}`
    )
    assert.equal(before?.tasks.length, 2, 'two copier tasks on the owner (tasks.max 2)')

    // 2. Paused past the session timeout: the other instance takes the flow, fencing its ids first.
    const ownerLogAtPause = owner.log.length
    const otherLogAtPause = other.log.length
    await new Promise(resolve => setTimeout(resolve, 1000))
    const pausedAt = Date.now()
    owner.process.child.kill('SIGSTOP')
    await waitFor(async () => (await copyUnits(other, topic))?.length === partitions, {
      timeoutMs: 60_000,
      what: "the paused owner's flow taken over"
    })
    const takenOverMs = Date.now() - pausedAt
    await waitFor(async () => since(other, otherLogAtPause, /fenced the transactional ids of the flow/).length > 0, {
      timeoutMs: 30_000,
      what: 'the new owner to fence the flow’s transactional ids'
    })
    const fencedIdsMs = Date.now() - pausedAt
    await waitFor(async () => ((await transactionsOf(other))?.committed ?? 0) > 0, {
      timeoutMs: 30_000,
      what: 'the new owner committing'
    })
    const firstCommitMs = Date.now() - pausedAt
    t.diagnostic(
      `paused at 0 ms: flow taken over after ${takenOverMs} ms, ids fenced by ${fencedIdsMs} ms, first commit of the new owner by ${firstCommitMs} ms (session timeout ${SESSION_TIMEOUT_MS} ms)`
    )

    // 3. Resumed: it learns its lease ended and its membership is gone; it must not write, nor take the ids back.
    await new Promise(resolve => setTimeout(resolve, 2000))
    const resumedAt = Date.now()
    owner.process.child.kill('SIGCONT')
    await waitFor(async () => since(owner, ownerLogAtPause, /write lease expired/).length > 0, {
      timeoutMs: 30_000,
      what: 'the resumed instance to log that its lease expired'
    })
    await waitFor(async () => ((await generationOf(owner)) ?? -1) > pausedGeneration, {
      timeoutMs: 60_000,
      what: 'the resumed instance in a new generation'
    })
    const rejoinedMs = Date.now() - resumedAt
    // Longer than the fenced task's retry (5 s, src/source/copier.ts FENCED_RETRY_MS): it would have tried by now.
    await new Promise(resolve => setTimeout(resolve, 8000))
    assert.equal(owner.process.child.exitCode, null, 'the resumed instance is still running')
    assert.equal(owner.process.child.signalCode, null, 'the resumed instance is still running')
    const resumedUnits = await copyUnits(owner, topic)
    const resumedTxn = await transactionsOf(owner)
    const resumedReady = await readyz(owner)
    const refusals = since(owner, ownerLogAtPause, LEASE_REFUSAL)
    const fences = since(owner, ownerLogAtPause, FENCED)
    const tookBack = since(owner, ownerLogAtPause, /took the transactional id again|took transactional id/)
    t.diagnostic(
      `resumed at ${resumedAt - pausedAt} ms after the pause; in a new generation after ${rejoinedMs} ms; copies ${resumedUnits?.length ?? '?'} partitions of the flow now; /readyz ${resumedReady}; transactions ${JSON.stringify(resumedTxn)}`
    )
    t.diagnostic(
      `resumed instance: ${refusals.length} lease refusals, ${fences.length} fenced lines, ${tookBack.length} id takes` +
        `\n  first refusal: ${refusals[0] ?? '-'}\n  first fence: ${fences[0] ?? '-'}` +
        `\n  what happened: ${fences.length > 0 ? 'fenced at the broker' : refusals.length > 0 ? 'refused by the lease' : 'no write attempted'}`
    )
    const afterResume = owner.log.slice(ownerLogAtPause)
    if (process.env.KM_TEST_LOG === undefined)
      t.diagnostic(
        `resumed instance's warnings and errors:\n${afterResume
          .filter(l => / (WARN|ERROR) /.test(l))
          .slice(0, 12)
          .join('\n')}`
      )
    // It was copying when paused, so it tried to write on resuming: the lease or the broker said no.
    assert.ok(refusals.length + fences.length > 0, 'the resumed instance logged a refused or fenced write')
    assert.deepEqual(resumedUnits, [], 'the resumed instance copies nothing of the flow (it stays with the new owner)')
    assert.ok(resumedReady !== undefined, 'the resumed instance answers /readyz')
    assert.deepEqual(tookBack, [], 'the resumed instance never took a transactional id again')
    assert.ok(
      !afterResume.some(l => / FATAL |uncaught|unhandled/i.test(l)),
      'no crash-like line in the resumed instance log'
    )
    // The new owner was never fenced: nothing took its ids after it took them.
    const otherTxn = await transactionsOf(other)
    assert.equal(otherTxn?.fenced, false, `the new owner still holds its ids: ${JSON.stringify(otherTxn)}`)
    assert.deepEqual(since(other, otherLogAtPause, FENCED), [], 'the new owner was never fenced')

    // 4. Every record exactly once in the committed view.
    await new Promise(resolve => setTimeout(resolve, 2000))
    const perPartition = await source.stop()
    await waitForCommittedCopy(B, remote, perPartition, { timeoutMs: 120_000 })
    const committedByNewOwner = (await transactionsOf(other))?.committed
    await Promise.all(instances.map(async i => await i.process.stop(15_000)))
    const report = await checkExactlyOnce({ target: B, flow: FLOW, topic, remoteTopic: remote, perPartition })
    t.diagnostic(
      `${perPartition.reduce((a, b) => a + b, 0)} source records; the new owner committed ${committedByNewOwner} transactions\n${describeReport(report)}`
    )
    assertExact(report)
  }
)

/**
 * A counter of the tasks running now, summed over their lifetimes: a task started again (after
 * the membership was lost, say) counts from 0, so a drop adds what the previous one had reached.
 */
function lifetimeCounter(read: () => number | undefined): { readonly sample: () => number } {
  let base = 0
  let last = 0
  return {
    sample: () => {
      const now = read()
      if (now === undefined) return base + last
      if (now < last) base += last
      last = now
      return base + last
    }
  }
}

/**
 * One instance copies a sequenced source written all along, throttled at the source so the
 * copy is still under way when the target's only broker (its transaction coordinator, its
 * group coordinator and every remote partition's leader) is killed (-9) and, 5 s later,
 * started again.
 */
async function targetRestart(t: TestContext, name: string, boundary: Readonly<Record<string, string>>): Promise<void> {
  const topic = uniqueName(name)
  const remote = `A.${topic}`
  const partitions = 6
  await createTopic(A, topic, { partitions })
  const upfront = await produceSequenced(A, topic, { partitions, total: 30_000 })
  const file = writeCopyOnlyProperties({ A, B }, topic, {
    ...EXACTLY_ONCE,
    ...boundary,
    'B.offset.flush.interval.ms': '500'
  })
  // A 512 KiB/s source link: the 30,000 records written first take some 11 s to copy, and the
  // source is written all along, so the kill falls mid-copy.
  await setClientQuota(A.bootstrap(), SOURCE_CONSUMER, { consumer_byte_rate: String(512 * 1024) })
  t.after(async () => {
    await setClientQuota(A.bootstrap(), SOURCE_CONSUMER, ['consumer_byte_rate'])
  })
  const lines: string[] = []
  const source = writeSequencedInBackground(t, A, topic, { partitions, batch: 60, everyMs: 100, from: upfront })
  const mirror = await startMirror(t, file, testLogger({ lines }))
  const transactions = (): TransactionStats | undefined =>
    mirror.status().find(f => f.flow === 'A->B')?.copier?.transactions
  const committed = lifetimeCounter(() => transactions()?.committed)
  const aborted = lifetimeCounter(() => transactions()?.aborted)
  const sampling = setInterval(() => {
    committed.sample()
    aborted.sample()
  }, 100)
  t.after(() => {
    clearInterval(sampling)
  })
  await waitFor(() => committed.sample() >= 10, { timeoutMs: 90_000, what: 'the copy under way, in transactions' })
  await new Promise(resolve => setTimeout(resolve, 1000))
  // Records on the source not yet copied (the copier's lag), at the kill.
  const lagAtKill = [
    ...(mirror
      .status()
      .find(f => f.flow === 'A->B')
      ?.copier?.lag.values() ?? [])
  ].reduce((a, b) => a + Number(b), 0)
  const committedAtKill = committed.sample()
  const writtenAtKill = source.perPartition().reduce((a, b) => a + b, 0)
  const linesAtKill = lines.length
  let down = true
  t.after(async () => {
    if (down) await B.restart()
  })
  const killedAt = Date.now()
  await B.kill()
  await new Promise(resolve => setTimeout(resolve, 5000)) // the source keeps being written meanwhile
  await B.restart()
  down = false
  const restartedMs = Date.now() - killedAt
  const writtenWhileDown = source.perPartition().reduce((a, b) => a + b, 0) - writtenAtKill
  await waitFor(() => committed.sample() > committedAtKill, {
    timeoutMs: 90_000,
    what: 'transactions committed again after the restart'
  })
  const resumedMs = Date.now() - killedAt
  await new Promise(resolve => setTimeout(resolve, 2000))
  const perPartition = await source.stop()
  const total = perPartition.reduce((a, b) => a + b, 0)
  await waitForCommittedCopy(B, remote, perPartition, { timeoutMs: 120_000 })
  const end = transactions()
  await mirror.close() // a clean stop: the last transaction is committed
  clearInterval(sampling)
  const during = lines.slice(linesAtKill)
  const aborting = during.filter(l => l.includes('aborting a transaction'))
  const recovering = during.filter(l => l.includes('a transaction failed; recovering'))
  const fenced = during.filter(l => FENCED.test(l))

  const report = await checkExactlyOnce({ target: B, flow: FLOW, topic, remoteTopic: remote, perPartition })
  const dumped = await dumpLogBatches(
    B,
    Array.from({ length: partitions }, (_, p) => `${remote}-${p}`)
  )
  let abortMarkers = 0
  let commitMarkers = 0
  for (const batches of dumped.values())
    for (const b of batches) {
      if (b.marker === 'ABORT') abortMarkers++
      if (b.marker === 'COMMIT') commitMarkers++
    }
  t.diagnostic(
    `${total} source records; ${lagAtKill} records not yet copied at the kill (the copier's lag), after ${committedAtKill} transactions; ${writtenWhileDown} written at the source while B was down; ` +
      `B back ${restartedMs} ms after the kill, transactions committed again by ${resumedMs} ms`
  )
  t.diagnostic(
    `transactions over the tasks' lifetimes: ${committed.sample()} committed, ${aborted.sample()} aborted (status of the task running at the end: ${end?.committed} committed, ${end?.aborted} aborted, fenced ${end?.fenced})`
  )
  t.diagnostic(
    `log after the kill: ${aborting.length} 'aborting a transaction', ${recovering.length} 'a transaction failed; recovering', ${fenced.length} fenced; first warnings and errors:` +
      `\n  ${during
        .filter(l => / (WARN|ERROR) /.test(l) && !/group request failed/.test(l))
        .slice(0, 8)
        .join('\n  ')}`
  )
  t.diagnostic(
    `remote topic on B: ${commitMarkers} COMMIT and ${abortMarkers} ABORT markers; read_uncommitted duplicates: ${report.uncommitted.check.duplicates}\n${describeReport(report)}`
  )
  assert.ok(writtenWhileDown > 0, 'records were written at the source while the target was down')
  assertExact(report)
  assert.deepEqual(
    [...report.positions].sort(([p], [q]) => p - q),
    perPartition.map((n, p) => [p, BigInt(n - 1)]),
    `the stored positions are the last source offset of each partition\n${describeReport(report)}`
  )
  assert.equal(end?.fenced, false, 'the task running at the end holds its id')
}

test(
  "poll boundary: the target's broker killed (-9) mid-copy and started again; the copy finishes, each record exactly once in the read_committed view",
  { timeout: 240_000 },
  async t => {
    await targetRestart(t, 'eos-restart-poll', { 'A->B.transaction.boundary': 'poll' })
  }
)

test(
  "interval boundary (2 s, so a transaction is open at the kill): the target's broker killed (-9) and started again; each record exactly once in the read_committed view",
  { timeout: 240_000 },
  async t => {
    await targetRestart(t, 'eos-restart-interval', {
      'A->B.transaction.boundary': 'interval',
      'A->B.transaction.boundary.interval.ms': '2000'
    })
  }
)
