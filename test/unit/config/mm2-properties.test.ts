import { test } from 'node:test'
import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import { loadMm2Properties } from '../../../src/config/mm2-properties.ts'
import type { FlowConfig } from '../../../src/config/model.ts'
import { DEFAULT_CONFIG_PROPERTIES_EXCLUDE } from '../../../src/policy/filters.ts'
import { Secret, reveal } from '../../../src/util/secret.ts'
import { assertConfigError } from './config-fixture.ts'

const BASE = 'clusters = A, B\nA.bootstrap.servers = a:9092\nB.bootstrap.servers = b:9092\nA->B.enabled = true\n'

function load(text: string, env: NodeJS.ProcessEnv = {}): ReturnType<typeof loadMm2Properties> {
  return loadMm2Properties(text, { file: 'mm2.properties', env })
}

function flow(text: string, name = 'A->B'): FlowConfig {
  const f = load(BASE + text).config.flows.find(x => x.name === name)
  assert.ok(f, `flow ${name}`)
  return f
}

test('mm2: defaults of a plain enabled flow', () => {
  const f = flow('')
  assert.equal(f.enabled, true)
  assert.deepEqual(f.topics, ['.*'])
  assert.deepEqual(f.topicsExclude, ['mm2.*\\.internal', '.*\\.replica', '__.*'])
  assert.deepEqual(f.groups, ['.*'])
  assert.deepEqual(f.groupsExclude, ['console-consumer-.*', 'connect-.*', '__.*'])
  assert.deepEqual(f.configPropertiesExclude, DEFAULT_CONFIG_PROPERTIES_EXCLUDE)
  assert.equal(f.replicationPolicy.kind, 'default')
  assert.equal(f.replicationPolicy.separator, '.')
  assert.equal(f.replicationFactor, 2)
  assert.deepEqual(f.refreshTopics, { enabled: true, intervalMs: 5000, explicit: false })
  assert.deepEqual(f.refreshGroups, { enabled: true, intervalMs: 5000, explicit: false })
  assert.deepEqual(f.syncTopicConfigs, { enabled: true, intervalMs: 600_000, explicit: false })
  assert.deepEqual(f.syncTopicAcls, { enabled: true, intervalMs: 600_000, explicit: false })
  assert.deepEqual(f.emitCheckpoints, { enabled: true, intervalMs: 5000, explicit: false })
  assert.deepEqual(f.syncGroupOffsets, { enabled: false, intervalMs: 5000, explicit: false })
  assert.deepEqual(f.emitHeartbeats, { enabled: true, intervalMs: 1000, explicit: false })
  assert.deepEqual(f.offsetSyncs, { enabled: true, location: 'source', replicationFactor: 3 })
  assert.equal(f.offsetLagMax, 100)
  assert.equal(f.tasksMax, 1)
  assert.equal(f.offsetFlushIntervalMs, 5000)
  assert.equal(f.adminTimeoutMs, 60_000)
  assert.equal(f.checkpointsReplicationFactor, 3)
  assert.equal(f.heartbeatsReplicationFactor, 3)
  assert.equal(f.heartbeatsReplicationEnabled, true)
  assert.equal(f.useDefaultsFrom, 'target')
  assert.deepEqual(f.naming, {
    style: 'dedicated',
    offsetsTopic: 'mm2-offsets.A.internal',
    workerGroupId: 'A-mm2',
    sourceConnectorName: 'MirrorSourceConnector',
    checkpointConnectorName: 'MirrorCheckpointConnector',
    heartbeatConnectorName: 'MirrorHeartbeatConnector'
  })
})

// [key lines, accessor, expected]
const keyCases: Array<[string, (f: FlowConfig) => unknown, unknown]> = [
  ['A->B.topics = foo.*, bar', f => f.topics, ['foo.*', 'bar']],
  ['A->B.topics =', f => f.topics, []],
  ['A->B.topics = a*+b', f => f.topics, ['a*+b']],
  ['A->B.topics.exclude = x.*', f => f.topicsExclude, ['x.*']],
  ['A->B.topics.blacklist = y.*', f => f.topicsExclude, ['y.*']],
  ['A->B.groups = g1', f => f.groups, ['g1']],
  ['A->B.groups.exclude = g2', f => f.groupsExclude, ['g2']],
  ['topics = top.*', f => f.topics, ['top.*']],
  ['topics = top.*\nA->B.topics = flow.*', f => f.topics, ['flow.*']],
  [
    'replication.policy.class = org.apache.kafka.connect.mirror.IdentityReplicationPolicy',
    f => f.replicationPolicy.kind,
    'identity'
  ],
  ['replication.policy.class = IdentityReplicationPolicy', f => f.replicationPolicy.kind, 'identity'],
  ['A->B.replication.policy.class = DefaultReplicationPolicy', f => f.replicationPolicy.kind, 'default'],
  ['replication.policy.separator = _', f => f.replicationPolicy.separator, '_'],
  [
    'replication.policy.internal.topic.separator.enabled = false',
    f => f.replicationPolicy.internalTopicSeparatorEnabled,
    false
  ],
  ['replication.factor = -1', f => f.replicationFactor, -1],
  ['A->B.replication.factor = 3', f => f.replicationFactor, 3],
  [
    'refresh.topics.interval.seconds = 600',
    f => f.refreshTopics,
    { enabled: true, intervalMs: 600_000, explicit: true }
  ],
  ['A->B.refresh.topics.enabled = false', f => f.refreshTopics.enabled, false],
  ['A->B.refresh.topics.interval.seconds = -1', f => f.refreshTopics.enabled, false],
  ['refresh.groups.interval.seconds = 10', f => f.refreshGroups, { enabled: true, intervalMs: 10_000, explicit: true }],
  ['refresh.groups.enabled = FALSE', f => f.refreshGroups.enabled, false],
  ['sync.topic.configs.enabled = false', f => f.syncTopicConfigs.enabled, false],
  ['sync.topic.configs.interval.seconds = 30', f => f.syncTopicConfigs.intervalMs, 30_000],
  ['sync.topic.acls.enabled = false', f => f.syncTopicAcls.enabled, false],
  ['sync.topic.acls.interval.seconds = 45', f => f.syncTopicAcls.intervalMs, 45_000],
  ['config.properties.exclude = retention\\\\.ms', f => f.configPropertiesExclude, ['retention\\.ms']],
  ['A->B.use.defaults.from = source', f => f.useDefaultsFrom, 'source'],
  ['offset-syncs.topic.location = target', f => f.offsetSyncs.location, 'target'],
  ['offset-syncs.topic.replication.factor = 1', f => f.offsetSyncs.replicationFactor, 1],
  ['emit.offset-syncs.enabled = false', f => f.offsetSyncs.enabled, false],
  ['offset.lag.max = 0', f => f.offsetLagMax, 0],
  ['tasks.max = 8', f => f.tasksMax, 8],
  ['emit.checkpoints.enabled = false', f => f.emitCheckpoints.enabled, false],
  [
    'emit.checkpoints.interval.seconds = 5',
    f => f.emitCheckpoints,
    { enabled: true, intervalMs: 5000, explicit: true }
  ],
  ['checkpoints.topic.replication.factor = 1', f => f.checkpointsReplicationFactor, 1],
  ['sync.group.offsets.enabled = true', f => f.syncGroupOffsets, { enabled: true, intervalMs: 5000, explicit: false }],
  ['sync.group.offsets.interval.seconds = 20', f => f.syncGroupOffsets.intervalMs, 20_000],
  ['emit.heartbeats.interval.seconds = 2', f => f.emitHeartbeats.intervalMs, 2000],
  ['A->B.emit.heartbeats.enabled = false', f => f.emitHeartbeats.enabled, false],
  ['heartbeats.topic.replication.factor = 1', f => f.heartbeatsReplicationFactor, 1],
  ['heartbeats.replication.enabled = false', f => f.heartbeatsReplicationEnabled, false],
  ['admin.timeout.ms = 1000', f => f.adminTimeoutMs, 1000],
  ['B.offset.flush.interval.ms = 250', f => f.offsetFlushIntervalMs, 250],
  ['B.offset.storage.topic = my-offsets', f => f.naming.offsetsTopic, 'my-offsets'],
  ['offset.storage.topic = top-offsets\nB.offset.storage.topic = b-offsets', f => f.naming.offsetsTopic, 'top-offsets'],
  ['B.group.id = my-group', f => f.naming.workerGroupId, 'my-group'],
  [
    'B.session.timeout.ms = 20000\nB.heartbeat.interval.ms = 2000\nB.rebalance.timeout.ms = 90000',
    f => f.group,
    { sessionTimeoutMs: 20_000, heartbeatIntervalMs: 2000, rebalanceTimeoutMs: 90_000 }
  ],
  ['', f => f.group, { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000, rebalanceTimeoutMs: 60_000 }],
  ['A->B.consumer.poll.timeout.ms = 10', f => f.extra, { 'consumer.poll.timeout.ms': '10' }],
  ['A->B.transforms = x', f => f.extra, { transforms: 'x' }]
]

for (const [lines, get, want] of keyCases) {
  test(`mm2 key: ${lines.replace(/\n/g, ' / ')}`, () => {
    assert.deepEqual(get(flow(lines + '\n')), want)
  })
}

// Which herders (flows) exist, as [name, enabled, emits heartbeats].
const herderCases: Array<[string, string, Array<[string, boolean, boolean]>]> = [
  [
    'heartbeat-only reverse flows exist, disabled',
    BASE,
    [
      ['A->B', true, true],
      ['B->A', false, true]
    ]
  ],
  [
    'A->B.enabled is case-insensitive "true"',
    BASE.replace('A->B.enabled = true', 'A->B.enabled = TRUE'),
    [
      ['A->B', true, true],
      ['B->A', false, true]
    ]
  ],
  [
    'no heartbeat-only flows when heartbeats are off',
    BASE + 'emit.heartbeats.enabled = false\n',
    [['A->B', true, false]]
  ],
  ['heartbeats off for one flow', BASE + 'B->A.emit.heartbeats.enabled = false\n', [['A->B', true, true]]],
  [
    'top-level enabled = true reaches every herder like Java',
    BASE.replace('A->B.enabled = true', 'enabled = true'),
    [
      ['A->B', true, true],
      ['B->A', true, true]
    ]
  ],
  [
    'three clusters give six herders by default',
    'clusters = A, B, C\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\nC.bootstrap.servers = c:1\nA->B.enabled = true\n',
    [
      ['A->B', true, true],
      ['A->C', false, true],
      ['B->A', false, true],
      ['B->C', false, true],
      ['C->A', false, true],
      ['C->B', false, true]
    ]
  ]
]

for (const [name, text, want] of herderCases) {
  test(`mm2 herders: ${name}`, () => {
    assert.deepEqual(
      load(text).config.flows.map(f => [f.name, f.enabled, f.emitHeartbeats.enabled]),
      want
    )
  })
}

test('mm2: client precedence A.consumer.k > A.k > top-level k, and flow-level overrides', () => {
  const f = flow(
    [
      'security.protocol = SASL_SSL',
      'ssl.truststore.location = /top',
      'A.ssl.truststore.location = /a',
      'A.consumer.ssl.truststore.location = /a-consumer',
      'A.consumer.max.poll.records = 7',
      'A->B.consumer.max.poll.records = 9',
      'A->B.consumer.fetch.min.bytes = 3',
      'B.producer.linger.ms = 5',
      'A->B.producer.override.linger.ms = 50',
      'A->B.admin.request.timeout.ms = 77',
      'A->B.source.admin.request.timeout.ms = 88',
      'A.consumer.enable.auto.commit = true',
      'A.consumer.auto.offset.reset = latest'
    ].join('\n')
  )
  const sc = f.clients.sourceConsumer.props
  assert.equal(sc['ssl.truststore.location'], '/a-consumer')
  assert.equal(sc['security.protocol'], 'SASL_SSL')
  assert.equal(sc['max.poll.records'], '7', 'source.consumer.* (from A.consumer.*) wins over flow-level consumer.*')
  assert.equal(sc['fetch.min.bytes'], '3')
  assert.equal(sc['enable.auto.commit'], 'false', 'forced')
  assert.equal(sc['auto.offset.reset'], 'latest', 'only defaulted')
  assert.equal(sc['bootstrap.servers'], 'a:9092')
  assert.equal(f.clients.sourceAdmin.props['ssl.truststore.location'], '/a')
  assert.equal(f.clients.sourceAdmin.props['request.timeout.ms'], '88')
  assert.equal(f.clients.targetAdmin.props['request.timeout.ms'], '77')
  assert.equal(f.clients.targetProducer.props['ssl.truststore.location'], '/top')
  assert.equal(
    f.clients.targetProducer.props['linger.ms'],
    '50',
    'producer.override.* wins for the data-plane producer'
  )
  assert.equal(f.clients.targetConsumer.props['auto.offset.reset'], 'earliest')
  assert.deepEqual(f.clients.sourceConsumer.bootstrapServers, ['a:9092'])
  assert.equal(f.clients.targetProducer.cluster, 'B')
})

test('mm2: connection keys of clusters include inherited top-level keys', () => {
  const c = load(BASE + 'security.protocol = SSL\nB.security.protocol = PLAINTEXT\n').config.clusters
  assert.equal(c.get('A')?.connection['security.protocol'], 'SSL')
  assert.equal(c.get('B')?.connection['security.protocol'], 'PLAINTEXT')
  assert.deepEqual(c.get('A')?.bootstrapServers, ['a:9092'])
})

test('mm2: aliases with dots and dashes', () => {
  const c = load(
    'clusters = us.east, eu-west\nus.east.bootstrap.servers = a:1\neu-west.bootstrap.servers = b:1\nus.east->eu-west.enabled = true\nus.east->eu-west.topics = t\n'
  )
  assert.deepEqual(c.config.flows[0]?.topics, ['t'])
})

const errorCases: Array<[string, string, string]> = [
  ['no clusters', 'A.bootstrap.servers = a:1\n', 'mm2.properties clusters: required key is missing'],
  [
    'bad integer seconds',
    BASE + 'A->B.refresh.topics.interval.seconds = ten\n',
    'mm2.properties:5 A->B.refresh.topics.interval.seconds: expected an integer number of seconds, got "ten"'
  ],
  [
    'zero seconds',
    BASE + 'emit.heartbeats.interval.seconds = 0\n',
    'mm2.properties:5 emit.heartbeats.interval.seconds: expected a positive number of seconds (or -1 to disable), got "0"'
  ],
  [
    'bad boolean',
    BASE + 'sync.topic.acls.enabled = yes\n',
    'mm2.properties:5 sync.topic.acls.enabled: expected true or false, got "yes"'
  ],
  [
    'bad flow enabled',
    BASE.replace('A->B.enabled = true', 'A->B.enabled = yes'),
    'mm2.properties:4 A->B.enabled: expected true or false, got "yes"'
  ],
  [
    'bad integer',
    BASE + 'tasks.max = 1.5\n',
    'mm2.properties:5 tasks.max: expected an integer number of tasks, got "1.5"'
  ],
  [
    'tasks.max 0',
    BASE + 'tasks.max = 0\n',
    'mm2.properties:5 tasks.max: expected an integer number of tasks between 1 and 2147483647, got "0"'
  ],
  [
    'rf 0',
    BASE + 'replication.factor = 0\n',
    'mm2.properties:5 replication.factor: expected a replication factor (-1 for the broker default, or at least 1), got "0"'
  ],
  [
    'unknown alias source',
    BASE + 'C->B.enabled = true\n',
    'mm2.properties:5 C->B.enabled: unknown cluster alias "C" (clusters = A, B)'
  ],
  ['unknown alias target', BASE + 'A->Bee.topics = x\n', 'mm2.properties:5 A->Bee.topics: unknown cluster alias "Bee"'],
  [
    'missing bootstrap',
    'clusters = A, B\nA.bootstrap.servers = a:1\nA->B.enabled = true\n',
    'mm2.properties B.bootstrap.servers: required for cluster "B"'
  ],
  [
    'bad bootstrap',
    BASE.replace('a:9092', 'a-no-port'),
    'mm2.properties:2 A.bootstrap.servers: expected host:port entries'
  ],
  [
    'custom policy',
    BASE + 'replication.policy.class = com.acme.MyPolicy\n',
    'mm2.properties:5 replication.policy.class: expected org.apache.kafka.connect.mirror.DefaultReplicationPolicy or org.apache.kafka.connect.mirror.IdentityReplicationPolicy (kafka-mirror cannot load custom replication policies), got "com.acme.MyPolicy"'
  ],
  [
    'bad location',
    BASE + 'offset-syncs.topic.location = middle\n',
    'mm2.properties:5 offset-syncs.topic.location: expected one of source, target, got "middle"'
  ],
  [
    'invalid regex',
    BASE + 'A->B.topics = (abc\n',
    'mm2.properties:5 A->B.topics: invalid pattern list: regular expression "(abc" has an unclosed group'
  ],
  [
    'untranslatable regex',
    BASE + 'A->B.topics = ok.*, [a-z&&[^b]]\n',
    'mm2.properties:5 A->B.topics: invalid pattern list: regular expression "[a-z&&[^b]]" uses a character class intersection'
  ],
  ['no flows', 'clusters = A\nA.bootstrap.servers = a:1\n', 'mm2.properties: no source->target replication flows'],
  [
    'bad ms',
    BASE + 'B.offset.flush.interval.ms = soon\n',
    'mm2.properties:5 B.offset.flush.interval.ms: expected an integer number of milliseconds, got "soon"'
  ],
  [
    'unknown provider',
    BASE + 'A.ssl.truststore.password = ${vault:x:y}\n',
    'mm2.properties:5 A.ssl.truststore.password: cannot resolve ${vault:x:y}: unknown config provider "vault"'
  ],
  [
    'missing env',
    BASE + 'A.sasl.jaas.config = ${env:NOPE_NOT_SET}\n',
    'mm2.properties:5 A.sasl.jaas.config: cannot resolve ${env:NOPE_NOT_SET}: environment variable NOPE_NOT_SET is not set'
  ]
]

for (const [name, text, want] of errorCases) {
  test(`mm2 error: ${name}`, () => {
    assertConfigError(() => load(text), want)
  })
}

const warningCases: Array<[string, string]> = [
  ['A->B.topicz = x', 'mm2.properties:5 A->B.topicz: unknown key (did you mean "topics"?)'],
  [
    'refresh.topic.interval.seconds = 5',
    'mm2.properties:5 refresh.topic.interval.seconds: unknown key (did you mean "refresh.topics.interval.seconds"?)'
  ],
  ['use.defaults.from = source', 'mm2.properties:5 use.defaults.from: ignored at top level'],
  [
    'offset.flush.interval.ms = 100',
    'mm2.properties:5 offset.flush.interval.ms: ignored at top level (MM2 only copies'
  ],
  ['consumer.max.poll.records = 5', 'mm2.properties:5 consumer.max.poll.records: ignored at top level by MM2'],
  ['A.topics = x', 'mm2.properties:5 A.topics: connector keys are not read per cluster'],
  ['A.bootstrap.server = x:1', 'mm2.properties:5 A.bootstrap.server: unknown key (did you mean "bootstrap.servers"?)'],
  ['A->B.security.protocol = SSL', 'mm2.properties:5 A->B.security.protocol: has no effect in a connector config'],
  ['A->A.enabled = true', 'mm2.properties:5 A->A.enabled: a cluster cannot replicate to itself'],
  ['replication.policy.class = DefaultReplicationPolicy', 'Java MM2 needs the full class name'],
  [
    'A->B.topics.blacklist = x',
    'mm2.properties:5 A->B.topics.blacklist: deprecated and removed in Kafka 4.0; use topics.exclude'
  ],
  ['A->B.use.defaults.from = sorce', 'mm2.properties:5 A->B.use.defaults.from: expected source or target, got "sorce"'],
  ['topics = café', 'mm2.properties:5: non-ASCII characters on line(s) 5']
]

for (const [line, want] of warningCases) {
  test(`mm2 warning: ${line}`, () => {
    const w = load(BASE + line + '\n').warnings
    assert.ok(
      w.some(x => x.includes(want)),
      `${JSON.stringify(w)}\n  should include\n${want}`
    )
  })
}

test('mm2: no warnings for a clean config', () => {
  assert.deepEqual(load(BASE + 'A->B.topics = x\nreplication.factor = 1\nA.security.protocol = SSL\n').warnings, [])
})

test('mm2: sensitive values and resolved references become Secrets and never print', () => {
  const env = { KM_PW: 'TopSecretEnv42' }
  const c = load(
    BASE +
      [
        'A.ssl.truststore.password = TopSecretLiteral42',
        'A.sasl.jaas.config = ${env:KM_PW}',
        'A->B.topics = ${env:KM_TOPICS}'
      ].join('\n'),
    { ...env, KM_TOPICS: 'orders.*' }
  ).config
  const a = c.clusters.get('A')
  assert.ok(a?.connection['ssl.truststore.password'] instanceof Secret)
  assert.ok(a?.connection['sasl.jaas.config'] instanceof Secret)
  assert.equal(reveal(a?.connection['sasl.jaas.config'] ?? ''), 'TopSecretEnv42')
  const text = inspect(c, { depth: 20 }) + JSON.stringify(c.flows)
  assert.ok(!text.includes('TopSecret'))
  assert.equal(c.flows[0]?.topics[0], 'orders.*', 'patterns are parsed from the revealed value')
})

test('mm2: errors never show a secret value', () => {
  assert.throws(
    () => load(BASE + 'A->B.tasks.max = ${env:KM_PW}\n', { KM_PW: 'TopSecretEnv42' }),
    (err: Error) => {
      assert.ok(!err.message.includes('TopSecret'))
      assert.match(
        err.message,
        /mm2\.properties:5 A->B\.tasks\.max: expected an integer number of tasks, got "\[redacted\]"/
      )
      return true
    }
  )
})

test('mm2: ${file:...} with a declared provider name', () => {
  const c = load(
    BASE +
      'config.providers = secrets\nconfig.providers.secrets.class = org.apache.kafka.common.config.provider.FileConfigProvider\nA.ssl.key.password = ${secrets:test/fixtures/config/provided.properties:pw.key}\n'
  ).config
  assert.equal(reveal(c.clusters.get('A')?.connection['ssl.key.password'] ?? ''), 'TopSecretFromFile42')
})
