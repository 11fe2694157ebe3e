/**
 * The body of a copier task's worker thread (entered through copier-worker.ts, started by
 * copier-thread.ts): one RecordCopier with clients of its own (source reader and admin, target
 * producer and admin, position store, offset-sync writer and its producer), so each task's
 * fetching, decoding, encoding and sending runs on its own core. The main thread keeps
 * everything else (discovery, topic/config/ACL sync, checkpoints, heartbeats, status) and
 * decides which partitions this task copies.
 *
 * The config cannot be sent here (secrets hold reload closures), so the worker loads the same
 * file with the same options and picks its flow by name. Messages: copier-protocol.ts.
 *
 * Invariants: `stopped` is sent only after the copier stopped, its in-flight sends finished and
 * the positions of everything acknowledged were stored; every failure the worker cannot recover
 * from is sent as a fatal `error` and ends the thread (the main thread restarts it, and the new
 * one resumes from the stored positions).
 */
import { parentPort, threadId, workerData } from 'node:worker_threads'
import { connectorClientIds } from '../config/client-ids.ts'
import { flowRules } from '../config/flow-rules.ts'
import { loadConfig } from '../config/load.ts'
import type { FlowConfig } from '../config/model.ts'
import { offsetSyncsRoles } from '../config/what-runs.ts'
import { LeaseView } from '../group/lease.ts'
import { KafkaAdmin } from '../kafka/admin.ts'
import { copierReaderOptions } from '../kafka/fetch-settings.ts'
import { PartitionReader } from '../kafka/partition-reader.ts'
import { KafkaProducer } from '../kafka/producer.ts'
import { tpKey } from '../kafka/types.ts'
import { type Level, type Logger, safeValue } from '../observe/logger.ts'
import { RecordCopier } from './copier.ts'
import type { CopierWorkerData, FromWorker, Position, ToWorker } from './copier-protocol.ts'
import { OffsetSyncWriter } from './offset-sync-writer.ts'
import { offsetSyncsLocation, onSyncsSide } from '../config/offset-syncs-topic.ts'
import { ownerLabel, PositionStore } from './position-store.ts'
import { taskSession } from './task-transactions.ts'
import type { ReplicatedTopic } from './topic-sync.ts'

/**
 * Stats go to the main thread this often, and within WATCH_MS when data loss, a partition failure or an error appears.
 */
const STATS_EVERY_MS = 500
const WATCH_MS = 100
/** Closing the clients after a stop must not hold up the hand-over to the next task for long. */
const CLOSE_LIMIT_MS = 5_000

const port = parentPort
if (port === null) throw new Error('copier-worker-run.ts runs only as a worker thread')
const data = workerData as CopierWorkerData
/** The main thread's lease, read from shared memory: a fenced instance's worker stops writing without a message. */
const gate = data.gate === undefined ? undefined : new LeaseView(data.gate.buffer, data.gate.groupId)
const owner = data.owner

function post(message: FromWorker): void {
  port?.postMessage(message)
}

/**
 * A Logger whose lines the main thread writes with its own logger (its sink, level, which SIGUSR2
 * changes, and text or JSON format): values are reduced as the logger reduces them (numbers and
 * booleans kept, the rest as text), so a Secret arrives as [redacted].
 */
function workerLogger(scope: string | undefined): Logger {
  const emit = (level: Level, message: string, fields?: Record<string, unknown>): void => {
    const safe =
      fields === undefined
        ? undefined
        : Object.fromEntries(
            Object.entries(fields)
              .filter(([, v]) => v !== undefined)
              .map(([k, v]) => [k, safeValue(v)])
          )
    post({ type: 'log', level, scope, message, fields: safe })
  }
  return {
    debug: (m, f) => {
      emit('debug', m, f)
    },
    info: (m, f) => {
      emit('info', m, f)
    },
    warn: (m, f) => {
      emit('warn', m, f)
    },
    error: (m, f) => {
      emit('error', m, f)
    },
    child: s => workerLogger(scope === undefined ? s : `${scope} ${s}`)
  }
}

/**
 * The flow's position store plus the positions the main thread handed over from the tasks that
 * stopped just before this one started: when the offsets topic read at start does not show a
 * position yet (with acks=1 the high watermark can trail an acknowledged write), the newer one
 * wins. It also remembers what it stored, for `stopped`.
 */
class TaskPositions extends PositionStore {
  readonly #handedOver = new Map<string, bigint>()
  readonly stored = new Map<string, Position>()

  handOver(positions: readonly Position[]): void {
    for (const [topic, partition, offset] of positions) this.#handedOver.set(tpKey(topic, partition), offset)
  }

  override resumeOffset(topic: string, partition: number): bigint | undefined {
    const loaded = super.resumeOffset(topic, partition)
    const handed = this.#handedOver.get(tpKey(topic, partition))
    if (handed === undefined || handed < 0n) return loaded
    return loaded === undefined || handed + 1n > loaded ? handed + 1n : loaded
  }

  override remember(lastCopied: ReadonlyMap<string, { topic: string; partition: number; offset: bigint }>): void {
    super.remember(lastCopied)
    for (const [k, p] of lastCopied) this.stored.set(k, [p.topic, p.partition, p.offset])
  }
}

interface Built {
  readonly copier: RecordCopier
  readonly positions: TaskPositions
  readonly closeables: ReadonlyArray<{ close: () => Promise<void> }>
}

const log = workerLogger(undefined)

async function build(): Promise<Built> {
  const { config } = await loadConfig(data.config.path, { secretsDir: data.config.secretsDir, env: data.config.env })
  const flow: FlowConfig | undefined = config.flows.find(f => f.name === data.flow)
  if (flow === undefined) throw new Error(`the config ${data.config.path} no longer has the flow ${data.flow}`)
  const closeables: Array<{ close: () => Promise<void> }> = []
  const own = <T extends { close: () => Promise<void> }>(c: T): T => {
    closeables.push(c)
    return c
  }
  try {
    // The same client ids as the flow's clients on the main thread had (quotas and ACLs by client id keep applying).
    const id = connectorClientIds(flow, 'source')
    const sourceAdmin = own(new KafkaAdmin(flow.clients.sourceAdmin, id('replication-source-admin')))
    const targetAdmin = own(new KafkaAdmin(flow.clients.targetAdmin, id('replication-target-admin')))
    const producer = own(new KafkaProducer(flow.clients.targetProducer, id('replication-producer'), { gate }))
    const positions = new TaskPositions(flow, targetAdmin, producer, log, {
      owner: owner === undefined ? undefined : () => ownerLabel(owner, gate?.generation)
    })
    await positions.load()
    let offsetSyncs: OffsetSyncWriter | undefined
    if (flow.offsetSyncs.enabled) {
      const syncs = offsetSyncsLocation(flow, flowRules(flow).policy)
      const syncProducer =
        syncs.side === 'source'
          ? own(
              new KafkaProducer(flow.clients[offsetSyncsRoles(flow).writer], id('offset-syncs-source-producer'), {
                gate
              })
            )
          : producer
      offsetSyncs = new OffsetSyncWriter(
        flow,
        flowRules(flow).policy,
        onSyncsSide(syncs, { source: sourceAdmin, target: targetAdmin }),
        syncProducer,
        log
      )
    }
    const reader = own(
      new PartitionReader(
        flow.clients.sourceConsumer,
        flow.tasksMax > 1 ? id(`replication-consumer-${data.task}`) : id('replication-consumer'),
        copierReaderOptions(flow.clients.sourceConsumer, producer.partitionBatchBytes)
      )
    )
    const { policy } = flowRules(flow)
    const transactions = flow.exactlyOnce.enabled
      ? own(taskSession(flow, data.task, id('replication-producer'), gate))
      : undefined
    const copier = new RecordCopier(flow, {
      reader,
      producer,
      sourceAdmin,
      positions,
      offsetSyncs,
      log,
      onAcked: (topic, records, ackedAt) => {
        if (!policy.isHeartbeatsTopic(topic.source)) return
        post({
          type: 'heartbeats',
          topic: topic.remote,
          records: records().map(r => ({ key: copy(r.key), value: copy(r.value), timestamp: r.timestamp })),
          ackedAt
        })
      },
      ...(transactions === undefined ? {} : { transactions: transactions.session })
    })
    return { copier, positions, closeables }
  } catch (err) {
    await closeAll(closeables)
    throw err
  }
}

/**
 * Its own bytes: a record's Buffer is often a view of a whole fetch response, which cloning the view would copy
 * entirely.
 */
function copy(bytes: Uint8Array | null): Uint8Array | null {
  return bytes === null ? null : new Uint8Array(bytes)
}

async function closeAll(closeables: ReadonlyArray<{ close: () => Promise<void> }>): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    Promise.all(
      closeables.map(async c => {
        await c.close().catch(() => {})
      })
    ),
    new Promise<void>(resolve => {
      timer = setTimeout(resolve, CLOSE_LIMIT_MS)
    })
  ])
  clearTimeout(timer)
}

function fatal(err: unknown): never {
  post({ type: 'error', message: (err as Error).message ?? String(err), fatal: true })
  process.exit(1)
}

const lastStats = { at: 0, notable: '' }

/**
 * What status readers must see at once: a new data-loss event, a partition failing or recovering, a task-wide error.
 */
function notable(copier: RecordCopier): string {
  const s = copier.stats
  return `${s.dataLoss.length}|${s.dataLoss[s.dataLoss.length - 1]?.at ?? 0}|${[...s.failures.keys()].join(',')}|${s.lastError ?? ''}`
}

function postStats(copier: RecordCopier): void {
  lastStats.at = Date.now()
  lastStats.notable = notable(copier)
  post({ type: 'stats', stats: copier.stats, assigned: copier.assignedCount })
}

const abort = new AbortController()
let running: Promise<void> | undefined
let statsTimer: NodeJS.Timeout | undefined
let stopping = false

async function handle(built: Built, message: ToWorker): Promise<void> {
  const { copier } = built
  if (message.type === 'assign') {
    built.positions.handOver(message.positions)
    const mine = new Set(message.partitions.map(([topic, partition]) => tpKey(topic, partition)))
    const topics = new Map<string, ReplicatedTopic>(message.topics.map(t => [t.source, t]))
    try {
      if (message.reread === true) await built.positions.load()
      await copier.assign(topics, (topic, partition) => mine.has(tpKey(topic, partition)))
      // Before `assigned`: data loss found at the stored positions is in status once assign resolves.
      postStats(copier)
      post({ type: 'assigned', id: message.id, assigned: copier.assignedCount })
    } catch (err) {
      post({ type: 'assigned', id: message.id, assigned: copier.assignedCount, error: (err as Error).message })
    }
  } else if (message.type === 'release') {
    const keys = new Set(message.partitions.map(([topic, partition]) => tpKey(topic, partition)))
    try {
      const positions = await copier.release(keys)
      // `stopped` reports what this task stored for the partitions it still has.
      for (const k of keys) built.positions.stored.delete(k)
      postStats(copier)
      post({ type: 'released', id: message.id, assigned: copier.assignedCount, positions })
    } catch (err) {
      post({
        type: 'released',
        id: message.id,
        assigned: copier.assignedCount,
        positions: [],
        error: (err as Error).message
      })
    }
  } else if (message.type === 'run') {
    if (running !== undefined || stopping) return
    statsTimer = setInterval(() => {
      if (Date.now() - lastStats.at >= STATS_EVERY_MS || notable(copier) !== lastStats.notable) postStats(copier)
    }, WATCH_MS)
    running = copier.run(abort.signal).catch(err => {
      fatal(err)
    })
  } else {
    stopping = true
    abort.abort()
    clearInterval(statsTimer)
    if (running !== undefined) await running
    else await copier.flush()
    await closeAll(built.closeables)
    post({ type: 'stopped', stats: copier.stats, positions: [...built.positions.stored.values()] })
    port?.close()
  }
}

const building = build()
building.then(
  () => {
    post({ type: 'ready', threadId })
  },
  err => {
    fatal(err)
  }
)
let queue: Promise<void> = Promise.resolve()
port.on('message', (message: ToWorker) => {
  // One message at a time, in order, after the build (an assign must not overtake the previous one).
  queue = queue
    .then(async () => {
      await handle(await building, message)
    })
    .catch(err => {
      fatal(err)
    })
})
