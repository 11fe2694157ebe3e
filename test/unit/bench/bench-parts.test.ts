import assert from 'node:assert/strict'
import { test } from 'node:test'
import { gzipSync } from 'node:zlib'
import { LatencyHistogram, stampedValue } from '../../../src/bench/latency-histogram.ts'
import { SyntheticValues, sequenceOf } from '../../../src/bench/synthetic-values.ts'
import { refusal } from '../../../src/bench/bench-run.ts'
import { KafkaError } from '../../../src/errors.ts'

test('a stamped value carries its send time in its first 8 bytes and has the size asked (at least 8)', () => {
  const v = stampedValue(100, 1_764_000_000_123)
  assert.equal(v.length, 100)
  assert.equal(v.readBigInt64BE(0), 1_764_000_000_123n)
  assert.equal(stampedValue(3, 5).length, 8)
})

test('percentiles are nearest-rank to the millisecond, max is exact, nothing before the first sample', () => {
  const h = new LatencyHistogram()
  assert.equal(h.summary(), undefined)
  for (let ms = 1; ms <= 100; ms++) h.add(ms)
  h.add(250.4)
  assert.deepEqual(h.summary(), { count: 101, p50: 51, p95: 96, p99: 100, max: 250.4 })
  assert.equal(h.percentile(1), 250)
})

test('negative latencies (clocks apart) count as 0 ms, very long ones land in the last bucket', () => {
  const h = new LatencyHistogram()
  h.add(-3)
  h.add(10_000_000)
  assert.deepEqual([h.percentile(0.5), h.percentile(1), h.summary()?.max], [0, 600_000, 10_000_000])
})

test('synthetic values: the size asked, the stamp first, JSON-like text after it that differs from value to value and compresses like text', () => {
  const values = new SyntheticValues()
  const a = values.next(1000, 7, 0)
  const b = values.next(1000, 7, 1)
  assert.deepEqual([a.length, a.readBigInt64BE(0), sequenceOf(a), sequenceOf(b)], [1000, 7n, 0, 1])
  assert.equal(values.next(3, 7, 2).length, 16)
  assert.notDeepEqual(a.subarray(8), b.subarray(8))
  // Two events' length or more always holds a whole event, wherever the window starts.
  assert.match(values.next(2100, 7, 3).subarray(16).toString('utf8'), /"customer":\{"id":"cus_\d+"/)
  const many = Buffer.concat(Array.from({ length: 200 }, (_, i) => values.next(1000, 7, i)))
  const ratio = many.length / gzipSync(many).length
  assert.ok(ratio > 2 && ratio < 20, `gzip ratio ${ratio.toFixed(1)}: text-like, neither random nor zeros`)
  assert.equal(values.next(3_000_000, 7, 9).length, 3_000_000)
})

test('a scratch topic the source refuses: the message names what is missing for each kind of refusal', () => {
  const flow = { source: 'A', target: 'B' }
  const said = (kafkaCode: string): string =>
    refusal(
      flow,
      'kafka-mirror-bench-0a1b2c3d',
      new KafkaError('creating topic: broker said no', { retriable: false, kafkaCode })
    ).message
  assert.match(
    said('TOPIC_AUTHORIZATION_FAILED'),
    /^bench: cannot create the scratch topic kafka-mirror-bench-0a1b2c3d on cluster A: creating topic: broker said no; the principal of cluster A lacks CREATE on topic kafka-mirror-bench-0a1b2c3d \(bench needs CREATE, WRITE and DELETE on topics kafka-mirror-bench-\* of A, and the same on B/
  )
  assert.match(said('CLUSTER_AUTHORIZATION_FAILED'), /lacks CREATE/)
  assert.match(said('THROTTLING_QUOTA_EXCEEDED'), /controller mutation quota \(controller_mutation_rate\) of cluster A/)
  assert.match(said('POLICY_VIOLATION'), /cluster A refused the topic as asked/)
  assert.match(said('INVALID_REPLICATION_FACTOR'), /default replication factor/)
  assert.match(said('SOMETHING_ELSE'), /; see the error$/)
})
