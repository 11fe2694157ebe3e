/**
 * One `kafka-mirror bench` run on the user's own clusters: a uniquely named scratch topic on the
 * source, the flow's copy engine (the same SourceFlow, settings and threads as `run`) restricted
 * to it, a load process writing stamped records and a reader process on the target timing each
 * record's end-to-end latency; then both scratch topics are deleted, also when the run fails or
 * is interrupted. It touches no other topic (the copy engine's positions and offset syncs for the
 * scratch topic are written where `run` writes them: a few records in those topics).
 *
 * The load and the reader run in processes of their own, so this process's CPU time (every
 * thread) and its peak resident memory (the kernel's maxrss) are the copy's, plus the little the
 * bench itself holds.
 */
import { randomBytes } from 'node:crypto'
import type { FlowConfig, LoadedConfig } from '../config/model.ts'
import { KafkaError, KafkaMirrorError, UsageError } from '../errors.ts'
import { KafkaAdmin } from '../kafka/admin.ts'
import type { Codec } from '../kafka/record-batch.ts'
import type { Logger } from '../observe/logger.ts'
import { SourceFlow } from '../source/source-flow.ts'
import { TopicSelection } from '../source/topic-selection.ts'
import type { FromLoad, FromReader, LoadWork, ReadWork, ToReader } from './bench-protocol.ts'
import { type HelperProcess, startHelper } from './helper-process.ts'
import type { LatencySummary } from './latency-histogram.ts'

export interface BenchOptions {
  readonly flow: string
  readonly records: number
  readonly size: number
  readonly partitions: number
  /** Records per second, with `durationS`; undefined: `records` flat out. */
  readonly rate: number | undefined
  readonly durationS: number | undefined
  readonly compression: Codec
}

export interface BenchProgress { readonly sent: number, readonly received: number, readonly total: number, readonly elapsedS: number }

export interface BenchResult {
  readonly flow: string
  readonly topic: string
  readonly remote: string
  readonly partitions: number
  readonly records: number
  readonly size: number
  readonly compression: Codec
  readonly rate: number | undefined
  /** Records the target held when the run ended, and their value bytes. */
  readonly received: number
  readonly bytes: number
  /** From the first record received to the last. */
  readonly seconds: number
  readonly recordsPerS: number
  readonly mbPerS: number
  readonly latency: LatencySummary | undefined
  readonly copyCpuS: number
  readonly copyCpuSPerGb: number
  readonly peakRssMb: number
  readonly producedPerS: number
}

/** How long the copy may take past the end of the load before the run gives up. */
const DRAIN_LIMIT_MS = 120_000

export async function runBench (loaded: LoadedConfig, opts: BenchOptions, hooks: { log: Logger, progress: (p: BenchProgress) => void, signal: AbortSignal }): Promise<BenchResult> {
  const flow = findFlow(loaded, opts.flow)
  const source = loaded.config.loadedFrom
  if (source === undefined) throw new UsageError('bench: the config must come from a file (its load and reader processes load it again)')
  const selection = new TopicSelection(flow)
  const topic = `kafka-mirror-bench-${randomBytes(4).toString('hex')}`
  if (selection.select([topic]).length === 0) throw new UsageError(`bench: flow ${flow.name} would not copy a topic named ${topic} (its topic filters exclude it, or the replication policy does)`)
  const remote = selection.remoteName(topic)
  const total = opts.rate === undefined ? opts.records : Math.round(opts.rate * (opts.durationS ?? 0))
  const sourceAdmin = new KafkaAdmin(flow.clients.sourceAdmin, `${flow.name}|bench-source-admin`)
  const targetAdmin = new KafkaAdmin(flow.clients.targetAdmin, `${flow.name}|bench-target-admin`)
  const helpers: Array<Pick<HelperProcess<{ kind: string }, never>, 'stop'>> = []
  let mirror: SourceFlow | undefined
  let created = false
  try {
    const outcome = await sourceAdmin.createTopic({ name: topic, partitions: opts.partitions, replicationFactor: flow.replicationFactor, configs: {} })
    if (outcome.status === 'failed') throw refusal(flow, topic, outcome.error)
    created = true
    // The copy engine of `run`, on the scratch topic only.
    const scratchFlow: FlowConfig = { ...flow, topics: [escapeRegex(topic)], topicsExclude: [], heartbeatsReplicationEnabled: false, refreshTopics: { ...flow.refreshTopics, enabled: true, intervalMs: 1000 } }
    mirror = new SourceFlow(scratchFlow, hooks.log, { configSource: source })
    const cpuStart = process.cpuUsage()
    mirror.start()
    await until(() => (mirror?.status().partitions ?? 0) >= opts.partitions, 60_000, hooks.signal, `flow ${flow.name} to pick up the scratch topic ${topic}`)

    const reader = startHelper<FromReader, ToReader>(new URL('./read-process.ts', import.meta.url), 'reader', { config: source, flow: flow.name, topic: remote, partitions: opts.partitions } satisfies ReadWork)
    helpers.push(reader)
    const load = startHelper<FromLoad>(new URL('./load-process.ts', import.meta.url), 'load', { config: source, flow: flow.name, topic, partitions: opts.partitions, records: total, size: opts.size, rate: opts.rate, compression: opts.compression } satisfies LoadWork)
    helpers.push(load)
    const started = Date.now()
    let sent = 0
    let received = 0
    load.on(m => { if (m.kind === 'progress') sent = m.sent })
    reader.on(m => { if (m.kind === 'progress') received = m.received })
    const ticker = setInterval(() => {
      hooks.progress({ sent, received, total, elapsedS: (Date.now() - started) / 1000 })
    }, 1000)
    try {
      const produced = await load.done(hooks.signal)
      sent = produced.sent
      reader.tell({ expected: produced.sent })
      const drained = setTimeout(() => { reader.tell({ expected: undefined }) }, DRAIN_LIMIT_MS)
      hooks.signal.addEventListener('abort', () => { reader.tell({ expected: undefined }) }, { once: true })
      const read = await reader.done()
      clearTimeout(drained)
      const cpu = process.cpuUsage(cpuStart)
      const copyCpuS = (cpu.user + cpu.system) / 1e6
      const seconds = read.firstAt === undefined || read.lastAt === undefined ? 0 : (read.lastAt - read.firstAt) / 1000
      const steady = seconds > 0 ? seconds : 1
      return {
        flow: flow.name,
        topic,
        remote,
        partitions: opts.partitions,
        records: total,
        size: opts.size,
        compression: opts.compression,
        rate: opts.rate,
        received: read.received,
        bytes: read.bytes,
        seconds,
        recordsPerS: read.received / steady,
        mbPerS: read.bytes / 1e6 / steady,
        latency: read.latency,
        copyCpuS,
        copyCpuSPerGb: read.bytes > 0 ? copyCpuS / (read.bytes / 1e9) : 0,
        // resourceUsage().maxRSS is in KiB: the kernel's high-water mark, not a sample.
        peakRssMb: process.resourceUsage().maxRSS / 1024,
        producedPerS: produced.seconds > 0 ? produced.sent / produced.seconds : produced.sent
      }
    } finally {
      clearInterval(ticker)
    }
  } finally {
    await Promise.all(helpers.map(async h => { await h.stop() }))
    await mirror?.close()
    if (created) {
      await sourceAdmin.deleteTopics([topic]).catch((err: unknown) => { hooks.log.warn('could not delete the scratch topic; delete it by hand', { cluster: flow.source, topic, error: err as Error }) })
      const exists = await targetAdmin.describeTopics([remote]).catch(() => new Map())
      if (exists.has(remote)) await targetAdmin.deleteTopics([remote]).catch((err: unknown) => { hooks.log.warn('could not delete the remote scratch topic; delete it by hand', { cluster: flow.target, topic: remote, error: err as Error }) })
    }
    await Promise.all([sourceAdmin.close(), targetAdmin.close()])
  }
}

function findFlow (loaded: LoadedConfig, name: string): FlowConfig {
  const m = /^(.+)->(.+)$/.exec(name)
  if (m === null) throw new UsageError(`bench: --flow ${name}: expected SOURCE->TARGET, e.g. --flow A->B`)
  const flow = loaded.config.flows.find(f => f.source === m[1] && f.target === m[2] && f.enabled)
  if (flow === undefined) throw new UsageError(`bench: no enabled flow ${name} in the config (flows: ${loaded.config.flows.filter(f => f.enabled).map(f => f.name).join(', ') || 'none'})`)
  return flow
}

/** Why the scratch topic could not be created, with what the bench needs. */
function refusal (flow: FlowConfig, topic: string, error: Error): KafkaMirrorError {
  const code = error instanceof KafkaError ? error.kafkaCode : undefined
  const need = code === 'TOPIC_AUTHORIZATION_FAILED' || code === 'CLUSTER_AUTHORIZATION_FAILED'
    ? `the principal of cluster ${flow.source} lacks CREATE on topic ${topic} (bench needs CREATE, WRITE and DELETE on topics kafka-mirror-bench-* of ${flow.source}, and the same on ${flow.target} for the remote topic)`
    : code === 'POLICY_VIOLATION' || code === 'INVALID_REPLICATION_FACTOR' || code === 'INVALID_PARTITIONS'
      ? 'the cluster refused the topic as asked (a create-topic policy or quota, the replication factor or the partition count): try another --partitions or set replication.factor for the flow'
      : 'see the error'
  return new KafkaError(`bench: cannot create the scratch topic ${topic} on cluster ${flow.source}: ${error.message}; ${need}`, { retriable: false, kafkaCode: code })
}

function escapeRegex (s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

async function until (condition: () => boolean, limitMs: number, signal: AbortSignal, what: string): Promise<void> {
  const deadline = Date.now() + limitMs
  while (!condition()) {
    if (signal.aborted) throw new KafkaMirrorError('KM_USAGE', 'bench: interrupted')
    if (Date.now() > deadline) throw new KafkaError(`bench: timed out after ${limitMs / 1000} s waiting for ${what}`, { retriable: true })
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}
