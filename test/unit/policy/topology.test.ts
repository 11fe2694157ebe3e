import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  heartbeatTopics,
  hopsForTopic,
  immediateUpstreams,
  replicationHops,
  sourceChain,
  upstreamClusters
} from '../../../src/policy/topology.ts'
import { DefaultReplicationPolicy, IdentityReplicationPolicy } from '../../../src/policy/replication-policy.ts'

const dflt = new DefaultReplicationPolicy()

test('heartbeats topics are the local one and every replicated copy, whatever the depth', () => {
  const topics = [
    'heartbeats',
    'A.heartbeats',
    'B.A.heartbeats',
    'orders',
    'A.orders',
    'myheartbeats',
    'A.checkpoints.internal',
    'heartbeats.x'
  ]
  assert.deepEqual(heartbeatTopics(dflt, topics), ['A.heartbeats', 'B.A.heartbeats', 'heartbeats'])
})

test('source chain, nearest first; stops on a repeated alias', () => {
  assert.deepEqual(sourceChain(dflt, 'heartbeats'), [])
  assert.deepEqual(sourceChain(dflt, 'A.heartbeats'), ['A'])
  assert.deepEqual(sourceChain(dflt, 'C.B.A.heartbeats'), ['C', 'B', 'A'])
  assert.deepEqual(sourceChain(dflt, 'A.B.A.heartbeats'), ['A', 'B'])
})

test('hops per topic and per upstream cluster (MirrorClient.replicationHops): chain A->B->C seen from C', () => {
  const onC = ['heartbeats', 'B.heartbeats', 'B.A.heartbeats', 'B.A.orders']
  assert.equal(hopsForTopic(dflt, 'B.A.heartbeats', 'A'), 2)
  assert.equal(hopsForTopic(dflt, 'B.A.heartbeats', 'B'), 1)
  assert.equal(hopsForTopic(dflt, 'heartbeats', 'B'), -1)
  assert.equal(replicationHops(dflt, onC, 'A'), 2)
  assert.equal(replicationHops(dflt, onC, 'B'), 1)
  assert.equal(replicationHops(dflt, onC, 'C'), -1)
  assert.equal(replicationHops(dflt, onC, 'Z'), -1)
  assert.deepEqual(upstreamClusters(dflt, onC), ['A', 'B'])
  assert.deepEqual(immediateUpstreams(dflt, onC), ['B'])
})

test('the fewest hops win when a cluster is reachable two ways (A->C and A->B->C)', () => {
  const onC = ['heartbeats', 'A.heartbeats', 'B.heartbeats', 'B.A.heartbeats']
  assert.equal(replicationHops(dflt, onC, 'A'), 1)
  assert.deepEqual(immediateUpstreams(dflt, onC), ['A', 'B'])
})

test('a custom separator and the identity policy (heartbeats keep their prefixes)', () => {
  const under = new DefaultReplicationPolicy({ separator: '__' })
  assert.equal(replicationHops(under, ['heartbeats', 'B__A__heartbeats'], 'A'), 2)
  const identity = new IdentityReplicationPolicy()
  const onB = ['heartbeats', 'A.heartbeats', 'orders']
  assert.deepEqual(upstreamClusters(identity, onB), ['A'])
  assert.equal(replicationHops(identity, onB, 'A'), 1)
})

test('active/active: each side sees only the other, one hop away', () => {
  assert.deepEqual(upstreamClusters(dflt, ['heartbeats', 'B.heartbeats']), ['B'])
  assert.equal(replicationHops(dflt, ['heartbeats', 'B.heartbeats'], 'B'), 1)
})
