/**
 * examples/prometheus-rules.yaml against what a real mirror serves: a mirror on real brokers
 * copies a topic, loses records that expired while it was down (DATA LOSS), follows a consumer
 * group, copies heartbeats; then its /metrics is scraped and, for every rule, each metric the
 * expression reads, each label matcher, each label it groups or joins on and each label its
 * annotations print must be in that scrape (a matcher must match a series). The values the rules
 * compare are checked for sense too (ready 1, 15 records lost, lag 0, finite latencies, a fresh
 * checkpoint). Then Prometheus's own rule engine (`promtool test rules`, Debian's prometheus
 * package) evaluates the rules over series with exactly the scraped names and labels: held at
 * the scraped values only the data loss fires (and resolves after 10 min); in a scripted outage
 * (not ready, lag climbing, latencies over a minute, checkpoints ageing while records flow) every
 * rule fires once per series or group it is meant for.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { parse, stringify } from 'yaml'
import { loadConfig } from '../../src/config/load.ts'
import { buildMirror } from '../../src/mirror.ts'
import { startHttpServer } from '../../src/observe/http-server.ts'
import { mirrorRoutes } from '../../src/observe/routes.ts'
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
import { deleteRecordsBefore } from '../harness/operator.ts'
import { writeMm2Properties } from '../harness/mirror-config.ts'
import { startMirror, testLogger } from '../harness/mirror-runner.ts'

const RULES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'prometheus-rules.yaml')

// ---- the scrape ------------------------------------------------------------------------------

interface Series {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

/** Prometheus text exposition: `name{label="value",...} value` lines; comments skipped. */
function parseExposition(text: string): Series[] {
  const out: Series[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/.exec(line)
    assert.ok(m !== null, `an exposition line: ${line}`)
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1] ?? ''] = (l[2] ?? '').replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c))
    }
    out.push({ name: m[1] ?? '', labels, value: Number(m[3]) })
  }
  return out
}

// ---- the expressions -------------------------------------------------------------------------

interface Matcher {
  readonly label: string
  readonly op: '=' | '!=' | '=~' | '!~'
  readonly value: string
}
interface Selector {
  readonly metric: string
  readonly matchers: readonly Matcher[]
}
interface ExprParts {
  readonly selectors: readonly Selector[]
  /** Labels of by/without/on/ignoring/group_left/group_right clauses, and label_join/label_replace sources. */
  readonly usedLabels: readonly string[]
  /** Labels label_join/label_replace create. */
  readonly createdLabels: readonly string[]
}

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan'
])

/**
 * The metrics, label matchers and grouping labels of a PromQL expression (enough for these rules, not a full parser).
 */
function exprParts(expr: string): ExprParts {
  const selectors: Selector[] = []
  const usedLabels: string[] = []
  const createdLabels: string[] = []
  const unquote = (s: string): string => s.replace(/\\(.)/g, '$1')
  // label_join(v, "dst", "sep", "src"...) / label_replace(v, "dst", "replacement", "src", "regex")
  for (const m of expr.matchAll(/,\s*"(\w+)"\s*,\s*"[^"]*"\s*((?:,\s*"[^"]*"\s*)*)\)/g)) {
    createdLabels.push(m[1] ?? '')
    const args = [...(m[2] ?? '').matchAll(/"([^"]*)"/g)].map(a => a[1] ?? '')
    if (/label_replace\s*\(/.test(expr)) usedLabels.push(args[0] ?? '')
    else usedLabels.push(...args)
  }
  let rest = expr.replace(/,\s*"(\w+)"\s*,\s*"[^"]*"\s*((?:,\s*"[^"]*"\s*)*)\)/g, ')')
  rest = rest.replace(/([a-zA-Z_:][\w:]*)?\s*\{([^}]*)\}/g, (_all, name: string | undefined, body: string) => {
    const matchers = [...body.matchAll(/([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)].map(x => ({
      label: x[1] ?? '',
      op: x[2] as Matcher['op'],
      value: unquote(x[3] ?? '')
    }))
    const named = matchers.find(x => x.label === '__name__' && x.op === '=')
    const metric = name ?? named?.value
    assert.ok(metric !== undefined, `a selector with a metric name: ${body}`)
    selectors.push({ metric, matchers: matchers.filter(x => x.label !== '__name__') })
    return ' '
  })
  rest = rest.replace(
    /\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g,
    (_all, _kw: string, labels: string) => {
      usedLabels.push(
        ...labels
          .split(',')
          .map(l => l.trim())
          .filter(l => l !== '')
      )
      return ' '
    }
  )
  rest = rest
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\boffset\s+\d+[smhdwy]+/g, ' ')
    .replace(/"(?:[^"\\]|\\.)*"/g, ' ')
  for (const m of rest.matchAll(/[a-zA-Z_:][\w:]*/g)) {
    const after = rest.slice((m.index ?? 0) + m[0].length).trimStart()
    if (after.startsWith('(') || KEYWORDS.has(m[0].toLowerCase())) continue
    selectors.push({ metric: m[0], matchers: [] })
  }
  return { selectors, usedLabels, createdLabels }
}

function matches(m: Matcher, value: string | undefined): boolean {
  const v = value ?? ''
  if (m.op === '=') return v === m.value
  if (m.op === '!=') return v !== m.value
  const re = new RegExp(`^(?:${m.value})$`)
  return m.op === '=~' ? re.test(v) : !re.test(v)
}

interface Rule {
  alert: string
  expr: string
  for?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
}
interface RuleGroups {
  groups: Array<{ name: string; rules: Rule[] }>
}

function ruleGroups(file: string): RuleGroups {
  const doc = parse(readFileSync(file, 'utf8')) as { apiVersion: string; kind: string; spec: RuleGroups }
  assert.equal(doc.apiVersion, 'monitoring.coreos.com/v1')
  assert.equal(doc.kind, 'PrometheusRule')
  return doc.spec
}

// ---- promtool --------------------------------------------------------------------------------

/** A series in promtool's input notation: `name{label="value",...}`. */
function seriesName(s: Series): string {
  return `${s.name}{${Object.entries(s.labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}}`
}

/** One value per minute for `minutes` minutes; `_` = no sample (the series does not exist yet). */
type Timeline = (minute: number, scraped: number) => number | '_'

/**
 * Runs `promtool test rules` on the rules (`spec` of the PrometheusRule) with the given series
 * and checks which alerts fire, counted per alert name, at each evaluation time.
 */
function promtool(
  rules: RuleGroups,
  input: ReadonlyArray<{ series: Series; timeline: Timeline }>,
  minutes: number,
  expect: ReadonlyArray<{ at: string; firing: Record<string, number> }>
): void {
  const dir = mkdtempSync(join(tmpdir(), 'km-promtool-'))
  writeFileSync(join(dir, 'rules.yml'), stringify(rules))
  const test = {
    rule_files: ['rules.yml'],
    evaluation_interval: '1m',
    tests: [
      {
        interval: '1m',
        input_series: input.map(({ series, timeline }) => ({
          series: seriesName(series),
          values: Array.from({ length: minutes + 1 }, (_, m) => {
            const v = timeline(m, series.value)
            return typeof v === 'number' && Number.isNaN(v) ? 'NaN' : String(v)
          }).join(' ')
        })),
        promql_expr_test: expect.map(e => ({
          expr: 'count by (alertname) (ALERTS{alertstate="firing"})',
          eval_time: e.at,
          exp_samples: Object.entries(e.firing).map(([alertname, n]) => ({
            labels: `{alertname=${JSON.stringify(alertname)}}`,
            value: n
          }))
        }))
      }
    ]
  }
  writeFileSync(join(dir, 'test.yml'), stringify(test))
  const run = spawnSync('promtool', ['test', 'rules', join(dir, 'test.yml')], { encoding: 'utf8', timeout: 60_000 })
  assert.equal(run.error, undefined, `promtool runs (Debian: apt-get install prometheus): ${String(run.error)}`)
  assert.equal(run.status, 0, `promtool test rules (${dir}, kept):\n${run.stdout}${run.stderr}`)
  rmSync(dir, { recursive: true, force: true })
}

test('exprParts reads metrics, matchers, grouping and joined labels', () => {
  const parts = exprParts(
    'kafka_mirror_checkpoint_age_seconds > 600 and on (strimzi_io_cluster, flow) label_join(sum by (source, target) (rate(x_total{topic!~".*heartbeats", a="b"}[5m] offset 10m)) > 0, "flow", "->", "source", "target")'
  )
  assert.deepEqual(parts.selectors, [
    {
      metric: 'x_total',
      matchers: [
        { label: 'topic', op: '!~', value: '.*heartbeats' },
        { label: 'a', op: '=', value: 'b' }
      ]
    },
    { metric: 'kafka_mirror_checkpoint_age_seconds', matchers: [] }
  ])
  assert.deepEqual([...parts.usedLabels].sort(), ['flow', 'source', 'source', 'strimzi_io_cluster', 'target', 'target'])
  assert.deepEqual(parts.createdLabels, ['flow'])
  assert.deepEqual(parseExposition('# HELP x y\nx_total{topic="a\\"b",p="1"} 3\nup 1\n'), [
    { name: 'x_total', labels: { topic: 'a"b', p: '1' }, value: 3 },
    { name: 'up', labels: {}, value: 1 }
  ])
})

// ---- the run ---------------------------------------------------------------------------------

let A: KafkaCluster
let B: KafkaCluster
clustersForFile([{ name: 'alerts-A' }, { name: 'alerts-B' }], ([a, b]) => {
  A = a
  B = b
})

test(
  "every metric, matcher and label of examples/prometheus-rules.yaml is in a real mirror's /metrics, with sensible values",
  { timeout: 400_000 },
  async t => {
    const groups = ruleGroups(RULES)
    const rules = groups.groups.flatMap(g => g.rules)
    assert.deepEqual(
      rules.map(r => r.alert),
      [
        'KafkaMirrorFlowNotReady',
        'KafkaMirrorLagGrowing',
        'KafkaMirrorDataLoss',
        'KafkaMirrorReplicationLatencyHigh',
        'KafkaMirrorHeartbeatLatencyHigh',
        'KafkaMirrorCheckpointStale'
      ]
    )

    const topic = uniqueName('alerts')
    const group = uniqueName('alerts-group')
    await createTopic(A, topic, { partitions: 1 })
    await produce(
      A,
      topic,
      Array.from({ length: 10 }, (_, i) => ({ value: `a${i}` }))
    )
    const file = writeMm2Properties(
      { A, B },
      {
        'A->B.enabled': 'true',
        'A->B.topics': topic,
        'A->B.groups': group,
        'B.offset.flush.interval.ms': '500',
        'refresh.topics.interval.seconds': '1',
        'refresh.groups.interval.seconds': '1',
        'emit.checkpoints.interval.seconds': '1',
        'sync.topic.acls.enabled': 'false'
      }
    )
    // A first run copies 10 records and stops; 20 more arrive and 15 of them expire (deleted, as
    // retention would) before the second run, which then reports them as lost.
    const first = await startMirror(t, file)
    await waitFor(async () => (await readAll(B, `A.${topic}`).catch(() => [])).length === 10, {
      timeoutMs: 90_000,
      what: 'the first 10 records on B'
    })
    await first.close()
    await produce(
      A,
      topic,
      Array.from({ length: 20 }, (_, i) => ({ value: `b${i}` }))
    )
    await deleteRecordsBefore(A, topic, 0, 25n)
    await commitOffsets(A, group, [{ topic, partition: 0, offset: 30n }])

    const mirror = buildMirror((await loadConfig(file)).config, testLogger())
    t.after(async () => {
      await mirror.close()
    })
    const log = testLogger()
    const http = await startHttpServer({ port: 0, host: '127.0.0.1', routes: mirrorRoutes(mirror, log), log })
    t.after(async () => {
      await http.close()
    })
    mirror.start()
    const scrape = async (): Promise<Series[]> =>
      parseExposition(await (await fetch(`http://127.0.0.1:${http.port}/metrics`)).text())
    const one = (series: Series[], name: string, labels: Record<string, string>): Series | undefined =>
      series.find(s => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))

    await waitFor(async () => (await readAll(B, `A.${topic}`).catch(() => [])).length === 15, {
      timeoutMs: 90_000,
      what: 'the 5 surviving records copied'
    })
    // Everything the rules read has happened once: data loss, a heartbeat copied, a checkpoint written.
    const series = await waitFor(
      async () => {
        const s = await scrape()
        // Every component ready (A->B's replication and checkpoints, both heartbeat emitters): the rules see a healthy
        // mirror.
        const ready =
          s.filter(x => x.name === 'kafka_mirror_flow_ready').length >= 3 &&
          s.filter(x => x.name === 'kafka_mirror_flow_ready').every(x => x.value === 1)
        const lost = one(s, 'kafka_mirror_data_loss_events_total', { topic, cause: 'expired' }) !== undefined
        const heartbeat = Number.isFinite(
          one(s, 'kafka_mirror_heartbeat_replication_latency_ms', { flow: 'A->B' })?.value
        )
        const checkpoint = Number.isFinite(one(s, 'kafka_mirror_checkpoint_age_seconds', { flow: 'A->B' })?.value)
        return ready && lost && heartbeat && checkpoint ? s : undefined
      },
      {
        timeoutMs: 90_000,
        intervalMs: 1000,
        what: 'a scrape of a ready mirror with data loss, a heartbeat latency and a checkpoint age'
      }
    )

    const names = new Set(series.map(s => s.name))
    for (const rule of rules) {
      const parts = exprParts(rule.expr)
      assert.ok(parts.selectors.length > 0, `${rule.alert}: reads a metric`)
      const labelsOfExpr = new Set<string>(parts.createdLabels)
      for (const sel of parts.selectors) {
        assert.ok(names.has(sel.metric), `${rule.alert}: ${sel.metric} is exposed`)
        const ofMetric = series.filter(s => s.name === sel.metric)
        for (const s of ofMetric) for (const l of Object.keys(s.labels)) labelsOfExpr.add(l)
        for (const m of sel.matchers) {
          assert.ok(
            ofMetric.some(s => m.label in s.labels),
            `${rule.alert}: ${sel.metric} has the label ${m.label}`
          )
        }
        assert.ok(
          ofMetric.some(s => sel.matchers.every(m => matches(m, s.labels[m.label]))),
          `${rule.alert}: ${sel.metric}{${sel.matchers.map(m => `${m.label}${m.op}"${m.value}"`).join(',')}} matches a series`
        )
      }
      for (const l of parts.usedLabels)
        assert.ok(labelsOfExpr.has(l), `${rule.alert}: the label ${l} it groups or joins on is on its metrics`)
      for (const text of Object.values(rule.annotations ?? {})) {
        for (const m of text.matchAll(/\$labels\.(\w+)/g))
          assert.ok(labelsOfExpr.has(m[1] ?? ''), `${rule.alert}: the annotation's label ${m[1]} is on its metrics`)
      }
      t.diagnostic(`${rule.alert}: ${[...new Set(parts.selectors.map(s => s.metric))].join(', ')}`)
    }

    // The values the rules compare, as they should be after this run.
    assert.equal(one(series, 'kafka_mirror_flow_ready', { flow: 'A->B', component: 'replication' })?.value, 1)
    assert.equal(one(series, 'kafka_mirror_flow_ready', { flow: 'A->B', component: 'checkpoints' })?.value, 1)
    assert.equal(
      one(series, 'kafka_mirror_data_loss_records_total', { topic, partition: '0', cause: 'expired' })?.value,
      15
    )
    assert.equal(
      one(series, 'kafka_mirror_data_loss_events_total', { topic, partition: '0', cause: 'expired' })?.value,
      1
    )
    assert.equal(one(series, 'kafka_mirror_lag_records', { topic, partition: '0' })?.value, 0)
    const heartbeatMs =
      one(series, 'kafka_mirror_heartbeat_replication_latency_ms', { flow: 'A->B', origin: 'A' })?.value ?? NaN
    assert.ok(
      heartbeatMs >= 0 && heartbeatMs < 60_000,
      `heartbeat latency ${heartbeatMs} ms, under the rule's threshold`
    )
    const checkpointAge = one(series, 'kafka_mirror_checkpoint_age_seconds', { flow: 'A->B' })?.value ?? NaN
    assert.ok(
      checkpointAge >= 0 && checkpointAge < 600,
      `checkpoint age ${checkpointAge} s, under the rule's threshold`
    )
    const latency = series.filter(
      s =>
        s.name === 'kafka_connect_mirror_mirrorsourceconnector_replication_latency_ms_max' &&
        s.labels.topic === `A.${topic}`
    )
    assert.equal(latency.length, 1, 'one latency series for the remote topic')
    assert.equal(latency[0]?.labels.source, 'A')
    assert.equal(latency[0]?.labels.target, 'B')
    t.diagnostic(
      `values: heartbeat ${heartbeatMs} ms, checkpoint age ${checkpointAge} s, replication latency max ${latency[0]?.value} ms`
    )

    // Prometheus evaluates the rules over the scraped series (same names, same labels).
    const used = new Set(rules.flatMap(r => exprParts(r.expr).selectors.map(x => x.metric)))
    const scraped = series.filter(s => used.has(s.name))
    const isLoss = (s: Series): boolean => s.name.startsWith('kafka_mirror_data_loss_')
    // The loss happens at minute 14: before it there is no events series yet, and 0 records lost.
    const lossTimeline = (s: Series): Timeline =>
      s.name === 'kafka_mirror_data_loss_events_total' ? (m, v) => (m < 14 ? '_' : v) : (m, v) => (m < 14 ? 0 : v)
    const lossAlerts = scraped.filter(s => s.name === 'kafka_mirror_data_loss_events_total').length
    assert.equal(lossAlerts, 1, 'one data-loss event series (the expired records)')

    // Held at the scraped values: only the data loss fires, and it resolves 10 minutes later.
    promtool(
      groups,
      scraped.map(s => ({ series: s, timeline: isLoss(s) ? lossTimeline(s) : (_m, v) => v })),
      30,
      [
        { at: '16m', firing: { KafkaMirrorDataLoss: lossAlerts } },
        { at: '29m', firing: {} }
      ]
    )

    // An outage scripted over the same series from minute 5: every rule fires for what it watches.
    const outage: Record<string, Timeline> = {
      kafka_mirror_flow_ready: m => (m < 5 ? 1 : 0),
      kafka_mirror_lag_records: m => (m < 5 ? 0 : 2000 + 500 * (m - 5)),
      kafka_connect_mirror_mirrorsourceconnector_replication_latency_ms_max: m => (m < 5 ? 100 : 90_000),
      kafka_mirror_heartbeat_replication_latency_ms: m => (m < 5 ? 10 : 90_000),
      kafka_mirror_checkpoint_age_seconds: m => 1 + 60 * m,
      kafka_connect_mirror_mirrorsourceconnector_record_rate: () => 5
    }
    const count = (name: string, key: (s: Series) => string = seriesName): number =>
      new Set(scraped.filter(s => s.name === name).map(key)).size
    promtool(
      groups,
      scraped.map(s => ({ series: s, timeline: isLoss(s) ? lossTimeline(s) : (outage[s.name] ?? ((_m, v) => v)) })),
      30,
      [
        {
          at: '25m',
          firing: {
            KafkaMirrorFlowNotReady: count('kafka_mirror_flow_ready'),
            KafkaMirrorLagGrowing: count(
              'kafka_mirror_lag_records',
              s => `${s.labels.strimzi_io_cluster} ${s.labels.flow}`
            ),
            KafkaMirrorReplicationLatencyHigh: count(
              'kafka_connect_mirror_mirrorsourceconnector_replication_latency_ms_max',
              s => `${s.labels.source} ${s.labels.target} ${s.labels.topic}`
            ),
            KafkaMirrorHeartbeatLatencyHigh: count('kafka_mirror_heartbeat_replication_latency_ms'),
            KafkaMirrorCheckpointStale: count('kafka_mirror_checkpoint_age_seconds')
          }
        }
      ]
    )
  }
)
