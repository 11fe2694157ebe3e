/**
 * config/what-runs.ts: which parts of which pairs a config runs, and which clients they connect
 * with. The mirror, the start-up settings check, `validate` and the `offsets` commands all read
 * this one rule, so the table below is what every one of them sees.
 */
import assert from 'node:assert/strict'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { flowRules } from '../../../src/config/flow-rules.ts'
import { loadMm2Properties } from '../../../src/config/mm2-properties.ts'
import type { MirrorConfig } from '../../../src/config/model.ts'
import { loadStrimzi } from '../../../src/config/strimzi.ts'
import { clientRoles, clientsInUse, hasOffsetSyncs, offsetSyncsRoles, runPlan } from '../../../src/config/what-runs.ts'
import { ConfigError, UsageError } from '../../../src/errors.ts'
import { checkConnectionSettings } from '../../../src/kafka/connection-check.ts'
import { buildMirror } from '../../../src/mirror.ts'
import { createLogger } from '../../../src/observe/logger.ts'
import { offsetSyncsLocation, onSyncsSide } from '../../../src/config/offset-syncs-topic.ts'
import { strimziV1 } from './config-fixture.ts'

const opts = { env: {}, secretsDir: undefined }
const props = (text: string): MirrorConfig =>
  loadMm2Properties(
    `clusters = A, B, C\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\nC.bootstrap.servers = c:1\n${text}`,
    { file: 'mm2.properties', ...opts }
  ).config
const strimzi = (mirror: string): MirrorConfig =>
  loadStrimzi(strimziV1({ mirror }), { file: 'mm2.yaml', ...opts }).config
/** v1 removed heartbeatConnector; v1beta2 still runs one. */
const heartbeatsOnly = (): MirrorConfig =>
  loadStrimzi(
    `apiVersion: kafka.strimzi.io/v1beta2
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
  mirrors:
  - sourceCluster: a
    targetCluster: b
    heartbeatConnector: {}
`,
    { file: 'mm2.yaml', ...opts }
  ).config

interface Row {
  readonly what: string
  readonly config: () => MirrorConfig
  readonly targets?: readonly string[]
  readonly copy: readonly string[]
  readonly checkpoints: readonly string[]
  readonly heartbeats: readonly string[]
}

const ALL_PAIRS = ['A->B', 'A->C', 'B->A', 'B->C', 'C->A', 'C->B']
const TABLE: readonly Row[] = [
  {
    what: 'one enabled pair: it copies and checkpoints; every pair emits heartbeats (MM2 runs its heartbeat connector for all)',
    config: () => props('A->B.enabled = true\n'),
    copy: ['A->B'],
    checkpoints: ['A->B'],
    heartbeats: ALL_PAIRS
  },
  {
    what: 'heartbeats off everywhere: only the enabled pair runs',
    config: () => props('A->B.enabled = true\nemit.heartbeats.enabled = false\n'),
    copy: ['A->B'],
    checkpoints: ['A->B'],
    heartbeats: []
  },
  {
    what: 'no offset syncs: nothing to checkpoint with',
    config: () =>
      props('A->B.enabled = true\nA->B.emit.offset-syncs.enabled = false\nemit.heartbeats.enabled = false\n'),
    copy: ['A->B'],
    checkpoints: [],
    heartbeats: []
  },
  {
    what: 'checkpoints off for the pair, heartbeats on for one other pair only',
    config: () =>
      props(
        'A->B.enabled = true\nA->B.emit.checkpoints.enabled = false\nemit.heartbeats.enabled = false\nC->B.emit.heartbeats.enabled = true\n'
      ),
    copy: ['A->B'],
    checkpoints: [],
    heartbeats: ['C->B']
  },
  {
    what: '--clusters A keeps only the pairs into A: B->A and C->A heartbeats',
    config: () => props('A->B.enabled = true\n'),
    targets: ['A'],
    copy: [],
    checkpoints: [],
    heartbeats: ['B->A', 'C->A']
  },
  {
    what: 'a Strimzi mirror with only a checkpointConnector: checkpoints without copying',
    config: () => strimzi('    checkpointConnector: {}\n'),
    copy: [],
    checkpoints: ['a->b'],
    heartbeats: []
  },
  {
    what: 'a Strimzi mirror with only a heartbeatConnector',
    config: heartbeatsOnly,
    copy: [],
    checkpoints: [],
    heartbeats: ['a->b']
  },
  {
    what: 'a Strimzi mirror with a sourceConnector only: copies, no checkpoints or heartbeats',
    config: () => strimzi('    sourceConnector: {}\n'),
    copy: ['a->b'],
    checkpoints: [],
    heartbeats: []
  }
]

for (const row of TABLE) {
  test(`runPlan: ${row.what}`, () => {
    const config = row.config()
    const plan = runPlan(config, row.targets)
    const names = (flows: ReadonlyArray<{ name: string }>): string[] => flows.map(f => f.name).sort()
    assert.deepEqual(names(plan.copy), row.copy)
    assert.deepEqual(names(plan.checkpoints), row.checkpoints)
    assert.deepEqual(names(plan.heartbeats), row.heartbeats)
    assert.deepEqual(names(plan.pairs), [...new Set([...row.copy, ...row.checkpoints, ...row.heartbeats])].sort())
    // The mirror builds exactly these components.
    const mirror = buildMirror(
      config,
      createLogger('test', () => {}),
      { targets: row.targets }
    )
    assert.deepEqual(names(mirror.flows.map(f => f.flow)), row.copy)
    assert.deepEqual(names(mirror.checkpoints.map(c => c.flow)), row.checkpoints)
    assert.deepEqual(names(mirror.heartbeats.map(h => h.flow)), row.heartbeats)
  })
}

test('runPlan: an alias that names no cluster is a usage error', () => {
  assert.throws(
    () => runPlan(props('A->B.enabled = true\n'), ['D']),
    (err: unknown) =>
      err instanceof UsageError && /--clusters D: no cluster with that alias \(known: A, B, C\)/.test(err.message)
  )
})

test('clientRoles: heartbeats use only the target; checkpoints read the offset syncs on their side; the copy writes syncs with the producer of theirs', () => {
  const config = props(
    'A->B.enabled = true\nB->C.enabled = true\nB->C.offset-syncs.topic.location = target\nB->C.emit.checkpoints.enabled = false\n'
  )
  const roles = (name: string): string[] => [...clientRoles(config.flows.find(f => f.name === name)!)].sort()
  assert.deepEqual(roles('C->A'), ['targetAdmin', 'targetProducer'])
  assert.deepEqual(roles('A->B'), [
    'sourceAdmin',
    'sourceConsumer',
    'sourceProducer',
    'targetAdmin',
    'targetConsumer',
    'targetProducer'
  ])
  assert.deepEqual(
    roles('B->C'),
    ['sourceAdmin', 'sourceConsumer', 'targetAdmin', 'targetConsumer', 'targetProducer'],
    'syncs on the target: no source producer'
  )
  const checkpointOnly = strimzi('    checkpointConnector: {}\n').flows[0]!
  assert.deepEqual([...clientRoles(checkpointOnly)].sort(), [
    'sourceAdmin',
    'sourceConsumer',
    'targetAdmin',
    'targetConsumer',
    'targetProducer'
  ])
})

test('hasOffsetSyncs: a copying or checkpointing pair with offset syncs on; never a heartbeats-only pair', () => {
  const config = props('A->B.enabled = true\nB->A.enabled = true\nB->A.emit.offset-syncs.enabled = false\n')
  assert.deepEqual(
    config.flows.filter(hasOffsetSyncs).map(f => f.name),
    ['A->B']
  )
  assert.deepEqual(
    strimzi('    checkpointConnector: {}\n')
      .flows.filter(hasOffsetSyncs)
      .map(f => f.name),
    ['a->b']
  )
  assert.deepEqual(
    heartbeatsOnly()
      .flows.filter(hasOffsetSyncs)
      .map(f => f.name),
    []
  )
})

test('the start-up settings check reads the clients of a heartbeats-only pair: a missing truststore of its target fails naming that cluster', () => {
  const missing = join(tmpdir(), 'kafka-mirror-no-such-dir', 'ca.crt')
  const config = props(
    `A->B.enabled = true\nemit.heartbeats.enabled = false\nC->B.emit.heartbeats.enabled = true\nA->C.emit.heartbeats.enabled = true\nC.security.protocol = SSL\nC.ssl.truststore.type = PEM\nC.ssl.truststore.location = ${missing}\n`
  )
  assert.throws(
    () => {
      checkConnectionSettings(clientsInUse(runPlan(config)))
    },
    (err: unknown) =>
      err instanceof ConfigError && /cluster C \(c:1\): ssl\.truststore\.location: cannot read/.test(err.message)
  )
  // C->B only writes to B: C's settings are not read for it, so with A->C off nothing reads them.
  const onlyFromC = props(
    `A->B.enabled = true\nemit.heartbeats.enabled = false\nC->B.emit.heartbeats.enabled = true\nC.security.protocol = SSL\nC.ssl.truststore.type = PEM\nC.ssl.truststore.location = ${missing}\n`
  )
  assert.doesNotThrow(() => {
    checkConnectionSettings(clientsInUse(runPlan(onlyFromC)))
  })
  // --clusters B leaves A->C out: its target's settings are not read either.
  assert.doesNotThrow(() => {
    checkConnectionSettings(clientsInUse(runPlan(config, ['B'])))
  })
})

test("offset syncs: read and written with the pair's clients on the cluster offset-syncs.topic.location names, in a topic named after the other", () => {
  const config = props('A->B.enabled = true\nB->C.enabled = true\nB->C.offset-syncs.topic.location = target\n')
  const ab = config.flows.find(f => f.name === 'A->B')!
  const bc = config.flows.find(f => f.name === 'B->C')!
  assert.deepEqual(offsetSyncsRoles(ab), { reader: 'sourceConsumer', writer: 'sourceProducer' })
  assert.deepEqual(offsetSyncsRoles(bc), { reader: 'targetConsumer', writer: 'targetProducer' })
  assert.deepEqual(offsetSyncsLocation(ab, flowRules(ab).policy), {
    topic: 'mm2-offset-syncs.B.internal',
    cluster: 'A',
    side: 'source'
  })
  assert.deepEqual(offsetSyncsLocation(bc, flowRules(bc).policy), {
    topic: 'mm2-offset-syncs.B.internal',
    cluster: 'C',
    side: 'target'
  })
  assert.equal(
    onSyncsSide(offsetSyncsLocation(bc, flowRules(bc).policy), { source: 'admin of B', target: 'admin of C' }),
    'admin of C'
  )
})
