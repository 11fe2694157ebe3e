/**
 * Side by side on the same two local brokers: kafka-mirror (the real binary), Java MirrorMaker 2
 * with its defaults and Java MM2 with a tuned producer and consumer, each copying the same N
 * records of S bytes (key `k<i>`) in P partitions from scratch (a fresh source topic per run,
 * pre-loaded just before it, and a fresh worker group and internal topics: a new deployment). The runs alternate (kafka-mirror, java-default, java-tuned, again
 * with --repeat). This is the referee for speed and memory claims. Figures only; nothing asserted.
 *
 *   npm run bench:side-by-side -- [--records 1000000] [--size 200] [--partitions 6] [--tasks 1]
 *                                 [--only kafka-mirror,java-default,java-tuned] [--repeat 1]
 *
 * First, once: the loopback limit of the broker pair, Kafka's own ProducerPerformance (acks=all,
 * batch.size=524288, linger.ms=10) against the source and ConsumerPerformance reading the first
 * pre-loaded topic, both with the full JIT (runJava's default stops at C1).
 *
 * Per run:
 * - first record: from spawning the mirror process to the first record seen on the target (end
 *   offsets of the remote topic `A.<topic>` polled with ListOffsets every 100 ms); it includes
 *   the JVM / Node start and the mirror's own start-up;
 * - records/s and MB/s: steady state, from the first record seen to the last, counting only the
 *   records that arrived after the first sighting; MB are MiB of record bytes (key + value, as
 *   ConsumerPerformance counts). "≥" when every record arrived within one poll;
 * - CPU-s and CPU-s/GB: utime+stime+cutime+cstime of the mirror process (/proc/<pid>/stat) just
 *   before it is stopped, over the GiB of record bytes copied; the whole life of the process,
 *   start-up included (kafka-mirror's launcher re-execs itself in place, same pid, same counters;
 *   the JVM is the process itself);
 * - peak RSS: VmHWM of that process (/proc/<pid>/status; reset by the launcher's execve, so it is
 *   the mirror's own peak). Java MM2 runs with -Xmx512m (the harness's setting);
 * - bytes on target: the .log segment files of the remote topic's partition folders on the
 *   target broker (batching and compression show here).
 * A run that has not copied every record 180 s after its spawn is reported as "did not finish".
 * Mirror output goes to a log file per run (its folder is printed). Nothing is deleted.
 */
import { execFileSync } from 'node:child_process'
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { KafkaAdmin } from '../src/kafka/admin.ts'
import { startClusters } from '../test/harness/cluster.ts'
import { clientConfig, createTopic, produce } from '../test/harness/helpers.ts'
import { runJava, startJavaMirrorMaker } from '../test/harness/java-tools.ts'
import { writeMm2Properties } from '../test/harness/mirror-config.ts'
import { spawnTracked, type TrackedProcess } from '../test/harness/processes.ts'

const MIRRORS = ['kafka-mirror', 'java-default', 'java-tuned'] as const
type MirrorName = typeof MIRRORS[number]

/** What Java MM2 reads in dedicated mode: `<target>.producer.*` and `<source>.consumer.*` (MirrorMakerConfig.clusterProps). */
const JAVA_TUNED: Readonly<Record<string, string>> = {
  'B.producer.batch.size': '524288',
  'B.producer.linger.ms': '10',
  'A.consumer.fetch.min.bytes': '262144',
  'A.consumer.max.partition.fetch.bytes': '4194304'
}

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    size: { type: 'string', default: '200' },
    partitions: { type: 'string', default: '6' },
    tasks: { type: 'string', default: '1' },
    only: { type: 'string', default: MIRRORS.join(',') },
    repeat: { type: 'string', default: '1' }
  }
})
const records = Number(values.records)
const size = Number(values.size)
const partitions = Number(values.partitions)
const repeat = Number(values.repeat)
const only = values.only.split(',').map(s => s.trim()).filter(s => s !== '')
for (const name of only) if (!(MIRRORS as readonly string[]).includes(name)) throw new Error(`--only: unknown mirror ${name} (known: ${MIRRORS.join(', ')})`)
const mirrors = only as MirrorName[]

const POLL_MS = 100
const RUN_LIMIT_MS = 180_000
const MiB = 1024 * 1024
const GiB = 1024 * MiB
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())
const BIN = fileURLToPath(new URL('../bin/kafka-mirror.js', import.meta.url))
let keyBytes = 0
for (let i = 0; i < records; i++) keyBytes += `k${i}`.length
const recordBytes = keyBytes + records * size
const logDir = mkdtempSync(join(tmpdir(), 'km-side-by-side-'))

interface RunResult {
  readonly index: number
  readonly name: MirrorName
  readonly copied: bigint
  readonly finished: boolean
  readonly exit?: string
  readonly firstRecordS?: number
  readonly recordsPerS?: number
  readonly atLeast: boolean
  readonly cpuS?: number
  readonly peakMb?: number
  readonly targetBytes: number
}

const [a, b] = await startClusters([{ name: 'sbs-A', heapMb: 768 }, { name: 'sbs-B', heapMb: 768 }])
if (a === undefined || b === undefined) throw new Error('clusters did not start')
let running: TrackedProcess | undefined
const results: RunResult[] = []
const target = new KafkaAdmin(clientConfig(b), 'bench-target-admin')
try {
  console.log(`${records} records of ${size} B (key k<i>) in ${partitions} partitions per run, tasks.max=${values.tasks}; ${(recordBytes / MiB).toFixed(1)} MiB of record bytes; mirror logs in ${logDir}`)
  const plan = Array.from({ length: repeat }, (_, r) => mirrors.map((name, m) => ({ index: r * mirrors.length + m + 1, name }))).flat()
    .map(p => ({ ...p, topic: `sbs-${p.index}-${p.name}` }))

  await createTopic(a, 'sbs-loopback', { partitions })
  const perfProducer = await runJava(['-XX:TieredStopAtLevel=4', 'org.apache.kafka.tools.ProducerPerformance', '--bootstrap-server', a.bootstrap(),
    '--topic', 'sbs-loopback', '--num-records', String(records), '--record-size', String(size), '--throughput', '-1',
    '--command-property', 'acks=all', 'batch.size=524288', 'linger.ms=10'], { timeoutMs: 600_000, label: 'java-producer-perf' })
  console.log(`loopback, ProducerPerformance to the source: ${lastLine(perfProducer.stdout) ?? `(no output; exit ${perfProducer.code}) ${lastLine(perfProducer.stderr) ?? ''}`}`)

  for (const [i, run] of plan.entries()) {
    await preload(run.topic)
    if (i === 0) {
      const perfConsumer = await runJava(['-XX:TieredStopAtLevel=4', 'org.apache.kafka.tools.ConsumerPerformance', '--bootstrap-server', a.bootstrap(),
        '--topic', run.topic, '--num-records', String(records), '--timeout', '30000'], { timeoutMs: 600_000, label: 'java-consumer-perf' })
      const lines = perfConsumer.stdout.split('\n').filter(l => l.trim() !== '')
      if (lines.length === 0) console.log(`loopback, ConsumerPerformance on ${run.topic}: (no output; exit ${perfConsumer.code}) ${lastLine(perfConsumer.stderr) ?? ''}`)
      for (const l of lines) console.log(`loopback, ConsumerPerformance on ${run.topic}: ${l}`)
    }
    const result = await mirrorRun(run.index, run.name, run.topic)
    results.push(result)
    console.log(describe(result))
  }

  console.log('')
  console.log('| run | mirror | records copied | first record (s) | records/s | MB/s | CPU-s | CPU-s/GB | peak RSS (MB) | MB on target |')
  console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const r of results) {
    const rate = rates(r)
    console.log(`| ${r.index} | ${r.name} | ${r.copied}${r.finished ? '' : ` (did not finish${r.exit !== undefined ? `, exit ${r.exit}` : ''})`} | ${fmt(r.firstRecordS, 1)} | ${rate.records} | ${rate.mb} | ${fmt(r.cpuS, 1)} | ${fmt(cpuPerGb(r), 1)} | ${fmt(r.peakMb, 0)} | ${(r.targetBytes / MiB).toFixed(1)} |`)
  }
} finally {
  await running?.stop()
  await target.close()
  await Promise.all([a.close(), b.close()])
}

async function preload (topic: string): Promise<void> {
  if (a === undefined) return
  await createTopic(a, topic, { partitions })
  const payload = 'x'.repeat(size)
  const started = Date.now()
  await produce(a, topic, Array.from({ length: records }, (_, i) => ({ partition: i % partitions, key: `k${i}`, value: payload })), { chunk: 20_000 })
  console.log(`loaded ${topic} in ${((Date.now() - started) / 1000).toFixed(1)} s`)
}

async function mirrorRun (index: number, name: MirrorName, topic: string): Promise<RunResult> {
  if (a === undefined || b === undefined) throw new Error('no clusters')
  const file = writeMm2Properties({ A: a, B: b }, {
    'A->B.enabled': 'true',
    'A->B.topics': topic,
    'B->A.enabled': 'false',
    'emit.heartbeats.enabled': 'false',
    'emit.checkpoints.enabled': 'false',
    'tasks.max': values.tasks,
    // A fresh deployment per run: otherwise Java MM2 starts its task from the previous run's
    // connector config (kept in the config topic), then reconfigures.
    'B.group.id': `sbs-${index}-mm2`,
    'offset.storage.topic': `mm2-offsets.sbs-${index}.internal`,
    'config.storage.topic': `mm2-configs.sbs-${index}.internal`,
    'status.storage.topic': `mm2-status.sbs-${index}.internal`,
    ...(name === 'java-tuned' ? JAVA_TUNED : {})
  })
  const remote = `A.${topic}`
  const tps = Array.from({ length: partitions }, (_, partition) => ({ topic: remote, partition }))
  const spawnedAt = Date.now()
  const proc = name === 'kafka-mirror'
    ? spawnTracked('kafka-mirror', process.execPath, [BIN, 'run', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] })
    : startJavaMirrorMaker(file)
  running = proc
  // Drain stdout/stderr into a file: a full pipe would stall the mirror (Java MM2 logs at INFO).
  const log = createWriteStream(join(logDir, `${index}-${name}.log`))
  proc.child.stdout?.on('data', (d: Buffer) => log.write(d))
  proc.child.stderr?.on('data', (d: Buffer) => log.write(d))
  const pid = proc.child.pid
  let exit: string | undefined
  void proc.exited.then(code => { exit = String(code) })

  let topicSeen = false
  let copied = 0n
  let firstAt: number | undefined
  let firstCount = 0n
  let endAt: number | undefined
  let peakKb = 0
  while (exit === undefined && Date.now() - spawnedAt < RUN_LIMIT_MS) {
    const pollStart = Date.now()
    try {
      if (!topicSeen) topicSeen = (await target.describeTopics([remote])).has(remote)
      if (topicSeen) copied = [...(await target.listOffsets(tps, 'latest')).values()].reduce((x, y) => x + y, 0n)
    } catch { /* leaders not ready yet: try again */ }
    const now = Date.now()
    peakKb = Math.max(peakKb, vmHwmKb(pid) ?? 0)
    if (copied > 0n && firstAt === undefined) { firstAt = now; firstCount = copied }
    if (copied >= BigInt(records)) { endAt = now; break }
    await new Promise(resolve => setTimeout(resolve, Math.max(0, POLL_MS - (Date.now() - pollStart))))
  }
  const cpuS = cpuSeconds(pid)
  peakKb = Math.max(peakKb, vmHwmKb(pid) ?? 0)
  await proc.stop()
  running = undefined
  log.end()
  const finished = endAt !== undefined
  const steady = finished && firstAt !== undefined && endAt !== undefined && endAt > firstAt && copied > firstCount
  return {
    index,
    name,
    copied,
    finished,
    exit: finished ? undefined : exit,
    firstRecordS: firstAt === undefined ? undefined : (firstAt - spawnedAt) / 1000,
    // Every record arrived within one poll: the rate is at least N per poll interval.
    recordsPerS: !finished || firstAt === undefined || endAt === undefined ? undefined : steady ? Number(copied - firstCount) / ((endAt - firstAt) / 1000) : records / (POLL_MS / 1000),
    atLeast: finished && !steady,
    cpuS,
    peakMb: peakKb === 0 ? undefined : peakKb / 1024,
    targetBytes: bytesOnTarget(remote)
  }
}

/** utime + stime + cutime + cstime (fields 14-17 of /proc/<pid>/stat), in seconds. */
function cpuSeconds (pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces): the first one is field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return [14, 15, 16, 17].reduce((sum, n) => sum + Number(fields[n - 3]), 0) / CLK_TCK
  } catch { return undefined }
}

function vmHwmKb (pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const kb = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return kb === undefined ? undefined : Number(kb)
  } catch { return undefined }
}

/** Sum of the .log segment files of the remote topic's partitions on the target broker. */
function bytesOnTarget (remote: string): number {
  if (b === undefined) return 0
  let total = 0
  for (let p = 0; p < partitions; p++) {
    const dir = join(b.dir, 'data', `${remote}-${p}`)
    if (!existsSync(dir)) continue
    for (const f of readdirSync(dir)) if (f.endsWith('.log')) total += statSync(join(dir, f)).size
  }
  return total
}

function bytesPerRecord (): number { return recordBytes / records }

function cpuPerGb (r: RunResult): number | undefined {
  if (r.cpuS === undefined || r.copied === 0n) return undefined
  return r.cpuS / (Number(r.copied) * bytesPerRecord() / GiB)
}

function rates (r: RunResult): { records: string, mb: string } {
  if (r.recordsPerS === undefined) return { records: '-', mb: '-' }
  const sign = r.atLeast ? '≥' : ''
  return { records: `${sign}${Math.round(r.recordsPerS)}`, mb: `${sign}${(r.recordsPerS * bytesPerRecord() / MiB).toFixed(1)}` }
}

function describe (r: RunResult): string {
  const rate = rates(r)
  return `run ${r.index} ${r.name}: ${r.copied} records copied${r.finished ? '' : ` — did not finish in ${RUN_LIMIT_MS / 1000} s${r.exit !== undefined ? ` (exited: ${r.exit})` : ''}`}, ` +
    `first record after ${fmt(r.firstRecordS, 1)} s, ${rate.records} records/s, ${rate.mb} MB/s, ` +
    `${fmt(cpuPerGb(r), 1)} CPU-s/GB (${fmt(r.cpuS, 1)} CPU-s), peak RSS ${fmt(r.peakMb, 0)} MB, ${(r.targetBytes / MiB).toFixed(1)} MB on target`
}

function fmt (x: number | undefined, digits: number): string {
  return x === undefined ? '-' : x.toFixed(digits)
}

function lastLine (text: string): string | undefined {
  return text.split('\n').filter(l => l.trim() !== '').at(-1)
}
