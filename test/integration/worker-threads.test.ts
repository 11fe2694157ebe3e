/**
 * Copier tasks in worker threads on real brokers: a config loaded from a file runs each of the
 * min(tasks.max, partitions) tasks in a thread of its own (status `threads`), every record is
 * copied once and in order per partition, positions are stored, and a restarted mirror resumes
 * without gap or duplicate; when a later topic changes the task count, the old threads store
 * their positions before the new ones start, again without gap or duplicate.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decodeOffsetValue } from '../../src/formats/connect-offsets.ts'
import { clustersFor, comparable, createTopic, produce, readAll, uniqueName, waitFor } from '../harness/helpers.ts'
import { writeMm2Properties } from '../harness/mirror-config.ts'
import { startMirror, testLogger } from '../harness/mirror-runner.ts'
import { waitForStoredPositions } from '../harness/positions.ts'

test(
  'tasks.max=2: two worker threads copy a 6-partition topic once and in order; a restart resumes without gap or duplicate',
  { timeout: 300_000 },
  async t => {
    if (process.env.KAFKA_MIRROR_WORKER_THREADS === '0') {
      t.skip('KAFKA_MIRROR_WORKER_THREADS=0')
      return
    }
    const [A, B] = await clustersFor(t, [{ name: 'A' }, { name: 'B' }])
    assert.ok(A !== undefined && B !== undefined)
    const topic = uniqueName('threads')
    await createTopic(A, topic, { partitions: 6 })
    await produce(
      A,
      topic,
      Array.from({ length: 6000 }, (_, i) => ({ partition: i % 6, key: `k${i}`, value: `v${i}` }))
    )
    // Heartbeats on: the B->A emitter writes A's `heartbeats`, which this flow copies in a worker;
    // the latency the flow reports shows the acknowledgements reached the main thread.
    const file = writeMm2Properties(
      { A, B },
      {
        'A->B.enabled': 'true',
        'A->B.topics': topic,
        'tasks.max': '2',
        'B.offset.flush.interval.ms': '500',
        'emit.heartbeats.interval.seconds': '1',
        'emit.checkpoints.enabled': 'false',
        'sync.topic.acls.enabled': 'false'
      }
    )
    const lines: string[] = []
    const first = await startMirror(t, file, testLogger({ lines }))
    await waitFor(async () => (await readAll(B, `A.${topic}`).catch(() => [])).length >= 6000, {
      timeoutMs: 90_000,
      what: 'the 6-partition topic copied'
    })
    const status = first.status()[0]
    assert.equal(status?.tasks, 2)
    assert.equal(status?.threads, 2, 'one worker thread per task')
    assert.equal(new Set(status?.threadIds).size, 2)
    assert.ok(
      lines.some(l => l.includes('[A->B task-0]') && l.includes('copying partitions')),
      'the workers log through the flow logger'
    )
    await waitFor(() => (first.status()[0]?.heartbeats.length ?? 0) > 0, {
      timeoutMs: 30_000,
      what: 'heartbeat latency observed from a worker thread'
    })
    await waitFor(() => (first.status()[0]?.copier?.recordsCopied ?? 0) >= 6000, {
      timeoutMs: 10_000,
      what: 'worker stats reach the main thread'
    })
    await first.close()
    assert.equal(first.status()[0]?.threads, 0, 'no thread left after close')

    // Positions stored: the last copied offset of every partition (999: 1,000 records each).
    const positions = new Map<string, bigint | null>()
    for (const r of await readAll(B, 'mm2-offsets.A.internal')) {
      const key = r.key?.toString() ?? ''
      if (key.includes(`"topic":"${topic}"`)) positions.set(key, decodeOffsetValue(r.value))
    }
    for (let p = 0; p < 6; p++)
      assert.equal(
        positions.get(`["MirrorSourceConnector",{"cluster":"A","partition":${p},"topic":"${topic}"}]`),
        999n,
        `position of partition ${p}`
      )

    await produce(
      A,
      topic,
      Array.from({ length: 600 }, (_, i) => ({ partition: i % 6, key: `k${6000 + i}`, value: `v${6000 + i}` }))
    )
    const second = await startMirror(t, file)
    await waitFor(async () => (await readAll(B, `A.${topic}`)).length >= 6600, {
      timeoutMs: 90_000,
      what: 'the records produced while stopped'
    })
    await waitForStoredPositions(A, [topic], B, { source: 'A' }) // a duplicate is on B by then
    assert.equal(second.status()[0]?.threads, 2)
    assert.deepEqual((await readAll(B, `A.${topic}`)).map(comparable), (await readAll(A, topic)).map(comparable))
  }
)

test(
  'worker threads: a later topic raises the task count; the old thread stores its positions before the new ones start',
  { timeout: 300_000 },
  async t => {
    if (process.env.KAFKA_MIRROR_WORKER_THREADS === '0') {
      t.skip('KAFKA_MIRROR_WORKER_THREADS=0')
      return
    }
    const [A, B] = await clustersFor(t, [{ name: 'A' }, { name: 'B' }])
    assert.ok(A !== undefined && B !== undefined)
    const prefix = uniqueName('redeal')
    const single = `${prefix}-a`
    const wide = `${prefix}-b`
    await createTopic(A, single, { partitions: 1 })
    await produce(
      A,
      single,
      Array.from({ length: 2000 }, (_, i) => ({ value: `s${i}` }))
    )
    const file = writeMm2Properties(
      { A, B },
      {
        'A->B.enabled': 'true',
        'A->B.topics': `${prefix}.*`,
        'tasks.max': '2',
        'B.offset.flush.interval.ms': '500',
        'refresh.topics.interval.seconds': '1',
        'emit.heartbeats.enabled': 'false',
        'emit.checkpoints.enabled': 'false',
        'sync.topic.acls.enabled': 'false'
      }
    )
    const lines: string[] = []
    const mirror = await startMirror(t, file, testLogger({ lines }))
    await waitFor(async () => (await readAll(B, `A.${single}`).catch(() => [])).length === 2000, {
      timeoutMs: 90_000,
      what: 'the 1-partition topic copied'
    })
    assert.equal(mirror.status()[0]?.threads, 1)

    // Keep writing to the first topic while the task count changes, so the hand-over happens mid-copy.
    let writing = true
    const more = (async () => {
      for (let i = 0; writing && i < 40; i++) {
        await produce(
          A,
          single,
          Array.from({ length: 50 }, (_, j) => ({ value: `s${2000 + i * 50 + j}` }))
        )
        await new Promise(resolve => setTimeout(resolve, 100))
      }
    })()
    await createTopic(A, wide, { partitions: 6 })
    await produce(
      A,
      wide,
      Array.from({ length: 3000 }, (_, i) => ({ partition: i % 6, key: `k${i}`, value: `w${i}` }))
    )
    await waitFor(() => mirror.status()[0]?.threads === 2, {
      timeoutMs: 30_000,
      what: 'two worker threads after the re-deal'
    })
    writing = false
    await more
    const expected = (await readAll(A, single)).length
    await waitFor(async () => (await readAll(B, `A.${wide}`).catch(() => [])).length >= 3000, {
      timeoutMs: 90_000,
      what: 'the 6-partition topic copied'
    })
    await waitFor(async () => (await readAll(B, `A.${single}`)).length >= expected, {
      timeoutMs: 60_000,
      what: 'the first topic copied to its end'
    })
    await waitForStoredPositions(A, [wide, single], B, { source: 'A' }) // a duplicate from the re-deal is on B by then
    assert.ok(
      lines.some(l => l.includes('copying with tasks') && l.includes('tasks=2') && l.includes('perTask=4,3')),
      lines.filter(l => l.includes('tasks')).join('\n')
    )
    assert.deepEqual((await readAll(B, `A.${wide}`)).map(comparable), (await readAll(A, wide)).map(comparable))
    assert.deepEqual((await readAll(B, `A.${single}`)).map(comparable), (await readAll(A, single)).map(comparable))
    assert.equal(mirror.status()[0]?.copier?.lastError, undefined)
  }
)
