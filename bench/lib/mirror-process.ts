/**
 * One mirror process of the side-by-side bench: kafka-mirror (the real binary) or Java
 * MirrorMaker 2 (defaults, or a tuned producer and consumer), copying one topic A -> B as a fresh
 * deployment, with its output drained to a log file, and a watch on the remote topic's end
 * offsets that also samples the process's peak RSS.
 */
import { createWriteStream, type WriteStream } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { KafkaAdmin } from '../../src/kafka/admin.ts'
import { errorTree } from '../../src/util/error-tree.ts'
import { type TopicPartition, tpKey } from '../../src/kafka/types.ts'
import { sleep } from '../../src/util/abortable.ts'
import type { KafkaCluster } from '../../test/harness/cluster.ts'
import { startJavaMirrorMaker } from '../../test/harness/java-tools.ts'
import { writeMm2Properties } from '../../test/harness/mirror-config.ts'
import { spawnTracked, type TrackedProcess } from '../../test/harness/processes.ts'
import { cpuSplit, vmHwmKb } from './proc-stats.ts'

/** `kafka-mirror-before` is another checkout's binary (--before DIR): before/after figures from one run. */
export const MIRRORS = [
  'kafka-mirror',
  'kafka-mirror-before',
  'java-default',
  'java-tuned',
  'kafka-mirror-eos',
  'kafka-mirror-eos-interval'
] as const
export type MirrorName = (typeof MIRRORS)[number]

/**
 * What Java MM2 reads in dedicated mode: `<target>.producer.*` and `<source>.consumer.*`
 * (MirrorMakerConfig.clusterProps).
 */
/**
 * kafka-mirror in the exactly-once mode (README "Exactly-once mode"): a transaction per copy
 * round (`poll`), or one per second (`interval`).
 */
export const EXACTLY_ONCE: Readonly<Partial<Record<MirrorName, Readonly<Record<string, string>>>>> = {
  'kafka-mirror-eos': { 'B.exactly.once.source.support': 'enabled' },
  'kafka-mirror-eos-interval': {
    'B.exactly.once.source.support': 'enabled',
    'A->B.transaction.boundary': 'interval',
    'A->B.transaction.boundary.interval.ms': '1000'
  }
}

export const JAVA_TUNED: Readonly<Record<string, string>> = {
  'B.producer.batch.size': '524288',
  'B.producer.linger.ms': '10',
  'A.consumer.fetch.min.bytes': '262144',
  'A.consumer.max.partition.fetch.bytes': '4194304'
}

const BIN = fileURLToPath(new URL('../../bin/kafka-mirror.js', import.meta.url))
/**
 * KM_BENCH_NODE_FLAGS: Node flags for the kafka-mirror processes only, e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` to see where a workload's CPU goes (NODE_OPTIONS refuses
 * --cpu-prof, and would profile the bench too).
 */
function nodeFlags(): string[] {
  return (process.env.KM_BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(f => f !== '')
}

/** How often the watch asks the target for the remote topic's end offsets. */
export const POLL_MS = 100

export interface MirrorSpec {
  /** Run number: names the worker group, the internal topics and the log file. */
  readonly index: number
  readonly name: MirrorName
  /** For kafka-mirror-before: the other checkout (with its own `npm ci`). */
  readonly beforeDir?: string
  readonly topic: string
  readonly partitions: number
  readonly tasks: string
  /** More mm2.properties lines (the bench's --set), applied last. */
  readonly extraProperties?: Readonly<Record<string, string>>
}

export interface MirrorStats {
  /** CPU-seconds of the process's whole life (start-up included), read just before it is stopped. */
  readonly cpuS: number | undefined
  /** The kernel's part of cpuS. */
  readonly sysS: number | undefined
  readonly peakMb: number | undefined
}

export class LiveMirror {
  readonly spawnedAt = Date.now()
  readonly remote: string
  /** Exit code (or signal) when the process exited by itself (not through stop()). */
  exit: string | undefined
  /** Records on the remote topic (the sum of its partitions' end offsets) at the last poll. */
  copied = 0n
  /** When the first record was seen on the target, and how many were there then. */
  firstAt: number | undefined
  firstCount = 0n
  readonly #proc: TrackedProcess
  readonly #log: WriteStream
  readonly #target: KafkaAdmin
  readonly #tps: TopicPartition[]
  #topicSeen = false
  /** End offset per `topic:partition` of the remote topic, as last listed. */
  readonly #ends = new Map<string, bigint>()
  #peakKb = 0
  #stats: MirrorStats | undefined
  readonly #committedOnly: boolean

  private constructor(proc: TrackedProcess, log: WriteStream, target: KafkaAdmin, spec: MirrorSpec) {
    this.#proc = proc
    this.#log = log
    this.#target = target
    this.#committedOnly = EXACTLY_ONCE[spec.name] !== undefined
    this.remote = `A.${spec.topic}`
    this.#tps = Array.from({ length: spec.partitions }, (_, partition) => ({ topic: this.remote, partition }))
    // Drain stdout/stderr into the file: a full pipe would stall the mirror (Java MM2 logs at INFO).
    proc.child.stdout?.on('data', (d: Buffer) => log.write(d))
    proc.child.stderr?.on('data', (d: Buffer) => log.write(d))
    void proc.exited.then(code => {
      if (this.#stats === undefined) this.exit = String(code)
    })
  }

  /** Spawns the mirror on a fresh mm2.properties copying `spec.topic` from A to B. */
  static start(
    clusters: { A: KafkaCluster; B: KafkaCluster },
    target: KafkaAdmin,
    spec: MirrorSpec,
    logDir: string
  ): LiveMirror {
    const file = writeMm2Properties(clusters, {
      'A->B.enabled': 'true',
      'A->B.topics': spec.topic,
      'B->A.enabled': 'false',
      'emit.heartbeats.enabled': 'false',
      'emit.checkpoints.enabled': 'false',
      'tasks.max': spec.tasks,
      // A fresh deployment per run: otherwise Java MM2 starts its task from the previous run's
      // connector config (kept in the config topic), then reconfigures.
      'B.group.id': `sbs-${spec.index}-mm2`,
      'offset.storage.topic': `mm2-offsets.sbs-${spec.index}.internal`,
      'config.storage.topic': `mm2-configs.sbs-${spec.index}.internal`,
      'status.storage.topic': `mm2-status.sbs-${spec.index}.internal`,
      ...(spec.name === 'java-tuned' ? JAVA_TUNED : {}),
      ...EXACTLY_ONCE[spec.name],
      ...spec.extraProperties
    })
    const bin = spec.name === 'kafka-mirror-before' ? join(spec.beforeDir ?? '', 'bin', 'kafka-mirror.js') : BIN
    const proc = spec.name.startsWith('kafka-mirror')
      ? spawnTracked(spec.name, process.execPath, [...nodeFlags(), bin, 'run', '--config', file], {
          stdio: ['ignore', 'pipe', 'pipe']
        })
      : startJavaMirrorMaker(file)
    return new LiveMirror(proc, createWriteStream(join(logDir, `${spec.index}-${spec.name}.log`)), target, spec)
  }

  /** The mirror copies in transactions: what it copied counts once committed. */
  get committedOnly(): boolean {
    return this.#committedOnly
  }

  get exited(): Promise<unknown> {
    return this.#proc.exited
  }

  /**
   * Polls the remote topic's end offsets every 100 ms until at least `count` records are there;
   * returns when they were seen, or undefined when `limitAt` passed or the mirror exited first.
   */
  async waitCopied(count: bigint, limitAt: number): Promise<number | undefined> {
    while (this.exit === undefined && Date.now() < limitAt) {
      const pollStart = Date.now()
      await this.#poll()
      const now = Date.now()
      if (this.copied > 0n && this.firstAt === undefined) {
        this.firstAt = now
        this.firstCount = this.copied
      }
      if (this.copied >= count) return now
      await sleep(POLL_MS - (now - pollStart))
    }
    return undefined
  }

  async #poll(): Promise<void> {
    try {
      if (!this.#topicSeen) this.#topicSeen = (await this.#target.describeTopics([this.remote])).has(this.remote)
      if (this.#topicSeen) {
        // In the exactly-once mode a record counts once its transaction committed (the last stable
        // offset; it also counts the commit markers, one per partition per transaction).
        for (const [key, end] of await listEnds(this.#target, this.#tps, { committedOnly: this.#committedOnly }))
          this.#ends.set(key, end)
        this.copied = [...this.#ends.values()].reduce((x, y) => x + y, 0n)
      }
    } catch {
      /* the target did not answer: try again */
    }
    this.#samplePeak()
  }

  #samplePeak(): void {
    this.#peakKb = Math.max(this.#peakKb, vmHwmKb(this.#proc.child.pid) ?? 0)
  }

  /** Reads CPU time and peak RSS, then stops the process (SIGTERM, SIGKILL after 15 s). Idempotent. */
  async stop(): Promise<MirrorStats> {
    if (this.#stats !== undefined) return this.#stats
    const cpu = cpuSplit(this.#proc.child.pid)
    this.#samplePeak()
    this.#stats = {
      cpuS: cpu === undefined ? undefined : cpu.user + cpu.system,
      sysS: cpu?.system,
      peakMb: this.#peakKb === 0 ? undefined : this.#peakKb / 1024
    }
    await this.#proc.stop()
    this.#log.end()
    return this.#stats
  }
}

type ListOffsetsResponse = {
  topics?: Array<{ name: string; partitions: Array<{ partitionIndex: number; errorCode: number; offset: bigint }> }>
}

/**
 * End offsets by `topic:partition`, as many as the broker gave. One partition whose leader is
 * not ready yet fails the whole ListOffsets (a remote topic of 1,000 partitions that the mirror
 * has just created takes many seconds to get them all, while records already land on the
 * others); the failure carries the broker's answer, whose other partitions are good. Partitions
 * it has no answer for keep their last known offset at the caller.
 */
export async function listEnds(
  admin: KafkaAdmin,
  tps: readonly TopicPartition[],
  opts: { readonly committedOnly?: boolean } = {}
): Promise<Map<string, bigint>> {
  try {
    return await admin.listOffsets(tps, 'latest', opts)
  } catch (err) {
    const ends = new Map<string, bigint>()
    for (const { error } of errorTree(err)) {
      for (const t of (error as { response?: ListOffsetsResponse }).response?.topics ?? []) {
        for (const p of t.partitions) {
          const key = tpKey(t.name, p.partitionIndex)
          // The client's retries may leave several answers: the latest offset is the largest.
          if (p.errorCode === 0 && p.offset > (ends.get(key) ?? -1n)) ends.set(key, p.offset)
        }
      }
    }
    return ends
  }
}
