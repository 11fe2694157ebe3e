import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ConfigError } from '../../../src/errors.ts'
import {
  DefaultReplicationPolicy,
  IdentityReplicationPolicy,
  createReplicationPolicy,
  isCycle,
  javaSplit
} from '../../../src/policy/replication-policy.ts'
import type { ReplicationPolicy } from '../../../src/policy/replication-policy.ts'
import { DefaultTopicFilter, shouldReplicateTopic } from '../../../src/policy/filters.ts'
import { golden } from '../formats/golden-fixture.ts'

test('DefaultReplicationPolicy edge cases with the default "." separator (topicSource, upstreamTopic, originalTopic)', () => {
  const p = new DefaultReplicationPolicy()
  const cases: Array<[string, string | null, string | null, string]> = [
    // topic, topicSource, upstreamTopic, originalTopic
    ['a.b.c', 'a', 'b.c', 'c'],
    ['a..b', 'a', '.b', 'b'],
    ['a.', null, null, 'a.'],
    ['.b', '', 'b', 'b'],
    ['.', null, null, '.'],
    ['', null, null, ''],
    ['orders', null, null, 'orders'],
    ['B.A.heartbeats', 'B', 'A.heartbeats', 'heartbeats']
  ]
  for (const [topic, source, upstream, original] of cases) {
    assert.equal(p.topicSource(topic), source, `topicSource(${topic})`)
    assert.equal(p.upstreamTopic(topic), upstream, `upstreamTopic(${topic})`)
    assert.equal(p.originalTopic(topic), original, `originalTopic(${topic})`)
  }
  assert.equal(p.formatRemoteTopic('A', 'orders'), 'A.orders')
})

test('Java split semantics: trailing empties dropped, leading kept, separator literal', () => {
  const cases: Array<[string, string, string[]]> = [
    ['a.b.c', '.', ['a', 'b', 'c']],
    ['a..b', '.', ['a', '', 'b']],
    ['a..', '.', ['a']],
    ['.', '.', []],
    ['..a', '.', ['', '', 'a']],
    ['', '.', ['']],
    ['abc', '.', ['abc']],
    ['a___b', '__', ['a', '_b']],
    ['a.*b', '.*', ['a', 'b']]
  ]
  for (const [s, sep, want] of cases) assert.deepEqual(javaSplit(s, sep), want, `${s} / ${sep}`)
})

test('multi-character separator is matched literally', () => {
  const p = new DefaultReplicationPolicy({ separator: '__' })
  assert.equal(p.formatRemoteTopic('A', 'x'), 'A__x')
  assert.equal(p.topicSource('a__b__c'), 'a')
  assert.equal(p.upstreamTopic('a__b__c'), 'b__c')
  assert.equal(p.originalTopic('a__b__c'), 'c')
  assert.equal(p.topicSource('a_b'), null)
  assert.equal(p.topicSource('a.b'), null)
  assert.equal(p.offsetSyncsTopic('B'), 'mm2-offset-syncs__B__internal')
  assert.equal(p.checkpointsTopic('A'), 'A__checkpoints__internal')
  const dotted = new DefaultReplicationPolicy({ separator: '__', internalTopicSeparatorEnabled: false })
  assert.equal(dotted.offsetSyncsTopic('B'), 'mm2-offset-syncs.B.internal')
  assert.equal(dotted.checkpointsTopic('A'), 'A.checkpoints.internal')
  assert.equal(dotted.formatRemoteTopic('A', 'x'), 'A__x')
  const regexy = new DefaultReplicationPolicy({ separator: '.*' })
  assert.equal(regexy.topicSource('a.*b'), 'a')
  assert.equal(regexy.topicSource('ab'), null)
})

test('empty separator is refused', () => {
  assert.throws(() => new DefaultReplicationPolicy({ separator: '' }), ConfigError)
})

test('internal and heartbeat topic names (ReplicationPolicy interface defaults, Java 4.3.1)', () => {
  const p = new DefaultReplicationPolicy()
  assert.equal(p.heartbeatsTopic(), 'heartbeats')
  assert.equal(p.offsetSyncsTopic('B'), 'mm2-offset-syncs.B.internal')
  assert.equal(p.checkpointsTopic('A'), 'A.checkpoints.internal')
  const cases: Array<[string, { hb: boolean; cp: boolean; mm2: boolean; internal: boolean }]> = [
    ['heartbeats', { hb: true, cp: false, mm2: false, internal: false }],
    ['A.heartbeats', { hb: true, cp: false, mm2: false, internal: false }],
    ['B.A.heartbeats', { hb: true, cp: false, mm2: false, internal: false }],
    ['myheartbeats', { hb: false, cp: false, mm2: false, internal: false }],
    ['A.checkpoints.internal', { hb: false, cp: true, mm2: true, internal: true }],
    ['mm2-offset-syncs.B.internal', { hb: false, cp: false, mm2: true, internal: true }],
    ['mm2-offsets.A.internal', { hb: false, cp: false, mm2: true, internal: true }],
    ['x.internal', { hb: false, cp: false, mm2: false, internal: false }],
    ['__consumer_offsets', { hb: false, cp: false, mm2: false, internal: true }],
    ['.hidden', { hb: false, cp: false, mm2: false, internal: true }]
  ]
  for (const [t, want] of cases) {
    assert.deepEqual(
      {
        hb: p.isHeartbeatsTopic(t),
        cp: p.isCheckpointsTopic(t),
        mm2: p.isMM2InternalTopic(t),
        internal: p.isInternalTopic(t)
      },
      want,
      t
    )
  }
})

test('identity policy: heartbeats keep the prefix, other topics keep their name', () => {
  const p = new IdentityReplicationPolicy({ sourceClusterAlias: 'A' })
  assert.equal(p.formatRemoteTopic('A', 'orders'), 'orders')
  assert.equal(p.formatRemoteTopic('A', 'heartbeats'), 'A.heartbeats')
  assert.equal(p.formatRemoteTopic('A', 'myheartbeats'), 'A.myheartbeats')
  assert.equal(p.topicSource('orders'), 'A')
  assert.equal(p.upstreamTopic('orders'), 'orders')
  assert.equal(p.originalTopic('orders'), 'orders')
  assert.equal(p.topicSource('B.heartbeats'), 'B')
  assert.equal(p.upstreamTopic('B.A.heartbeats'), 'A.heartbeats')
  assert.equal(p.isHeartbeatsTopic('B.A.heartbeats'), true)
  const noAlias = new IdentityReplicationPolicy()
  assert.equal(noAlias.topicSource('orders'), null)
  assert.equal(noAlias.topicSource('A.heartbeats'), 'A')
})

test('isCycle (MirrorSourceConnector.isCycle), flow A->B', () => {
  const d = new DefaultReplicationPolicy()
  const id = new IdentityReplicationPolicy({ sourceClusterAlias: 'A' })
  const cases: Array<[string, ReplicationPolicy, Record<string, boolean>]> = [
    [
      'default',
      d,
      { 'B.x': true, 'C.B.x': true, 'C.x': false, x: false, 'A.x': false, 'B.heartbeats': true, 'C.B.heartbeats': true }
    ],
    // No cycle detection for identity data topics, only for heartbeats.
    ['identity', id, { x: false, 'B.x': false, 'B.heartbeats': true, 'C.B.heartbeats': true, heartbeats: false }]
  ]
  for (const [name, policy, topics] of cases) {
    for (const [topic, want] of Object.entries(topics))
      assert.equal(isCycle(policy, topic, 'B'), want, `${name} ${topic}`)
  }
})

test('createReplicationPolicy from config', () => {
  const base = { className: 'x', separator: '-', internalTopicSeparatorEnabled: true }
  const d = createReplicationPolicy({ ...base, kind: 'default' })
  assert.ok(d instanceof DefaultReplicationPolicy && !(d instanceof IdentityReplicationPolicy))
  assert.equal(d.formatRemoteTopic('A', 't'), 'A-t')
  assert.equal(d.checkpointsTopic('A'), 'A-checkpoints-internal')
  const id = createReplicationPolicy({ ...base, kind: 'identity' }, 'S')
  assert.ok(id instanceof IdentityReplicationPolicy)
  assert.equal(id.topicSource('t'), 'S')
  assert.equal(id.formatRemoteTopic('S', 'heartbeats'), 'S-heartbeats')
  assert.equal(createReplicationPolicy({ ...base, kind: 'identity' }).topicSource('t'), null)
})

function policyFor(name: string, config: Record<string, string>): ReplicationPolicy {
  const separator = config['replication.policy.separator']
  const flag = config['replication.policy.internal.topic.separator.enabled']
  const opts = {
    ...(separator === undefined ? {} : { separator }),
    ...(flag === undefined ? {} : { internalTopicSeparatorEnabled: flag === 'true' })
  }
  if (name.startsWith('identity')) {
    const alias = config['source.cluster.alias']
    return new IdentityReplicationPolicy(alias === undefined ? opts : { ...opts, sourceClusterAlias: alias })
  }
  return new DefaultReplicationPolicy(opts)
}

for (const g of golden.policies) {
  test(`Java golden policy "${g.name}": every method on ${g.topics.length} topics`, () => {
    const p = policyFor(g.name, g.config)
    assert.equal(p.heartbeatsTopic(), g.heartbeatsTopic)
    assert.equal(p.offsetSyncsTopic('B'), g.offsetSyncsTopicB)
    assert.equal(p.checkpointsTopic('A'), g.checkpointsTopicA)
    const filter = new DefaultTopicFilter()
    for (const t of g.topics) {
      const got = {
        topic: t.topic,
        formatRemoteTopic: p.formatRemoteTopic('A', t.topic),
        topicSource: p.topicSource(t.topic),
        upstreamTopic: p.upstreamTopic(t.topic),
        originalTopic: p.originalTopic(t.topic),
        isHeartbeatsTopic: p.isHeartbeatsTopic(t.topic),
        isCheckpointsTopic: p.isCheckpointsTopic(t.topic),
        isMM2InternalTopic: p.isMM2InternalTopic(t.topic),
        isInternalTopic: p.isInternalTopic(t.topic),
        isCycleAtoB: isCycle(p, t.topic, 'B'),
        shouldReplicateAtoB: shouldReplicateTopic(t.topic, {
          filter,
          policy: p,
          targetAlias: 'B',
          heartbeatsReplicationEnabled: true
        }),
        shouldReplicateAtoBNoHeartbeats: shouldReplicateTopic(t.topic, {
          filter,
          policy: p,
          targetAlias: 'B',
          heartbeatsReplicationEnabled: false
        })
      }
      assert.deepEqual(got, t)
    }
  })
}
