/**
 * /metrics and /status of a mirror copying on real brokers:
 * - every series Strimzi's stock "Kafka Mirror Maker 2" Grafana dashboard queries
 *   (test/fixtures/strimzi-mm2-dashboard-metrics.json) is exposed with the labels the dashboard
 *   filters and groups on and label values its regexes match, from a KafkaMirrorMaker2 resource
 *   whose copier tasks run in worker threads (their counters reach the main thread);
 * - the values make sense: record counts equal the records copied, lag goes to zero, ages and
 *   latencies are ordered min <= avg <= max, bytes in and out grow, a checkpoint latency per group;
 * - /status agrees (end offsets, stored positions, lag 0, checkpoint freshness), /readyz is 200;
 * - the real binary (`run --metrics-port`) serves them too, with heartbeat replication latency.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadConfig } from '../../src/config/load.ts'
import { buildMirror } from '../../src/mirror.ts'
import { startHttpServer } from '../../src/observe/http-server.ts'
import { mirrorRoutes } from '../../src/observe/routes.ts'
import type { StatusReport } from '../../src/observe/status-report.ts'
import type { KafkaCluster } from '../harness/cluster.ts'
import {
  clustersForFile,
  commitOffsets,
  createTopic,
  produce,
  readAll,
  uniqueName,
  waitFor
} from '../harness/helpers.ts'
import { writeMm2Properties } from '../harness/mirror-config.ts'
import { testLogger } from '../harness/mirror-runner.ts'
import { freePort } from '../harness/ports.ts'
import { spawnTracked } from '../harness/processes.ts'

interface DashboardMetric {
  readonly name: string
  readonly labels: readonly string[]
  readonly matchers: Readonly<Record<string, string>>
  readonly panels: readonly string[]
  readonly exposedBy?: string
}
const dashboard = JSON.parse(
  readFileSync(new URL('../fixtures/strimzi-mm2-dashboard-metrics.json', import.meta.url), 'utf8')
) as { metrics: DashboardMetric[] }

interface Series {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

/** Parses Prometheus text format (what Prometheus itself reads): one sample per line. */
function parseMetrics(text: string): Series[] {
  const out: Series[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    assert.ok(m !== null, `not a sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
    }
    out.push({ name: m[1] as string, labels, value: Number(m[3]) })
  }
  return out
}

const named = (all: readonly Series[], name: string, labels: Readonly<Record<string, string>> = {}): Series[] =>
  all.filter(s => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`)
  return { status: res.status, body: await res.text() }
}

let A: KafkaCluster
let B: KafkaCluster
clustersForFile([{ name: 'source' }, { name: 'target' }], ([a, b]) => {
  A = a
  B = b
})

const SOURCE = 'my-cluster-source'
const TARGET = 'my-cluster-target'
const RECORDS = 600

test(
  'every series the stock Strimzi MM2 dashboard queries is exposed with sensible values; /status and /readyz agree',
  { timeout: 300_000 },
  async t => {
    const topic = uniqueName('dash')
    const remote = `${SOURCE}.${topic}`
    const group = uniqueName('dash-group')
    await createTopic(A, topic, { partitions: 3 })
    await produce(
      A,
      topic,
      Array.from({ length: RECORDS }, (_, i) => ({
        partition: i % 3,
        key: `k${i}`,
        value: `value-${i}`.padEnd(100, '.')
      }))
    )
    await commitOffsets(A, group, [{ topic, partition: 0, offset: 100n }])
    const dir = mkdtempSync(join(tmpdir(), 'km-metrics-'))
    const cr = join(dir, 'mm2.yaml')
    writeFileSync(
      cr,
      `apiVersion: kafka.strimzi.io/v1beta2
kind: KafkaMirrorMaker2
metadata:
  name: my-mirror-maker2
spec:
  version: 4.1.0
  replicas: 1
  connectCluster: "${TARGET}"
  clusters:
  - alias: "${SOURCE}"
    bootstrapServers: ${A.bootstrap()}
  - alias: "${TARGET}"
    bootstrapServers: ${B.bootstrap()}
    config:
      config.storage.replication.factor: 1
      offset.storage.replication.factor: 1
      status.storage.replication.factor: 1
      offset.flush.interval.ms: 500
  mirrors:
  - sourceCluster: "${SOURCE}"
    targetCluster: "${TARGET}"
    topicsPattern: "${topic}"
    groupsPattern: "${group}"
    sourceConnector:
      tasksMax: 2
      config:
        replication.factor: 1
        offset-syncs.topic.replication.factor: 1
        sync.topic.acls.enabled: "false"
    checkpointConnector:
      config:
        checkpoints.topic.replication.factor: 1
        emit.checkpoints.interval.seconds: 1
        refresh.groups.interval.seconds: 1
`
    )
    const mirror = buildMirror((await loadConfig(cr)).config, testLogger())
    const server = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      routes: mirrorRoutes(mirror, testLogger()),
      log: testLogger()
    })
    t.after(async () => {
      await server.close()
      await mirror.close()
    })
    mirror.start()
    await waitFor(async () => (await readAll(B, remote).catch(() => [])).length === RECORDS, {
      timeoutMs: 120_000,
      what: `${RECORDS} records on ${remote}`
    })

    // Counters reach the main thread from the worker threads within a second; lag then reads 0.
    const connector = `"${SOURCE}->${TARGET}.MirrorSourceConnector"`
    const series = await waitFor(
      async () => {
        const all = parseMetrics((await get(server.port, '/metrics')).body)
        const counts = named(all, 'kafka_connect_mirror_mirrorsourceconnector_record_count', { topic: remote })
        const lags = named(all, 'kafka_consumer_fetch_manager_records_lag', { topic })
        const checkpoints = named(all, 'kafka_connect_mirror_mirrorcheckpointconnector_checkpoint_latency_ms', {
          group
        })
        const done =
          counts.reduce((n, s) => n + s.value, 0) === RECORDS &&
          lags.length === 3 &&
          lags.every(s => s.value === 0) &&
          checkpoints.length > 0
        return done ? all : undefined
      },
      { timeoutMs: 60_000, what: `record_count ${RECORDS}, lag 0 on 3 partitions and a checkpoint latency` }
    )

    // 1. The dashboard's series, with its labels and regexes.
    for (const m of dashboard.metrics) {
      if (m.exposedBy !== undefined) continue
      const found = named(series, m.name)
      assert.ok(found.length > 0, `${m.name} (panels ${m.panels.join(', ')}) is not exposed`)
      const fits = found.filter(
        s =>
          m.labels.every(l => l in s.labels) &&
          Object.entries(m.matchers).every(([l, re]) => new RegExp(`^(?:${re})$`).test(s.labels[l] ?? ''))
      )
      assert.ok(
        fits.length > 0,
        `${m.name}: no series has labels ${m.labels.join(',')} matching ${JSON.stringify(m.matchers)}; got ${JSON.stringify(found.slice(0, 3).map(s => s.labels))}`
      )
      for (const s of fits) {
        assert.equal(s.labels.strimzi_io_kind, 'KafkaMirrorMaker2')
        assert.equal(s.labels.strimzi_io_cluster, 'my-mirror-maker2')
      }
    }

    // 2. Values: per partition what was copied; ordered windows; bytes flowing; every task running.
    const tp = { source: SOURCE, target: TARGET, topic: remote }
    for (const partition of ['0', '1', '2']) {
      const one = (name: string): number => {
        const s = named(series, `kafka_connect_mirror_mirrorsourceconnector_${name}`, { ...tp, partition })
        assert.equal(s.length, 1, `${name} partition ${partition}`)
        return (s[0] as Series).value
      }
      assert.equal(one('record_count'), RECORDS / 3)
      assert.ok(one('byte_count') >= (RECORDS / 3) * 100, 'byte_count counts at least the values')
      assert.ok(one('record_rate') > 0 && one('byte_rate') > 0)
      for (const what of ['record_age_ms', 'replication_latency_ms']) {
        const [min, avg, max, last] = [one(`${what}_min`), one(`${what}_avg`), one(`${what}_max`), one(what)]
        assert.ok(min >= 0 && min <= avg && avg <= max && max < 300_000, `${what} min ${min} avg ${avg} max ${max}`)
        assert.ok(Number.isFinite(last) && last >= 0, `${what} ${last}`)
      }
    }
    const total = (name: string, labels: Record<string, string> = {}): number =>
      named(series, name, labels).reduce((n, s) => n + s.value, 0)
    assert.equal(total('kafka_connect_worker_connector_count'), 2, 'source and checkpoint connectors')
    assert.equal(total('kafka_connect_worker_task_count'), 3, 'two copier tasks and the checkpoint task')
    assert.deepEqual(
      named(series, 'kafka_connect_connector_status', { connector })
        .map(s => `${s.labels.task}:${s.labels.status}=${s.value}`)
        .sort(),
      ['0:running=1', '1:running=1']
    )
    assert.ok(total('kafka_consumer_incoming_byte_total') >= RECORDS * 100)
    assert.ok(total('kafka_producer_outgoing_byte_total') >= RECORDS * 100)
    assert.equal(total('kafka_connect_source_task_source_record_active_count', { connector }), 0)
    assert.equal(total('kafka_connect_source_task_source_record_write_total', { connector }), RECORDS)
    for (const s of named(series, 'kafka_producer_buffer_available_bytes')) assert.ok(s.value > 0)
    const commit = named(series, 'kafka_connect_connector_task_offset_commit_avg_time_ms', { connector }).filter(s =>
      Number.isFinite(s.value)
    )
    assert.ok(commit.length > 0 && commit.every(s => s.value >= 0), 'positions were stored and timed')
    const cp = named(series, 'kafka_connect_mirror_mirrorcheckpointconnector_checkpoint_latency_ms', {
      source: SOURCE,
      target: TARGET,
      group,
      topic: remote,
      partition: '0'
    })
    assert.equal(cp.length, 1)
    assert.ok((cp[0] as Series).value >= 0 && (cp[0] as Series).value < 60_000)
    assert.ok(total('jvm_memory_used_bytes', { area: 'heap' }) > 0)
    assert.equal(total('jvm_threads_current'), 3, 'main thread and two copier threads')
    // Our own.
    const flow = `${SOURCE}->${TARGET}`
    assert.equal(total('kafka_mirror_copied_records_total', { flow }), RECORDS)
    assert.ok(total('kafka_mirror_copied_bytes_total', { flow }) >= RECORDS * 100)
    assert.equal(total('kafka_mirror_data_loss_records_total', { flow }), 0)
    assert.equal(
      named(series, 'kafka_mirror_data_loss_records_total', { flow, topic }).length,
      9,
      '3 partitions x 3 causes, at 0'
    )
    assert.equal(total('kafka_mirror_refused_records_total', { flow }), 0)
    assert.equal(total('kafka_mirror_lag_records', { flow, topic }), 0)
    assert.deepEqual(
      named(series, 'kafka_mirror_flow_ready')
        .map(s => `${s.labels.component}=${s.value}`)
        .sort(),
      ['checkpoints=1', 'replication=1']
    )
    assert.ok(total('kafka_mirror_offset_translations_total', { flow }) >= 1)

    // 3. /status and /readyz.
    const ready = await get(server.port, '/readyz')
    assert.equal(ready.status, 200, ready.body)
    const status = await waitFor(
      async () => {
        const s = JSON.parse((await get(server.port, '/status')).body) as StatusReport
        const parts = s.flows[0]?.topics.find(x => x.topic === topic)?.partitions ?? []
        return parts.length === 3 && parts.every(p => p.storedPosition === RECORDS / 3) ? s : undefined
      },
      { timeoutMs: 30_000, what: 'stored positions at the end of every partition in /status' }
    )
    const f = status.flows[0]
    assert.ok(f !== undefined)
    assert.equal(f.ready, true)
    assert.equal(f.recordsCopied, RECORDS)
    assert.equal(f.lag, 0)
    const t0 = f.topics.find(x => x.topic === topic)
    assert.equal(t0?.remoteTopic, remote)
    for (const p of t0?.partitions ?? []) {
      assert.deepEqual(
        [p.sourceEndOffset, p.copiedTo, p.lag, p.recordsCopied, p.dataLossRecords, p.lastError],
        [RECORDS / 3, RECORDS / 3, 0, RECORDS / 3, 0, null]
      )
      assert.ok(p.replicationLatencyMs !== null && p.replicationLatencyMs.min <= p.replicationLatencyMs.max)
    }
    assert.deepEqual(new Set(t0?.partitions.map(p => p.task)), new Set([0, 1]))
    const c = status.checkpoints[0]
    assert.ok(
      c !== undefined &&
        c.lastEmitAt !== null &&
        c.freshnessMs !== null &&
        c.freshnessMs >= 0 &&
        c.checkpointsWritten >= 1,
      JSON.stringify(c)
    )
  }
)

test(
  'the real binary serves /metrics, /readyz and /status on --metrics-port; heartbeats copied show their replication latency',
  { timeout: 300_000 },
  async t => {
    const topic = uniqueName('bin')
    await createTopic(A, topic, { partitions: 2 })
    await produce(
      A,
      topic,
      Array.from({ length: 200 }, (_, i) => ({ partition: i % 2, key: `k${i}`, value: `v${i}` }))
    )
    // A->B copies; B->A only emits heartbeats onto A, which A->B copies back as A.heartbeats.
    const file = writeMm2Properties(
      { A, B },
      {
        'A->B.enabled': 'true',
        'A->B.topics': topic,
        'B->A.enabled': 'false',
        'B.offset.flush.interval.ms': '500',
        'sync.topic.acls.enabled': 'false',
        'refresh.topics.interval.seconds': '1'
      }
    )
    const port = await freePort()
    const proc = spawnTracked(
      'kafka-mirror',
      process.execPath,
      ['bin/kafka-mirror.js', 'run', '--config', file, '--metrics-port', String(port)],
      { cwd: join(import.meta.dirname, '..', '..') }
    )
    let out = ''
    proc.child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
    })
    proc.child.stderr?.on('data', (d: Buffer) => {
      out += d.toString()
    })
    t.after(async () => {
      await proc.stop()
    })
    const series = await waitFor(
      async () => {
        const all = parseMetrics((await get(port, '/metrics')).body)
        const copied = named(all, 'kafka_connect_mirror_mirrorsourceconnector_record_count', {
          source: 'A',
          target: 'B',
          topic: `A.${topic}`
        }).reduce((n, s) => n + s.value, 0)
        const heartbeat = named(all, 'kafka_mirror_heartbeat_replication_latency_ms', {
          flow: 'A->B',
          topic: 'A.heartbeats'
        })
        return copied === 200 && heartbeat.length > 0 ? all : undefined
      },
      {
        timeoutMs: 120_000,
        what: `200 records counted and a heartbeat latency on /metrics; output so far:\n${out.slice(-3000)}`
      }
    )
    const latency = named(series, 'kafka_mirror_heartbeat_replication_latency_ms', {
      flow: 'A->B',
      topic: 'A.heartbeats'
    })[0]
    assert.ok(latency !== undefined && latency.value >= 0 && latency.value < 60_000, JSON.stringify(latency))
    // mm2.properties: Java MM2's dedicated-mode connector name, which JMX leaves unquoted.
    assert.ok(
      named(series, 'kafka_connect_connector_status', {
        connector: 'MirrorSourceConnector',
        task: '0',
        status: 'running'
      }).length === 1
    )
    assert.equal(
      named(series, 'kafka_connect_mirror_mirrorsourceconnector_record_count')[0]?.labels.strimzi_io_cluster,
      'mm2'
    )
    await waitFor(async () => (await get(port, '/readyz')).status === 200, { timeoutMs: 60_000, what: '/readyz 200' })
    const status = JSON.parse((await get(port, '/status')).body) as StatusReport
    assert.equal(status.flows.find(f => f.flow === 'A->B')?.recordsCopied !== undefined, true)
    assert.ok((status.flows.find(f => f.flow === 'A->B')?.heartbeats.length ?? 0) > 0)
    assert.equal((await get(port, '/healthz')).status, 200)
    await proc.stop()
    assert.equal(await proc.exited, 0, out.slice(-3000))
  }
)
