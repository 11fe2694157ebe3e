/**
 * tasks.max on real brokers: the flow's partitions are dealt round-robin to
 * min(tasks.max, partitions) copier tasks; when more partitions raise the task count, every
 * partition is dealt again and the new tasks resume from the stored positions.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadConfig } from '../../src/config/load.ts'
import { buildMirror } from '../../src/mirror.ts'
import { startClusters } from '../harness/cluster.ts'
import { comparable, createTopic, produce, readAll, uniqueName, waitFor } from '../harness/helpers.ts'
import { writeMm2Properties } from '../harness/mirror-config.ts'
import { testLogger } from '../harness/mirror-runner.ts'
import { waitForStoredPositions } from '../harness/positions.ts'

test(
  'tasks.max=3: three tasks copy a 6-partition topic; a later topic re-deals without gap or duplicate',
  { timeout: 400_000 },
  async t => {
    const fns: Array<() => Promise<void>> = []
    t.after(async () => {
      for (const fn of fns.reverse()) await fn()
    })
    const [A, B] = await startClusters([{ name: 'A' }, { name: 'B' }])
    assert.ok(A !== undefined && B !== undefined)
    fns.push(async () => {
      await Promise.all([A.close(), B.close()])
    })
    const lines: string[] = []
    const log = testLogger({ lines })

    const prefix = uniqueName('tasks')
    const single = `${prefix}-a`
    const wide = `${prefix}-b`
    await createTopic(A, single, { partitions: 1 })
    await produce(
      A,
      single,
      Array.from({ length: 50 }, (_, i) => ({ value: `s${i}` }))
    )
    // No heartbeats: a replicated heartbeats topic would add a partition (and a task) of its own.
    const file = writeMm2Properties(
      { A, B },
      {
        'A->B.enabled': 'true',
        'A->B.topics': `${prefix}.*`,
        'tasks.max': '3',
        'B.offset.flush.interval.ms': '500',
        'emit.heartbeats.enabled': 'false'
      }
    )
    const mirror = buildMirror((await loadConfig(file)).config, log)
    fns.push(async () => {
      await mirror.close()
    })
    mirror.start()
    await waitFor(async () => (await readAll(B, `A.${single}`).catch(() => [])).length === 50, {
      timeoutMs: 90_000,
      what: 'the 1-partition topic copied'
    })
    assert.equal(mirror.status()[0]?.tasks, 1, 'one partition: one task')

    // Six more partitions: three tasks, all partitions dealt again.
    await createTopic(A, wide, { partitions: 6 })
    await produce(
      A,
      wide,
      Array.from({ length: 6000 }, (_, i) => ({ partition: i % 6, key: `k${i}`, value: `w${i}` }))
    )
    await produce(
      A,
      single,
      Array.from({ length: 50 }, (_, i) => ({ value: `s${50 + i}` }))
    )
    await waitFor(async () => (await readAll(B, `A.${wide}`).catch(() => [])).length >= 6000, {
      timeoutMs: 90_000,
      what: 'the 6-partition topic copied'
    })
    await waitFor(async () => (await readAll(B, `A.${single}`)).length >= 100, {
      timeoutMs: 30_000,
      what: 'the later records of the first topic'
    })
    const status = mirror.status()[0]
    assert.equal(status?.tasks, 3)
    assert.equal(status?.partitions, 7)
    assert.ok(
      lines.some(l => l.includes('copying with tasks') && l.includes('tasks=3') && l.includes('perTask=3,2,2')),
      lines.filter(l => l.includes('tasks')).join('\n')
    )
    // Positions stored up to each partition's last record: a duplicate from the re-deal is on B by then.
    await waitForStoredPositions(A, [wide, single], B, { source: 'A' })
    assert.deepEqual((await readAll(B, `A.${wide}`)).map(comparable), (await readAll(A, wide)).map(comparable))
    assert.deepEqual((await readAll(B, `A.${single}`)).map(comparable), (await readAll(A, single)).map(comparable))
  }
)
