/**
 * Side by side on the same two local brokers: kafka-mirror (the real binary), Java MirrorMaker 2
 * with its defaults and Java MM2 with a tuned producer and consumer, each copying its own fresh
 * source topic as a new deployment (a fresh worker group and internal topics). For each workload
 * the runs alternate (kafka-mirror, java-default, java-tuned, again with --repeat); a table per
 * workload comes at the end. This is the referee for speed, latency and memory claims. Figures
 * only; nothing asserted.
 *
 *   npm run bench:side-by-side -- [--workload all | small-uncompressed,json-lz4,many-partitions,latency]
 *                                 [--records 1000000] [--size 200] [--partitions 6] [--tasks 1]
 *                                 [--rate <records/s>] [--duration 60] [--warm-up 10]
 *                                 [--only kafka-mirror,java-default,java-tuned,kafka-mirror-eos,
 *                                        kafka-mirror-eos-interval] [--repeat 1]
 *                                 [--before DIR] [--set KEY=VALUE ...] [--source-hop]
 *
 * --set adds a line to every run's mm2.properties (Java's and ours alike; repeat it for more),
 * e.g. `--set A.consumer.fetch.max.bytes=2097152` to measure a smaller copy queue.
 * --before DIR adds `kafka-mirror-before`: the binary of another checkout (e.g. a git worktree
 * of an older commit, with its own node_modules), run in the same alternation, so before and
 * after figures come from one run on the same brokers. `kafka-mirror-eos` and
 * `kafka-mirror-eos-interval` (only when named in --only) run the same binary in the
 * exactly-once mode, a transaction whenever nothing more is ready (poll) or per second: the mode's cost. Their records
 * count once committed (the remote topic's last stable offset), and the latency reader reads
 * read_committed, so latency is to visibility.
 *
 * Workloads (run in this order whatever the order given):
 * - small-uncompressed: N (--records) records of S (--size) bytes, key `k<i>`, in P (--partitions)
 *   partitions, written uncompressed with our producer just before the run. First, once: the
 *   loopback limit of the broker pair, Kafka's own ProducerPerformance (acks=all,
 *   batch.size=524288, linger.ms=10) against the source and ConsumerPerformance reading the first
 *   pre-loaded topic, both with the full JIT (runJava's default stops at C1);
 * - json-lz4: N (--records) JSON order events of exactly 1 KiB (a dozen fields, ids, timestamps, a
 *   nested array of line items; bench/lib/json-payloads.ts), null keys, in P partitions, written
 *   by Kafka's ProducerPerformance with compression.type=lz4 (batch.size=131072, linger.ms=10),
 *   each record picked at random from 10,000 distinct events: the source log holds lz4 batches.
 *   Also reports the source topic's .log bytes and target/source;
 * - many-partitions: one topic of 1,000 partitions x 100 records of S bytes (key `k<i>`);
 * - latency: the mirror starts on an empty topic of P partitions; one record per partition is
 *   written right after the spawn and, once all of them are on the target (the mirror is
 *   copying), a worker thread produces at R records/s (--rate; default half of kafka-mirror's
 *   records/s in this bench's small-uncompressed runs, or 5,000 without one) for --warm-up
 *   seconds then --duration seconds: every 5 ms the records due by then, values of S bytes whose
 *   first 8 bytes are the send time (Date.now(), big-endian), null keys, round-robin over the
 *   partitions. A group-less reader on the target (src/kafka/partition-reader.ts, from the ends
 *   after the first records) takes receive time minus send time: p50/p95/p99/max in ms of the
 *   records sent after the warm-up (the steady state), the warm-up's p99 and max apart (a mirror
 *   started seconds before runs its first seconds cold: JIT, first collections), and the rate
 *   asked / actually sent. The reader takes the stamps from the batches' bytes
 *   (src/bench/send-stamps.ts), not decoded records. With --source-hop a second reader takes
 *   the same records from the source topic at the same time: the source hop's p50/p99/max, so
 *   that a stall before the mirror (the source broker, the bench's own producing or reading)
 *   shows as such. It is a diagnosis, not the default: the second reader adds a fetch stream
 *   to the source broker and work to the bench process, and the mirror's own figures get worse
 *   with it (one run of three, 4 December: p99 1,679 / 206 / 257 ms with it, against 26-74 ms in
 *   most runs without).
 *   Before the first run, the same producer and reader with no mirror (the reader on the source
 *   topic) print the loopback latency: what the bench's own producing and reading add.
 *
 * Per run:
 * - first record: from spawning the mirror process to the first record seen on the target (end
 *   offsets of the remote topic `A.<topic>` polled with ListOffsets every 100 ms; a partition
 *   whose leader is not ready yet keeps its last known offset instead of hiding the others); it
 *   includes the JVM / Node start and the mirror's own start-up;
 * - all copied: from the spawn to the poll that saw every record on the target;
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
 *   target broker (batching and compression show here);
 * - machine: for the whole machine from the spawn to the stop, the CPU-seconds the hypervisor
 *   took away (steal, /proc/stat) and the seconds in which some task waited for a CPU, for I/O
 *   or for memory (the "some" totals of /proc/pressure). Not the mirror's figures: they say how
 *   far the run was disturbed from outside (a busy host, reclaim, writeback). A 2-core machine
 *   with brokers, the bench and a mirror at full speed waits for a CPU most of the time.
 * A run that has not copied every record 180 s after its spawn (latency: 180 s to copy the
 * warm-up, 60 s after the last send for the rest) is reported as "did not finish". Mirror output
 * goes to a log file per run (its folder is printed; nothing there is deleted). Brokers and
 * processes are stopped at the end, on a failure and on Ctrl-C (test/harness/processes.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HarnessError } from '../test/harness/errors.ts'
import { KafkaAdmin } from '../src/kafka/admin.ts'
import { PartitionReader } from '../src/kafka/partition-reader.ts'
import { KafkaProducer } from '../src/kafka/producer.ts'
import { tpKey } from '../src/kafka/types.ts'
import { type KafkaCluster, startClusters } from '../test/harness/cluster.ts'
import { clientConfig } from '../test/harness/helpers.ts'
import { runJava } from '../test/harness/java-tools.ts'
import { roundRobinBatches } from './lib/batches.ts'
import { writeJsonPayloads } from './lib/json-payloads.ts'
import { type LatencySummary, producePaced, readLatencies, SplitLatencies, stampedValue } from './lib/latency.ts'
import { createReadyTopic, keyedRecordBytes, loadKeyed, loadWithProducerPerformance, recordCount } from './lib/load.ts'
import { LiveMirror, MIRRORS, type MirrorName, type MirrorStats, POLL_MS } from './lib/mirror-process.ts'
import { logSegmentBytes, type MachineTotals, machineSince, machineTotals } from './lib/proc-stats.ts'
import { benchArgs } from './lib/args.ts'

const WORKLOADS = ['small-uncompressed', 'json-lz4', 'many-partitions', 'latency'] as const
type WorkloadName = (typeof WORKLOADS)[number]

const values = benchArgs(import.meta.url, {
  workload: { type: 'string', default: 'all' },
  records: { type: 'string', default: '1000000' },
  size: { type: 'string', default: '200' },
  partitions: { type: 'string', default: '6' },
  tasks: { type: 'string', default: '1' },
  rate: { type: 'string' },
  duration: { type: 'string', default: '60' },
  'warm-up': { type: 'string', default: '10' },
  only: { type: 'string' },
  before: { type: 'string' },
  repeat: { type: 'string', default: '1' },
  'source-hop': { type: 'boolean', default: false },
  set: { type: 'string', multiple: true, default: [] }
})
const extraProperties = Object.fromEntries(
  values.set.map(line => {
    const at = line.indexOf('=')
    if (at <= 0) throw new Error(`--set ${line}: expected KEY=VALUE (an mm2.properties line)`)
    return [line.slice(0, at).trim(), line.slice(at + 1).trim()]
  })
)
const records = positive('records')
const size = positive('size')
const partitions = positive('partitions')
const repeat = positive('repeat')
const duration = positive('duration')
const warmUp = Number(values['warm-up'])
if (!(warmUp >= 0) || !Number.isFinite(warmUp))
  throw new Error(`--warm-up: expected seconds (0 or more), got ${values['warm-up']}`)
const rateOption = values.rate === undefined ? undefined : positive('rate')
const beforeDir = values.before
const sourceHop = values['source-hop']
const mirrors = listOption(
  'only',
  values.only ??
    MIRRORS.filter(m => (m !== 'kafka-mirror-before' || beforeDir !== undefined) && !m.includes('-eos')).join(','),
  MIRRORS
)
if (mirrors.includes('kafka-mirror-before') && beforeDir === undefined)
  throw new Error('--only kafka-mirror-before needs --before DIR (another checkout of kafka-mirror)')
const asked = values.workload === 'all' ? WORKLOADS : listOption('workload', values.workload, WORKLOADS)
/** In the bench's own order: latency takes its default rate from small-uncompressed. */
const workloads = WORKLOADS.filter(w => asked.includes(w))

const RUN_LIMIT_MS = 180_000
/** Latency: how long after the last send the rest may take to arrive. */
const DRAIN_LIMIT_MS = 60_000
const JSON_SIZE = 1024
const JSON_DISTINCT = 10_000
const WIDE_PARTITIONS = 1000
const WIDE_PER_PARTITION = 100
const FALLBACK_RATE = 5000
const TICK_MS = 5
const MiB = 1024 * 1024
const GiB = 1024 * MiB
const logDir = mkdtempSync(join(tmpdir(), 'km-side-by-side-'))

interface LatencyFigures {
  readonly asked: number
  /** What the paced producer managed (records over its seconds); undefined when it was stopped. */
  readonly sentPerS: number | undefined
  /** Records sent after the warm-up: the figures. */
  readonly summary: LatencySummary | undefined
  /** Records sent during the warm-up, shown apart. */
  readonly warmUp: LatencySummary | undefined
  /**
   * The same records after the warm-up read at the same time from the source topic: the first
   * hop alone (the bench's producer, the source broker, the bench's reading). A stall there shows
   * in both; what the mirror adds is the difference.
   */
  readonly source: LatencySummary | undefined
}

/** What one run of a workload does: prepare its source topic, then (with the mirror spawned) wait or drive. */
interface Workload {
  readonly name: WorkloadName
  /** One line: what each run copies. */
  readonly summary: string
  readonly partitions: number
  /**
   * Records a run must see on the target to finish (what its source topic holds, counted after
   * loading), and the record bytes (key + value) per record.
   */
  records: number
  readonly bytesPerRecord: number
  readonly columns: readonly Column[]
  /** Creates (and fills) the run's source topic before the mirror starts. */
  prepare(topic: string, firstRun: boolean): Promise<void>
  /** From the spawn: until every record is on the target (endAt) or the limit passed (undefined). */
  drive(mirror: LiveMirror, topic: string): Promise<{ endAt: number | undefined; latency?: LatencyFigures }>
}

interface RunResult {
  readonly index: number
  readonly name: MirrorName
  readonly workload: Workload
  readonly copied: bigint
  readonly finished: boolean
  readonly exit?: string
  readonly firstRecordS?: number
  readonly allCopiedS?: number
  readonly recordsPerS?: number
  readonly atLeast: boolean
  readonly stats: MirrorStats
  readonly targetBytes: number
  readonly sourceBytes: number
  readonly latency?: LatencyFigures
  /** The whole machine from the spawn to the stop (steal, PSI waits): disturbance from outside the mirror. */
  readonly machine: MachineTotals
}

interface Column {
  readonly header: string
  readonly left?: boolean
  readonly cell: (r: RunResult) => string
}

// Table columns. A run's line is its workload's columns after run and mirror.
const HEAD: readonly Column[] = [
  { header: 'run', cell: r => String(r.index) },
  { header: 'mirror', left: true, cell: r => r.name },
  {
    header: 'records copied',
    cell: r => `${r.copied}${r.finished ? '' : ` (did not finish${r.exit !== undefined ? `, exit ${r.exit}` : ''})`}`
  },
  { header: 'first record (s)', cell: r => fmt(r.firstRecordS, 1) }
]
const ALL_COPIED: Column = { header: 'all copied (s)', cell: r => fmt(r.allCopiedS, 1) }
const THROUGHPUT: readonly Column[] = [
  {
    header: 'records/s',
    cell: r => (r.recordsPerS === undefined ? '-' : `${r.atLeast ? '≥' : ''}${Math.round(r.recordsPerS)}`)
  },
  {
    header: 'MB/s',
    cell: r =>
      r.recordsPerS === undefined
        ? '-'
        : `${r.atLeast ? '≥' : ''}${((r.recordsPerS * r.workload.bytesPerRecord) / MiB).toFixed(1)}`
  }
]
const COST: readonly Column[] = [
  { header: 'CPU-s', cell: r => fmt(r.stats.cpuS, 1) },
  {
    header: 'of which kernel',
    cell: r =>
      r.stats.cpuS === undefined || r.stats.sysS === undefined || r.stats.cpuS === 0
        ? '-'
        : `${Math.round((100 * r.stats.sysS) / r.stats.cpuS)}%`
  },
  {
    header: 'CPU-s/GB',
    cell: r =>
      fmt(
        r.stats.cpuS === undefined || r.copied === 0n
          ? undefined
          : r.stats.cpuS / ((Number(r.copied) * r.workload.bytesPerRecord) / GiB),
        1
      )
  },
  { header: 'peak RSS (MB)', cell: r => fmt(r.stats.peakMb, 0) },
  { header: 'MB on target', cell: r => (r.targetBytes / MiB).toFixed(1) }
]
// Not the mirror's figures: how much the host and the rest of the machine got in the way of the run.
const MACHINE: Column = {
  header: 'machine: steal / waited for CPU, I/O, memory (s)',
  cell: r =>
    `${fmt(r.machine.stealS, 1)} / ${fmt(r.machine.cpuWaitS, 1)}, ${fmt(r.machine.ioWaitS, 1)}, ${fmt(r.machine.memoryWaitS, 1)}`
}
const SOURCE_MB: Column = { header: 'MB on source', cell: r => (r.sourceBytes / MiB).toFixed(1) }
const TARGET_PER_SOURCE: Column = {
  header: 'target/source',
  cell: r => (r.sourceBytes === 0 ? '-' : (r.targetBytes / r.sourceBytes).toFixed(2))
}
const LATENCY_RATE: Column = {
  header: 'records/s asked / sent',
  cell: r => (r.latency === undefined ? '-' : `${r.latency.asked} / ${fmt(r.latency.sentPerS, 0)}`)
}
const LATENCY: readonly Column[] = [
  ...(['p50', 'p95', 'p99', 'max'] as const).map(q => ({
    header: `${q} (ms)`,
    cell: (r: RunResult) => fmt(r.latency?.summary?.[q], 0)
  })),
  {
    header: 'warm-up p99 / max (ms)',
    cell: r => `${fmt(r.latency?.warmUp?.p99, 0)} / ${fmt(r.latency?.warmUp?.max, 0)}`
  }
]
const SOURCE_HOP: Column = {
  header: 'source hop p50 / p99 / max (ms)',
  cell: r => {
    const q = r.latency?.source
    return `${fmt(q?.p50, 0)} / ${fmt(q?.p99, 0)} / ${fmt(q?.max, 0)}`
  }
}

// One cluster per option, or it throws.
const [a, b] = (await startClusters([
  { name: 'sbs-A', heapMb: 768 },
  { name: 'sbs-B', heapMb: 768 }
])) as [KafkaCluster, KafkaCluster]
let closed = false
// Ctrl-C: processes.ts kills every child and exits; the brokers' data folders go too.
process.once('exit', () => {
  if (closed || process.env.KAFKA_MIRROR_KEEP_LOGS !== undefined) return
  for (const c of [a, b]) {
    try {
      rmSync(c.dir, { recursive: true, force: true })
    } catch {
      /* the broker is still going down */
    }
  }
})
// Short retry backoff: the watch asks again every 100 ms anyway, and with the default (250 ms,
// nested retries) a ListOffsets naming a partition whose leader is not elected yet takes seconds
// to fail, which on a freshly created 1,000-partition remote topic hid records already copied.
const target = new KafkaAdmin(clientConfig(b, { 'retry.backoff.ms': '10' }), 'bench-target-admin')
const source = new KafkaAdmin(clientConfig(a), 'bench-source-admin')
const results = new Map<WorkloadName, RunResult[]>()
try {
  console.log(
    `workloads ${workloads.join(', ')}; mirrors ${mirrors.join(', ')}, ${repeat} time(s) each; tasks.max=${values.tasks}${values.set.length === 0 ? '' : `; ${values.set.join(', ')}`}; mirror logs in ${logDir}`
  )
  let index = 0
  for (const name of workloads) {
    const workload = makeWorkload(name)
    const runs: RunResult[] = []
    results.set(name, runs)
    console.log(`\n${name}: ${workload.summary}`)
    for (let r = 0; r < repeat; r++) {
      for (const mirror of mirrors) {
        index++
        const topic = `sbs-${index}-${mirror}`
        await workload.prepare(topic, runs.length === 0)
        const result = await mirrorRun(workload, index, mirror, topic)
        runs.push(result)
        console.log(
          `run ${index} ${mirror}: ${workload.columns
            .slice(2)
            .map(c => `${c.header} ${c.cell(result)}`)
            .join(', ')}`
        )
      }
    }
  }
  for (const [name, runs] of results) printTable(name, runs)
} finally {
  await Promise.all([target.close(), source.close()])
  await Promise.all([a.close(), b.close()])
  closed = true
}

function makeWorkload(name: WorkloadName): Workload {
  switch (name) {
    case 'small-uncompressed':
      return keyedWorkload(name, records, partitions, true)
    case 'many-partitions':
      return keyedWorkload(name, WIDE_PARTITIONS * WIDE_PER_PARTITION, WIDE_PARTITIONS, false)
    case 'json-lz4':
      return jsonLz4Workload()
    case 'latency':
      return latencyWorkload()
  }
}

/** Everything on the source before the spawn; the run ends when every record is on the target. */
async function driveToEnd(workload: Workload, mirror: LiveMirror): Promise<{ endAt: number | undefined }> {
  return { endAt: await mirror.waitCopied(BigInt(workload.records), mirror.spawnedAt + RUN_LIMIT_MS) }
}

/**
 * `count` records of `size` bytes, key `k<i>`, round-robin over `topicPartitions`, uncompressed (small-uncompressed,
 * many-partitions).
 */
function keyedWorkload(name: WorkloadName, count: number, topicPartitions: number, loopback: boolean): Workload {
  const recordBytes = keyedRecordBytes(count, size)
  const workload: Workload = {
    name,
    summary: `${count} records of ${size} B (key k<i>) in ${topicPartitions} partitions per run, uncompressed; ${(recordBytes / MiB).toFixed(1)} MiB of record bytes`,
    partitions: topicPartitions,
    records: count,
    bytesPerRecord: recordBytes / count,
    columns: [...HEAD, ALL_COPIED, ...THROUGHPUT, ...COST, MACHINE],
    async prepare(topic, firstRun) {
      if (loopback && firstRun) await loopbackProducer()
      await createReadyTopic(a, topic, topicPartitions)
      const started = Date.now()
      await loadKeyed(a, topic, count, size, topicPartitions)
      // The loader sends a request again when it gets no answer in time (its timeout is long, but
      // a first write to 1,000 new partitions has taken 20-35 s here), and the first one may
      // have been written: the run must wait for what the source holds, not for what was meant.
      workload.records = Number(await recordCount(a, topic, topicPartitions))
      console.log(
        `loaded ${topic} in ${seconds(started)} s${workload.records === count ? '' : `: the source holds ${workload.records} records (the loader's retries wrote ${workload.records - count} twice)`}`
      )
      if (loopback && firstRun) await loopbackConsumer(topic)
    },
    async drive(mirror) {
      return await driveToEnd(workload, mirror)
    }
  }
  return workload
}

function jsonLz4Workload(): Workload {
  const payloads = join(logDir, 'json-payloads.txt')
  const workload: Workload = {
    name: 'json-lz4',
    summary: `${records} JSON records of ${JSON_SIZE} B (null keys) in ${partitions} partitions per run, written lz4-compressed by ProducerPerformance; ${((records * JSON_SIZE) / MiB).toFixed(1)} MiB of record bytes`,
    partitions,
    records,
    bytesPerRecord: JSON_SIZE,
    columns: [...HEAD, ALL_COPIED, ...THROUGHPUT, ...COST, SOURCE_MB, TARGET_PER_SOURCE, MACHINE],
    async prepare(topic, firstRun) {
      if (firstRun) writeJsonPayloads(payloads, JSON_DISTINCT, JSON_SIZE)
      await createReadyTopic(a, topic, partitions)
      const started = Date.now()
      const summary = await loadWithProducerPerformance(a, topic, records, payloads, [
        'acks=all',
        'compression.type=lz4',
        'batch.size=131072',
        'linger.ms=10'
      ])
      const loaded = await recordCount(a, topic, partitions)
      if (loaded !== BigInt(records))
        throw new HarnessError(`ProducerPerformance wrote ${loaded} records into ${topic}, not ${records}: ${summary}`)
      const logBytes = logSegmentBytes(a, topic, partitions)
      console.log(
        `loaded ${topic} in ${seconds(started)} s (${summary}); source log ${(logBytes / MiB).toFixed(1)} MiB, ${((records * JSON_SIZE) / logBytes).toFixed(2)}x smaller than the values`
      )
    },
    async drive(mirror) {
      return await driveToEnd(workload, mirror)
    }
  }
  return workload
}

function latencyWorkload(): Workload {
  const { rate, from } = latencyRate()
  const total = Math.round(rate * (warmUp + duration))
  return {
    name: 'latency',
    summary: `${rate} records/s (${from}) for ${warmUp} s of warm-up (shown apart) and ${duration} s measured = ${total} records of ${size} B (null keys, send time in the first 8 bytes) in ${partitions} partitions, after one first record per partition`,
    partitions,
    records: partitions + total,
    bytesPerRecord: Math.max(8, size),
    columns: [...HEAD, LATENCY_RATE, ...LATENCY, ...(sourceHop ? [SOURCE_HOP] : []), ...COST, MACHINE],
    async prepare(topic, firstRun) {
      if (firstRun) await loopbackLatency(rate, total)
      await createReadyTopic(a, topic, partitions)
    },
    async drive(mirror, topic) {
      await sendWarmUp(topic)
      if ((await mirror.waitCopied(BigInt(partitions), mirror.spawnedAt + RUN_LIMIT_MS)) === undefined)
        return { endAt: undefined }
      return await measureLatency(mirror, topic, rate, total)
    }
  }
}

/** --rate, or half of kafka-mirror's mean records/s in this bench's small-uncompressed runs. */
function latencyRate(): { rate: number; from: string } {
  if (rateOption !== undefined) return { rate: rateOption, from: '--rate' }
  const measured = (results.get('small-uncompressed') ?? [])
    .filter(r => r.name === 'kafka-mirror' && r.finished)
    .map(r => r.recordsPerS ?? 0)
  if (measured.length === 0)
    return { rate: FALLBACK_RATE, from: 'fixed: no kafka-mirror small-uncompressed run finished in this bench' }
  const mean = measured.reduce((x, y) => x + y, 0) / measured.length
  return {
    rate: Math.max(1, Math.round(mean / 2)),
    from: `half of kafka-mirror's ${Math.round(mean)} records/s in small-uncompressed`
  }
}

/** One stamped record per partition, so that "the mirror is copying" can be seen on the target. */
async function sendWarmUp(topic: string): Promise<void> {
  const producer = new KafkaProducer(clientConfig(a), 'bench-warm-up')
  try {
    await producer.send(
      roundRobinBatches(topic, partitions, 0, partitions, () => ({ key: null, value: stampedValue(size), headers: [] }))
    )
  } finally {
    await producer.close()
  }
}

/**
 * The same paced producer and reader with no mirror between them: the reader on the source
 * topic itself. What the bench's own producing, fetching and decoding add to every latency
 * figure of the mirrors (they share two cores with the brokers).
 */
async function loopbackLatency(rate: number, total: number): Promise<void> {
  const topic = 'sbs-loopback-latency'
  await createReadyTopic(a, topic, partitions)
  const reader = new PartitionReader(
    clientConfig(a, { 'isolation.level': 'read_uncommitted' }),
    'bench-latency-reader',
    { maxWaitMs: 100 }
  )
  const stopReading = new AbortController()
  try {
    for (let partition = 0; partition < partitions; partition++) reader.seek(topic, partition, 0n)
    const latencies = new SplitLatencies(Date.now() + warmUp * 1000)
    const reading = readLatencies(reader, latencies, total, stopReading.signal)
    const produced = await producePaced(
      { bootstrap: a.bootstrap(), topic, partitions, rate, total, size, tickMs: TICK_MS },
      new AbortController().signal
    )
    const grace = setTimeout(() => {
      stopReading.abort()
    }, 30_000)
    await reading
    clearTimeout(grace)
    const q = latencies.measured.summary()
    const w = latencies.warmUp.summary()
    console.log(
      `loopback latency (paced producer -> source -> the same reader, no mirror): ${produced === undefined ? '?' : Math.round(produced.sent / produced.seconds)} records/s, ${q === undefined ? 'no records read' : `p50 ${q.p50} ms, p95 ${q.p95} ms, p99 ${q.p99} ms, max ${q.max} ms over ${q.count} records`}${w === undefined ? '' : ` (warm-up: p99 ${w.p99} ms, max ${w.max} ms over ${w.count} records)`}`
    )
  } finally {
    stopReading.abort()
    await reader.close()
    await deleteTopics(source, [topic])
  }
}

/**
 * With the warm-up copied: paced production, a reader on the target from its current ends, and the watch until all is
 * copied.
 */
async function measureLatency(
  mirror: LiveMirror,
  topic: string,
  rate: number,
  total: number
): Promise<{ endAt: number | undefined; latency: LatencyFigures }> {
  const reader = new PartitionReader(
    // A transactional copy is there for consumers once committed: read what they would read.
    clientConfig(b, { 'isolation.level': mirror.committedOnly ? 'read_committed' : 'read_uncommitted' }),
    'bench-latency-reader',
    { maxWaitMs: 100 }
  )
  const sourceReader = !sourceHop
    ? undefined
    : new PartitionReader(clientConfig(a, { 'isolation.level': 'read_uncommitted' }), 'bench-latency-source-reader', {
        maxWaitMs: 100
      })
  const stopReading = new AbortController()
  const stopProducing = new AbortController()
  void mirror.exited.then(() => {
    stopProducing.abort()
  })
  try {
    const tps = Array.from({ length: partitions }, (_, partition) => ({ topic: mirror.remote, partition }))
    const ends = await target.listOffsets(tps, 'latest')
    for (const { topic: remote, partition } of tps)
      reader.seek(remote, partition, ends.get(tpKey(remote, partition)) ?? 0n)
    // The source topic holds the warm-up records (one per partition) before the paced ones.
    if (sourceReader !== undefined)
      for (let partition = 0; partition < partitions; partition++) sourceReader.seek(topic, partition, 1n)
    const measuredFrom = Date.now() + warmUp * 1000
    const latencies = new SplitLatencies(measuredFrom)
    const sourceLatencies = new SplitLatencies(measuredFrom)
    const reading = Promise.all([
      readLatencies(reader, latencies, total, stopReading.signal),
      sourceReader === undefined ? undefined : readLatencies(sourceReader, sourceLatencies, total, stopReading.signal)
    ])
    const produced = await producePaced(
      { bootstrap: a.bootstrap(), topic, partitions, rate, total, size, tickMs: TICK_MS },
      stopProducing.signal
    )
    const endAt =
      produced === undefined
        ? undefined
        : await mirror.waitCopied(BigInt(partitions + total), Date.now() + DRAIN_LIMIT_MS)
    // Everything is on the target: the reader gets a moment to fetch the last of it.
    const grace = setTimeout(
      () => {
        stopReading.abort()
      },
      endAt === undefined ? 0 : 10_000
    )
    await reading
    clearTimeout(grace)
    return {
      endAt,
      latency: {
        asked: rate,
        sentPerS: produced === undefined ? undefined : produced.sent / produced.seconds,
        summary: latencies.measured.summary(),
        warmUp: latencies.warmUp.summary(),
        source: sourceReader === undefined ? undefined : sourceLatencies.measured.summary()
      }
    }
  } finally {
    stopReading.abort()
    stopProducing.abort()
    await Promise.all([reader.close(), sourceReader?.close()])
  }
}

async function mirrorRun(workload: Workload, index: number, name: MirrorName, topic: string): Promise<RunResult> {
  const machineAtStart = machineTotals()
  const mirror = LiveMirror.start(
    { A: a, B: b },
    target,
    { index, name, beforeDir, topic, partitions: workload.partitions, tasks: values.tasks, extraProperties },
    logDir
  )
  let outcome: Awaited<ReturnType<Workload['drive']>>
  let stats: MirrorStats
  try {
    outcome = await workload.drive(mirror, topic)
  } finally {
    stats = await mirror.stop()
  }
  const machine = machineSince(machineAtStart)
  const { endAt, latency } = outcome
  const targetBytes = logSegmentBytes(b, mirror.remote, workload.partitions)
  const sourceBytes = logSegmentBytes(a, topic, workload.partitions)
  await Promise.all([deleteTopics(source, [topic]), deleteTopics(target, [mirror.remote])])
  const { firstAt, firstCount, copied, spawnedAt } = mirror
  const finished = endAt !== undefined
  const steady = endAt !== undefined && firstAt !== undefined && endAt > firstAt && copied > firstCount
  return {
    index,
    name,
    workload,
    copied,
    finished,
    exit: finished ? undefined : mirror.exit,
    firstRecordS: firstAt === undefined ? undefined : (firstAt - spawnedAt) / 1000,
    allCopiedS: endAt === undefined ? undefined : (endAt - spawnedAt) / 1000,
    // Every record arrived within one poll: the rate is at least N per poll interval.
    recordsPerS:
      endAt === undefined || firstAt === undefined
        ? undefined
        : steady
          ? Number(copied - firstCount) / ((endAt - firstAt) / 1000)
          : workload.records / (POLL_MS / 1000),
    atLeast: finished && !steady,
    stats,
    targetBytes,
    sourceBytes,
    latency,
    machine
  }
}

/**
 * A finished run's topics go, so that every run starts on brokers holding only the topics it
 * uses. In the latency workload a run that followed runs whose topics were kept mostly had
 * episodes of about a second at 150-500 ms (p99 56-325 ms, 11 runs of 11 on 4 December), with the
 * topics deleted p99 18-26 ms (4 of 4); why the old topics matter was not found (docs/DESIGN.md,
 * "Stalls outside the mirror"). Deletion is asynchronous; names are never reused.
 */
async function deleteTopics(admin: KafkaAdmin, topics: string[]): Promise<void> {
  try {
    await admin.deleteTopics(topics)
  } catch (err) {
    console.log(`could not delete ${topics.join(', ')} (left in place): ${(err as Error).message}`)
  }
}

async function loopbackProducer(): Promise<void> {
  await createReadyTopic(a, 'sbs-loopback', partitions)
  const perf = await runJava(
    [
      '-XX:TieredStopAtLevel=4',
      'org.apache.kafka.tools.ProducerPerformance',
      '--bootstrap-server',
      a.bootstrap(),
      '--topic',
      'sbs-loopback',
      '--num-records',
      String(records),
      '--record-size',
      String(size),
      '--throughput',
      '-1',
      '--command-property',
      'acks=all',
      'batch.size=524288',
      'linger.ms=10'
    ],
    { timeoutMs: 600_000, label: 'java-producer-perf' }
  )
  console.log(
    `loopback, ProducerPerformance to the source: ${lastLine(perf.stdout) ?? `(no output; exit ${perf.code}) ${lastLine(perf.stderr) ?? ''}`}`
  )
}

async function loopbackConsumer(topic: string): Promise<void> {
  const perf = await runJava(
    [
      '-XX:TieredStopAtLevel=4',
      'org.apache.kafka.tools.ConsumerPerformance',
      '--bootstrap-server',
      a.bootstrap(),
      '--topic',
      topic,
      '--num-records',
      String(records),
      '--timeout',
      '30000'
    ],
    { timeoutMs: 600_000, label: 'java-consumer-perf' }
  )
  const lines = perf.stdout.split('\n').filter(l => l.trim() !== '')
  if (lines.length === 0)
    console.log(
      `loopback, ConsumerPerformance on ${topic}: (no output; exit ${perf.code}) ${lastLine(perf.stderr) ?? ''}`
    )
  for (const l of lines) console.log(`loopback, ConsumerPerformance on ${topic}: ${l}`)
}

function printTable(name: WorkloadName, runs: readonly RunResult[]): void {
  const columns = runs[0]?.workload.columns ?? []
  console.log(`\n${name}`)
  console.log(`| ${columns.map(c => c.header).join(' | ')} |`)
  console.log(`|${columns.map(c => (c.left === true ? '---' : '---:')).join('|')}|`)
  for (const r of runs) console.log(`| ${columns.map(c => c.cell(r)).join(' | ')} |`)
}

function positive(name: 'records' | 'size' | 'partitions' | 'repeat' | 'duration' | 'rate'): number {
  const n = Number(values[name])
  if (!(n > 0) || !Number.isFinite(n)) throw new Error(`--${name}: expected a positive number, got ${values[name]}`)
  return n
}

function listOption<T extends string>(option: string, value: string, known: readonly T[]): T[] {
  const names = value
    .split(',')
    .map(s => s.trim())
    .filter(s => s !== '')
  for (const n of names)
    if (!(known as readonly string[]).includes(n))
      throw new Error(`--${option}: unknown ${n} (known: ${known.join(', ')})`)
  return names as T[]
}

function seconds(since: number): string {
  return ((Date.now() - since) / 1000).toFixed(1)
}

function fmt(x: number | undefined, digits: number): string {
  return x === undefined ? '-' : x.toFixed(digits)
}

function lastLine(text: string): string | undefined {
  return text
    .split('\n')
    .filter(l => l.trim() !== '')
    .at(-1)
}
