/**
 * `kafka-mirror bench` on real brokers, through the binary: a flat-out run and a fixed-rate lz4
 * run measure what reached the target (every record, latency percentiles in order, the copy's
 * CPU and memory), print progress, and delete their scratch topics on both clusters; another topic
 * of the flow is never touched; Ctrl-C stops a run and still deletes them.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { after, before, test } from 'node:test'
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import { binaryPath as bin, runBinary } from '../harness/binary.ts'
import { type KafkaCluster, startClusters } from '../harness/cluster.ts'
import { clientConfig, createTopic, produce, waitFor } from '../harness/helpers.ts'
import { writeMm2Properties } from '../harness/mirror-config.ts'

let A: KafkaCluster
let B: KafkaCluster
let file: string
before(async () => {
  const [a, b] = await startClusters([{ name: 'A' }, { name: 'B' }])
  if (a === undefined || b === undefined) throw new Error('clusters did not start')
  A = a
  B = b
  file = writeMm2Properties({ A, B }, { 'A->B.enabled': 'true', 'A->B.topics': '.*', 'B->A.enabled': 'false', 'emit.heartbeats.enabled': 'false', 'emit.checkpoints.enabled': 'false' })
})
after(async () => { await Promise.all([A?.close(), B?.close()]) })

async function topics (cluster: KafkaCluster): Promise<string[]> {
  const admin = new KafkaAdmin(clientConfig(cluster), 'test-admin')
  try { return await admin.listTopics() } finally { await admin.close() }
}

interface BenchJson { received: number, records: number, recordsPerS: number, mbPerS: number, latency: { count: number, p50: number, p95: number, p99: number, max: number }, copyCpuS: number, peakRssMb: number, topic: string, remote: string }

test('bench: flat out and at a fixed rate with lz4, every record measured on the target, scratch topics deleted, other topics untouched', async () => {
  await createTopic(A, 'orders', { partitions: 2 })
  await produce(A, 'orders', [{ key: 'k', value: 'v' }])
  const flat = await runBinary(['bench', '--config', file, '--flow', 'A->B', '--records', '20000', '--size', '200', '--partitions', '3', '--json'], { timeoutMs: 240_000 })
  assert.equal(flat.status, 0, flat.stderr)
  const r = JSON.parse(flat.stdout) as BenchJson
  assert.deepEqual([r.received, r.records, r.latency.count], [20000, 20000, 20000])
  assert.ok(r.recordsPerS > 0 && r.mbPerS > 0)
  assert.ok(r.latency.p50 <= r.latency.p95 && r.latency.p95 <= r.latency.p99 && r.latency.p99 <= r.latency.max, JSON.stringify(r.latency))
  assert.ok(r.copyCpuS > 0 && r.peakRssMb > 50, `copy CPU ${r.copyCpuS} s, peak ${r.peakRssMb} MB`)
  assert.match(flat.stderr, /sent \d+ of 20000, on the target \d+/)
  assert.match(r.topic, /^kafka-mirror-bench-[0-9a-f]{8}$/)
  assert.equal(r.remote, `A.${r.topic}`)

  const paced = await runBinary(['bench', '--config', file, '--flow', 'A->B', '--rate', '2000', '--duration', '3', '--compression', 'lz4', '--size', '500'], { timeoutMs: 240_000 })
  assert.equal(paced.status, 0, paced.stderr)
  assert.match(paced.stdout, /flow A->B: 6000 of 6000 records of 500 B \(lz4\) through 6 partitions, at 2000 records\/s/)
  assert.match(paced.stdout, /^latency\s+p50 \d+ ms, p95 \d+ ms, p99 \d+ ms, max \d+ ms/m)
  assert.match(paced.stdout, /^scratch topics\s+kafka-mirror-bench-[0-9a-f]{8} and A\.kafka-mirror-bench-[0-9a-f]{8}: deleted$/m)

  await waitFor(async () => ![...await topics(A), ...await topics(B)].some(t => t.includes('kafka-mirror-bench-')), { timeoutMs: 30_000, what: 'no scratch topic left on either cluster' })
  assert.ok(!(await topics(B)).includes('A.orders'), 'the bench copies only its scratch topic')
})

test('bench: Ctrl-C stops the run and deletes the scratch topics', async () => {
  const child = spawn(process.execPath, [bin, 'bench', '--config', file, '--flow', 'A->B', '--records', '50000000', '--size', '100'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  child.stderr.on('data', (c: Buffer) => { err += c.toString() })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => { resolve(code) }))
  try {
    await waitFor(() => /on the target \d+/.test(err), { timeoutMs: 120_000, what: 'the run under way' })
    child.kill('SIGINT')
    const code = await exited
    assert.equal(code, 1, err)
    assert.match(err, /bench: interrupted; the scratch topics were deleted/)
    await waitFor(async () => ![...await topics(A), ...await topics(B)].some(t => t.includes('kafka-mirror-bench-')), { timeoutMs: 30_000, what: 'no scratch topic left' })
  } finally {
    child.kill('SIGKILL')
    await exited
  }
})

test('bench: a scratch topic the source refuses, or a flow that is not there, fails with what is wrong and leaves nothing behind', async () => {
  const threeReplicas = writeMm2Properties({ A, B }, { 'A->B.enabled': 'true', 'A->B.topics': '.*', 'B->A.enabled': 'false', 'replication.factor': '3', 'emit.heartbeats.enabled': 'false', 'emit.checkpoints.enabled': 'false' })
  const refused = await runBinary(['bench', '--config', threeReplicas, '--flow', 'A->B', '--records', '10'], { timeoutMs: 120_000 })
  assert.equal(refused.status, 1, refused.stderr)
  assert.match(refused.stderr, /bench: cannot create the scratch topic kafka-mirror-bench-[0-9a-f]{8} on cluster A: .*replication factor/i)
  const absent = await runBinary(['bench', '--config', file, '--flow', 'B->A', '--records', '10'], { timeoutMs: 60_000 })
  assert.equal(absent.status, 2, absent.stderr)
  assert.match(absent.stderr, /bench: no enabled flow B->A in the config \(flows: A->B\)/)
  assert.ok(![...await topics(A), ...await topics(B)].some(t => t.includes('kafka-mirror-bench-')), 'no scratch topic left')
})
