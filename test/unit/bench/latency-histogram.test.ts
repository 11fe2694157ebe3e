import assert from 'node:assert/strict'
import { test } from 'node:test'
import { gzipSync } from 'node:zlib'
import { LatencyHistogram, stampedValue } from '../../../src/bench/latency-histogram.ts'
import { SyntheticValues } from '../../../src/bench/synthetic-values.ts'

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
  const a = values.next(1000, 7)
  const b = values.next(1000, 7)
  assert.deepEqual([a.length, a.readBigInt64BE(0)], [1000, 7n])
  assert.notDeepEqual(a.subarray(8), b.subarray(8))
  assert.match(a.subarray(8).toString('utf8'), /"customer":"c-\d+"/)
  const many = Buffer.concat(Array.from({ length: 200 }, () => values.next(1000, 7)))
  const ratio = many.length / gzipSync(many).length
  assert.ok(ratio > 2 && ratio < 20, `gzip ratio ${ratio.toFixed(1)}: text-like, neither random nor zeros`)
  assert.equal(values.next(3_000_000, 7).length, 3_000_000)
})
