/**
 * Throughput of 1, 2, 3... kafka-mirror instances sharing one flow through the target's group
 * coordinator (README, "Several instances"), on the same two local brokers. For each instance
 * count, a fresh source topic of N records of S bytes in P partitions is loaded first, then that
 * many `kafka-mirror run` processes start at once on one config (a fresh worker group and internal
 * topics per run) and copy it. Figures only; nothing is asserted.
 *
 *   npm run bench:scale-out -- [--instances 1,2,3] [--records 1000000] [--size 200]
 *                              [--partitions 12] [--tasks 1] [--repeat 1]
 *
 * Per run:
 * - group + first record: from spawning the processes to the first record on the target (process
 *   start, joining the group and the first deal included);
 * - records/s and MB/s: steady state, from the first record seen to the last, counting the
 *   records that arrived after the first sighting (MB: MiB of key + value bytes);
 * - CPU-s/GB: the CPU time of all the instances together (/proc/<pid>/stat, read just before each
 *   is stopped), over the GiB of record bytes copied;
 * - peak RSS: VmHWM of each instance (the largest, and the sum).
 * `tasks.max` counts tasks across the group (at least one per instance that owns partitions), as
 * MM2 counts them across Connect workers.
 *
 * On a shared machine the instances compete with the two brokers and with each other for the
 * cores: more instances than cores measures the cost of sharing, not a speed-up. Run it with
 * nothing else running.
 */
import { createWriteStream, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { KafkaAdmin } from '../src/kafka/admin.ts'
import { sleep } from '../src/util/abortable.ts'
import { startClusters } from '../test/harness/cluster.ts'
import { clientConfig, createTopic, produce } from '../test/harness/helpers.ts'
import { writeMm2Properties } from '../test/harness/mirror-config.ts'
import { spawnTracked, type TrackedProcess } from '../test/harness/processes.ts'
import { listEnds, POLL_MS } from './lib/mirror-process.ts'
import { cpuSplit, vmHwmKb } from './lib/proc-stats.ts'
import { benchArgs } from './lib/args.ts'

const values = benchArgs(import.meta.url, {
  instances: { type: 'string', default: '1,2,3' },
  records: { type: 'string', default: '1000000' },
  size: { type: 'string', default: '200' },
  partitions: { type: 'string', default: '12' },
  tasks: { type: 'string', default: '1' },
  repeat: { type: 'string', default: '1' }
})
const counts = values.instances.split(',').map(Number)
const records = Number(values.records)
const size = Number(values.size)
const partitions = Number(values.partitions)
const repeat = Number(values.repeat)
if (counts.some(n => !Number.isInteger(n) || n < 1))
  throw new Error(`--instances: expected e.g. 1,2,3, got ${values.instances}`)

const BIN = fileURLToPath(new URL('../bin/kafka-mirror.js', import.meta.url))
/** A run that has not copied everything this long after the spawn is reported as not finished. */
const LIMIT_MS = 300_000
/** Bytes of one record as ConsumerPerformance counts them: key `k<i>` and the value. */
const recordBytes = (i: number): number => `k${i}`.length + size

interface RunResult {
  readonly instances: number
  readonly firstS: number | undefined
  readonly allS: number | undefined
  readonly recordsPerS: number | undefined
  readonly mbPerS: number | undefined
  readonly cpuSPerGb: number | undefined
  readonly peakMb: readonly number[]
}

const logDir = mkdtempSync(join(tmpdir(), 'km-bench-scale-'))
const [a, b] = await startClusters([
  { name: 'bench-A', heapMb: 768 },
  { name: 'bench-B', heapMb: 768 }
])
if (a === undefined || b === undefined) throw new Error('clusters did not start')
const target = new KafkaAdmin(clientConfig(b), 'bench-admin')
const results: RunResult[] = []
let runIndex = 0
try {
  let totalBytes = 0
  for (let i = 0; i < records; i++) totalBytes += recordBytes(i)
  const payload = 'x'.repeat(size)
  for (let r = 0; r < repeat; r++) {
    for (const n of counts) {
      const index = runIndex++
      const topic = `scale-${index}`
      await createTopic(a, topic, { partitions })
      const loadStart = Date.now()
      await produce(
        a,
        topic,
        Array.from({ length: records }, (_, i) => ({ partition: i % partitions, key: `k${i}`, value: payload })),
        { chunk: 20_000 }
      )
      console.log(
        `run ${index}: loaded ${records} x ${size} B into ${topic} in ${((Date.now() - loadStart) / 1000).toFixed(1)} s; starting ${n} instance(s)`
      )
      results.push(await runInstances(index, topic, n, totalBytes))
      const last = results.at(-1)
      console.log(`run ${index}: ${JSON.stringify(last)}`)
    }
  }
} finally {
  await target.close()
  await Promise.all([a.close(), b.close()])
}

const fmt = (v: number | undefined, digits = 1): string => (v === undefined ? '-' : v.toFixed(digits))
console.log(
  `\n${records} records x ${size} B in ${partitions} partitions, tasks.max ${values.tasks}; logs in ${logDir}`
)
console.log(
  '| instances | group + first record (s) | all copied (s) | records/s | MB/s | CPU-s/GB (all instances) | peak RSS per instance (MB) |'
)
console.log('|---|---|---|---|---|---|---|')
for (const r of results)
  console.log(
    `| ${r.instances} | ${fmt(r.firstS)} | ${fmt(r.allS)} | ${fmt(r.recordsPerS, 0)} | ${fmt(r.mbPerS)} | ${fmt(r.cpuSPerGb, 0)} | ${r.peakMb.map(m => m.toFixed(0)).join(' / ')} |`
  )

async function runInstances(index: number, topic: string, n: number, totalBytes: number): Promise<RunResult> {
  const file = writeMm2Properties(
    { A: a as NonNullable<typeof a>, B: b as NonNullable<typeof b> },
    {
      'A->B.enabled': 'true',
      'A->B.topics': topic,
      'B->A.enabled': 'false',
      'emit.heartbeats.enabled': 'false',
      'emit.checkpoints.enabled': 'false',
      'tasks.max': values.tasks,
      'B.group.id': `scale-${index}-mm2`,
      'offset.storage.topic': `mm2-offsets.scale-${index}.internal`,
      'config.storage.topic': `mm2-configs.scale-${index}.internal`,
      'status.storage.topic': `mm2-status.scale-${index}.internal`
    }
  )
  const remote = `A.${topic}`
  const tps = Array.from({ length: partitions }, (_, partition) => ({ topic: remote, partition }))
  const procs: TrackedProcess[] = []
  const peakKb = new Array<number>(n).fill(0)
  const spawnedAt = Date.now()
  for (let k = 0; k < n; k++) {
    const proc = spawnTracked(
      `kafka-mirror-${k}`,
      process.execPath,
      [BIN, 'run', '--config', file, '--metrics-port', '0'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, KAFKA_MIRROR_STATE_DIR: join(logDir, `state-${index}`) }
      }
    )
    // Drain the output into a file: a full pipe would stall the instance.
    const log = createWriteStream(join(logDir, `${index}-${k}.log`))
    proc.child.stdout?.on('data', (d: Buffer) => log.write(d))
    proc.child.stderr?.on('data', (d: Buffer) => log.write(d))
    void proc.exited.then(() => log.end())
    procs.push(proc)
  }
  const sample = (): void => {
    procs.forEach((p, k) => {
      peakKb[k] = Math.max(peakKb[k] ?? 0, vmHwmKb(p.child.pid) ?? 0)
    })
  }
  const ends = new Map<string, bigint>()
  let copied = 0n
  let firstAt: number | undefined
  let firstCount = 0n
  let doneAt: number | undefined
  let cpuS: number | undefined
  try {
    while (Date.now() - spawnedAt < LIMIT_MS) {
      const pollStart = Date.now()
      try {
        for (const [key, end] of await listEnds(target, tps)) ends.set(key, end)
        copied = [...ends.values()].reduce((x, y) => x + y, 0n)
      } catch {
        /* the remote topic is not there yet, or the target did not answer: poll again */
      }
      sample()
      const now = Date.now()
      if (copied > 0n && firstAt === undefined) {
        firstAt = now
        firstCount = copied
      }
      if (copied >= BigInt(records)) {
        doneAt = now
        break
      }
      await sleep(POLL_MS - (now - pollStart))
    }
  } finally {
    sample()
    const cpu = procs.map(p => cpuSplit(p.child.pid))
    await Promise.all(procs.map(async p => await p.stop()))
    if (cpu.every(c => c !== undefined)) cpuS = cpu.reduce((s, c) => s + (c?.user ?? 0) + (c?.system ?? 0), 0)
  }
  const steadyRecords = doneAt === undefined ? 0 : records - Number(firstCount)
  const steadyS = doneAt === undefined || firstAt === undefined ? 0 : (doneAt - firstAt) / 1000
  const bytesPerRecord = totalBytes / records
  return {
    instances: n,
    firstS: firstAt === undefined ? undefined : (firstAt - spawnedAt) / 1000,
    allS: doneAt === undefined ? undefined : (doneAt - spawnedAt) / 1000,
    recordsPerS: steadyS > 0 ? steadyRecords / steadyS : undefined,
    mbPerS: steadyS > 0 ? (steadyRecords * bytesPerRecord) / steadyS / 1024 / 1024 : undefined,
    cpuSPerGb: cpuS === undefined || doneAt === undefined ? undefined : cpuS / (totalBytes / 1024 ** 3),
    peakMb: peakKb.map(kb => kb / 1024)
  }
}
