/**
 * Replication on real brokers: records, remote topics, discovery, positions, resume, data loss,
 * per-partition failures. One pair of clusters serves the whole file; each test uses its own
 * topics (and a `topics` filter naming them) so the tests cannot see each other's data.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decodeConnectOffsetKey, decodeOffsetValue } from '../../src/formats/connect-offsets.ts'
import { decodeOffsetSync } from '../../src/formats/offset-sync.ts'
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import type { Mirror } from '../../src/mirror.ts'
import type { KafkaCluster } from '../harness/cluster.ts'
import {
  assertNamesCluster,
  clientConfig,
  clustersForFile,
  comparable,
  createTopic,
  produce,
  producedComparable,
  readAll,
  uniqueName,
  waitFor
} from '../harness/helpers.ts'
import { deleteRecordsBefore, deleteTopic } from '../harness/operator.ts'
import { runJavaProgram } from '../harness/java-tools.ts'
import { type Cleanups, startCopyMirror, testLogger } from '../harness/mirror-runner.ts'
import { waitForStoredPositions } from '../harness/positions.ts'

let A: KafkaCluster
let B: KafkaCluster
clustersForFile([{ name: 'A' }, { name: 'B' }], ([a, b]) => {
  A = a
  B = b
})
const logLines: string[] = []
const log = testLogger({ lines: logLines })

async function mirrorFor(t: Cleanups, topicsRegex: string, extra: Record<string, string> = {}): Promise<Mirror> {
  return await startCopyMirror(t, { A, B }, topicsRegex, { extra, log })
}

/**
 * Until flow A->B stored positions up to the last record of `topic`: whatever it copied, a duplicate too, is on B by
 * then.
 */
async function copiedToTheEnd(topic: string): Promise<void> {
  await waitForStoredPositions(A, [topic], B, { source: 'A' })
}

async function remoteCount(topic: string): Promise<number> {
  return (await readAll(B, topic).catch(() => [])).length
}

test('copies every record as it is: partition, key, value, all headers in order, timestamp, nulls', async t => {
  const topic = uniqueName('orders')
  await createTopic(A, topic, { partitions: 3 })
  const records = Array.from({ length: 300 }, (_, i) => ({
    partition: i % 3,
    key: i % 7 === 0 ? null : `k${i}`,
    value: i % 11 === 0 ? null : `v${i}-${'x'.repeat(i % 50)}`,
    headers: [
      ['dup', `a${i}`],
      ['dup', `b${i}`],
      ['nul', null],
      ['z', '']
    ] as Array<[string, string | null]>,
    timestamp: 1_600_000_000_000n + BigInt(i)
  }))
  await produce(A, topic, records)
  const mirror = await mirrorFor(t, `${topic}.*`)
  await waitFor(async () => (await remoteCount(`A.${topic}`)) === 300, {
    timeoutMs: 60_000,
    what: `300 records on A.${topic}`
  })
  assert.deepEqual((await readAll(B, `A.${topic}`)).map(comparable), producedComparable(records))

  // Records produced while running follow.
  const later = { partition: 1, key: 'later', value: 'later', timestamp: BigInt(Date.now()) }
  await produce(A, topic, [later])
  await waitFor(async () => (await remoteCount(`A.${topic}`)) === 301, { what: 'the later record' })
  assert.deepEqual((await readAll(B, `A.${topic}`)).map(comparable), producedComparable([...records, later]))

  // Positions are stored in Connect's format with Java MM2's exact key bytes, after the records.
  await waitFor(
    async () => {
      const stored = (await readAll(B, 'mm2-offsets.A.internal')).filter(r =>
        r.key?.toString().includes(`"topic":"${topic}"`)
      )
      const last = new Map(stored.map(r => [r.key?.toString(), decodeOffsetValue(r.value)]))
      return last.get(`["MirrorSourceConnector",{"cluster":"A","partition":1,"topic":"${topic}"}]`) === 100n
    },
    { what: 'stored position of partition 1 = 100 (last copied offset)' }
  )
  for (const r of (await readAll(B, 'mm2-offsets.A.internal')).filter(x => x.key?.toString().includes(topic))) {
    assert.equal(decodeConnectOffsetKey(r.key).connector, 'MirrorSourceConnector')
  }

  // Offset syncs on the source cluster map source offsets to target offsets.
  const syncs = (await readAll(A, 'mm2-offset-syncs.B.internal'))
    .map(r => decodeOffsetSync(r.key, r.value))
    .filter(s => s.topic === topic)
  assert.ok(
    syncs.some(s => s.partition === 0 && s.upstreamOffset === 0n && s.downstreamOffset === 0n),
    'first record of each partition is synced'
  )
  assert.equal(mirror.status()[0]?.state, 'running')
})

test('remote topics follow the source: configs at creation, new topics, more partitions, config changes; no cycles', async t => {
  const prefix = uniqueName('follow')
  const first = `${prefix}-a`
  await createTopic(A, first, {
    partitions: 2,
    configs: { 'retention.ms': '3600000', 'cleanup.policy': 'compact', 'min.insync.replicas': '1' }
  })
  await createTopic(A, `B.${prefix}-cycle`, { partitions: 1 })
  await produce(A, `B.${prefix}-cycle`, [{ key: 'k', value: 'must not come back' }])
  await mirrorFor(t, `${prefix}.*|B\\.${prefix}.*`, { 'sync.topic.configs.interval.seconds': '1' })
  const admin = new KafkaAdmin(clientConfig(B), 'test-admin')
  const sourceAdmin = new KafkaAdmin(clientConfig(A), 'test-admin')
  t.after(async () => {
    await admin.close()
    await sourceAdmin.close()
  })
  await waitFor(async () => (await admin.describeTopics([`A.${first}`])).get(`A.${first}`)?.partitions === 2, {
    what: 'remote topic created'
  })
  const configs = new Map(
    ((await admin.describeTopicConfigs([`A.${first}`])).get(`A.${first}`) ?? []).map(c => [c.name, c])
  )
  assert.equal(configs.get('retention.ms')?.value, '3600000')
  assert.equal(configs.get('cleanup.policy')?.value, 'compact')
  assert.notEqual(configs.get('min.insync.replicas')?.source, 'topic', 'excluded property is not copied')

  // A topic created later is discovered within 10 s (no refresh interval configured).
  const second = `${prefix}-b`
  const createdAt = Date.now()
  await createTopic(A, second, { partitions: 1 })
  await produce(A, second, [{ key: 'k', value: 'v' }])
  await waitFor(async () => (await remoteCount(`A.${second}`)) === 1, {
    timeoutMs: 10_000,
    what: 'new topic replicated within 10 s'
  })
  t.diagnostic(`new topic replicated after ${Date.now() - createdAt} ms`)

  // More partitions on the source: the remote topic grows and the new partition is copied.
  await sourceAdmin.createPartitions(first, 4)
  await produce(A, first, [{ partition: 3, key: 'p3', value: 'on the new partition' }])
  await waitFor(
    async () =>
      (await readAll(B, `A.${first}`)).some(r => r.partition === 3 && r.value?.toString() === 'on the new partition'),
    { timeoutMs: 15_000, what: 'record on the grown partition' }
  )

  // A config change on the source is synced.
  await sourceAdmin.alterTopicConfigs(first, { 'retention.ms': '7200000' }, [])
  await waitFor(
    async () =>
      ((await admin.describeTopicConfigs([`A.${first}`])).get(`A.${first}`) ?? []).find(c => c.name === 'retention.ms')
        ?.value === '7200000',
    { timeoutMs: 15_000, what: 'config change synced' }
  )

  // The topic that came from B is never sent back.
  assert.equal((await admin.describeTopics([`A.B.${prefix}-cycle`])).size, 0)
})

test('aborted transactional records are not copied; offset syncs record the gaps', async t => {
  const topic = uniqueName('txn')
  await createTopic(A, topic, { partitions: 1 })
  await runJavaProgram(new URL('../java/TransactionalProducer.java', import.meta.url).pathname, [A.bootstrap(), topic])
  await mirrorFor(t, topic)
  await waitFor(async () => (await remoteCount(`A.${topic}`)) === 3, { what: 'the 3 committed records' })
  await copiedToTheEnd(topic)
  assert.deepEqual(
    (await readAll(B, `A.${topic}`)).map(r => r.value?.toString()),
    ['c1', 'c2', 'c3']
  )
  // Source offsets: c1 0, c2 1, marker 2, a1-a3 3-5, marker 6, c3 7. c3 lands at target offset 2.
  const syncs = (await readAll(A, 'mm2-offset-syncs.B.internal'))
    .map(r => decodeOffsetSync(r.key, r.value))
    .filter(s => s.topic === topic)
  assert.ok(
    syncs.some(s => s.upstreamOffset === 7n && s.downstreamOffset === 2n),
    `a sync maps c3 (7 -> 2): ${JSON.stringify(syncs.map(s => [String(s.upstreamOffset), String(s.downstreamOffset)]))}`
  )
})

test('LogAppendTime topics: the append time of the broker is carried as the record timestamp', async t => {
  const topic = uniqueName('appendtime')
  await createTopic(A, topic, { partitions: 1, configs: { 'message.timestamp.type': 'LogAppendTime' } })
  await produce(A, topic, [
    { value: 'one', timestamp: 1000n },
    { value: 'two', timestamp: 2000n }
  ])
  const source = await readAll(A, topic)
  assert.ok((source[0]?.timestamp ?? 0n) > 1_600_000_000_000n, "the source reports append times, not the producer's")
  await mirrorFor(t, topic)
  await waitFor(async () => (await remoteCount(`A.${topic}`)) === 2, { what: 'records copied' })
  assert.deepEqual(
    (await readAll(B, `A.${topic}`)).map(r => r.timestamp),
    source.map(r => r.timestamp)
  )
})

test('resumes after a stop with neither gap nor duplicate', async t => {
  const topic = uniqueName('resume')
  await createTopic(A, topic, { partitions: 2 })
  // Timestamps of now: the brokers' retention check would delete records years old.
  const now = BigInt(Date.now())
  const firstRecords = Array.from({ length: 100 }, (_, i) => ({
    partition: i % 2,
    value: `first-${i}`,
    timestamp: now + BigInt(i)
  }))
  await produce(A, topic, firstRecords)
  const first = await mirrorFor(t, topic)
  await waitFor(async () => (await remoteCount(`A.${topic}`)) === 100, { what: 'first 100' })
  await first.close()
  const secondRecords = Array.from({ length: 50 }, (_, i) => ({
    partition: i % 2,
    value: `second-${i}`,
    timestamp: now + 1000n + BigInt(i)
  }))
  await produce(A, topic, secondRecords)
  await mirrorFor(t, topic)
  await waitFor(async () => (await remoteCount(`A.${topic}`)) >= 150, { what: '150 records' })
  await copiedToTheEnd(topic)
  assert.deepEqual(
    (await readAll(B, `A.${topic}`)).map(comparable),
    producedComparable([...firstRecords, ...secondRecords])
  )
})

test('records that expired on the source before they were copied are reported as data loss', async t => {
  const topic = uniqueName('expired')
  await createTopic(A, topic, { partitions: 1 })
  await produce(
    A,
    topic,
    Array.from({ length: 10 }, (_, i) => ({ value: `a${i}` }))
  )
  const first = await mirrorFor(t, topic)
  await waitFor(async () => (await remoteCount(`A.${topic}`)) === 10, { what: 'first 10' })
  await first.close()
  // While the mirror is down, 20 more records arrive and 15 of them are deleted (as retention would).
  await produce(
    A,
    topic,
    Array.from({ length: 20 }, (_, i) => ({ value: `b${i}` }))
  )
  await deleteRecordsBefore(A, topic, 0, 25n)
  const second = await mirrorFor(t, topic)
  await waitFor(async () => (await remoteCount(`A.${topic}`)) === 15, { what: 'the 5 surviving records copied' })
  const loss = second.status()[0]?.copier?.dataLoss.find(e => e.topic === topic)
  assert.ok(loss !== undefined, 'data loss reported in status')
  assert.equal(loss.lost, 15n)
  assert.equal(loss.reason, 'expired')
  assert.ok(
    logLines.some(l => l.includes('DATA LOSS') && l.includes(topic) && l.includes('lost=15')),
    'data loss logged with the count'
  )
})

test('a source topic deleted and re-created is reported, and its new records are copied', async t => {
  const topic = uniqueName('recreated')
  await createTopic(A, topic, { partitions: 1 })
  await produce(
    A,
    topic,
    Array.from({ length: 5 }, (_, i) => ({ value: `old-${i}` }))
  )
  const mirror = await mirrorFor(t, topic)
  await waitFor(async () => (await remoteCount(`A.${topic}`)) === 5, { what: 'old records copied' })
  await deleteTopic(A, topic)
  await createTopic(A, topic, { partitions: 1 })
  await produce(
    A,
    topic,
    Array.from({ length: 3 }, (_, i) => ({ value: `new-${i}` }))
  )
  await waitFor(async () => (await remoteCount(`A.${topic}`)) === 8, {
    timeoutMs: 30_000,
    what: 'new records copied after re-creation'
  })
  assert.deepEqual(
    (await readAll(B, `A.${topic}`)).map(r => r.value?.toString()),
    ['old-0', 'old-1', 'old-2', 'old-3', 'old-4', 'new-0', 'new-1', 'new-2']
  )
  const event = mirror.status()[0]?.copier?.dataLoss.find(e => e.topic === topic)
  assert.equal(event?.reason, 'recreated')
  assert.ok(
    logLines.some(l => l.includes('DATA LOSS') && l.includes(topic)),
    'logged'
  )
})

test('a partition the target refuses is reported and paused; other topics keep flowing', async t => {
  const prefix = uniqueName('refused')
  const big = `${prefix}-big`
  const small = `${prefix}-small`
  await createTopic(A, big, { partitions: 1, configs: { 'max.message.bytes': '200000' } })
  await createTopic(A, small, { partitions: 1 })
  // The remote topic exists already with a lower limit (adopted as MM2 does).
  await createTopic(B, `A.${big}`, { partitions: 1, configs: { 'max.message.bytes': '2000' } })
  await produce(A, big, [{ value: 'ok-before' }, { value: 'x'.repeat(50_000) }, { value: 'after' }])
  await produce(A, small, [{ value: 'small-1' }])
  const mirror = await mirrorFor(t, `${prefix}.*`, { 'sync.topic.configs.enabled': 'false' })
  await waitFor(async () => (await remoteCount(`A.${small}`)) === 1, { what: 'the other topic copied' })
  await produce(A, small, [{ value: 'small-2' }])
  await waitFor(async () => (await remoteCount(`A.${small}`)) === 2, { what: 'the other topic keeps flowing' })
  const failure = await waitFor(
    () => [...(mirror.status()[0]?.copier?.failures.values() ?? [])].find(f => f.topic === big),
    { what: 'failure reported' }
  )
  assert.equal(failure.partition, 0)
  assert.equal(failure.offset, 1n, 'names the offset of the refused record')
  assert.match(failure.reason, /MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE|too large/i)
  const copied = await readAll(B, `A.${big}`)
  assert.deepEqual(
    copied.map(r => r.value?.toString()),
    ['ok-before'],
    'nothing after the refused record was skipped past it'
  )
})

test('a target that is down at start: flow not ready, then recovers without restart', async t => {
  const topic = uniqueName('down')
  await createTopic(A, topic, { partitions: 1 })
  await produce(A, topic, [{ value: 'one' }, { value: 'two' }])
  await B.stop()
  let restarted = false
  t.after(async () => {
    if (!restarted) await B.restart()
  })
  const mirror = await mirrorFor(t, topic)
  await waitFor(() => mirror.status()[0]?.state === 'not-ready', { timeoutMs: 30_000, what: 'flow marked not ready' })
  assertNamesCluster(mirror.status()[0]?.reason ?? '', 'B', B)
  await B.restart()
  restarted = true
  await waitFor(async () => (await remoteCount(`A.${topic}`)) === 2, {
    timeoutMs: 90_000,
    what: 'records copied after the target came back'
  })
  await waitFor(() => mirror.status()[0]?.state === 'running', { what: 'flow running again' })
})
