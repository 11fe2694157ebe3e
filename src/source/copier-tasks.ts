/**
 * `tasks.max` as MM2 honours it (MirrorSourceConnector.taskConfigs): the flow's source partitions are dealt
 * round-robin to min(tasks.max, partitions) tasks, each a RecordCopier with its own
 * PartitionReader and its own offset-sync writer (as each MirrorSourceTask has).
 *
 * Where a task runs is the flow's choice (`newTask`): in a worker thread of its own with its own
 * clients (copier-thread.ts, the default for a config loaded from a file), or on the main thread
 * sharing the flow's target producer and position store (`KAFKA_MIRROR_WORKER_THREADS=0`, or a
 * config built in code). This module only decides which task copies which partitions.
 *
 * The partition list keeps the order in which partitions were first seen (new ones at the end),
 * so a new topic or partition joins the task its index deals it to and nothing moves. Only when
 * the number of tasks changes (fewer partitions than tasks.max before, more now) are all
 * partitions dealt again: the running tasks stop and store their positions, and only then do
 * the new tasks start and resume from them, as Connect restarts MM2's tasks on reconfiguration.
 */
import type { FlowConfig } from '../config/model.ts'
import type { KafkaAdmin } from '../kafka/admin.ts'
import type { PartitionReader } from '../kafka/partition-reader.ts'
import type { KafkaProducer } from '../kafka/producer.ts'
import { type TopicPartition, tpKey } from '../kafka/types.ts'
import type { Logger } from '../observe/logger.ts'
import { mergeIo } from '../observe/metrics-copy.ts'
import { type AckedListener, type CopierStats, RecordCopier } from './copier.ts'
import type { Position } from './copier-protocol.ts'
import type { OffsetSyncWriter } from './offset-sync-writer.ts'
import type { PositionStore } from './position-store.ts'
import type { ReplicatedTopic } from './topic-sync.ts'

/** Round-robin deal: item i goes to task i mod min(tasksMax, items); no items, no tasks. */
export function dealPartitions<T>(items: readonly T[], tasksMax: number): T[][] {
  const n = Math.min(Math.max(1, tasksMax), items.length)
  const tasks: T[][] = Array.from({ length: n }, () => [])
  items.forEach((item, i) => {
    tasks[i % n]?.push(item)
  })
  return tasks
}

/** A partition and the topic it belongs to, as dealt to a task. */
export type DealtPartition = TopicPartition & { readonly replicated: ReplicatedTopic }

/** One copier task, wherever it runs. */
export interface CopierTask {
  readonly index: number
  readonly assignedCount: number
  readonly stats: CopierStats
  /** The worker thread's id; undefined for a task on the main thread. */
  readonly threadId: number | undefined
  /**
   * These partitions from now on (a superset of the earlier ones); `handOver`: positions just stored by the tasks this
   * one replaces.
   */
  assign: (partitions: readonly DealtPartition[], handOver: readonly Position[]) => Promise<void>
  start: (signal: AbortSignal) => void
  /** Stops copying, lets in-flight sends finish, stores positions, closes the task's clients; the positions stored. */
  stop: () => Promise<readonly Position[]>
  /** Releases the task's clients or thread when it never ran (the flow could not start). */
  close: () => Promise<void>
}

export interface CopierTasksDeps {
  /** Task `index` of `count`. */
  readonly newTask: (index: number, count: number) => CopierTask
  readonly log: Logger
}

/** What a task on the main thread shares with the flow. */
export interface InThreadTaskDeps {
  readonly newReader: (taskIndex: number) => PartitionReader
  readonly newOffsetSyncs: (() => OffsetSyncWriter) | undefined
  readonly producer: KafkaProducer
  readonly sourceAdmin: KafkaAdmin
  readonly positions: PositionStore
  /** Told of every acknowledged batch (the flow measures heartbeat latency with it). */
  readonly onAcked?: AckedListener
}

/** A task on the main thread: its own reader and offset-sync writer, the flow's producer and position store. */
export function inThreadTask(flow: FlowConfig, deps: InThreadTaskDeps, index: number, log: Logger): CopierTask {
  const reader = deps.newReader(index)
  const copier = new RecordCopier(flow, {
    reader,
    producer: deps.producer,
    sourceAdmin: deps.sourceAdmin,
    positions: deps.positions,
    offsetSyncs: deps.newOffsetSyncs?.(),
    log,
    onAcked: deps.onAcked
  })
  const abort = new AbortController()
  let running: Promise<void> | undefined
  let mine: readonly DealtPartition[] = []
  return {
    index,
    get assignedCount() {
      return copier.assignedCount
    },
    get stats() {
      return copier.stats
    },
    threadId: undefined,
    async assign(partitions, handOver) {
      mine = partitions
      deps.positions.adopt(handOver)
      const keys = new Set(partitions.map(p => tpKey(p.topic, p.partition)))
      const topics = new Map(partitions.map(p => [p.topic, p.replicated]))
      await copier.assign(topics, (topic, partition) => keys.has(tpKey(topic, partition)))
    },
    start(signal) {
      running ??= copier.run(AbortSignal.any([signal, abort.signal]))
    },
    async stop() {
      abort.abort()
      if (running !== undefined) await running
      else await copier.flush()
      await reader.close()
      // The positions are in the flow's shared store; report them as a worker thread does.
      return mine.flatMap(p => {
        const offset = deps.positions.lastStored(p.topic, p.partition)
        return offset === undefined ? [] : [[p.topic, p.partition, offset] as const]
      })
    },
    async close() {
      await reader.close()
    }
  }
}

function sameSet(a: ReadonlySet<string> | undefined, b: ReadonlySet<string> | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  return a.size === b.size && [...a].every(k => b.has(k))
}

export class CopierTasks {
  readonly #flow: FlowConfig
  readonly #deps: CopierTasksDeps
  /** Every partition seen, in the order first seen; its index decides its task. */
  readonly #order: DealtPartition[] = []
  #tasks: CopierTask[] = []
  /** Tasks started before the first deal (warmUp), taken by it in index order. */
  #warm: CopierTask[] = []
  /** Positions the tasks replaced last stored, handed to their successors (cleared once those have them). */
  #handOver: readonly Position[] = []
  /** The partitions (tpKeys) this instance owns in its group; undefined: all of them. */
  #owned: ReadonlySet<string> | undefined
  /** Tasks the group gave this instance for the flow; undefined: tasks.max. */
  #taskBudget: number | undefined
  /** The ready topics last given to assign(). */
  #topics: ReadonlyMap<string, ReplicatedTopic> = new Map()
  /** Set while run() is active: new tasks start at once. */
  #signal: AbortSignal | undefined
  /** Counters and data-loss history of tasks that were replaced, so status never goes back. */
  readonly #retired = {
    recordsCopied: 0,
    bytesCopied: 0,
    rawBytesCopied: 0,
    batches: 0,
    lastCopyAt: 0,
    dataLoss: [] as CopierStats['dataLoss']
  }

  /** `owned`: start owning only these partitions (an instance in a group starts with none). */
  constructor(flow: FlowConfig, deps: CopierTasksDeps, owned?: ReadonlySet<string>) {
    this.#flow = flow
    this.#deps = deps
    this.#owned = owned
  }

  get count(): number {
    return this.#tasks.length
  }

  get assignedCount(): number {
    return this.#tasks.reduce((n, t) => n + t.assignedCount, 0)
  }

  /** Partitions per task, for status and logs. */
  get partitionsPerTask(): number[] {
    return this.#tasks.map(t => t.assignedCount)
  }

  /** Ids of the worker threads running the tasks (none when tasks run on the main thread). */
  get threadIds(): number[] {
    return this.#tasks.flatMap(t => (t.threadId === undefined ? [] : [t.threadId]))
  }

  /** All tasks' stats as one. */
  get stats(): CopierStats {
    const all = this.#tasks.map(t => t.stats)
    return {
      recordsCopied: this.#retired.recordsCopied + all.reduce((n, s) => n + s.recordsCopied, 0),
      bytesCopied: this.#retired.bytesCopied + all.reduce((n, s) => n + s.bytesCopied, 0),
      rawBytesCopied: this.#retired.rawBytesCopied + all.reduce((n, s) => n + s.rawBytesCopied, 0),
      batches: this.#retired.batches + all.reduce((n, s) => n + s.batches, 0),
      lastCopyAt: Math.max(this.#retired.lastCopyAt, ...all.map(s => s.lastCopyAt)),
      dataLoss: [...this.#retired.dataLoss, ...all.flatMap(s => s.dataLoss)],
      failures: new Map(all.flatMap(s => [...s.failures])),
      lag: new Map(all.flatMap(s => [...s.lag])),
      lastError: all.find(s => s.lastError !== undefined)?.lastError,
      partitions: new Map(all.flatMap(s => [...s.partitions])),
      io: mergeIo(all.map(s => s.io))
    }
  }

  /** Each task's own stats (the metrics label client ids and Connect tasks by task index). */
  get perTask(): Array<{ readonly task: number; readonly stats: CopierStats }> {
    return this.#tasks.map(t => ({ task: t.index, stats: t.stats }))
  }

  /**
   * Starts tasks 0..count-1 before the first deal, so tasks that take long to start (a worker
   * thread loads the sources and connects) are ready when the partitions are known; the deal
   * takes the ones it needs and stops the others. Only before the first deal: no task has run,
   * so nothing stored can be newer than what they read at start.
   */
  warmUp(count: number): void {
    if (this.#tasks.length > 0 || this.#warm.length > 0 || this.#order.length > 0) return
    for (let index = 0; index < count; index++) this.#warm.push(this.#deps.newTask(index, count))
  }

  /**
   * Adds the partitions of `topics` not seen yet; deals them, or deals everything again when the task count changes.
   */
  async assign(topics: ReadonlyMap<string, ReplicatedTopic>): Promise<void> {
    this.#topics = topics
    const owned = this.#owned
    const known = new Set(this.#order.map(p => tpKey(p.topic, p.partition)))
    const before = this.#order.length
    for (const t of topics.values()) {
      for (let partition = 0; partition < t.partitions; partition++) {
        const key = tpKey(t.source, partition)
        if (!known.has(key) && (owned === undefined || owned.has(key)))
          this.#order.push({ topic: t.source, partition, replicated: t })
      }
    }
    if (this.#order.length === before && (this.#tasks.length > 0 || this.#order.length === 0)) return
    const deal = dealPartitions(this.#order, this.#taskBudget ?? this.#flow.tasksMax)
    if (deal.length !== this.#tasks.length) {
      await this.#replaceTasks(deal.length)
      this.#deps.log.info('copying with tasks', {
        tasks: deal.length,
        tasksMax: this.#flow.tasksMax,
        partitions: this.#order.length,
        perTask: deal.map(d => d.length).join(',')
      })
    }
    await Promise.all(
      this.#tasks.map(async (task, i) => {
        await task.assign(deal[i] ?? [], this.#handOver)
      })
    )
    this.#handOver = []
    for (const task of this.#tasks) this.#start(task)
  }

  /**
   * The partitions this instance owns from now on (tpKeys; undefined: every partition, as
   * when the instance runs alone without a group) and how many tasks it runs them in. A change
   * stops every task (each stores its positions), re-reads the stored positions (`reload`: other
   * instances may have stored some since) and deals the owned partitions to fresh tasks, which
   * resume from the newest of what was read, what the old tasks stored and `handOver` (positions
   * the partitions' previous owners stored when they released them). Returns the positions the
   * stopped tasks stored.
   */
  async own(
    owned: ReadonlySet<string> | undefined,
    taskBudget: number | undefined,
    handOver: readonly Position[],
    reload: () => Promise<void>,
    opts: { readonly fresh?: boolean } = {}
  ): Promise<readonly Position[]> {
    if (sameSet(owned, this.#owned) && taskBudget === this.#taskBudget && handOver.length === 0) return []
    const before = this.#owned
    // `fresh`: the partitions added were never copied by anyone else (new topics and partitions):
    // they join the running tasks as discovery adds partitions, without a restart.
    if (
      opts.fresh === true &&
      handOver.length === 0 &&
      taskBudget === this.#taskBudget &&
      owned !== undefined &&
      before !== undefined &&
      [...before].every(k => owned.has(k))
    ) {
      this.#owned = owned
      await this.assign(this.#topics)
      return []
    }
    this.#owned = owned
    this.#taskBudget = taskBudget
    const old = this.#tasks
    this.#tasks = []
    const stored = await this.#stopAll(old)
    this.#retire(old)
    this.#order.length = 0
    this.#handOver = [...stored, ...handOver]
    await reload()
    await this.assign(this.#topics)
    return stored
  }

  #retire(old: readonly CopierTask[]): void {
    for (const t of old) {
      const s = t.stats
      this.#retired.recordsCopied += s.recordsCopied
      this.#retired.bytesCopied += s.bytesCopied
      this.#retired.rawBytesCopied += s.rawBytesCopied
      this.#retired.batches += s.batches
      this.#retired.lastCopyAt = Math.max(this.#retired.lastCopyAt, s.lastCopyAt)
      this.#retired.dataLoss.push(...s.dataLoss)
    }
  }

  /** Stops every task (each stores its positions) and creates `count` fresh ones. */
  async #replaceTasks(count: number): Promise<void> {
    const old = this.#tasks
    this.#tasks = []
    this.#handOver = [...this.#handOver, ...(await this.#stopAll(old))]
    this.#retire(old)
    const warm = this.#warm.splice(0)
    for (let index = 0; index < count; index++) this.#tasks.push(warm[index] ?? this.#deps.newTask(index, count))
    await Promise.all(
      warm.slice(count).map(async t => {
        await t.close()
      })
    )
  }

  #start(task: CopierTask): void {
    const signal = this.#signal
    if (signal === undefined) return
    task.start(signal)
  }

  /** Stops the tasks; the positions they stored. */
  async #stopAll(tasks: readonly CopierTask[]): Promise<Position[]> {
    const stored = await Promise.all(tasks.map(async t => await t.stop()))
    return stored.flat()
  }

  /** Releases the tasks' clients and threads (after run() ended, or when the flow could not start). */
  async close(): Promise<void> {
    await Promise.all(
      [...this.#tasks, ...this.#warm.splice(0)].map(async t => {
        await t.close()
      })
    )
  }

  /** Runs the tasks until the signal aborts; each stores its positions on the way out. */
  async run(signal: AbortSignal): Promise<void> {
    this.#signal = signal
    for (const task of this.#tasks) this.#start(task)
    await new Promise<void>(resolve => {
      if (signal.aborted) resolve()
      else
        signal.addEventListener(
          'abort',
          () => {
            resolve()
          },
          { once: true }
        )
    })
    await this.#stopAll(this.#tasks)
  }
}
