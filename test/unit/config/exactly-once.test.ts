/**
 * The exactly-once keys (docs/exactly-once-plan.md §1.3, §1.4, §5.6; issue 14, build step 1):
 * Java's scoping in both loaders, Connect's checks, the model field, the flow digest, and the
 * description `validate` prints (the mode, its boundary and timeout, the transactional ids).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { validateCommand } from '../../../src/cli/validate.ts'
import { describeConfig } from '../../../src/config/describe.ts'
import { loadMm2Properties } from '../../../src/config/mm2-properties.ts'
import type { FlowConfig, LoadedConfig } from '../../../src/config/model.ts'
import { flowDigest } from '../../../src/config/run-groups.ts'
import { loadStrimzi } from '../../../src/config/strimzi.ts'
import { assertConfigError, strimziV1 } from './config-fixture.ts'

const BASE = 'clusters = A, B\nA.bootstrap.servers = a:9092\nB.bootstrap.servers = b:9092\nA->B.enabled = true\n'
const ON = 'B.exactly.once.source.support = enabled\n'
const COMMITTED = 'A.consumer.isolation.level = read_committed\n'

function mm2(text: string): LoadedConfig {
  return loadMm2Properties(BASE + text, { file: 'mm2.properties', env: {} })
}

function flowOf(loaded: LoadedConfig, name = 'A->B'): FlowConfig {
  const f = loaded.config.flows.find(x => x.name === name)
  assert.ok(f, `flow ${name}`)
  return f
}

function strimzi(yaml: string): LoadedConfig {
  return loadStrimzi(yaml, { file: 'mm2.yaml', env: {} })
}

const has = (lines: readonly string[], ...parts: string[]): boolean => lines.some(l => parts.every(p => l.includes(p)))

test('exactly-once: off by default, with Connect defaults (poll, the flush interval, 60 s timeout)', () => {
  const loaded = mm2('B.offset.flush.interval.ms = 7000\n')
  assert.deepEqual(flowOf(loaded).exactlyOnce, {
    enabled: false,
    required: false,
    boundary: 'poll',
    intervalMs: 7000,
    transactionTimeoutMs: 60_000
  })
  assert.deepEqual(loaded.warnings, [])
  assert.match(
    describeConfig(loaded.config),
    /exactly-once: off \(B's worker does not enable it\): copied at-least-once/
  )
})

test('mm2: <target>.exactly.once.source.support = enabled turns the mode on for flows into that target, with no warning', () => {
  const loaded = mm2(ON)
  assert.equal(flowOf(loaded).exactlyOnce.enabled, true)
  // B->A (heartbeats only, into A) is not affected: the key is the target's worker setting.
  assert.equal(flowOf(loaded, 'B->A').exactlyOnce.enabled, false)
  assert.deepEqual(loaded.warnings, [], 'requested (the default) runs in the mode')
  const text = describeConfig(loaded.config)
  assert.match(
    text,
    /exactly-once: on \(enabled on B's worker, requested\): a transaction whenever nothing more is ready to send \(transaction\.boundary poll\), transaction\.timeout\.ms 60000, transactional ids A-mm2-MirrorSourceConnector-0$/m
  )
  assert.doesNotMatch(text, /not built/i)
})

test('mm2: a heartbeat-only flow into an enabled target is described as writing no transactions', () => {
  const loaded = mm2('A.exactly.once.source.support = enabled\n')
  assert.equal(flowOf(loaded, 'B->A').exactlyOnce.enabled, true)
  assert.deepEqual(loaded.warnings, [])
  assert.match(
    describeConfig(loaded.config),
    /exactly-once: on \(enabled on A's worker, requested\), but this pair copies no records, so it writes no transactions/
  )
})

test('mm2: required with the worker enabled and read_committed runs in the mode; validate shows the ids of every task', async () => {
  const loaded = mm2(`${ON}${COMMITTED}A->B.exactly.once.support = REQUIRED\nA->B.tasks.max = 3\n`)
  const f = flowOf(loaded)
  assert.deepEqual([f.exactlyOnce.enabled, f.exactlyOnce.required], [true, true])
  assert.deepEqual(loaded.warnings, [])
  const out: string[] = []
  assert.equal(await validateCommand(loaded, { offline: true, out: l => out.push(l) }), 0)
  const text = out.join('\n')
  assert.match(text, /A->B \(replicating\)/)
  assert.match(
    text,
    /exactly-once: on \(enabled on B's worker, required\): .*transactional ids A-mm2-MirrorSourceConnector-0 \.\. A-mm2-MirrorSourceConnector-2$/m
  )
})

test('mm2: required without the worker key is refused as Connect refuses it', () => {
  assertConfigError(
    () => mm2(`${COMMITTED}A->B.exactly.once.support = required\n`),
    'mm2.properties:6 A->B.exactly.once.support: required, but exactly-once source support is not enabled on the worker of the target cluster (set B.exactly.once.source.support = enabled)'
  )
})

test('mm2: required against the source consumer isolation level (MirrorSourceConnector.exactlyOnceSupport)', () => {
  assertConfigError(
    () => mm2(`${ON}A.consumer.isolation.level = read_uncommitted\nA->B.exactly.once.support = required\n`),
    'A->B.exactly.once.support: required, but the source consumer\'s isolation.level is "read_uncommitted": MirrorSourceConnector can only provide exactly-once guarantees'
  )
  // Not set: kafka-mirror reads committed records anyway, but Java would refuse; said as a warning.
  const unset = mm2(`${ON}A->B.exactly.once.support = required\n`)
  assert.ok(
    has(unset.warnings, 'Java MM2 refuses required unless the source consumer sets isolation.level = read_committed')
  )
  assert.deepEqual([flowOf(unset).exactlyOnce.enabled, flowOf(unset).exactlyOnce.required], [true, true])
  // requested with read_uncommitted: aborted source records would be copied.
  const requested = mm2(`${ON}A->B.consumer.isolation.level = read_uncommitted\n`)
  assert.ok(
    has(requested.warnings, 'records of aborted source transactions would be copied'),
    requested.warnings.join('\n')
  )
})

test('mm2: transaction.boundary poll/interval, connector refused, interval default and checks', () => {
  assert.equal(flowOf(mm2('A->B.transaction.boundary = Poll\n')).exactlyOnce.boundary, 'poll')
  const interval = flowOf(mm2('B.offset.flush.interval.ms = 9000\nA->B.transaction.boundary = interval\n')).exactlyOnce
  assert.deepEqual([interval.boundary, interval.intervalMs], ['interval', 9000])
  const set = flowOf(mm2('A->B.transaction.boundary = interval\nA->B.transaction.boundary.interval.ms = 0\n'))
  assert.equal(set.exactlyOnce.intervalMs, 0)
  assertConfigError(
    () => mm2('A->B.transaction.boundary = connector\n'),
    'mm2.properties:5 A->B.transaction.boundary: MirrorSourceConnector does not define transaction boundaries'
  )
  assertConfigError(
    () => mm2('A->B.transaction.boundary = batch\n'),
    'A->B.transaction.boundary: expected one of poll, interval, connector, got "batch"'
  )
  assertConfigError(
    () => mm2('A->B.transaction.boundary.interval.ms = -1\n'),
    'A->B.transaction.boundary.interval.ms: expected an integer number of milliseconds between 0 and'
  )
  const unused = mm2('A->B.transaction.boundary.interval.ms = 100\n')
  assert.ok(has(unused.infos, 'used only with transaction.boundary = interval (this flow uses poll)'))
  const long = mm2(
    `${ON}B.producer.transaction.timeout.ms = 30000\nA->B.transaction.boundary = interval\nA->B.transaction.boundary.interval.ms = 30000\n`
  )
  assert.equal(flowOf(long).exactlyOnce.transactionTimeoutMs, 30_000)
  assert.ok(has(long.warnings, 'the coordinator would abort every transaction'), long.warnings.join('\n'))
})

test('mm2: top-level connector keys are dropped with a warning, as MirrorMakerConfig drops them', () => {
  const loaded = mm2(
    'exactly.once.support = required\ntransaction.boundary = connector\ntransaction.boundary.interval.ms = 5\n'
  )
  assert.deepEqual(flowOf(loaded).exactlyOnce, {
    enabled: false,
    required: false,
    boundary: 'poll',
    intervalMs: 5000,
    transactionTimeoutMs: 60_000
  })
  for (const key of ['exactly.once.support', 'transaction.boundary', 'transaction.boundary.interval.ms'])
    assert.ok(has(loaded.warnings, ` ${key}: ignored at top level`, `set it per flow, e.g. A->B.${key}`), key)
})

test('mm2: the worker key counts only per target cluster', () => {
  const top = mm2('exactly.once.source.support = enabled\n')
  assert.equal(flowOf(top).exactlyOnce.enabled, false)
  assert.ok(has(top.warnings, 'exactly.once.source.support: ignored at top level', 'B.exactly.once.source.support'))
  const perFlow = mm2('A->B.exactly.once.source.support = enabled\n')
  assert.equal(flowOf(perFlow).exactlyOnce.enabled, false)
  assert.ok(
    has(perFlow.warnings, 'A->B.exactly.once.source.support: a Connect worker key, ignored in a connector config')
  )
  const perCluster = mm2('A.exactly.once.support = required\n')
  assert.equal(flowOf(perCluster).exactlyOnce.required, false)
  assert.ok(has(perCluster.warnings, 'A.exactly.once.support: connector keys are not read per cluster'))
})

test('mm2: values of the worker and connector keys are checked as Connect checks them', () => {
  assertConfigError(
    () => mm2('B.exactly.once.source.support = Enabled\n'),
    'mm2.properties:5 B.exactly.once.source.support: expected one of disabled, preparing, enabled (lower case), got "Enabled"'
  )
  const preparing = mm2('B.exactly.once.source.support = preparing\n')
  assert.equal(flowOf(preparing).exactlyOnce.enabled, false)
  assert.ok(has(preparing.infos, 'the same as disabled here'))
  assertConfigError(
    () => mm2(`${ON}A->B.exactly.once.support = enabled\n`),
    'A->B.exactly.once.support: expected requested or required, got "enabled" (enabled is a value of the worker key exactly.once.source.support'
  )
})

test('mm2: with the mode on, the target producer must use acks=all', () => {
  assertConfigError(() => mm2(`${ON}B.producer.acks = 1\n`), 'mm2.properties:6 B.producer.acks: expected all (or -1)')
  assertConfigError(
    () => mm2(`${ON}A->B.producer.override.acks = 0\n`),
    'A->B.producer.override.acks: expected all (or -1)'
  )
  assert.equal(flowOf(mm2(`${ON}B.producer.acks = -1\n`)).exactlyOnce.enabled, true)
  // Without the mode, acks=1 stays the at-least-once choice it is today.
  assert.equal(flowOf(mm2('B.producer.acks = 1\n')).exactlyOnce.enabled, false)
})

test('the flow digest changes with the exactly-once settings when the mode is on, so instances that disagree never share units', () => {
  const plain = flowDigest(flowOf(mm2('')))
  const on = flowDigest(flowOf(mm2(ON)))
  const interval = flowDigest(flowOf(mm2(`${ON}A->B.transaction.boundary = interval\n`)))
  assert.equal(plain, flowDigest(flowOf(mm2(''))))
  assert.notEqual(plain, on)
  assert.notEqual(on, interval)
  // Off, the settings change nothing a pair does: the digest stays the one of a config without them.
  assert.equal(plain, flowDigest(flowOf(mm2('A->B.transaction.boundary = interval\n'))))
})

function withTargetConfig(config: string, mirror?: string): string {
  // strimziV1 has no hook for the target's config: splice it in after statusStorageTopic.
  const yaml = strimziV1(mirror === undefined ? {} : { mirror })
  return yaml.replace('    statusStorageTopic: s\n', `    statusStorageTopic: s\n    config:\n${config}`)
}

test('strimzi: the target config enables the mode; the source connector config carries the connector keys', () => {
  const on = strimzi(withTargetConfig('      exactly.once.source.support: enabled\n'))
  assert.equal(flowOf(on, 'a->b').exactlyOnce.enabled, true)
  assert.deepEqual(on.warnings, [])
  assert.match(describeConfig(on.config), /transactional ids g-a->b\.MirrorSourceConnector-0$/m)

  const required = strimzi(
    withTargetConfig(
      '      exactly.once.source.support: enabled\n',
      '    sourceConnector:\n      config:\n        exactly.once.support: required\n        consumer.isolation.level: read_committed\n        transaction.boundary: interval\n        transaction.boundary.interval.ms: 2500\n'
    )
  )
  const f = flowOf(required, 'a->b')
  assert.deepEqual(f.exactlyOnce, {
    enabled: true,
    required: true,
    boundary: 'interval',
    intervalMs: 2500,
    transactionTimeoutMs: 60_000
  })
  assert.deepEqual(required.warnings, [])
  assert.match(
    describeConfig(required.config),
    /exactly-once: on \(enabled on b's worker, required\): a transaction every 2500 ms \(transaction\.boundary interval\), transaction\.timeout\.ms 60000, transactional ids g-a->b\.MirrorSourceConnector-0$/m
  )
})

test('strimzi: connector refused, required without the worker refused, keys of other connectors not applied', () => {
  assertConfigError(
    () =>
      strimzi(strimziV1({ mirror: '    sourceConnector:\n      config:\n        transaction.boundary: connector\n' })),
    'transaction.boundary: MirrorSourceConnector does not define transaction boundaries'
  )
  assertConfigError(
    () =>
      strimzi(strimziV1({ mirror: '    sourceConnector:\n      config:\n        exactly.once.support: required\n' })),
    'set exactly.once.source.support: enabled in the config of target cluster b'
  )
  const other = strimzi(
    strimziV1({
      mirror:
        '    sourceConnector: {}\n    checkpointConnector:\n      config:\n        transaction.boundary: connector\n'
    })
  )
  assert.equal(flowOf(other, 'a->b').exactlyOnce.boundary, 'poll')
  assert.ok(has(other.warnings, "only the sourceConnector's transaction.boundary shapes how records are copied"))
})

test('strimzi: the worker key on a source cluster has no effect, and says so', () => {
  const loaded = strimzi(strimziV1({ source: '      config:\n        exactly.once.source.support: enabled\n' }))
  assert.equal(flowOf(loaded, 'a->b').exactlyOnce.enabled, false)
  assert.ok(
    has(loaded.warnings, 'has no effect on a source cluster', 'config of target cluster b'),
    loaded.warnings.join('\n')
  )
})

test('strimzi (old layout): the connectCluster config is the worker config', () => {
  const yaml = `apiVersion: kafka.strimzi.io/v1beta2
kind: KafkaMirrorMaker2
metadata:
  name: mm
spec:
  connectCluster: b
  clusters:
  - alias: a
    bootstrapServers: a:9092
  - alias: b
    bootstrapServers: b:9092
    config:
      exactly.once.source.support: enabled
  mirrors:
  - sourceCluster: a
    targetCluster: b
    sourceConnector: {}
`
  const loaded = strimzi(yaml)
  assert.equal(flowOf(loaded, 'a->b').exactlyOnce.enabled, true)
  assert.match(describeConfig(loaded.config), /transactional ids mirrormaker2-cluster-a->b\.MirrorSourceConnector-0$/m)
})

test('the binary: validate --offline accepts required (exit 0) and prints the mode and the transactional ids', () => {
  const bin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'kafka-mirror.js')
  const dir = mkdtempSync(join(tmpdir(), 'km-eos-'))
  const file = join(dir, 'mm2.properties')
  writeFileSync(
    file,
    'clusters = A, B\nA.bootstrap.servers = 127.0.0.1:1\nB.bootstrap.servers = 127.0.0.1:2\nA->B.enabled = true\n' +
      `${ON}${COMMITTED}A->B.exactly.once.support = required\nA->B.tasks.max = 2\n`
  )
  const r = spawnSync(process.execPath, [bin, 'validate', '--offline', '--config', file], {
    encoding: 'utf8',
    timeout: 60_000
  })
  assert.equal(r.status, 0, r.stderr)
  assert.match(
    r.stdout,
    /exactly-once: on \(enabled on B's worker, required\): a transaction whenever nothing more is ready to send \(transaction\.boundary poll\), transaction\.timeout\.ms 60000, transactional ids A-mm2-MirrorSourceConnector-0 \.\. A-mm2-MirrorSourceConnector-1$/m
  )
  assert.doesNotMatch(r.stdout + r.stderr, /not built/i)
})
