import { test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeHeartbeat } from '../../../src/formats/heartbeat.ts'
import { HeartbeatLatencyTracker, heartbeatSample, latestHeartbeats } from '../../../src/policy/heartbeat-latency.ts'
import { DefaultReplicationPolicy } from '../../../src/policy/replication-policy.ts'

const policy = new DefaultReplicationPolicy()

function hb(
  source: string,
  target: string,
  at: number,
  recordTs = at
): { key: Buffer; value: Buffer; timestamp: bigint } {
  return {
    ...encodeHeartbeat({ sourceClusterAlias: source, targetClusterAlias: target, timestamp: BigInt(at) }),
    timestamp: BigInt(recordTs)
  }
}

test('a sample: latency = landed - emitted, origin and hops from the topic name', () => {
  const s = heartbeatSample(policy, 'B.A.heartbeats', hb('B', 'A', 1_000), 1_250)
  assert.deepEqual(s, {
    topic: 'B.A.heartbeats',
    chain: ['B', 'A'],
    origin: 'A',
    hops: 2,
    emitter: 'B->A',
    emittedAt: 1_000,
    landedAt: 1_250,
    latencyMs: 250
  })
  assert.equal(heartbeatSample(policy, 'heartbeats', hb('A', 'B', 5), 5)?.origin, undefined)
})

test('records that are not heartbeats are skipped', () => {
  assert.equal(
    heartbeatSample(policy, 'A.heartbeats', { key: Buffer.from('x'), value: null, timestamp: 0n }, 1),
    undefined
  )
  assert.deepEqual(latestHeartbeats(policy, 'A.heartbeats', [{ key: null, value: null, timestamp: 0n }]), [])
})

test('clock skew shows as a negative latency, not hidden', () => {
  assert.equal(heartbeatSample(policy, 'A.heartbeats', hb('B', 'A', 2_000), 1_900)?.latencyMs, -100)
})

test('latestHeartbeats: newest per emitter; a CreateTime copy has latency 0, a LogAppendTime one the real latency', () => {
  const records = [hb('B', 'A', 1_000), hb('C', 'A', 1_100), hb('B', 'A', 2_000), hb('C', 'A', 900, 1_400)]
  const latest = latestHeartbeats(policy, 'A.heartbeats', records)
  assert.deepEqual(
    latest.map(s => [s.emitter, s.emittedAt, s.latencyMs]),
    [
      ['B->A', 2_000, 0],
      ['C->A', 1_100, 0]
    ]
  )
  const appended = latestHeartbeats(policy, 'A.heartbeats', [hb('B', 'A', 1_000, 1_030)])
  assert.equal(appended[0]?.latencyMs, 30)
})

test('tracker keeps the newest sample per topic and emitter, and the freshest per origin', () => {
  const tracker = new HeartbeatLatencyTracker(policy)
  tracker.observe('A.heartbeats', [hb('B', 'A', 1_000), hb('C', 'A', 1_000)], 1_040)
  tracker.observe('A.heartbeats', [hb('B', 'A', 2_000)], 2_010)
  tracker.observe('A.heartbeats', [hb('B', 'A', 1_500)], 2_500) // late and older: ignored
  tracker.observe('B.A.heartbeats', [hb('B', 'A', 1_800)], 2_100)
  tracker.observe('A.heartbeats', [{ key: null, value: null, timestamp: 0n }], 3_000)
  assert.deepEqual(
    tracker.samples().map(s => [s.topic, s.emitter, s.latencyMs]),
    [
      ['A.heartbeats', 'B->A', 10],
      ['A.heartbeats', 'C->A', 40],
      ['B.A.heartbeats', 'B->A', 300]
    ]
  )
  const byOrigin = tracker.byOrigin()
  assert.deepEqual([...byOrigin.keys()], ['A'])
  assert.equal(byOrigin.get('A')?.topic, 'B.A.heartbeats')
  assert.equal(byOrigin.get('A')?.landedAt, 2_100)
})
