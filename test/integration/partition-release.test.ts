/**
 * Per-partition release on real brokers (docs/scale-out-plan.md §5.3, step 4): a flow in a group
 * that is told to own fewer partitions releases them from its running task, which keeps copying
 * its other partitions (no restart: same task, same worker thread). What own() returns for the
 * released partitions is stored in the offsets topic and is exactly what the target holds of
 * them, and nothing of theirs is written after own() resolved; a second flow (as another
 * instance) that takes them over with those positions copies on without gap or duplicate.
 * Once with the task on the main thread, once in a worker thread.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadConfig } from '../../src/config/load.ts'
import { tpKey } from '../../src/kafka/types.ts'
import type { Position } from '../../src/source/copier-protocol.ts'
import { SourceFlow } from '../../src/source/source-flow.ts'
import type { KafkaCluster } from '../harness/cluster.ts'
import {
  clustersForFile,
  comparable,
  createTopic,
  numberedRecords,
  produce,
  readAll,
  uniqueName,
  waitFor
} from '../harness/helpers.ts'
import { writeCopyOnlyProperties } from '../harness/mirror-config.ts'
import { testLogger } from '../harness/mirror-runner.ts'
import { storedPositions, waitForStoredPositions } from '../harness/positions.ts'

let A: KafkaCluster
let B: KafkaCluster
clustersForFile([{ name: 'A' }, { name: 'B' }], ([a, b]) => {
  A = a
  B = b
})

const PARTITIONS = 4

/** Records on the target per partition. */
async function countsOn(topic: string): Promise<number[]> {
  const counts = Array.from({ length: PARTITIONS }, () => 0)
  for (const r of await readAll(B, topic).catch(() => [])) counts[r.partition] = (counts[r.partition] ?? 0) + 1
  return counts
}

for (const threads of [false, true]) {
  test(
    `releasing partitions of a running task (${threads ? 'worker thread' : 'main thread'}): the others keep copying, the released ones' positions are what was copied, their next owner adds no duplicate`,
    { timeout: 300_000 },
    async t => {
      if (threads && process.env.KAFKA_MIRROR_WORKER_THREADS === '0') {
        t.skip('KAFKA_MIRROR_WORKER_THREADS=0')
        return
      }
      const topic = uniqueName('release')
      const remote = `A.${topic}`
      await createTopic(A, topic, { partitions: PARTITIONS })
      const records = numberedRecords(PARTITIONS)
      await produce(A, topic, records.take(2000))
      // tasks.max 2 puts tasks in worker threads; the budget of 1 this instance is given keeps one task.
      const file = writeCopyOnlyProperties({ A, B }, topic, {
        'B.offset.flush.interval.ms': '500',
        'tasks.max': threads ? '2' : '1',
        'sync.topic.acls.enabled': 'false',
        'refresh.topics.interval.seconds': '1'
      })
      const { config } = await loadConfig(file)
      const flowConfig = config.flows.find(f => f.name === 'A->B')
      assert.ok(flowConfig !== undefined)
      const lines: string[] = []
      const shared = { onTopicsChanged: () => {} }
      const configSource = threads ? config.loadedFrom : undefined
      const first = new SourceFlow(flowConfig, testLogger({ lines }), { configSource, shared, owner: 'first' })
      // Another instance, started once the first released its partitions.
      const second = new SourceFlow(flowConfig, testLogger({ lines }), { configSource, shared, owner: 'second' })
      let writing = true
      let writer: Promise<void> = Promise.resolve()
      t.after(async () => {
        writing = false
        await writer
        await Promise.all([first.close(), second.close()])
      })
      const all = new Set(Array.from({ length: PARTITIONS }, (_, p) => tpKey(topic, p)))
      first.setTopicsJob(true)
      await first.own(all, 1, [])
      first.start()
      await waitFor(async () => (await countsOn(remote)).every(n => n >= 500), {
        timeoutMs: 120_000,
        what: 'the first records of every partition copied'
      })
      assert.equal(first.status().tasks, 1)
      if (threads) assert.equal(first.status().threads, 1, 'the task runs in a worker thread')
      const threadIds = first.status().threadIds

      // Records keep coming on every partition while partitions 2 and 3 are released.
      writer = (async () => {
        while (writing) {
          await produce(A, topic, records.take(40))
          await new Promise(resolve => setTimeout(resolve, 50))
        }
      })()
      await new Promise(resolve => setTimeout(resolve, 1500))
      const linesBefore = lines.length
      const released = await first.own(new Set([tpKey(topic, 0), tpKey(topic, 1)]), 1, [])
      const atRelease = await countsOn(remote)
      const byPartition = new Map(released.map(([, p, o]) => [p, o]))
      assert.deepEqual([...byPartition.keys()].sort(), [2, 3], 'a position for each released partition')
      for (const p of [2, 3])
        assert.equal(byPartition.get(p), BigInt((atRelease[p] ?? 0) - 1), `partition ${p}: position = what was copied`)
      const stored = await storedPositions(B, { source: 'A' }, topic)
      for (const p of [2, 3]) assert.equal(stored.get(p), byPartition.get(p), `partition ${p}: position stored`)

      // Nothing more for the released partitions; the others go on in the same task.
      await waitFor(
        async () => {
          const now = await countsOn(remote)
          return (now[0] ?? 0) > (atRelease[0] ?? 0) + 100 && (now[1] ?? 0) > (atRelease[1] ?? 0) + 100
        },
        { timeoutMs: 30_000, what: 'partitions 0 and 1 copied on after the release' }
      )
      const later = await countsOn(remote)
      assert.deepEqual(
        [later[2], later[3]],
        [atRelease[2], atRelease[3]],
        'nothing of the released partitions sent after own() resolved'
      )
      assert.deepEqual(first.status().threadIds, threadIds, 'the same worker thread')
      assert.equal(first.status().tasks, 1)
      const since = lines.slice(linesBefore)
      assert.ok(
        since.some(l => l.includes('released partitions')),
        since.join('\n')
      )
      assert.ok(
        !since.some(l => l.includes('copying with tasks') || l.includes('copying partitions')),
        `no task restarted or dealt again:\n${since.join('\n')}`
      )

      // Another instance takes them over from the positions handed over.
      const handOver: Position[] = [...released]
      await second.own(new Set([tpKey(topic, 2), tpKey(topic, 3)]), 1, handOver)
      second.start()
      await new Promise(resolve => setTimeout(resolve, 2000))
      writing = false
      await writer
      await waitForStoredPositions(A, [topic], B, { source: 'A' }, { timeoutMs: 120_000 })
      assert.deepEqual(
        (await readAll(B, remote)).map(comparable),
        (await readAll(A, topic)).map(comparable),
        'every record once, in order'
      )
      assert.equal(first.status().copier?.lastError, undefined)
      assert.equal(second.status().copier?.lastError, undefined)
    }
  )
}
