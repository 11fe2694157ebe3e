/**
 * How a flow's copier state becomes series and /status fields: data loss by cause (records and
 * events, unknown sizes counted as events only), refused records and paused partitions, lag per
 * partition under the replication consumer's client id, per-task Connect metrics, the exactly-once
 * mode's transactions per task (series and /status, only for a flow in the mode). The flow state
 * is made up (no broker): the mapping is what is under test here; the integration test checks
 * the counting on real brokers.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadMm2Properties } from '../../../src/config/mm2-properties.ts'
import { buildMirror, type Mirror } from '../../../src/mirror.ts'
import { createLogger } from '../../../src/observe/logger.ts'
import { countAcked, newPartitionStats, newTaskIo } from '../../../src/observe/metrics-copy.ts'
import { mirrorMetrics } from '../../../src/observe/metrics.ts'
import { buildStatusReport, reasonCluster } from '../../../src/observe/status-build.ts'
import type { CopierStats } from '../../../src/source/copier.ts'
import type { SourceFlowStatus } from '../../../src/source/source-flow.ts'

const quiet = createLogger('test', () => {})

/** `extra`: more mm2.properties lines; `perTask`: the tasks (default: one task with `stats`). */
function mirrorWith(
  state: SourceFlowStatus['state'],
  stats: CopierStats,
  opts: { extra?: string; perTask?: SourceFlowStatus['perTask'] } = {}
): Mirror {
  const text =
    'clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\nA->B.enabled = true\nemit.heartbeats.enabled = false\nemit.checkpoints.enabled = false\n' +
    (opts.extra ?? '')
  const real = buildMirror(
    loadMm2Properties(text, { file: 'east-west.properties', env: {}, secretsDir: undefined }).config,
    quiet
  )
  const status: SourceFlowStatus = {
    flow: 'A->B',
    state,
    reason: undefined,
    topics: 1,
    partitions: 2,
    copier: stats,
    tasks: opts.perTask?.length ?? 1,
    threads: 0,
    threadIds: [],
    heartbeats: [],
    perTask: opts.perTask ?? [{ task: 0, stats }]
  }
  return { ...real, status: () => [status] }
}

function stats(): CopierStats {
  const now = Date.now()
  const p0 = newPartitionStats('orders', 0, 'A.orders', 0n)
  const p1 = newPartitionStats('orders', 1, 'A.orders', 0n)
  countAcked(p0, { records: 40, bytes: 4000, raw: true, batches: [], copiedTo: 40n }, now)
  p0.endOffset = 50
  p0.storedTo = 40
  p1.endOffset = 7
  p1.copiedTo = 7
  p1.refusedRecords = 2
  return {
    recordsCopied: 40,
    bytesCopied: 4000,
    rawBytesCopied: 4000,
    batches: 1,
    lastCopyAt: now,
    transactions: undefined,
    dataLoss: [
      { topic: 'orders', partition: 0, reason: 'expired', lost: 25n, from: 0n, resumedAt: 25n, at: now },
      { topic: 'orders', partition: 0, reason: 'expired', lost: 5n, from: 30n, resumedAt: 35n, at: now },
      { topic: 'orders', partition: 1, reason: 'truncated', lost: -1n, from: 9n, resumedAt: 0n, at: now }
    ],
    failures: new Map([
      [
        'orders:1',
        { topic: 'orders', partition: 1, offset: 7n, reason: 'RECORD_TOO_LARGE', since: now, retryAt: now + 5000 }
      ]
    ]),
    lag: new Map(),
    lastError: undefined,
    partitions: new Map([
      ['orders:0', p0],
      ['orders:1', p1]
    ]),
    io: { ...newTaskIo(), fetchedBytes: 9000, sentBytes: 8000, queuedBytes: 1000 }
  }
}

function sample(text: string, name: string, labels: string): number {
  const line = text.split('\n').find(l => l.startsWith(`${name}{${labels}`))
  assert.ok(
    line !== undefined,
    `${name}{${labels}...} not in:\n${text
      .split('\n')
      .filter(l => l.startsWith(name))
      .join('\n')}`
  )
  return Number(line.slice(line.lastIndexOf(' ') + 1))
}

test('data loss, refused records, paused partitions, lag and task metrics as series', async () => {
  const mirror = mirrorWith('running', stats())
  const metrics = mirrorMetrics(mirror, { defaultMetrics: false, podName: 'pod-1' })
  try {
    const text = await metrics.render()
    const l = (topic: string, partition: number, cause: string): string =>
      `flow="A->B",topic="${topic}",partition="${partition}",cause="${cause}"`
    assert.equal(sample(text, 'kafka_mirror_data_loss_records_total', l('orders', 0, 'expired')), 30)
    assert.equal(sample(text, 'kafka_mirror_data_loss_events_total', l('orders', 0, 'expired')), 2)
    assert.equal(sample(text, 'kafka_mirror_data_loss_records_total', l('orders', 1, 'truncated')), 0)
    assert.equal(sample(text, 'kafka_mirror_data_loss_events_total', l('orders', 1, 'truncated')), 1)
    assert.equal(sample(text, 'kafka_mirror_data_loss_records_total', l('orders', 1, 'recreated')), 0)
    assert.equal(sample(text, 'kafka_mirror_refused_records_total', 'flow="A->B",topic="orders",partition="1"'), 2)
    assert.equal(sample(text, 'kafka_mirror_partition_paused', 'flow="A->B",topic="orders",partition="1"'), 1)
    assert.ok(!text.includes('kafka_mirror_partition_paused{flow="A->B",topic="orders",partition="0"'))
    // The label value keeps the quotes JMX puts around a client id with `>` and `|`.
    const consumer = 'clientid="\\"A->B|MirrorSourceConnector-0|replication-consumer\\""'
    assert.equal(
      sample(text, 'kafka_consumer_fetch_manager_records_lag', `${consumer},topic="orders",partition="0"`),
      10
    )
    assert.equal(
      sample(text, 'kafka_consumer_fetch_manager_records_lag', `${consumer},topic="orders",partition="1"`),
      0
    )
    assert.equal(sample(text, 'kafka_consumer_incoming_byte_total', consumer), 9000)
    assert.equal(
      sample(text, 'kafka_producer_outgoing_byte_total', 'clientid="connector-producer-MirrorSourceConnector-0"'),
      8000
    )
    assert.equal(sample(text, 'kafka_mirror_copied_bytes_total', 'flow="A->B",path="raw"'), 4000)
    assert.equal(sample(text, 'kafka_mirror_copied_bytes_total', 'flow="A->B",path="record"'), 0)
    assert.equal(
      sample(
        text,
        'kafka_connect_mirror_mirrorsourceconnector_record_count',
        'source="A",target="B",topic="A.orders",partition="0"'
      ),
      40
    )
    // No latency sample (no batch had timestamps): NaN, as Java's Min/Max/Avg without samples.
    assert.ok(
      Number.isNaN(
        sample(
          text,
          'kafka_connect_mirror_mirrorsourceconnector_replication_latency_ms_max',
          'source="A",target="B",topic="A.orders",partition="0"'
        )
      )
    )
    assert.equal(
      sample(text, 'kafka_connect_connector_status', 'connector="MirrorSourceConnector",task="0",status="running"'),
      1
    )
    assert.match(
      text,
      /strimzi_io_cluster="east-west",strimzi_io_name="east-west-mirrormaker2",kubernetes_pod_name="pod-1"/
    )
    // Not in the exactly-once mode: no transaction series at all.
    assert.doesNotMatch(text, /^kafka_mirror_transactions?_\w+\{/m)
  } finally {
    metrics.close()
  }
})

test('/status: per-partition offsets, lag, errors and data loss; flow totals', () => {
  const report = buildStatusReport(mirrorWith('running', stats()))
  const f = report.flows[0]
  assert.ok(f !== undefined)
  assert.deepEqual(f.dataLoss.byCause, { expired: 2, recreated: 0, truncated: 1 })
  assert.deepEqual(
    [f.dataLoss.records, f.dataLoss.events, f.dataLoss.unknownEvents, f.lag, f.failingPartitions],
    [30, 3, 1, 10, 1]
  )
  assert.equal(f.dataLoss.recent[2]?.lost, null)
  const [p0, p1] = f.topics[0]?.partitions ?? []
  assert.deepEqual(
    [p0?.sourceEndOffset, p0?.copiedTo, p0?.storedPosition, p0?.lag, p0?.dataLossRecords, p0?.lastError],
    [50, 40, 40, 10, 30, null]
  )
  assert.deepEqual(p1?.lastError, {
    offset: 7,
    reason: 'RECORD_TOO_LARGE',
    since: p1?.lastError?.since,
    retryAt: p1?.lastError?.retryAt
  })
  assert.equal(p1?.storedPosition, null)
  assert.equal(report.ready, true)
})

/** A flow in the exactly-once mode, two tasks: task 0 committed and aborted some, task 1 was fenced before a commit. */
function inTransactions(): Mirror {
  const s0 = stats()
  s0.transactions = {
    transactionalId: 'A-mm2-MirrorSourceConnector-0',
    producerId: '4000',
    epoch: 3,
    committed: 12,
    aborted: 1,
    fenced: false,
    lastRecords: 500,
    lastCommitMs: 37
  }
  const s1 = { ...stats(), partitions: new Map(), dataLoss: [], failures: new Map() }
  s1.transactions = {
    transactionalId: 'A-mm2-MirrorSourceConnector-1',
    producerId: '4001',
    epoch: 0,
    committed: 0,
    aborted: 0,
    fenced: true,
    lastRecords: 0,
    lastCommitMs: 0
  }
  return mirrorWith('running', s0, {
    extra: 'B.exactly.once.source.support = enabled\nA->B.tasks.max = 2\n',
    perTask: [
      { task: 0, stats: s0 },
      { task: 1, stats: s1 }
    ]
  })
}

test('exactly-once mode: transactions committed and aborted, fenced, last transaction per task, labelled by flow and task', async () => {
  const metrics = mirrorMetrics(inTransactions(), { defaultMetrics: false, podName: 'pod-1' })
  try {
    const text = await metrics.render()
    const task = (n: number): string => `flow="A->B",task="${n}"`
    assert.equal(sample(text, 'kafka_mirror_transactions_committed_total', task(0)), 12)
    assert.equal(sample(text, 'kafka_mirror_transactions_aborted_total', task(0)), 1)
    assert.equal(sample(text, 'kafka_mirror_transaction_fenced', task(0)), 0)
    assert.equal(sample(text, 'kafka_mirror_transaction_last_records', task(0)), 500)
    assert.equal(sample(text, 'kafka_mirror_transaction_last_commit_ms', task(0)), 37)
    // Fenced before its first commit: counters at 0 (so increase() sees the first one), no last transaction.
    assert.equal(sample(text, 'kafka_mirror_transactions_committed_total', task(1)), 0)
    assert.equal(sample(text, 'kafka_mirror_transactions_aborted_total', task(1)), 0)
    assert.equal(sample(text, 'kafka_mirror_transaction_fenced', task(1)), 1)
    assert.ok(Number.isNaN(sample(text, 'kafka_mirror_transaction_last_records', task(1))))
    assert.ok(Number.isNaN(sample(text, 'kafka_mirror_transaction_last_commit_ms', task(1))))
    assert.match(text, /# TYPE kafka_mirror_transactions_committed_total counter/)
    assert.match(text, /# TYPE kafka_mirror_transaction_fenced gauge/)
  } finally {
    metrics.close()
  }
})

test('exactly-once mode: a task that has not posted its stats yet counts 0 transactions, not fenced', async () => {
  const s = stats()
  const metrics = mirrorMetrics(mirrorWith('starting', s, { extra: 'B.exactly.once.source.support = enabled\n' }), {
    defaultMetrics: false
  })
  try {
    const text = await metrics.render()
    assert.equal(sample(text, 'kafka_mirror_transactions_committed_total', 'flow="A->B",task="0"'), 0)
    assert.equal(sample(text, 'kafka_mirror_transaction_fenced', 'flow="A->B",task="0"'), 0)
    assert.ok(Number.isNaN(sample(text, 'kafka_mirror_transaction_last_records', 'flow="A->B",task="0"')))
  } finally {
    metrics.close()
  }
  const report = buildStatusReport(mirrorWith('starting', s, { extra: 'B.exactly.once.source.support = enabled\n' }))
  assert.deepEqual(report.flows[0]?.transactions?.tasks, [
    {
      task: 0,
      transactionalId: 'A-mm2-MirrorSourceConnector-0',
      producerId: null,
      epoch: null,
      committed: 0,
      aborted: 0,
      fenced: false,
      lastRecords: null,
      lastCommitMs: null
    }
  ])
})

test('/status: a flow in the exactly-once mode lists its transactional ids, counts and fencing; one task also gives producer id and epoch', () => {
  const txn = buildStatusReport(inTransactions()).flows[0]?.transactions
  assert.ok(txn)
  assert.deepEqual(txn.transactionalIds, ['A-mm2-MirrorSourceConnector-0', 'A-mm2-MirrorSourceConnector-1'])
  assert.deepEqual(
    [txn.producerId, txn.epoch, txn.committed, txn.aborted, txn.fenced],
    [null, null, 12, 1, true],
    'two tasks: each its own producer (in tasks), counts summed, fenced when one is'
  )
  assert.deepEqual(txn.tasks[0], {
    task: 0,
    transactionalId: 'A-mm2-MirrorSourceConnector-0',
    producerId: '4000',
    epoch: 3,
    committed: 12,
    aborted: 1,
    fenced: false,
    lastRecords: 500,
    lastCommitMs: 37
  })
  assert.deepEqual(
    [txn.tasks[1]?.producerId, txn.tasks[1]?.fenced, txn.tasks[1]?.lastRecords, txn.tasks[1]?.lastCommitMs],
    ['4001', true, null, null]
  )

  const one = stats()
  one.transactions = {
    transactionalId: 'A-mm2-MirrorSourceConnector-0',
    producerId: '4000',
    epoch: 3,
    committed: 2,
    aborted: 0,
    fenced: false,
    lastRecords: 10,
    lastCommitMs: 5
  }
  const single = buildStatusReport(mirrorWith('running', one, { extra: 'B.exactly.once.source.support = enabled\n' }))
    .flows[0]?.transactions
  assert.deepEqual(
    [single?.transactionalIds, single?.producerId, single?.epoch, single?.committed, single?.fenced],
    [['A-mm2-MirrorSourceConnector-0'], '4000', 3, 2, false]
  )
  // Not in the mode: null, whatever the copier says.
  assert.equal(buildStatusReport(mirrorWith('running', one)).flows[0]?.transactions, null)
})

test('a not-ready reason names the flow cluster it is about, not any word after "cluster"', () => {
  assert.equal(
    reasonCluster('reading cluster metadata on cluster A: connect ECONNREFUSED 127.0.0.1:1', ['A', 'B']),
    'A'
  )
  assert.equal(reasonCluster('listing topics on cluster B (b:9092): timeout', ['A', 'B']), 'B')
  assert.equal(
    reasonCluster('Java MirrorMaker 2 (...) is running in group A-mm2 on cluster B; stop it before starting', [
      'A',
      'B'
    ]),
    'B',
    "a group refusal's reason (group/java-member.ts)"
  )
  assert.equal(reasonCluster('the group on cluster B. Retrying', ['A', 'B']), 'B')
  assert.equal(reasonCluster('on cluster east.dc1. Retrying', ['east.dc1', 'west']), 'east.dc1')
  assert.equal(reasonCluster('something else', ['A', 'B']), null)
  assert.equal(reasonCluster(undefined, ['A', 'B']), null)
})
