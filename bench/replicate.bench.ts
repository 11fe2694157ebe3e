/**
 * Replication throughput on this machine: two local clusters, N records of S bytes in P
 * partitions pre-loaded on the source, then one kafka-mirror flow copies them. Prints
 * records/s, MB/s (values) and peak RSS. Figures only; nothing is asserted.
 *
 *   npm run bench -- [--records 300000] [--size 200] [--partitions 6] [--tasks 1] [--process]
 *
 * By default the mirror runs inside the bench process, so its RSS includes the driver (which
 * holds every record it produced). `--process` runs the real binary (`kafka-mirror run`) as a
 * child instead and reports that process's own peak RSS (VmHWM), the figure an operator sees.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { loadConfig } from '../src/config/load.ts'
import { KafkaAdmin } from '../src/kafka/admin.ts'
import { buildMirror } from '../src/mirror.ts'
import { createLogger } from '../src/observe/logger.ts'
import { startClusters } from '../test/harness/cluster.ts'
import { clientConfig, createTopic, produce } from '../test/harness/helpers.ts'
import { writeMm2Properties } from '../test/harness/mirror-config.ts'
import { benchArgs } from './lib/args.ts'

const values = benchArgs(import.meta.url, {
  records: { type: 'string', default: '300000' },
  size: { type: 'string', default: '200' },
  partitions: { type: 'string', default: '6' },
  tasks: { type: 'string', default: '1' },
  process: { type: 'boolean', default: false }
})
const records = Number(values.records)
const size = Number(values.size)
const partitions = Number(values.partitions)

const [a, b] = await startClusters([
  { name: 'bench-A', heapMb: 768 },
  { name: 'bench-B', heapMb: 768 }
])
if (a === undefined || b === undefined) throw new Error('clusters did not start')
try {
  await createTopic(a, 'bench', { partitions })
  const payload = 'x'.repeat(size)
  const loadStart = Date.now()
  await produce(
    a,
    'bench',
    Array.from({ length: records }, (_, i) => ({ partition: i % partitions, key: `k${i}`, value: payload })),
    { chunk: 20_000 }
  )
  console.log(
    `loaded ${records} records of ${size} B into ${partitions} partitions in ${((Date.now() - loadStart) / 1000).toFixed(1)} s`
  )

  const file = writeMm2Properties(
    { A: a, B: b },
    { 'A->B.enabled': 'true', 'A->B.topics': 'bench', 'tasks.max': values.tasks }
  )
  const { config } = await loadConfig(file)
  const mirror = values.process ? childMirror(file) : inProcessMirror(config)
  const admin = new KafkaAdmin(clientConfig(b), 'bench-admin')
  const tps = Array.from({ length: partitions }, (_, partition) => ({ topic: 'A.bench', partition }))
  let peakRss = mirror.rss()
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, mirror.rss())
  }, 100)
  const start = Date.now()
  mirror.start()
  let firstRecordAt = 0
  while (true) {
    const copied = await admin
      .describeTopics(['A.bench'])
      .then(async d =>
        d.size === 0 ? 0n : [...(await admin.listOffsets(tps, 'latest')).values()].reduce((x, y) => x + y, 0n)
      )
    if (copied > 0n && firstRecordAt === 0) firstRecordAt = Date.now()
    if (copied >= BigInt(records)) break
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  const end = Date.now()
  clearInterval(sampler)
  peakRss = Math.max(peakRss, mirror.rss())
  await mirror.close()
  await admin.close()
  const seconds = (end - firstRecordAt) / 1000
  console.log(
    `kafka-mirror copied ${records} records in ${((end - start) / 1000).toFixed(1)} s from start (${seconds.toFixed(1)} s from the first copied record)`
  )
  console.log(
    `throughput: ${Math.round(records / seconds)} records/s, ${((records * size) / seconds / 1024 / 1024).toFixed(1)} MB/s of values`
  )
  console.log(
    values.process
      ? `peak RSS of the kafka-mirror process (VmHWM): ${Math.round(peakRss / 1024 / 1024)} MB`
      : `peak RSS of this process (mirror + bench driver): ${Math.round(peakRss / 1024 / 1024)} MB`
  )
} finally {
  await Promise.all([a.close(), b.close()])
}

interface BenchMirror {
  start(): void
  rss(): number
  close(): Promise<void>
}

function inProcessMirror(config: Awaited<ReturnType<typeof loadConfig>>['config']): BenchMirror {
  const mirror = buildMirror(
    config,
    createLogger(
      'bench',
      process.env.KM_BENCH_LOG !== undefined
        ? line => {
            process.stderr.write(line + '\n')
          }
        : () => {}
    )
  )
  return {
    start: () => {
      mirror.start()
    },
    rss: () => process.memoryUsage().rss,
    close: async () => {
      await mirror.close()
    }
  }
}

/** The real binary as a child; its memory read from /proc (VmHWM: the kernel's own peak). */
function childMirror(file: string): BenchMirror {
  let child: ReturnType<typeof spawn> | undefined
  const status = (field: 'VmRSS' | 'VmHWM'): number => {
    if (child?.pid === undefined) return 0
    try {
      const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]
      return kb === undefined ? 0 : Number(kb) * 1024
    } catch {
      return 0
    }
  }
  return {
    start() {
      child = spawn(
        process.execPath,
        [new URL('../bin/kafka-mirror.js', import.meta.url).pathname, 'run', '--config', file],
        { stdio: ['ignore', 'ignore', process.env.KM_BENCH_LOG !== undefined ? 'inherit' : 'ignore'] }
      )
    },
    rss: () => Math.max(status('VmRSS'), status('VmHWM')),
    async close() {
      if (child === undefined || child.exitCode !== null) return
      const exited = new Promise(resolve => child?.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }
  }
}
