/**
 * A source cluster that is down when the mirror starts (issue 3, faults): the flow is marked not
 * ready with a reason naming the cluster, a warning is logged, and once the broker comes up the
 * flow recovers by itself (no restart) and copies every record.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { KafkaCluster } from '../harness/cluster.ts'
import {
  assertNamesCluster,
  clustersForFile,
  createTopic,
  produce,
  readAll,
  uniqueName,
  waitFor
} from '../harness/helpers.ts'
import { writeMm2Properties } from '../harness/mirror-config.ts'
import { startMirror, testLogger } from '../harness/mirror-runner.ts'

let A: KafkaCluster
let B: KafkaCluster
clustersForFile([{ name: 'unreach-A' }, { name: 'unreach-B' }], ([a, b]) => {
  A = a
  B = b
})

test(
  'source unreachable at start: flow not ready with the reason, recovers when the source broker starts, every record copied',
  { timeout: 400_000 },
  async t => {
    const topic = uniqueName('late-source')
    await createTopic(A, topic, { partitions: 2 })
    const values = Array.from({ length: 40 }, (_, i) => `v${i}`)
    await produce(
      A,
      topic,
      values.map((value, i) => ({ partition: i % 2, value }))
    )
    await A.stop()
    let down = true
    t.after(async () => {
      if (down) await A.restart()
    })

    const file = writeMm2Properties(
      { A, B },
      {
        'A->B.enabled': 'true',
        'A->B.topics': topic,
        'emit.heartbeats.enabled': 'false',
        'emit.checkpoints.enabled': 'false',
        'sync.topic.acls.enabled': 'false',
        'refresh.topics.interval.seconds': '1'
      }
    )
    const lines: string[] = []
    const mirror = await startMirror(t, file, testLogger({ lines }))

    const notReady = await waitFor(
      () => {
        const s = mirror.status()[0]
        return s?.state === 'not-ready' ? s : undefined
      },
      { timeoutMs: 60_000, what: 'flow not ready while the source is down' }
    )
    t.diagnostic(`status while the source is down: ${notReady.reason ?? ''}`)
    assertNamesCluster(notReady.reason ?? '', 'A', A)
    await waitFor(() => lines.some(l => / (WARN|ERROR) /.test(l)), { timeoutMs: 30_000, what: 'a warning in the log' })
    t.diagnostic(
      `log while the source is down: ${lines
        .filter(l => / (WARN|ERROR) /.test(l))
        .slice(0, 2)
        .join(' | ')}`
    )
    assert.equal((await readAll(B, `A.${topic}`).catch(() => [])).length, 0, 'nothing copied yet')

    const upAt = Date.now()
    await A.restart()
    down = false
    await waitFor(async () => (await readAll(B, `A.${topic}`).catch(() => [])).length === values.length, {
      timeoutMs: 120_000,
      intervalMs: 500,
      what: 'every record on B after the source came up'
    })
    await waitFor(() => mirror.status()[0]?.state === 'running', { timeoutMs: 60_000, what: 'flow running again' })
    t.diagnostic(`source broker restarted -> all records on B: ${Date.now() - upAt} ms (includes the broker's start)`)
    const copied = await readAll(B, `A.${topic}`)
    for (const p of [0, 1]) {
      assert.deepEqual(
        copied.filter(r => r.partition === p).map(r => r.value?.toString()),
        values.filter((_, i) => i % 2 === p),
        `partition ${p} copied in order, exactly once`
      )
    }
  }
)
