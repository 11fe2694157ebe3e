/**
 * The windowed stats behind MM2's *-rate, *-min, *-max and *-avg (2 samples of 30 s, as Kafka's
 * metrics library), and the per-batch counting the copier does with them.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { countAcked, countFetched, newPartitionStats, newTaskIo } from '../../../src/observe/metrics-copy.ts'
import {
  newWindow,
  observe,
  SAMPLE_MS,
  windowAvg,
  windowCountRate,
  windowMax,
  windowMin,
  windowRate
} from '../../../src/observe/metrics-window.ts'
import type { RawBatch } from '../../../src/kafka/record-batch.ts'

test('min/max/avg over the window; NaN without samples; samples older than the window drop out', () => {
  const w = newWindow()
  assert.ok(Number.isNaN(windowMin(w, 0)) && Number.isNaN(windowMax(w, 0)) && Number.isNaN(windowAvg(w, 0)))
  observe(w, 1_000, 2, 30, 10, 20)
  observe(w, 2_000, 1, 40, 40, 40)
  assert.equal(windowMin(w, 3_000), 10)
  assert.equal(windowMax(w, 3_000), 40)
  assert.equal(windowAvg(w, 3_000), 70 / 3)
  // A second sample starts after 30 s; the first still counts until the whole window (60 s) passed.
  observe(w, 1_000 + SAMPLE_MS, 1, 5, 5, 5)
  assert.equal(w.samples.length, 2)
  assert.equal(windowMin(w, 1_000 + SAMPLE_MS), 5)
  assert.equal(windowMax(w, 1_000 + SAMPLE_MS), 40)
  assert.equal(windowMax(w, 1_000 + 2 * SAMPLE_MS), 5)
  // A third sample replaces the oldest.
  observe(w, 1_000 + 2 * SAMPLE_MS, 1, 7, 7, 7)
  assert.equal(w.samples.length, 2)
  assert.equal(windowAvg(w, 1_000 + 2 * SAMPLE_MS), 6)
  // Nothing live after a quiet minute.
  assert.ok(Number.isNaN(windowAvg(w, 1_000 + 4 * SAMPLE_MS)))
})

test('rate divides by at least one full sample (Kafka Rate.windowSize), then by the elapsed time', () => {
  const w = newWindow()
  assert.equal(windowRate(w, 5_000), 0)
  observe(w, 0, 300, 300, 0, 0)
  // 1 s after the first sample: 300 records over 31 s, not 300/s.
  assert.equal(windowRate(w, 1_000), 300 / 31)
  observe(w, SAMPLE_MS, 300, 300, 0, 0)
  assert.equal(windowRate(w, 2 * SAMPLE_MS - 1), 600 / ((2 * SAMPLE_MS - 1) / 1000))
  // One window, two rates: records as observations, bytes as their sum.
  const copy = newWindow()
  observe(copy, 0, 62, 6200, 0, 0)
  assert.equal(windowCountRate(copy, 1_000), 2)
  assert.equal(windowRate(copy, 1_000), 200)
})

function batch(over: Partial<RawBatch>): RawBatch {
  return {
    baseOffset: 0n,
    lastOffsetDelta: 9,
    nextOffset: 10n,
    count: 10,
    magic: 2,
    attributes: 0,
    codec: 'none',
    logAppendTime: false,
    transactional: false,
    control: false,
    producerId: -1n,
    baseTimestamp: 1_000n,
    maxTimestamp: 2_000n,
    bytes: Buffer.alloc(500),
    size: 500,
    ...over
  }
}

test('age at fetch and latency at ack come from batch header timestamps; counts per unit; control and aborted batches add no records', () => {
  const p = newPartitionStats('orders', 0, 'A.orders', 0n)
  const io = newTaskIo()
  const now = 10_000
  countFetched(
    p,
    io,
    [
      { batch: batch({}), skip: false },
      { batch: batch({ control: true, count: 1 }), skip: true }
    ],
    now
  )
  assert.equal(io.fetchedBytes, 1000)
  assert.equal(io.fetchedRecords, 10)
  assert.equal(windowMin(p.ageWindow, now), 8_000)
  assert.equal(windowMax(p.ageWindow, now), 9_000)
  assert.equal(windowAvg(p.ageWindow, now), 8_500)
  assert.equal(p.lastAgeMs, 8_000)
  // LogAppendTime: every record carries the max timestamp.
  const q = newPartitionStats('orders', 1, 'A.orders', 0n)
  countFetched(q, io, [{ batch: batch({ logAppendTime: true }), skip: false }], now)
  assert.equal(windowMax(q.ageWindow, now), 8_000)
  countAcked(p, { records: 10, bytes: 500, raw: true, batches: [batch({})], copiedTo: 10n }, 12_000)
  assert.equal(p.records, 10)
  assert.equal(p.rawBytes, 500)
  assert.equal(p.copiedTo, 10)
  assert.equal(windowMin(p.latencyWindow, 12_000), 10_000)
  assert.equal(windowMax(p.latencyWindow, 12_000), 11_000)
  assert.equal(p.lastLatencyMs, 10_000)
  countAcked(
    p,
    { records: 3, bytes: 30, raw: false, batches: [batch({ baseTimestamp: -1n, maxTimestamp: -1n })], copiedTo: 13n },
    12_000
  )
  assert.equal(p.records, 13)
  assert.equal(p.rawBytes, 500)
  assert.equal(p.bytes, 530)
  // A batch without timestamps is not a latency of 12 s.
  assert.equal(windowMax(p.latencyWindow, 12_000), 11_000)
})
