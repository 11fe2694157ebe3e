import { test } from 'node:test'
import assert from 'node:assert/strict'
import { forwardOnly } from '../../../src/checkpoint/group-offset-sync.ts'
import { isMoreRecent, remoteTopicName, translateGroup } from '../../../src/checkpoint/group-translation.ts'
import { OffsetSyncStore } from '../../../src/checkpoint/offset-translation.ts'
import { runsCheckpoints } from '../../../src/config/what-runs.ts'
import { loadMm2Properties } from '../../../src/config/mm2-properties.ts'
import { loadStrimzi } from '../../../src/config/strimzi.ts'
import type { Checkpoint } from '../../../src/formats/checkpoint.ts'
import { buildMirror } from '../../../src/mirror.ts'
import { createLogger } from '../../../src/observe/logger.ts'
import { DefaultTopicFilter } from '../../../src/policy/filters.ts'
import { DefaultReplicationPolicy } from '../../../src/policy/replication-policy.ts'
import { strimziV1 } from '../config/config-fixture.ts'

const cp = (up: number, down: number): Checkpoint => ({
  group: 'g',
  topic: 'A.t',
  partition: 0,
  upstreamOffset: BigInt(up),
  downstreamOffset: BigInt(down),
  metadata: ''
})
const ctx = {
  source: 'A',
  target: 'B',
  policy: new DefaultReplicationPolicy(),
  topicFilter: new DefaultTopicFilter({ topics: ['t', 'u', 'B\\..*'] })
}

test('checkpointIsMoreRecent: first, forward, source rewind; not a repeat or an unintended rewind', () => {
  assert.equal(isMoreRecent(cp(10, 10), undefined), true)
  assert.equal(isMoreRecent(cp(12, 11), cp(10, 10)), true, 'target offset moves forward')
  assert.equal(isMoreRecent(cp(5, 5), cp(10, 10)), true, 'the source group went back')
  assert.equal(isMoreRecent(cp(10, 10), cp(10, 10)), false, 'repeat')
  assert.equal(isMoreRecent(cp(12, 9), cp(10, 10)), false, 'a translation that went back although the group did not')
  assert.equal(isMoreRecent(cp(11, 10), cp(10, 10)), false, 'same target offset')
})

test('remote names: renamed with the source alias; a topic that came from the target gets its name back', () => {
  assert.equal(remoteTopicName(ctx, 'orders'), 'A.orders')
  assert.equal(remoteTopicName(ctx, 'B.orders'), 'orders')
  assert.equal(remoteTopicName(ctx, 'C.orders'), 'A.C.orders')
})

test('translateGroup: topic filter on the upstream name, sorted, undefined without syncs', () => {
  const store = new OffsetSyncStore()
  store.add('t', 0, { upstream: 0n, downstream: 0n, link: undefined })
  store.add('t', 0, {
    upstream: 10n,
    downstream: 10n,
    link: { prevUpstream: 0n, prevDownstream: 0n, runEndUpstream: 9n }
  })
  const out = translateGroup(
    'g',
    [
      { topic: 'u', partition: 0, offset: 3n, metadata: '' },
      { topic: 'excluded', partition: 0, offset: 3n, metadata: '' },
      { topic: 't', partition: 1, offset: 3n, metadata: 'm' },
      { topic: 't', partition: 0, offset: 5n, metadata: 'meta' }
    ],
    store,
    ctx
  )
  assert.deepEqual(
    out.map(o => [o.topic, o.partition, o.translation?.offset, o.translation?.exact, o.metadata]),
    [
      ['A.t', 0, 5n, true, 'meta'],
      ['A.t', 1, undefined, undefined, 'm'],
      ['A.u', 0, undefined, undefined, '']
    ]
  )
})

test('group offset sync only moves a target group forward', () => {
  const current = new Map([
    ['A.t:0', 50n],
    ['A.t:1', 5n]
  ])
  const todo = forwardOnly([cp(10, 10), { ...cp(10, 10), partition: 1 }, { ...cp(10, 10), partition: 2 }], current)
  assert.deepEqual(
    todo.map(t => [t.partition, t.offset, t.current]),
    [
      [1, 10n, 5n],
      [2, 10n, undefined]
    ]
  )
})

test('which flows checkpoint: enabled mm2.properties flows; a Strimzi mirror with only a checkpointConnector', () => {
  const props = loadMm2Properties(
    'clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\nA->B.enabled = true\nB->A.emit.heartbeats.enabled = true\n',
    { file: 'mm2.properties', env: {}, secretsDir: undefined }
  )
  assert.deepEqual(
    props.config.flows.map(f => [f.name, runsCheckpoints(f)]),
    [
      ['A->B', true],
      ['B->A', false]
    ]
  )
  const off = loadMm2Properties(
    'clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\nA->B.enabled = true\nemit.offset-syncs.enabled = false\n',
    { file: 'mm2.properties', env: {}, secretsDir: undefined }
  )
  assert.equal(runsCheckpoints(off.config.flows[0]!), false, 'no offset syncs, nothing to translate with')

  const onlyCheckpoints = loadStrimzi(strimziV1({ mirror: '    checkpointConnector: {}\n' }), {
    file: 'mm2.yaml',
    env: {},
    secretsDir: undefined
  })
  const f = onlyCheckpoints.config.flows[0]!
  assert.equal(f.enabled, false)
  assert.equal(runsCheckpoints(f), true)
  const mirror = buildMirror(
    onlyCheckpoints.config,
    createLogger('test', () => {})
  )
  assert.equal(mirror.flows.length, 0, 'no replication')
  assert.deepEqual(
    mirror.checkpoints.map(c => [c.flow.name, c.checkpointsTopic, c.offsetSyncsTopic]),
    [['a->b', 'a.checkpoints.internal', 'mm2-offset-syncs.b.internal']]
  )
})
