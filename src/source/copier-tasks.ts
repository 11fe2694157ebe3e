/**
 * `tasks.max` as MM2 honours it (MirrorSourceConnector.taskConfigs): the flow's source partitions are dealt
 * round-robin to min(tasks.max, partitions) tasks, each a RecordCopier with its own
 * PartitionReader and its own offset-sync writer (as each MirrorSourceTask has). The tasks share
 * the flow's target producer and position store: their partitions never overlap, and one
 * producer keeps one connection per target broker however many tasks run.
 *
 * The partition list keeps the order in which partitions were first seen (new ones at the end),
 * so a new topic or partition joins the task its index deals it to and nothing moves. Only when
 * the number of tasks changes (fewer partitions than tasks.max before, more now) are all
 * partitions dealt again: the running tasks stop, store their positions and the new tasks resume
 * from them, as Connect restarts MM2's tasks on reconfiguration.
 */
import type { FlowConfig } from '../config/model.ts'
import type { KafkaAdmin } from '../kafka/admin.ts'
import type { PartitionReader } from '../kafka/partition-reader.ts'
import type { KafkaProducer } from '../kafka/producer.ts'
import { type TopicPartition, tpKey } from '../kafka/types.ts'
import type { Logger } from '../observe/logger.ts'
import { type AckedListener, type CopierStats, RecordCopier } from './copier.ts'
import type { OffsetSyncWriter } from './offset-sync-writer.ts'
import type { PositionStore } from './position-store.ts'
import type { ReplicatedTopic } from './topic-sync.ts'

/** Round-robin deal: item i goes to task i mod min(tasksMax, items); no items, no tasks. */
export function dealPartitions<T> (items: readonly T[], tasksMax: number): T[][] {
  const n = Math.min(Math.max(1, tasksMax), items.length)
  const tasks: T[][] = Array.from({ length: n }, () => [])
  items.forEach((item, i) => { tasks[i % n]?.push(item) })
  return tasks
}

export interface CopierTasksDeps {
  readonly newReader: (taskIndex: number) => PartitionReader
  readonly newOffsetSyncs: (() => OffsetSyncWriter) | undefined
  readonly producer: KafkaProducer
  readonly sourceAdmin: KafkaAdmin
  readonly positions: PositionStore
  readonly log: Logger
  /** Told of every acknowledged batch (the flow measures heartbeat latency with it). */
  readonly onAcked?: AckedListener
}

interface Task {
  readonly index: number
  readonly copier: RecordCopier
  readonly reader: PartitionReader
  readonly abort: AbortController
  running: Promise<void> | undefined
}

export class CopierTasks {
  readonly #flow: FlowConfig
  readonly #deps: CopierTasksDeps
  /** Every partition seen, in the order first seen; its index decides its task. */
  readonly #order: Array<TopicPartition & { readonly replicated: ReplicatedTopic }> = []
  #tasks: Task[] = []
  /** Set while run() is active: new tasks start at once. */
  #signal: AbortSignal | undefined
  /** Counters and data-loss history of tasks that were replaced, so status never goes back. */
  readonly #retired = { recordsCopied: 0, bytesCopied: 0, rawBytesCopied: 0, batches: 0, lastCopyAt: 0, dataLoss: [] as CopierStats['dataLoss'] }

  constructor (flow: FlowConfig, deps: CopierTasksDeps) {
    this.#flow = flow
    this.#deps = deps
  }

  get count (): number {
    return this.#tasks.length
  }

  get assignedCount (): number {
    return this.#tasks.reduce((n, t) => n + t.copier.assignedCount, 0)
  }

  /** Partitions per task, for status and logs. */
  get partitionsPerTask (): number[] {
    return this.#tasks.map(t => t.copier.assignedCount)
  }

  /** All tasks' stats as one. */
  get stats (): CopierStats {
    const all = this.#tasks.map(t => t.copier.stats)
    return {
      recordsCopied: this.#retired.recordsCopied + all.reduce((n, s) => n + s.recordsCopied, 0),
      bytesCopied: this.#retired.bytesCopied + all.reduce((n, s) => n + s.bytesCopied, 0),
      rawBytesCopied: this.#retired.rawBytesCopied + all.reduce((n, s) => n + s.rawBytesCopied, 0),
      batches: this.#retired.batches + all.reduce((n, s) => n + s.batches, 0),
      lastCopyAt: Math.max(this.#retired.lastCopyAt, ...all.map(s => s.lastCopyAt)),
      dataLoss: [...this.#retired.dataLoss, ...all.flatMap(s => s.dataLoss)],
      failures: new Map(all.flatMap(s => [...s.failures])),
      lag: new Map(all.flatMap(s => [...s.lag])),
      lastError: all.find(s => s.lastError !== undefined)?.lastError
    }
  }

  /** Adds the partitions of `topics` not seen yet; deals them, or deals everything again when the task count changes. */
  async assign (topics: ReadonlyMap<string, ReplicatedTopic>): Promise<void> {
    const known = new Set(this.#order.map(p => tpKey(p.topic, p.partition)))
    const before = this.#order.length
    for (const t of topics.values()) {
      for (let partition = 0; partition < t.partitions; partition++) {
        if (!known.has(tpKey(t.source, partition))) this.#order.push({ topic: t.source, partition, replicated: t })
      }
    }
    if (this.#order.length === before && this.#tasks.length > 0) return
    const deal = dealPartitions(this.#order, this.#flow.tasksMax)
    if (deal.length !== this.#tasks.length) {
      await this.#replaceTasks(deal.length)
      this.#deps.log.info('copying with tasks', { tasks: deal.length, tasksMax: this.#flow.tasksMax, partitions: this.#order.length, perTask: deal.map(d => d.length).join(',') })
    }
    await Promise.all(this.#tasks.map(async (task, i) => { await this.#assignTo(task, deal[i] ?? []) }))
    for (const task of this.#tasks) this.#start(task)
  }

  async #assignTo (task: Task, partitions: ReadonlyArray<TopicPartition & { readonly replicated: ReplicatedTopic }>): Promise<void> {
    const mine = new Set(partitions.map(p => tpKey(p.topic, p.partition)))
    const topics = new Map(partitions.map(p => [p.topic, p.replicated]))
    await task.copier.assign(topics, (topic, partition) => mine.has(tpKey(topic, partition)))
  }

  /** Stops every task (each stores its positions) and creates `count` fresh ones. */
  async #replaceTasks (count: number): Promise<void> {
    const old = this.#tasks
    this.#tasks = []
    await this.#stopAll(old)
    for (const t of old) {
      const s = t.copier.stats
      this.#retired.recordsCopied += s.recordsCopied
      this.#retired.bytesCopied += s.bytesCopied
      this.#retired.rawBytesCopied += s.rawBytesCopied
      this.#retired.batches += s.batches
      this.#retired.lastCopyAt = Math.max(this.#retired.lastCopyAt, s.lastCopyAt)
      this.#retired.dataLoss.push(...s.dataLoss)
    }
    for (let index = 0; index < count; index++) {
      const reader = this.#deps.newReader(index)
      const log = count > 1 ? this.#deps.log.child(`task-${index}`) : this.#deps.log
      const copier = new RecordCopier(this.#flow, { reader, producer: this.#deps.producer, sourceAdmin: this.#deps.sourceAdmin, positions: this.#deps.positions, offsetSyncs: this.#deps.newOffsetSyncs?.(), log, onAcked: this.#deps.onAcked })
      this.#tasks.push({ index, copier, reader, abort: new AbortController(), running: undefined })
    }
  }

  #start (task: Task): void {
    const signal = this.#signal
    if (signal === undefined || task.running !== undefined) return
    task.running = task.copier.run(AbortSignal.any([signal, task.abort.signal]))
  }

  async #stopAll (tasks: readonly Task[]): Promise<void> {
    for (const t of tasks) t.abort.abort()
    await Promise.all(tasks.map(async t => {
      if (t.running !== undefined) await t.running
      else await t.copier.flush()
      await t.reader.close()
    }))
  }

  /** Closes the tasks' readers (after run() ended, or when the flow could not start). */
  async close (): Promise<void> {
    await Promise.all(this.#tasks.map(async t => { await t.reader.close() }))
  }

  /** Runs the tasks until the signal aborts; each stores its positions on the way out. */
  async run (signal: AbortSignal): Promise<void> {
    this.#signal = signal
    for (const task of this.#tasks) this.#start(task)
    await new Promise<void>(resolve => {
      if (signal.aborted) resolve()
      else signal.addEventListener('abort', () => { resolve() }, { once: true })
    })
    await this.#stopAll(this.#tasks)
  }
}
