/**
 * Memory while the target is throttled (issue: with a broker quota on the target and 500,000
 * records waiting, the mirror's RSS rose 409, 427, 449, 470, 478 MB at 30 s steps). What the
 * mirror holds must be bounded by configuration, not by the backlog or the time it runs: the
 * real process, given a 128 MB old-space limit (KAFKA_MIRROR_HEAP_MB), never goes above that plus
 * a fixed allowance for the rest while a throttled target drains the backlog slowly.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import { clientConfig, clustersFor, createTopic, produce, uniqueName, waitFor } from '../harness/helpers.ts'
import { setClientQuota } from '../harness/java-tools.ts'
import { writeMm2Properties } from '../harness/mirror-config.ts'
import { spawnTracked } from '../harness/processes.ts'

const bin = join(fileURLToPath(new URL('../..', import.meta.url)), 'bin', 'kafka-mirror.js')

function statusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
  return Number(kb ?? 0) / 1024
}
const rssMb = (pid: number): number => statusMb(pid, 'VmRSS')
/** The kernel's own peak of the process's resident memory. */
const hwmMb = (pid: number): number => statusMb(pid, 'VmHWM')

test('memory stays level while a throttled target drains a 500,000-record backlog', async t => {
  const [A, B] = await clustersFor(t, [{ name: 'A' }, { name: 'B' }])
  assert.ok(A !== undefined && B !== undefined)
  const topic = uniqueName('backlog')
  await createTopic(A, topic, { partitions: 6 })
  const total = 500_000
  await produce(
    A,
    topic,
    Array.from({ length: total }, (_, i) => ({ partition: i % 6, key: `k${i}`, value: 'm'.repeat(190) })),
    { chunk: 25_000 }
  )
  // 640 KiB/s for the mirror's producer (the broker's quota, which the pipeline fills exactly):
  // the 100 MB backlog takes well over the 75 s of warm-up and sampling to drain.
  await setClientQuota(B.bootstrap(), 'A->B|MirrorSourceConnector|replication-producer', {
    producer_byte_rate: String(640 * 1024)
  })
  const file = writeMm2Properties({ A, B }, { 'A->B.enabled': 'true', 'A->B.topics': topic })
  // The bound is configuration: the old-space limit the launcher gives `run`, plus what is not
  // old space (V8's young generation of up to 3 x 16 MB, code, Node itself, network buffers).
  const heapMb = 128
  const boundMb = heapMb + 240
  const env = { ...process.env, KAFKA_MIRROR_HEAP_MB: String(heapMb), NODE_OPTIONS: '' }
  const mirror = spawnTracked('kafka-mirror', process.execPath, [bin, 'run', '--config', file], {
    stdio: ['ignore', 'ignore', 'ignore'],
    env
  })
  t.after(async () => {
    await mirror.stop()
  })
  const pid = mirror.child.pid
  assert.ok(pid !== undefined)
  // The launcher restarts itself in place with the limit; the measured process must carry it.
  await waitFor(
    () => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(`--max-old-space-size=${heapMb}`),
    { what: 'the mirror running with its heap limit' }
  )

  const admin = new KafkaAdmin(clientConfig(B), 'test-admin')
  t.after(async () => {
    await admin.close()
  })
  const remote = Array.from({ length: 6 }, (_, partition) => ({ topic: `A.${topic}`, partition }))
  const copied = async (): Promise<number> =>
    Number([...(await admin.listOffsets(remote, 'latest')).values()].reduce((a, b) => a + b, 0n))
  await waitFor(async () => (await admin.describeTopics([`A.${topic}`])).has(`A.${topic}`) && (await copied()) > 0, {
    timeoutMs: 60_000,
    what: 'the copy to start'
  })

  // Warm-up (JIT, first full-size fetches), then samples every 5 s for 60 s.
  await new Promise(resolve => setTimeout(resolve, 15_000))
  const samples: number[] = []
  for (let i = 0; i < 13; i++) {
    samples.push(rssMb(pid))
    if (i < 12) await new Promise(resolve => setTimeout(resolve, 5000))
  }
  const left = total - (await copied())
  t.diagnostic(
    `RSS (MB) every 5 s after warm-up: ${samples.map(s => s.toFixed(0)).join(', ')}; ${left} records still waiting`
  )
  assert.ok(left > 50_000, `the backlog was still draining while memory was sampled (${left} left)`)
  const peak = Math.max(...samples, hwmMb(pid))
  assert.ok(
    peak <= boundMb,
    `peak RSS ${peak.toFixed(0)} MB above KAFKA_MIRROR_HEAP_MB ${heapMb} + 240 MB; samples ${samples.map(s => s.toFixed(0)).join(', ')} MB`
  )
})
