import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { inspect } from 'node:util'
import { loadStrimzi } from '../../../src/config/strimzi.ts'
import { Secret, reveal } from '../../../src/util/secret.ts'
import { assertConfigError, strimziV1 as v1 } from './config-fixture.ts'

const SECRETS = 'test/fixtures/config/secrets'

function load(text: string, secretsDir: string | undefined = SECRETS): ReturnType<typeof loadStrimzi> {
  return loadStrimzi(text, { file: 'mm2.yaml', env: {}, secretsDir })
}

test('strimzi: the user v1alpha1 CR loads with PEM trust and Strimzi names', () => {
  const { config, warnings, infos } = load(readFileSync('examples/strimzi-v1alpha1.yaml', 'utf8'), 'examples/secrets')
  assert.deepEqual(warnings, [])
  assert.equal(infos.length, 1)
  assert.match(infos[0] ?? '', /ignoring Kubernetes-only fields: version/)
  assert.deepEqual(config.origin, {
    file: 'mm2.yaml',
    format: 'strimzi',
    apiVersion: 'kafka.strimzi.io/v1alpha1',
    name: 'my-mirror-maker2'
  })
  assert.deepEqual([...config.clusters.keys()], ['my-cluster-target', 'my-cluster-source'])
  const src = config.clusters.get('my-cluster-source')
  assert.deepEqual(src?.bootstrapServers, [
    'my-cluster-source-kafka-bootstrap-amqstreams.apps.ocpcluster1.domain.com:443'
  ])
  assert.equal(src?.connection['security.protocol'], 'SSL')
  assert.equal(src?.connection['ssl.truststore.type'], 'PEM')
  assert.equal(
    reveal(src?.connection['ssl.truststore.certificates'] ?? ''),
    readFileSync('examples/secrets/my-cluster-source-cluster-ca-cert/ca.crt', 'utf8').trim()
  )
  assert.equal(config.flows.length, 1, 'no heartbeat-only reverse flow for Strimzi')
  const f = config.flows[0]
  assert.equal(f?.name, 'my-cluster-source->my-cluster-target')
  assert.equal(f?.enabled, true)
  assert.equal(f?.emitCheckpoints.enabled, false)
  assert.equal(f?.emitHeartbeats.enabled, false)
  assert.deepEqual(f?.naming, {
    style: 'strimzi',
    offsetsTopic: 'mirrormaker2-cluster-offsets',
    workerGroupId: 'mirrormaker2-cluster',
    sourceConnectorName: 'my-cluster-source->my-cluster-target.MirrorSourceConnector',
    checkpointConnectorName: 'my-cluster-source->my-cluster-target.MirrorCheckpointConnector',
    heartbeatConnectorName: 'my-cluster-source->my-cluster-target.MirrorHeartbeatConnector'
  })
  assert.equal(f?.clients.sourceConsumer.props['ssl.truststore.type'], 'PEM')
  assert.equal(
    f?.clients.sourceConsumer.props['bootstrap.servers'],
    'my-cluster-source-kafka-bootstrap-amqstreams.apps.ocpcluster1.domain.com:443'
  )
  assert.equal(f?.clients.targetProducer.props['security.protocol'], 'SSL')
})

test('strimzi: v1beta2 old layout with connector configs and pattern trust', () => {
  const { config } = load(readFileSync('examples/strimzi-v1beta2.yaml', 'utf8'), 'examples/secrets')
  const f = config.flows[0]
  assert.equal(f?.tasksMax, 2)
  assert.equal(f?.replicationFactor, -1)
  assert.equal(f?.offsetSyncs.replicationFactor, -1)
  assert.equal(f?.syncTopicAcls.enabled, false)
  assert.equal(f?.checkpointsReplicationFactor, -1)
  assert.deepEqual(f?.syncGroupOffsets, { enabled: true, intervalMs: 5000, explicit: false })
  assert.deepEqual(f?.emitCheckpoints, { enabled: true, intervalMs: 30_000, explicit: true })
})

test('strimzi: v1beta2 0.49+ layout (target + mirrors[].source)', () => {
  const text = v1().replace('kafka.strimzi.io/v1\n', 'kafka.strimzi.io/v1beta2\n')
  const { config } = load(text)
  assert.equal(config.flows[0]?.name, 'a->b')
  assert.equal(config.flows[0]?.naming.offsetsTopic, 'o')
  assert.equal(config.flows[0]?.naming.workerGroupId, 'g')
})

test('strimzi: v1 example', () => {
  const { config } = load(readFileSync('examples/strimzi-v1.yaml', 'utf8'), 'examples/secrets')
  const f = config.flows[0]
  assert.equal(f?.offsetSyncs.location, 'target')
  assert.deepEqual(f?.refreshTopics, { enabled: true, intervalMs: 600_000, explicit: true })
  assert.equal(f?.naming.offsetsTopic, '__my-mirror-maker2-offset')
  assert.equal(f?.emitCheckpoints.enabled, true)
})

test('strimzi: old layout connect cluster config gives state names', () => {
  const text = `apiVersion: kafka.strimzi.io/v1beta2
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
      group.id: my-group
      offset.storage.topic: my-offsets
      offset.flush.interval.ms: 1000
      producer.linger.ms: 20
  mirrors:
  - sourceCluster: a
    targetCluster: b
    sourceConnector:
      config:
        producer.override.batch.size: 1000
    heartbeatConnector: {}
    topicsBlacklistPattern: "x.*"
`
  const { config, warnings } = load(text)
  const f = config.flows[0]
  assert.equal(f?.naming.workerGroupId, 'my-group')
  assert.equal(f?.naming.offsetsTopic, 'my-offsets')
  assert.equal(f?.offsetFlushIntervalMs, 1000)
  assert.equal(f?.clients.targetProducer.props['linger.ms'], '20')
  assert.equal(f?.clients.targetProducer.props['batch.size'], '1000')
  assert.equal(f?.clients.sourceConsumer.props['security.protocol'], 'PLAINTEXT')
  assert.equal(f?.emitHeartbeats.enabled, true)
  assert.deepEqual(f?.topicsExclude, ['x.*'])
  assert.ok(warnings.some(w => w.includes('topicsBlacklistPattern: deprecated; use topicsExcludePattern')))
})

test('strimzi: checkpoint-only mirror runs no records but checkpoints', () => {
  const f = load(v1({ mirror: '    checkpointConnector: {}\n' })).config.flows[0]
  assert.equal(f?.enabled, false)
  assert.equal(f?.emitCheckpoints.enabled, true)
})

test('strimzi: paused source connector is not run', () => {
  const r = load(v1({ mirror: '    sourceConnector:\n      state: paused\n' }))
  assert.equal(r.config.flows[0]?.enabled, false)
  assert.ok(r.infos.some(i => i.includes('sourceConnector is paused')))
})

const authCases: Array<[string, string, Record<string, unknown>]> = [
  [
    'tls client auth',
    '      tls: {}\n      authentication:\n        type: tls\n        certificateAndKey:\n          secretName: user-secret\n          certificate: user.crt\n          key: user.key\n',
    { 'security.protocol': 'SSL', 'ssl.keystore.type': 'PEM' }
  ],
  [
    'scram-sha-512',
    '      tls:\n        trustedCertificates:\n        - secretName: cluster-ca\n          certificate: ca.crt\n      authentication:\n        type: scram-sha-512\n        username: alice\n        passwordSecret:\n          secretName: scram-user\n          password: password\n',
    { 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'SCRAM-SHA-512' }
  ],
  [
    'scram-sha-256 plaintext',
    '      authentication:\n        type: scram-sha-256\n        username: alice\n        passwordSecret:\n          secretName: scram-user\n          password: password\n',
    { 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'SCRAM-SHA-256' }
  ],
  [
    'plain',
    '      authentication:\n        type: plain\n        username: alice\n        passwordSecret:\n          secretName: scram-user\n          password: password\n',
    { 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'PLAIN' }
  ],
  [
    'custom',
    '      tls: {}\n      authentication:\n        type: custom\n        sasl: true\n        config:\n          sasl.mechanism: AWS_MSK_IAM\n          sasl.jaas.config: software.amazon.msk.auth.iam.IAMLoginModule required;\n',
    { 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'AWS_MSK_IAM' }
  ]
]

for (const [name, source, want] of authCases) {
  test(`strimzi auth: ${name}`, () => {
    const { config } = load(v1({ source }))
    const conn = config.clusters.get('a')?.connection ?? {}
    for (const [k, v] of Object.entries(want)) assert.equal(conn[k], v, k)
    const text = inspect(config, { depth: 30 }) + JSON.stringify(config.flows)
    assert.ok(!text.includes('TopSecret'), 'no secret in inspect/JSON output')
    assert.ok(!text.includes('PRIVATE KEY'), 'no private key in inspect/JSON output')
  })
}

test('strimzi auth: JAAS line carries the password as a Secret', () => {
  const { config } = load(v1({ source: authCases[2]?.[1] ?? '' }))
  const jaas = config.clusters.get('a')?.connection['sasl.jaas.config']
  assert.ok(jaas instanceof Secret)
  assert.equal(
    reveal(jaas),
    'org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="TopSecretScram42";'
  )
  assert.equal(config.flows[0]?.clients.sourceConsumer.props['sasl.jaas.config'], jaas)
})

test('strimzi auth: oauth (v1beta2) maps to OAUTHBEARER with a client-credentials JAAS line', () => {
  const text = v1({
    source:
      '      tls: {}\n      authentication:\n        type: oauth\n        clientId: mirror\n        tokenEndpointUri: https://sso/token\n        clientSecret:\n          secretName: oauth-client\n          key: secret\n'
  }).replace('kafka.strimzi.io/v1\n', 'kafka.strimzi.io/v1beta2\n')
  const conn = load(text).config.clusters.get('a')?.connection ?? {}
  assert.equal(conn['sasl.mechanism'], 'OAUTHBEARER')
  assert.equal(conn['sasl.oauthbearer.token.endpoint.url'], 'https://sso/token')
  assert.match(
    reveal(conn['sasl.jaas.config'] ?? ''),
    /OAuthBearerLoginModule required clientId="mirror" clientSecret="TopSecretOauth42";/
  )
})

test('strimzi: trusted certificates by pattern are sorted and concatenated; namespace dir tried first', () => {
  const conn =
    load(
      v1({
        source:
          '      tls:\n        trustedCertificates:\n        - secretName: cluster-ca\n          pattern: "*.crt"\n'
      })
    ).config.clusters.get('a')?.connection ?? {}
  const pem = reveal(conn['ssl.truststore.certificates'] ?? '')
  assert.equal(pem.match(/BEGIN CERTIFICATE/g)?.length, 2)
  const ns = v1({ source: authCases[0]?.[1] ?? '' }).replace('  name: mm\n', '  name: mm\n  namespace: ns1\n')
  assert.ok(load(ns).config.clusters.get('a')?.connection['ssl.keystore.key'] instanceof Secret)
})

test('strimzi: connector config keys, source/checkpoint disagreement warning, unknown key warning', () => {
  const mirror = `    sourceConnector:
      tasksMax: 3
      config:
        replication.policy.class: org.apache.kafka.connect.mirror.IdentityReplicationPolicy
        refresh.topics.interval.seconds: 60
        sync.group.offsets.enabled: true
        tasks.max: 9
        replicaton.factor: 1
    checkpointConnector:
      config:
        sync.group.offsets.enabled: "true"
    topicsPattern: "orders.*"
    topicsExcludePattern: "orders-internal"
    groupsPattern: "g.*"
    groupsExcludePattern: "tmp.*"
`
  const r = load(v1({ mirror }))
  const f = r.config.flows[0]
  assert.equal(f?.replicationPolicy.kind, 'identity')
  assert.equal(f?.tasksMax, 3)
  assert.deepEqual(f?.refreshTopics, { enabled: true, intervalMs: 60_000, explicit: true })
  assert.equal(f?.syncGroupOffsets.enabled, true)
  assert.deepEqual(
    [f?.topics, f?.topicsExclude, f?.groups, f?.groupsExclude],
    [['orders.*'], ['orders-internal'], ['g.*'], ['tmp.*']]
  )
  assert.ok(
    r.warnings.some(w =>
      w.includes(
        'replication.policy.class is "org.apache.kafka.connect.mirror.IdentityReplicationPolicy" in sourceConnector but unset in checkpointConnector'
      )
    )
  )
  assert.ok(
    r.warnings.some(w =>
      w.includes(
        'mm2.yaml:25 spec.mirrors[0].sourceConnector.config.replicaton.factor: unknown key (did you mean "replication.factor"?)'
      )
    ),
    JSON.stringify(r.warnings)
  )
  assert.ok(
    r.infos.some(i =>
      i.includes('spec.mirrors[0].sourceConnector.config.tasks.max: dropped: Strimzi sets tasks.max itself')
    )
  )
})

test('strimzi: forbidden cluster config keys are dropped', () => {
  const r = load(
    v1({
      source:
        '      config:\n        ssl.truststore.location: /x\n        ssl.endpoint.identification.algorithm: ""\n        plugin.path: /p\n'
    })
  )
  assert.equal(r.config.clusters.get('a')?.connection['ssl.truststore.location'], undefined)
  assert.equal(r.config.clusters.get('a')?.connection['ssl.endpoint.identification.algorithm'], '')
  assert.ok(r.warnings.some(w => w.includes('spec.mirrors[0].source.config.ssl.truststore.location: dropped')))
  assert.ok(r.infos.some(i => i.includes('spec.mirrors[0].source.config.plugin.path: dropped')))
})

const errorCases: Array<[string, string, string]> = [
  [
    'mis-indented metadata',
    'apiVersion: kafka.strimzi.io/v1alpha1\nkind: KafkaMirrorMaker2\nmetadata:\nname: x\nspec:\n  mirrors: []\n',
    'mm2.yaml:3 metadata: expected a mapping with name, got nothing — is `name:` indented under it?'
  ],
  [
    'mis-indented spec',
    'apiVersion: kafka.strimzi.io/v1\nkind: KafkaMirrorMaker2\nmetadata:\n  name: x\nspec:\nmirrors: []\n',
    'mm2.yaml:5 spec: expected a mapping with mirrors, got nothing — is `mirrors:` indented under it?'
  ],
  [
    'misspelt authentication',
    v1({ source: '      authentiation:\n        type: plain\n' }),
    'mm2.yaml:18 spec.mirrors[0].source.authentiation: unknown field (did you mean "authentication"?)'
  ],
  [
    'misspelt bootstrapServers',
    v1().replace('    bootstrapServers: b:9093', '    bootstrapServer: b:9093'),
    'mm2.yaml:9 spec.target.bootstrapServer: unknown field (did you mean "bootstrapServers"?)'
  ],
  [
    'yaml syntax',
    'apiVersion: kafka.strimzi.io/v1\nkind: KafkaMirrorMaker2\nmetadata:\n  name: x\nspec:\n  mirrors: [\n',
    'mm2.yaml:7: YAML syntax error'
  ],
  [
    'duplicate key',
    'apiVersion: kafka.strimzi.io/v1\nkind: KafkaMirrorMaker2\nkind: KafkaMirrorMaker2\n',
    'mm2.yaml:3: YAML syntax error: Map keys must be unique'
  ],
  [
    'wrong kind',
    'apiVersion: kafka.strimzi.io/v1\nkind: KafkaConnect\nmetadata:\n  name: x\n',
    'mm2.yaml:2 kind: expected KafkaMirrorMaker2, got "KafkaConnect"'
  ],
  [
    'unsupported apiVersion',
    v1().replace('kafka.strimzi.io/v1\n', 'kafka.strimzi.io/v2\n'),
    'mm2.yaml:1 apiVersion: expected kafka.strimzi.io/v1alpha1, kafka.strimzi.io/v1beta2, kafka.strimzi.io/v1, got "kafka.strimzi.io/v2"'
  ],
  [
    'missing bootstrapServers',
    v1().replace('      bootstrapServers: a:9093\n', ''),
    'mm2.yaml:15 spec.mirrors[0].source.bootstrapServers: required field is missing in spec.mirrors[0].source'
  ],
  ['missing alias', v1().replace('    alias: b\n', ''), 'spec.target.alias: required field is missing in spec.target'],
  [
    'missing mirrors',
    v1().replace(/ {2}mirrors:[\s\S]*$/, ''),
    'mm2.yaml:5 spec.mirrors: required field is missing in spec'
  ],
  [
    'empty mirrors',
    v1().replace(/ {2}mirrors:[\s\S]*$/, '  mirrors: []\n'),
    'spec.mirrors: expected at least one mirror'
  ],
  [
    'missing secret file',
    v1({
      source:
        '      tls:\n        trustedCertificates:\n        - secretName: nope-secret\n          certificate: ca.crt\n'
    }),
    `mm2.yaml:21 spec.mirrors[0].source.tls.trustedCertificates[0].certificate: secret "nope-secret" key "ca.crt" not found (tried ${SECRETS}/nope-secret/ca.crt)`
  ],
  [
    'not a certificate',
    v1({
      source:
        '      tls:\n        trustedCertificates:\n        - secretName: not-a-cert\n          certificate: ca.crt\n'
    }),
    'secret "not-a-cert" key "ca.crt" is not a PEM X.509 certificate'
  ],
  [
    'no pattern match',
    v1({
      source: '      tls:\n        trustedCertificates:\n        - secretName: cluster-ca\n          pattern: "*.pem"\n'
    }),
    'no key of secret "cluster-ca" matches "*.pem"'
  ],
  [
    'both certificate and pattern',
    v1({
      source:
        '      tls:\n        trustedCertificates:\n        - secretName: cluster-ca\n          pattern: "*.crt"\n          certificate: ca.crt\n'
    }),
    'spec.mirrors[0].source.tls.trustedCertificates[0]: expected exactly one of certificate or pattern'
  ],
  [
    'unknown auth type',
    v1({ source: '      authentication:\n        type: kerberos\n' }),
    'spec.mirrors[0].source.authentication.type: expected one of tls, scram-sha-256, scram-sha-512, plain, oauth, custom, got "kerberos"'
  ],
  [
    'tls auth without tls',
    v1({ source: authCases[0]?.[1].replace('      tls: {}\n', '') ?? '' }),
    'authentication type tls needs TLS'
  ],
  [
    'oauth in v1',
    v1({ source: '      authentication:\n        type: oauth\n' }),
    'oauth authentication is not part of kafka.strimzi.io/v1; use type: custom'
  ],
  [
    'null connector',
    v1({ mirror: '    sourceConnector:\n' }),
    'spec.mirrors[0].sourceConnector: expected a mapping, got nothing (write `sourceConnector: {}` for an empty one)'
  ],
  [
    'bad tasksMax',
    v1({ mirror: '    sourceConnector:\n      tasksMax: 0\n' }),
    'spec.mirrors[0].sourceConnector.tasksMax: expected an integer of at least 1, got 0'
  ],
  [
    'bad connector int',
    v1({ mirror: '    sourceConnector:\n      config:\n        refresh.topics.interval.seconds: ten\n' }),
    'mm2.yaml:20 spec.mirrors[0].sourceConnector.config.refresh.topics.interval.seconds: expected an integer number of seconds, got "ten"'
  ],
  [
    'old layout field in v1',
    v1({ spec: '  connectCluster: b\n' }),
    'spec.connectCluster: is not part of kafka.strimzi.io/v1'
  ],
  [
    'heartbeatConnector in v1',
    v1({ mirror: '    heartbeatConnector: {}\n' }),
    'spec.mirrors[0].heartbeatConnector: was removed in kafka.strimzi.io/v1'
  ],
  [
    'target in v1alpha1',
    v1().replace('kafka.strimzi.io/v1\n', 'kafka.strimzi.io/v1alpha1\n'),
    'spec.target: spec.target needs apiVersion kafka.strimzi.io/v1beta2'
  ],
  [
    'bad alias',
    v1().replace('alias: a\n', 'alias: "a b"\n'),
    'spec.mirrors[0].source.alias: expected 1-100 characters'
  ],
  ['same alias', v1().replace('alias: a\n', 'alias: b\n'), 'the source alias "b" is also the target\'s alias'],
  [
    'no secrets dir',
    v1({
      source:
        '      tls:\n        trustedCertificates:\n        - secretName: cluster-ca\n          certificate: ca.crt\n'
    }),
    'secret "cluster-ca" key "ca.crt" is needed but no secrets directory was given (--secrets-dir)'
  ],
  [
    'unknown connectCluster',
    'apiVersion: kafka.strimzi.io/v1beta2\nkind: KafkaMirrorMaker2\nmetadata:\n  name: x\nspec:\n  connectCluster: c\n  clusters:\n  - alias: a\n    bootstrapServers: a:1\n  mirrors:\n  - sourceCluster: a\n    targetCluster: c\n',
    'mm2.yaml:6 spec.connectCluster: connectCluster with alias "c" cannot be found in spec.clusters (aliases: a)'
  ],
  [
    'targetCluster mismatch',
    'apiVersion: kafka.strimzi.io/v1beta2\nkind: KafkaMirrorMaker2\nmetadata:\n  name: x\nspec:\n  connectCluster: b\n  clusters:\n  - alias: a\n    bootstrapServers: a:1\n  - alias: b\n    bootstrapServers: b:1\n  mirrors:\n  - sourceCluster: b\n    targetCluster: a\n',
    'mm2.yaml:14 spec.mirrors[0].targetCluster: must be the connectCluster "b"'
  ]
]

for (const [name, text, want] of errorCases) {
  test(`strimzi error: ${name}`, () => {
    const dir = name === 'no secrets dir' ? '' : SECRETS
    assertConfigError(() => load(text, dir), want)
  })
}

test("strimzi: the worker group's timeouts come from the target cluster's config, checked against each other", () => {
  const withTarget = (config: string): string =>
    v1().replace('    statusStorageTopic: s\n', `    statusStorageTopic: s\n    config:\n${config}`)
  const { config } = load(
    withTarget(
      '      session.timeout.ms: 20000\n      heartbeat.interval.ms: 2000\n      rebalance.timeout.ms: 90000\n'
    )
  )
  assert.deepEqual(config.flows[0]?.group, {
    sessionTimeoutMs: 20_000,
    heartbeatIntervalMs: 2000,
    rebalanceTimeoutMs: 90_000
  })
  assertConfigError(
    () => load(withTarget('      session.timeout.ms: 20000\n      heartbeat.interval.ms: 30000\n')),
    'heartbeat.interval.ms (30000) must be above 0 and below session.timeout.ms (20000)'
  )
})
