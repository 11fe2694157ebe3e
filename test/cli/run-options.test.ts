/**
 * `kafka-mirror run` through the real binary: `--clusters` restricts the run to flows whose target
 * is listed (as MM2's --clusters), and SIGINT (Ctrl-C) stops as SIGTERM does: exit 0 with every
 * copied position stored.
 */
import assert from 'node:assert/strict'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { decodeOffsetValue, decodeSourceOffsetKey } from '../../src/formats/connect-offsets.ts'
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import type { KafkaCluster } from '../harness/cluster.ts'
import {
  clientConfig,
  clustersForFile,
  createTopic,
  produce,
  readAll,
  uniqueName,
  waitFor
} from '../harness/helpers.ts'
import { writeMm2Properties } from '../harness/mirror-config.ts'
import { spawnTracked, type TrackedProcess } from '../harness/processes.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const bin = join(root, 'bin', 'kafka-mirror.js')
const WAIT = { timeoutMs: 90_000, intervalMs: 250 }

let A: KafkaCluster
let B: KafkaCluster
clustersForFile([{ name: 'runopt-A' }, { name: 'runopt-B' }], ([a, b]) => {
  A = a
  B = b
})

function runBinary(args: string[]): { proc: TrackedProcess; stderr: () => string } {
  const proc = spawnTracked('kafka-mirror', process.execPath, [bin, 'run', ...args], {
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  proc.child.stdout?.resume()
  proc.child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  return { proc, stderr: () => stderr }
}

async function topicsOf(cluster: KafkaCluster): Promise<string[]> {
  const admin = new KafkaAdmin(clientConfig(cluster), 'test-admin')
  try {
    return await admin.listTopics()
  } finally {
    await admin.close()
  }
}

const sleep = async (ms: number): Promise<void> => {
  await new Promise(resolve => setTimeout(resolve, ms))
}

test(
  'run --clusters B on a config with A->B and B->A enabled runs only A->B: nothing of B is copied to A',
  { timeout: 300_000 },
  async t => {
    const onA = uniqueName('on-a')
    const onB = uniqueName('on-b')
    await createTopic(A, onA)
    await createTopic(B, onB)
    await produce(
      A,
      onA,
      Array.from({ length: 10 }, (_, i) => ({ value: `a${i}` }))
    )
    await produce(
      B,
      onB,
      Array.from({ length: 10 }, (_, i) => ({ value: `b${i}` }))
    )
    const file = writeMm2Properties(
      { A, B },
      {
        'A->B.enabled': 'true',
        'B->A.enabled': 'true',
        topics: `${onA}|${onB}`,
        'emit.heartbeats.enabled': 'false',
        'refresh.topics.interval.seconds': '1',
        'refresh.groups.interval.seconds': '1',
        'sync.topic.acls.enabled': 'false'
      }
    )
    const run = runBinary(['--config', file, '--clusters', 'B'])
    t.after(async () => {
      await run.proc.kill()
    })
    await waitFor(async () => (await readAll(B, `A.${onA}`).catch(() => [])).length === 10, {
      ...WAIT,
      what: `A.${onA} on B`
    })
    // B->A would have found its topic within a refresh (1 s) as A->B did; give it several.
    await sleep(5000)
    const onClusterA = await topicsOf(A)
    assert.equal(onClusterA.includes(`B.${onB}`), false, `B->A did not run: no B.${onB} on A`)
    assert.deepEqual(
      onClusterA.filter(n => n.startsWith('B.') || n === 'mm2-offsets.B.internal'),
      [],
      'B->A wrote nothing to A (no remote topics, no positions topic)'
    )
    run.proc.child.kill('SIGTERM')
    assert.equal(await run.proc.exited, 0, run.stderr())
    assert.match(run.stderr(), /stopped flow=A->B records=10/)
    assert.doesNotMatch(run.stderr(), /flow=B->A/, 'no B->A flow was started')
  }
)

test(
  'SIGINT (Ctrl-C) stops run like SIGTERM: exit 0 within 30 s, positions of every copied record stored',
  { timeout: 300_000 },
  async t => {
    const topic = uniqueName('sigint')
    await createTopic(A, topic, { partitions: 2 })
    await produce(
      A,
      topic,
      Array.from({ length: 30 }, (_, i) => ({ partition: i % 2, value: `v${i}` }))
    )
    // Positions are otherwise stored every 10 min here: only the shutdown can have stored them.
    const file = writeMm2Properties(
      { A, B },
      {
        'A->B.enabled': 'true',
        'A->B.topics': topic,
        'emit.heartbeats.enabled': 'false',
        'B.offset.flush.interval.ms': '600000',
        'sync.topic.acls.enabled': 'false'
      }
    )
    const run = runBinary(['--config', file])
    t.after(async () => {
      await run.proc.kill()
    })
    await waitFor(async () => (await readAll(B, `A.${topic}`).catch(() => [])).length === 30, {
      ...WAIT,
      what: 'the records on B'
    })
    const stoppedAt = Date.now()
    run.proc.child.kill('SIGINT')
    const code = await run.proc.exited
    t.diagnostic(`SIGINT -> exit in ${Date.now() - stoppedAt} ms`)
    assert.equal(code, 0, run.stderr())
    assert.ok(Date.now() - stoppedAt < 30_000, 'stopped within 30 s')
    assert.match(run.stderr(), /stopped flow=A->B records=30/)
    const stored = new Map<number, bigint | null>()
    for (const r of await readAll(B, 'mm2-offsets.A.internal')) {
      const k = decodeSourceOffsetKey(r.key)
      if (k.topic === topic && k.cluster === 'A') stored.set(k.partition, decodeOffsetValue(r.value))
    }
    // Connect's source offset is the last copied record's offset: 15 records per partition -> 14.
    assert.deepEqual(
      stored,
      new Map([
        [0, 14n],
        [1, 14n]
      ]),
      'positions of every copied record stored at shutdown'
    )
  }
)
