/**
 * `kafka-mirror bench` on real brokers, through the binary: a flat-out run and a fixed-rate lz4
 * run measure what reached the target (every record, latency percentiles in order, the copy's
 * CPU and memory), print progress, and delete their scratch topics on both clusters; another topic
 * of the flow is never touched; Ctrl-C stops a run and still deletes them.
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import { binaryPath as bin, runBinary } from '../harness/binary.ts'
import type { KafkaCluster } from '../harness/cluster.ts'
import { clientConfig, clustersForFile, createTopic, produce, waitFor } from '../harness/helpers.ts'
import { writeMm2Properties } from '../harness/mirror-config.ts'

let A: KafkaCluster
let B: KafkaCluster
let file: string
clustersForFile([{ name: 'A' }, { name: 'B' }], ([a, b]) => {
  A = a
  B = b
  file = writeMm2Properties(
    { A, B },
    {
      'A->B.enabled': 'true',
      'A->B.topics': '.*',
      'B->A.enabled': 'false',
      'emit.heartbeats.enabled': 'false',
      'emit.checkpoints.enabled': 'false'
    }
  )
})

async function topics(cluster: KafkaCluster): Promise<string[]> {
  const admin = new KafkaAdmin(clientConfig(cluster), 'test-admin')
  try {
    return await admin.listTopics()
  } finally {
    await admin.close()
  }
}

interface BenchJson {
  received: number
  duplicates: number
  records: number
  seconds: number
  producedPerS: number
  recordsPerS: number
  mbPerS: number
  latency: { count: number; p50: number; p95: number; p99: number; max: number }
  copyCpuS: number
  peakRssMb: number
  topic: string
  remote: string
  scratchLeft: string[]
}

test('bench: flat out and at a fixed rate with lz4, every record measured on the target, scratch topics deleted, other topics untouched', async () => {
  await createTopic(A, 'orders', { partitions: 2 })
  await produce(A, 'orders', [{ key: 'k', value: 'v' }])
  const flat = await runBinary(
    ['bench', '--config', file, '--flow', 'A->B', '--records', '20000', '--size', '200', '--partitions', '3'],
    { timeoutMs: 240_000 }
  )
  assert.equal(flat.status, 0, flat.stderr)
  assert.match(flat.stdout, /^flow A->B: 20000 of 20000 records of 200 B \(none\) through 3 partitions, flat out$/m)
  assert.match(flat.stdout, /^throughput\s+\d+ records\/s, \d+\.\d MB\/s/m)
  assert.match(
    flat.stdout,
    /^latency\s+p50 \d+ ms, p95 \d+ ms, p99 \d+ ms, max \d+ ms \(end to end: sent on A to read on B; flat out/m
  )
  assert.match(flat.stdout, /^copy CPU\s+\d+\.\d CPU-s, \d+\.\d CPU-s per GB of values$/m)
  assert.match(
    flat.stdout,
    /^scratch topics\s+kafka-mirror-bench-[0-9a-f]{8} and A\.kafka-mirror-bench-[0-9a-f]{8}: deleted$/m
  )
  assert.match(flat.stderr, /sent \d+ of 20000, on the target \d+/)

  const paced = await runBinary(
    [
      'bench',
      '--config',
      file,
      '--flow',
      'A->B',
      '--rate',
      '2000',
      '--duration',
      '3',
      '--compression',
      'lz4',
      '--size',
      '500',
      '--json'
    ],
    { timeoutMs: 240_000 }
  )
  assert.equal(paced.status, 0, paced.stderr)
  const r = JSON.parse(paced.stdout) as BenchJson
  assert.deepEqual([r.received, r.records, r.latency.count, r.duplicates, r.scratchLeft], [6000, 6000, 6000, 0, []])
  // Paced, not flat out: the load kept to 2000 records/s (a little over with its 5 ms ticks at most),
  // and the records reached the target over about the 3 s they were sent in.
  assert.ok(r.producedPerS <= 2200 && r.producedPerS >= 500, `load sent ${r.producedPerS} records/s`)
  assert.ok(r.seconds >= 2, `first to last record on the target in ${r.seconds} s`)
  assert.ok(r.recordsPerS > 0 && r.mbPerS > 0)
  assert.ok(
    r.latency.p50 <= r.latency.p95 && r.latency.p95 <= r.latency.p99 && r.latency.p99 <= r.latency.max,
    JSON.stringify(r.latency)
  )
  assert.ok(r.copyCpuS > 0 && r.peakRssMb > 50, `copy CPU ${r.copyCpuS} s, peak ${r.peakRssMb} MB`)
  assert.match(r.topic, /^kafka-mirror-bench-[0-9a-f]{8}$/)
  assert.equal(r.remote, `A.${r.topic}`)

  await waitFor(
    async () => ![...(await topics(A)), ...(await topics(B))].some(t => t.includes('kafka-mirror-bench-')),
    { timeoutMs: 30_000, what: 'no scratch topic left on either cluster' }
  )
  assert.ok(!(await topics(B)).includes('A.orders'), 'the bench copies only its scratch topic')
})

test('bench: Ctrl-C (twice) stops the run, deletes the scratch topics and leaves no load or reader process', async () => {
  const child = spawn(
    process.execPath,
    [bin, 'bench', '--config', file, '--flow', 'A->B', '--records', '50000000', '--size', '100'],
    { stdio: ['ignore', 'pipe', 'pipe'] }
  )
  let err = ''
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString()
  })
  const exited = new Promise<number | null>(resolve =>
    child.once('exit', code => {
      resolve(code)
    })
  )
  try {
    await waitFor(() => /on the target \d+/.test(err), { timeoutMs: 120_000, what: 'the run under way' })
    child.kill('SIGINT')
    // An impatient second Ctrl-C must not cut the cleanup short.
    await new Promise(resolve => setTimeout(resolve, 100))
    child.kill('SIGINT')
    const code = await exited
    assert.equal(code, 1, err)
    assert.match(err, /bench: interrupted; the scratch topics were deleted/)
    const helpers = spawnSync('pgrep', ['-f', 'src/bench/(load|read)-process[.]ts'], { encoding: 'utf8' })
    assert.equal(helpers.stdout.trim(), '', 'no load or reader process outlives the bench')
    await waitFor(
      async () => ![...(await topics(A)), ...(await topics(B))].some(t => t.includes('kafka-mirror-bench-')),
      { timeoutMs: 30_000, what: 'no scratch topic left' }
    )
  } finally {
    child.kill('SIGKILL')
    await exited
  }
})

test('bench: a flow that is not there, or one whose filters would not copy the scratch topic, fails with what is wrong and creates nothing', async () => {
  const excluding = writeMm2Properties(
    { A, B },
    {
      'A->B.enabled': 'true',
      'A->B.topics': '.*',
      'A->B.topics.exclude': 'kafka-mirror-bench-.*',
      'B->A.enabled': 'false',
      'emit.heartbeats.enabled': 'false',
      'emit.checkpoints.enabled': 'false'
    }
  )
  const excluded = await runBinary(['bench', '--config', excluding, '--flow', 'A->B', '--records', '10'], {
    timeoutMs: 120_000
  })
  assert.equal(excluded.status, 2, excluded.stderr)
  assert.match(
    excluded.stderr,
    /bench: flow A->B would not copy a topic named kafka-mirror-bench-[0-9a-f]{8} \(its topic filters exclude it/
  )
  const absent = await runBinary(['bench', '--config', file, '--flow', 'B->A', '--records', '10'], {
    timeoutMs: 60_000
  })
  assert.equal(absent.status, 2, absent.stderr)
  assert.match(absent.stderr, /bench: no enabled flow B->A in the config \(flows: A->B\)/)
  assert.ok(
    ![...(await topics(A)), ...(await topics(B))].some(t => t.includes('kafka-mirror-bench-')),
    'no scratch topic left'
  )
})
