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
import { pairClientId } from '../config/client-ids.ts'
import { copyingFlow } from '../config/what-runs.ts'
import { sleep } from '../util/abortable.ts'
import type { ConfigSource, FlowConfig, LoadedConfig } from '../config/model.ts'
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

export interface BenchProgress {
  readonly sent: number
  readonly received: number
  readonly total: number
  readonly elapsedS: number
}

export interface BenchResult {
  readonly flow: string
  readonly topic: string
  readonly remote: string
  readonly partitions: number
  readonly records: number
  readonly size: number
  readonly compression: Codec
  readonly rate: number | undefined
  /** Distinct records the target held when the run ended, and their value bytes. */
  readonly received: number
  /** Records the target held twice or more (a send retried after a lost answer, a re-copy). */
  readonly duplicates: number
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
  /** Scratch topics that could not be deleted ("cluster/topic"); empty when both are gone. */
  readonly scratchLeft: readonly string[]
}

/** How long the copy may take past the end of the load before the run gives up. */
const DRAIN_LIMIT_MS = 120_000

export async function runBench(
  loaded: LoadedConfig,
  opts: BenchOptions,
  hooks: { log: Logger; progress: (p: BenchProgress) => void; signal: AbortSignal }
): Promise<BenchResult> {
  const flow = copyingFlow(loaded.config, opts.flow, 'bench')
  const source = loaded.config.loadedFrom
  if (source === undefined)
    throw new UsageError('bench: the config must come from a file (its load and reader processes load it again)')
  const selection = new TopicSelection(flow)
  const topic = `kafka-mirror-bench-${randomBytes(4).toString('hex')}`
  if (selection.select([topic]).length === 0)
    throw new UsageError(
      `bench: flow ${flow.name} would not copy a topic named ${topic} (its topic filters exclude it, or the replication policy does)`
    )
  const scratch: Scratch = { flow, topic, remote: selection.remoteName(topic), source }
  const sourceAdmin = new KafkaAdmin(flow.clients.sourceAdmin, pairClientId(flow, 'bench-source-admin'))
  const targetAdmin = new KafkaAdmin(flow.clients.targetAdmin, pairClientId(flow, 'bench-target-admin'))
  try {
    let measured: Omit<BenchResult, 'scratchLeft'> | undefined
    let failure: unknown
    // From the create request on, the topic may exist (an answer lost after the broker made it).
    let maybeCreated = false
    try {
      hooks.signal.throwIfAborted()
      maybeCreated = true
      // -1: the source cluster's default replication factor (the flow's replication.factor is the target's).
      const outcome = await sourceAdmin.createTopic({
        name: topic,
        partitions: opts.partitions,
        replicationFactor: -1,
        configs: {}
      })
      if (outcome.status === 'failed') {
        if (
          outcome.error instanceof KafkaError &&
          outcome.error.kafkaCode !== undefined &&
          outcome.error.kafkaCode !== 'REQUEST_TIMED_OUT'
        )
          maybeCreated = false
        throw refusal(flow, topic, outcome.error)
      }
      measured = await measure(scratch, opts, hooks)
    } catch (err) {
      failure = err
    }
    const scratchLeft = maybeCreated ? await removeScratch(scratch, sourceAdmin, targetAdmin, hooks.log) : []
    if (measured === undefined) {
      const cleanup =
        scratchLeft.length === 0
          ? maybeCreated
            ? 'the scratch topics were deleted'
            : 'no scratch topic was created'
          : `scratch topics left behind, delete them by hand: ${scratchLeft.join(', ')}`
      if (hooks.signal.aborted) throw new KafkaMirrorError('KM_USAGE', `bench: interrupted; ${cleanup}`)
      if (scratchLeft.length === 0) throw failure
      throw new KafkaError(`${(failure as Error).message}; ${cleanup}`, { retriable: false })
    }
    return { ...measured, scratchLeft }
  } finally {
    await Promise.all([sourceAdmin.close(), targetAdmin.close()])
  }
}

interface Scratch {
  readonly flow: FlowConfig
  readonly topic: string
  readonly remote: string
  readonly source: ConfigSource
}

/** The copy of one run: the flow's engine on the scratch topic, the load and the reader. */
async function measure(
  { flow, topic, remote, source }: Scratch,
  opts: BenchOptions,
  hooks: { log: Logger; progress: (p: BenchProgress) => void; signal: AbortSignal }
): Promise<Omit<BenchResult, 'scratchLeft'>> {
  const total = opts.rate === undefined ? opts.records : Math.round(opts.rate * (opts.durationS ?? 0))
  const helpers: Array<Pick<HelperProcess<{ kind: string }, never>, 'stop'>> = []
  // The copy engine of `run`, on the scratch topic only.
  const scratchFlow: FlowConfig = {
    ...flow,
    topics: [escapeRegex(topic)],
    topicsExclude: [],
    heartbeatsReplicationEnabled: false,
    refreshTopics: { ...flow.refreshTopics, enabled: true, intervalMs: 1000 }
  }
  const mirror = new SourceFlow(scratchFlow, hooks.log, { configSource: source })
  try {
    mirror.start()
    await until(
      () => mirror.status().partitions >= opts.partitions,
      60_000,
      hooks.signal,
      () => `flow ${flow.name} to pick up the scratch topic ${topic}${reasonOf(mirror)}`
    )

    const reader = startHelper<FromReader, ToReader>(new URL('./read-process.ts', import.meta.url), 'reader', {
      config: source,
      flow: flow.name,
      topic: remote,
      partitions: opts.partitions,
      records: total
    } satisfies ReadWork)
    helpers.push(reader)
    const readerDone = reader.done(hooks.signal)
    readerDone.catch(() => {})
    let sent = 0
    let received = 0
    let readerReady = false
    reader.on(m => {
      if (m.kind === 'progress') received = m.received
      if (m.kind === 'ready') readerReady = true
    })
    await until(
      () => readerReady,
      60_000,
      hooks.signal,
      () => `the reader to read the remote scratch topic ${remote} on ${flow.target}${reasonOf(mirror)}`,
      readerDone
    )

    // The copy's CPU from here: the engine's start (loading positions, creating state topics) is not the copy.
    const cpuStart = process.cpuUsage()
    const load = startHelper<FromLoad>(new URL('./load-process.ts', import.meta.url), 'load', {
      config: source,
      flow: flow.name,
      topic,
      partitions: opts.partitions,
      records: total,
      size: opts.size,
      rate: opts.rate,
      compression: opts.compression
    } satisfies LoadWork)
    helpers.push(load)
    const started = Date.now()
    load.on(m => {
      if (m.kind === 'progress') sent = m.sent
    })
    const report = (): void => {
      hooks.progress({ sent, received, total, elapsedS: (Date.now() - started) / 1000 })
    }
    const ticker = setInterval(report, 1000)
    const stopReading = (): void => {
      reader.tell({ expected: undefined })
    }
    const drained = setTimeout(stopReading, DRAIN_LIMIT_MS)
    drained.unref()
    try {
      // A reader that fails (no READ on the target, say) ends the run now, not after the load.
      const produced = await Promise.race([
        load.done(hooks.signal),
        readerDone.then(() => {
          throw new KafkaError('bench: the reader stopped before the load ended', { retriable: false })
        })
      ])
      sent = produced.sent
      reader.tell({ expected: total })
      drained.refresh()
      const read = await readerDone
      // The last word of the progress: a run shorter than one tick would otherwise show none.
      received = read.received
      report()
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
        duplicates: read.duplicates,
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
      clearTimeout(drained)
    }
  } finally {
    await Promise.all(
      helpers.map(async h => {
        await h.stop()
      })
    )
    await mirror.close().catch((err: unknown) => {
      hooks.log.warn('the copy engine did not close cleanly', { flow: flow.name, error: err as Error })
    })
  }
}

/** Deletes both scratch topics; returns those that may still exist ("cluster/topic"). */
async function removeScratch(
  { flow, topic, remote }: Scratch,
  sourceAdmin: KafkaAdmin,
  targetAdmin: KafkaAdmin,
  log: Logger
): Promise<string[]> {
  const left: string[] = []
  for (const [admin, cluster, name] of [
    [sourceAdmin, flow.source, topic],
    [targetAdmin, flow.target, remote]
  ] as const) {
    try {
      await admin.deleteTopics([name])
    } catch (err) {
      // Never created (the remote topic of a run that stopped early) is what we want.
      if (err instanceof KafkaError && err.kafkaCode === 'UNKNOWN_TOPIC_OR_PARTITION') continue
      log.warn('could not delete a scratch topic', { cluster, topic: name, error: err as Error })
      left.push(`${cluster}/${name}`)
    }
  }
  return left
}

function reasonOf(mirror: SourceFlow): string {
  const { state, reason } = mirror.status()
  return reason === undefined ? ` (flow ${state})` : ` (flow ${state}: ${reason})`
}

/** Why the scratch topic could not be created, with what the bench needs. */
export function refusal(flow: Pick<FlowConfig, 'source' | 'target'>, topic: string, error: Error): KafkaMirrorError {
  const code = error instanceof KafkaError ? error.kafkaCode : undefined
  const need =
    code === 'TOPIC_AUTHORIZATION_FAILED' || code === 'CLUSTER_AUTHORIZATION_FAILED'
      ? `the principal of cluster ${flow.source} lacks CREATE on topic ${topic} (bench needs CREATE, WRITE and DELETE on topics kafka-mirror-bench-* of ${flow.source}, and the same on ${flow.target} for the remote topic)`
      : code === 'THROTTLING_QUOTA_EXCEEDED'
        ? `a controller mutation quota (controller_mutation_rate) of cluster ${flow.source} refused ${topic}'s partitions: try fewer --partitions, or later`
        : code === 'POLICY_VIOLATION' || code === 'INVALID_REPLICATION_FACTOR' || code === 'INVALID_PARTITIONS'
          ? `cluster ${flow.source} refused the topic as asked (a create-topic policy, its default replication factor, or the partition count): try another --partitions`
          : 'see the error'
  return new KafkaError(
    `bench: cannot create the scratch topic ${topic} on cluster ${flow.source}: ${error.message}; ${need}`,
    { retriable: false, kafkaCode: code }
  )
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

async function until(
  condition: () => boolean,
  limitMs: number,
  signal: AbortSignal,
  what: () => string,
  failed?: Promise<unknown>
): Promise<void> {
  const deadline = Date.now() + limitMs
  let failure: unknown
  let hasFailed = false
  failed?.then(
    () => {},
    (err: unknown) => {
      failure = err
      hasFailed = true
    }
  )
  while (!condition()) {
    signal.throwIfAborted()
    if (hasFailed) throw failure
    if (Date.now() > deadline)
      throw new KafkaError(`bench: timed out after ${limitMs / 1000} s waiting for ${what()}`, { retriable: true })
    await sleep(200, signal)
  }
  signal.throwIfAborted()
}
