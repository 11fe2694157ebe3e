/**
 * /metrics and /status when things go wrong on real brokers: records that expired on the source
 * before they were copied (data loss by cause, exact count), and a record the target refuses
 * (refused record counted once, partition paused, lag that stays above zero behind it, the error
 * with its offset in /status, the other partitions still copied).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadConfig } from '../../src/config/load.ts'
import { buildMirror, type Mirror } from '../../src/mirror.ts'
import { startHttpServer } from '../../src/observe/http-server.ts'
import { mirrorRoutes } from '../../src/observe/routes.ts'
import type { StatusReport } from '../../src/observe/status-report.ts'
import type { KafkaCluster } from '../harness/cluster.ts'
import { clustersForFile, createTopic, produce, readAll, uniqueName, waitFor } from '../harness/helpers.ts'
import { deleteRecordsBefore } from '../harness/operator.ts'
import { writeMm2Properties } from '../harness/mirror-config.ts'
import { testLogger } from '../harness/mirror-runner.ts'

let A: KafkaCluster
let B: KafkaCluster
clustersForFile([{ name: 'A' }, { name: 'B' }], ([a, b]) => {
  A = a
  B = b
})

/** A->B copying `topics`, served over HTTP on a free port; both stopped when the test ends. */
async function served(
  t: { after: (fn: () => Promise<void>) => void },
  topics: string,
  extra: Record<string, string> = {}
): Promise<{ mirror: Mirror; get: (path: string) => Promise<{ status: number; body: string }> }> {
  const file = writeMm2Properties(
    { A, B },
    {
      'A->B.enabled': 'true',
      'A->B.topics': topics,
      'B->A.enabled': 'false',
      'emit.heartbeats.enabled': 'false',
      'emit.checkpoints.enabled': 'false',
      'B.offset.flush.interval.ms': '500',
      ...extra
    }
  )
  const log = testLogger()
  const mirror = buildMirror((await loadConfig(file)).config, log)
  const server = await startHttpServer({ port: 0, host: '127.0.0.1', routes: mirrorRoutes(mirror, log), log })
  t.after(async () => {
    await server.close()
    await mirror.close()
  })
  mirror.start()
  return {
    mirror,
    get: async path => {
      const res = await fetch(`http://127.0.0.1:${server.port}${path}`)
      return { status: res.status, body: await res.text() }
    }
  }
}

/** The value of the one sample of `name` whose labels include all of `labels` (each `k="v"`). */
function value(text: string, name: string, labels: readonly string[]): number | undefined {
  const line = text.split('\n').find(l => l.startsWith(`${name}{`) && labels.every(x => l.includes(x)))
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
}

const remoteCount = async (topic: string): Promise<number> => (await readAll(B, topic).catch(() => [])).length

test(
  'records expired before they were copied: data-loss counters by cause with the exact count, /status the same',
  { timeout: 180_000 },
  async t => {
    const topic = uniqueName('m-expired')
    await createTopic(A, topic, { partitions: 1 })
    await produce(
      A,
      topic,
      Array.from({ length: 10 }, (_, i) => ({ value: `a${i}` }))
    )
    const first = await served(t, topic)
    await waitFor(async () => (await remoteCount(`A.${topic}`)) === 10, { what: 'first 10' })
    // Positions of the first 10 are stored before the stop.
    await first.mirror.close()
    await produce(
      A,
      topic,
      Array.from({ length: 20 }, (_, i) => ({ value: `b${i}` }))
    )
    await deleteRecordsBefore(A, topic, 0, 25n)
    const second = await served(t, topic)
    await waitFor(async () => (await remoteCount(`A.${topic}`)) === 15, { what: 'the 5 surviving records copied' })
    const labels = ['flow="A->B"', `topic="${topic}"`, 'partition="0"']
    const text = await waitFor(
      async () => {
        const body = (await second.get('/metrics')).body
        return value(body, 'kafka_mirror_data_loss_records_total', [...labels, 'cause="expired"']) === 15
          ? body
          : undefined
      },
      { timeoutMs: 30_000, what: 'kafka_mirror_data_loss_records_total 15' }
    )
    assert.equal(value(text, 'kafka_mirror_data_loss_events_total', [...labels, 'cause="expired"']), 1)
    assert.equal(value(text, 'kafka_mirror_data_loss_records_total', [...labels, 'cause="recreated"']), 0)
    assert.equal(
      value(text, 'kafka_mirror_data_loss_events_total', [...labels, 'cause="recreated"']),
      undefined,
      'no event series without an event'
    )
    assert.equal(
      value(text, 'kafka_connect_mirror_mirrorsourceconnector_record_count', [
        'topic="A.' + topic + '"',
        'partition="0"'
      ]),
      5,
      'this run copied the 5 survivors'
    )
    const status = JSON.parse((await second.get('/status')).body) as StatusReport
    const flow = status.flows[0]
    assert.deepEqual([flow?.dataLoss.records, flow?.dataLoss.events, flow?.dataLoss.byCause.expired], [15, 1, 1])
    assert.deepEqual(
      flow?.dataLoss.recent.map(e => [e.topic, e.partition, e.cause, e.lost, e.from, e.resumedAt]),
      [[topic, 0, 'expired', 15, 10, 25]]
    )
    assert.equal(flow?.topics[0]?.partitions[0]?.dataLossRecords, 15)
  }
)

test(
  'a record the target refuses: counted once, partition paused, lag stays above zero behind it, the error in /status; the other topic is copied',
  { timeout: 180_000 },
  async t => {
    const prefix = uniqueName('m-refused')
    const big = `${prefix}-big`
    const small = `${prefix}-small`
    await createTopic(A, big, { partitions: 1, configs: { 'max.message.bytes': '200000' } })
    await createTopic(A, small, { partitions: 1 })
    await createTopic(B, `A.${big}`, { partitions: 1, configs: { 'max.message.bytes': '2000' } })
    await produce(A, big, [{ value: 'ok-before' }, { value: 'x'.repeat(50_000) }, { value: 'after' }])
    await produce(A, small, [{ value: 'small-1' }, { value: 'small-2' }])
    const { get } = await served(t, `${prefix}.*`, { 'sync.topic.configs.enabled': 'false' })
    await waitFor(async () => (await remoteCount(`A.${small}`)) === 2, { what: 'the other topic copied' })
    const bigLabels = ['flow="A->B"', `topic="${big}"`, 'partition="0"']
    const text = await waitFor(
      async () => {
        const body = (await get('/metrics')).body
        return value(body, 'kafka_mirror_partition_paused', bigLabels) === 1 ? body : undefined
      },
      { timeoutMs: 60_000, what: 'the refused partition paused in /metrics' }
    )
    assert.equal(value(text, 'kafka_mirror_refused_records_total', bigLabels), 1)
    assert.equal(value(text, 'kafka_mirror_lag_records', bigLabels), 2, 'the refused record and the one after it')
    assert.equal(value(text, 'kafka_consumer_fetch_manager_records_lag', [`topic="${big}"`, 'partition="0"']), 2)
    assert.equal(value(text, 'kafka_mirror_lag_records', ['flow="A->B"', `topic="${small}"`, 'partition="0"']), 0)
    assert.equal(value(text, 'kafka_mirror_partition_paused', ['flow="A->B"', `topic="${small}"`]), undefined)
    // Retries of the same record do not count again: wait until one retry was refused (it moves the
    // partition's retryAt in /status), rather than sleeping and hoping one came.
    const retryAt = async (): Promise<number | undefined> =>
      (JSON.parse((await get('/status')).body) as StatusReport).flows[0]?.topics.find(x => x.topic === big)
        ?.partitions[0]?.lastError?.retryAt
    const firstRetryAt = await retryAt()
    assert.ok(firstRetryAt !== undefined, 'the refused partition has a retry time in /status')
    await waitFor(
      async () => {
        const at = await retryAt()
        return at !== undefined && at !== firstRetryAt
      },
      { timeoutMs: 120_000, intervalMs: 250, what: 'a retry of the refused record' }
    )
    assert.equal(value((await get('/metrics')).body, 'kafka_mirror_refused_records_total', bigLabels), 1)
    const status = JSON.parse((await get('/status')).body) as StatusReport
    const part = status.flows[0]?.topics.find(x => x.topic === big)?.partitions[0]
    assert.deepEqual([part?.sourceEndOffset, part?.copiedTo, part?.lag, part?.lastError?.offset], [3, 1, 2, 1])
    assert.match(part?.lastError?.reason ?? '', /MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE|too large/i)
    assert.equal(status.flows[0]?.failingPartitions, 1)
    // The flow itself is running (the other partitions copy), so the instance stays ready.
    assert.equal((await get('/readyz')).status, 200)
  }
)
