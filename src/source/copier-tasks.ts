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
 * The partition list keeps the order in which partitions were first seen (new ones at the end).
 * A new topic or partition joins the least loaded running task (the task its index would deal it
 * to, as long as nothing was released) and nothing moves. Only when the number of tasks changes
 * (fewer partitions than tasks.max before, more now) or the group changes this instance's task
 * budget are all partitions dealt again: the running tasks stop and store their positions, and
 * only then do the new tasks start and resume from them, as Connect restarts MM2's tasks on
 * reconfiguration.
 *
 * In a group (docs/scale-out-plan.md §5.3) partitions also leave: each is released by the task
 * that holds it, which keeps copying its other partitions, and partitions that come from
 * another instance join the running tasks after the stored positions were read again.
 */
import type { FlowConfig } from '../config/model.ts'
import type { KafkaAdmin } from '../kafka/admin.ts'
import type { PartitionReader } from '../kafka/partition-reader.ts'
import type { KafkaProducer } from '../kafka/producer.ts'
import type { TransactionalSession } from '../kafka/transactional-session.ts'
import { type TopicPartition, tpKey } from '../kafka/types.ts'
import type { Logger } from '../observe/logger.ts'
import { mergeIo } from '../observe/metrics-copy.ts'
import { type AckedListener, type CopierStats, RecordCopier, type TransactionStats } from './copier.ts'
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
   * These partitions from now on (the earlier ones, less those released, and new ones); `handOver`:
   * positions just stored by the tasks or instances the new ones come from; `reread`: read the
   * stored positions again before starting the new ones (another instance may have copied them).
   */
  assign: (partitions: readonly DealtPartition[], handOver: readonly Position[], reread?: boolean) => Promise<void>
  /**
   * Gives up these partitions while the others keep copying: their in-flight sends finish, their
   * positions are stored; the positions stored for them.
   */
  release: (partitions: readonly DealtPartition[]) => Promise<readonly Position[]>
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
  /**
   * Runs when no task of the flow runs here, before new ones are made (the exactly-once mode
   * fences the flow's transactional ids there, task-transactions.ts).
   */
  readonly beforeNewTasks?: () => Promise<void>
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
  /** The exactly-once mode: task `index`'s transactional session. */
  readonly newSession?: (index: number) => {
    readonly session: TransactionalSession
    readonly close: () => Promise<void>
  }
}

/** A task on the main thread: its own reader and offset-sync writer, the flow's producer and position store. */
export function inThreadTask(flow: FlowConfig, deps: InThreadTaskDeps, index: number, log: Logger): CopierTask {
  const reader = deps.newReader(index)
  const transactions = deps.newSession?.(index)
  const copier = new RecordCopier(flow, {
    reader,
    producer: deps.producer,
    sourceAdmin: deps.sourceAdmin,
    positions: deps.positions,
    offsetSyncs: deps.newOffsetSyncs?.(),
    log,
    onAcked: deps.onAcked,
    ...(transactions === undefined ? {} : { transactions: transactions.session })
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
    // `reread` is CopierTasks' to do here: the tasks share the flow's store, read again by its `reload`.
    async assign(partitions, handOver) {
      mine = partitions
      deps.positions.adopt(handOver)
      const keys = new Set(partitions.map(p => tpKey(p.topic, p.partition)))
      const topics = new Map(partitions.map(p => [p.topic, p.replicated]))
      await copier.assign(topics, (topic, partition) => keys.has(tpKey(topic, partition)))
    },
    async release(partitions) {
      const gone = new Set(partitions.map(p => tpKey(p.topic, p.partition)))
      mine = mine.filter(p => !gone.has(tpKey(p.topic, p.partition)))
      return await copier.release(gone)
    },
    start(signal) {
      running ??= copier.run(AbortSignal.any([signal, abort.signal]))
    },
    async stop() {
      abort.abort()
      if (running !== undefined) await running
      else await copier.flush()
      await reader.close()
      await transactions?.close()
      // The positions are in the flow's shared store; report them as a worker thread does.
      return mine.flatMap(p => {
        const offset = deps.positions.lastStored(p.topic, p.partition)
        return offset === undefined ? [] : [[p.topic, p.partition, offset] as const]
      })
    },
    async close() {
      await reader.close()
      await transactions?.close()
    }
  }
}

/**
 * The flow's transactions over its running tasks, plus the counts of the tasks they replaced
 * (`retired`): counts summed, fenced when any task is; undefined when no task runs in the mode.
 */
function mergeTransactions(
  tasks: readonly TransactionStats[],
  retired: { readonly committed: number; readonly aborted: number }
): TransactionStats | undefined {
  const first = tasks[0]
  if (first === undefined) return undefined
  if (tasks.length === 1 && retired.committed === 0 && retired.aborted === 0) return first
  return {
    transactionalId:
      tasks.length === 1 ? first.transactionalId : `${first.transactionalId} and ${tasks.length - 1} more`,
    producerId: tasks.length === 1 ? first.producerId : undefined,
    epoch: tasks.length === 1 ? first.epoch : undefined,
    committed: retired.committed + tasks.reduce((n, t) => n + t.committed, 0),
    aborted: retired.aborted + tasks.reduce((n, t) => n + t.aborted, 0),
    fenced: tasks.some(t => t.fenced),
    lastRecords: Math.max(...tasks.map(t => t.lastRecords)),
    lastCommitMs: Math.max(...tasks.map(t => t.lastCommitMs))
  }
}

function sameSet(a: ReadonlySet<string> | undefined, b: ReadonlySet<string> | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  return a.size === b.size && [...a].every(k => b.has(k))
}

function keyOf(p: TopicPartition): string {
  return tpKey(p.topic, p.partition)
}

export class CopierTasks {
  readonly #flow: FlowConfig
  readonly #deps: CopierTasksDeps
  /** Every partition held, in the order first seen: the deal when the task count changes. */
  #order: DealtPartition[] = []
  #tasks: CopierTask[] = []
  /** The partitions each task holds (same index as #tasks). */
  #dealt: DealtPartition[][] = []
  /** Tasks started before the first deal (warmUp), taken by it in index order. */
  #warm: CopierTask[] = []
  /**
   * Positions for partitions not dealt yet: stored by the tasks replaced, or by the instances that
   * released them (own's handOver); each goes with its partition to the task it is dealt to.
   */
  readonly #handOver = new Map<string, Position>()
  /**
   * Owned partitions another instance may have copied since the positions were read (own without
   * `fresh`): the positions are read again before one of them is dealt.
   */
  readonly #reread = new Set<string>()
  /** Reads the stored positions again (the last own()'s; none before). */
  #reload: () => Promise<void> = async () => {}
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
    dataLoss: [] as CopierStats['dataLoss'],
    transactions: { committed: 0, aborted: 0 }
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
      io: mergeIo(all.map(s => s.io)),
      transactions: mergeTransactions(
        all.flatMap(s => (s.transactions === undefined ? [] : [s.transactions])),
        this.#retired.transactions
      )
    }
  }

  /** Each task's own stats (the metrics label client ids and Connect tasks by task index). */
  get perTask(): Array<{ readonly task: number; readonly stats: CopierStats }> {
    return this.#tasks.map(t => ({ task: t.index, stats: t.stats }))
  }

  /** The partitions (tpKeys) each running task holds, by task position (for tests and logs). */
  get dealt(): string[][] {
    return this.#dealt.map(d => d.map(keyOf))
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
   * Adds the owned partitions of `topics` no task holds yet: deals them to the running tasks, or
   * deals everything again when the task count changes.
   */
  async assign(topics: ReadonlyMap<string, ReplicatedTopic>): Promise<void> {
    this.#topics = topics
    await this.#dealNew(false)
  }

  /** Tasks for `partitions` partitions: min(budget, partitions), none without partitions (dealPartitions). */
  #taskCount(partitions: number): number {
    return Math.min(Math.max(1, this.#taskBudget ?? this.#flow.tasksMax), partitions)
  }

  /** The owned partitions of the ready topics that no task holds. */
  #incoming(): DealtPartition[] {
    const owned = this.#owned
    const held = new Set(this.#order.map(keyOf))
    const incoming: DealtPartition[] = []
    for (const t of this.#topics.values()) {
      for (let partition = 0; partition < t.partitions; partition++) {
        const key = tpKey(t.source, partition)
        if (!held.has(key) && (owned === undefined || owned.has(key)))
          incoming.push({ topic: t.source, partition, replicated: t })
      }
    }
    return incoming
  }

  /**
   * Deals the incoming partitions: to the least loaded running tasks (ties to the lowest index,
   * which on a deal nothing left is the round-robin of dealPartitions), or, when the task count
   * changes, everything again to new tasks. `reloaded`: the positions were just read again.
   */
  async #dealNew(reloaded: boolean): Promise<void> {
    const added = this.#incoming()
    if (added.length === 0 && (this.#tasks.length > 0 || this.#order.length === 0)) return
    this.#order.push(...added)
    const count = this.#taskCount(this.#order.length)
    /** Task position -> partitions it is given now. */
    const given = new Map<number, DealtPartition[]>()
    let newTasks = false
    if (count !== this.#tasks.length) {
      await this.#replaceTasks(count)
      this.#dealt = dealPartitions(this.#order, count)
      this.#dealt.forEach((d, i) => given.set(i, d))
      newTasks = true
      this.#deps.log.info('copying with tasks', {
        tasks: count,
        tasksMax: this.#flow.tasksMax,
        partitions: this.#order.length,
        perTask: this.#dealt.map(d => d.length).join(',')
      })
    } else {
      for (const p of added) {
        let least = 0
        this.#dealt.forEach((d, i) => {
          if (d.length < (this.#dealt[least]?.length ?? 0)) least = i
        })
        this.#dealt[least]?.push(p)
        given.set(least, [...(given.get(least) ?? []), p])
      }
    }
    const reread = added.some(p => this.#reread.has(keyOf(p)))
    // Tasks on the main thread share the flow's store: read again here, before they start the partitions.
    if (reread && !reloaded) await this.#reload()
    await Promise.all(
      [...given].map(async ([i, ps]) => {
        const task = this.#tasks[i] as CopierTask
        const handOver = ps.flatMap(p => {
          const h = this.#handOver.get(keyOf(p))
          return h === undefined ? [] : [h]
        })
        // A new worker thread read the positions when it started; a running one reads them again.
        const again = !newTasks && !reloaded && ps.some(p => this.#reread.has(keyOf(p)))
        await task.assign(this.#dealt[i] ?? [], handOver, again)
      })
    )
    for (const p of added) {
      this.#handOver.delete(keyOf(p))
      this.#reread.delete(keyOf(p))
    }
    for (const task of this.#tasks) this.#start(task)
  }

  #addHandOver(positions: readonly Position[]): void {
    for (const position of positions) {
      const [topic, partition, offset] = position
      const key = tpKey(topic, partition)
      if (this.#owned !== undefined && !this.#owned.has(key)) continue
      const known = this.#handOver.get(key)
      if (known === undefined || offset > known[2]) this.#handOver.set(key, position)
    }
  }

  /**
   * The partitions this instance owns from now on (tpKeys; undefined: every partition, as
   * when the instance runs alone without a group) and how many tasks it runs them in.
   *
   * Partitions that left are released by the tasks that hold them (only those tasks pause, and
   * only for those partitions: their in-flight sends finish and their positions are stored
   * before this resolves). Partitions that arrive join the running tasks, least loaded first,
   * after the stored positions were read again (`reload`: their previous owner stored some; not
   * with `fresh`, partitions nobody copied), each resuming from the newest of what was read and
   * `handOver` (positions their previous owners stored when they released them).
   *
   * When the task budget changes, or the task count would (min(budget, partitions)), every task
   * stops instead (each stores its positions) and the owned partitions are dealt to new tasks,
   * which resume from the newest of what was read again, what the old tasks stored and `handOver`.
   *
   * Returns the positions stored by what was released or stopped.
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
    const budgetChanged = taskBudget !== this.#taskBudget
    this.#owned = owned
    this.#taskBudget = taskBudget
    this.#reload = reload
    for (const key of [...this.#handOver.keys(), ...this.#reread])
      if (owned !== undefined && !owned.has(key)) {
        this.#handOver.delete(key)
        this.#reread.delete(key)
      }
    const held = new Set(this.#order.map(keyOf))
    // A partition held here is copied from what this instance stored: what others stored is older.
    this.#addHandOver(handOver.filter(([topic, partition]) => !held.has(tpKey(topic, partition))))
    if (opts.fresh !== true && owned !== undefined) for (const key of owned) if (!held.has(key)) this.#reread.add(key)
    const keep = this.#order.filter(p => owned === undefined || owned.has(keyOf(p)))
    const count = this.#taskCount(keep.length + this.#incoming().length)
    if (budgetChanged || before === undefined || owned === undefined || count !== this.#tasks.length)
      return await this.#redeal(reload)
    const released = await this.#release(keep)
    await this.#dealNew(false)
    await this.#rebalance()
    return released
  }

  /**
   * After partitions left, tasks may differ by more than one partition (one may hold none):
   * partitions move from the most to the least loaded task, each released by one (its position
   * stored) and then assigned to the other with that position, so only the moved ones pause.
   */
  async #rebalance(): Promise<void> {
    const moves = new Map<string, { from: number; to: number; p: DealtPartition }>()
    const load = this.#dealt.map(d => d.length)
    for (;;) {
      const most = load.indexOf(Math.max(...load))
      const least = load.indexOf(Math.min(...load))
      if ((load[most] ?? 0) - (load[least] ?? 0) <= 1) break
      const d = this.#dealt[most] as DealtPartition[]
      const p = d.pop() as DealtPartition
      this.#dealt[least]?.push(p)
      load[most] = (load[most] ?? 0) - 1
      load[least] = (load[least] ?? 0) + 1
      moves.set(keyOf(p), { from: most, to: least, p })
    }
    if (moves.size === 0) return
    const from = Map.groupBy(moves.values(), m => m.from)
    const stored = await Promise.all(
      [...from].map(async ([i, ms]) => await (this.#tasks[i] as CopierTask).release(ms.map(m => m.p)))
    )
    const positions = new Map(stored.flat().map(p => [tpKey(p[0], p[1]), p]))
    const to = Map.groupBy(moves.values(), m => m.to)
    await Promise.all(
      [...to].map(async ([i, ms]) => {
        const handOver = ms.flatMap(m => {
          const h = positions.get(keyOf(m.p))
          return h === undefined ? [] : [h]
        })
        await (this.#tasks[i] as CopierTask).assign(this.#dealt[i] ?? [], handOver)
      })
    )
    this.#deps.log.info('moved partitions between tasks', {
      partitions: moves.size,
      perTask: this.#dealt.map(d => d.length).join(',')
    })
  }

  /** Releases the held partitions not in `keep` from the tasks holding them; the positions stored for them. */
  async #release(keep: readonly DealtPartition[]): Promise<Position[]> {
    const kept = new Set(keep.map(keyOf))
    const leaving = new Map<number, DealtPartition[]>()
    this.#dealt = this.#dealt.map((d, i) => {
      const gone = d.filter(p => !kept.has(keyOf(p)))
      if (gone.length > 0) leaving.set(i, gone)
      return d.filter(p => kept.has(keyOf(p)))
    })
    this.#order = [...keep]
    if (leaving.size === 0) return []
    const stored = await Promise.all(
      [...leaving].map(async ([i, ps]) => await (this.#tasks[i] as CopierTask).release(ps))
    )
    this.#deps.log.info('released partitions', {
      partitions: [...leaving.values()].reduce((n, ps) => n + ps.length, 0),
      tasks: leaving.size,
      perTask: this.#dealt.map(d => d.length).join(',')
    })
    return stored.flat()
  }

  /** Stops every task (each stores its positions), reads the positions again and deals the owned partitions anew. */
  async #redeal(reload: () => Promise<void>): Promise<Position[]> {
    const old = this.#tasks
    this.#tasks = []
    this.#dealt = []
    const stored = await this.#stopAll(old)
    this.#retire(old)
    this.#order = []
    this.#addHandOver(stored)
    await reload()
    // Read after every previous owner stored (they released before the group dealt them here), and
    // every task is new: a worker thread reads the positions when it starts. Nothing to read again later.
    this.#reread.clear()
    await this.#dealNew(true)
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
      this.#retired.transactions.committed += s.transactions?.committed ?? 0
      this.#retired.transactions.aborted += s.transactions?.aborted ?? 0
    }
  }

  /** Stops every task (each stores its positions) and creates `count` fresh ones. */
  async #replaceTasks(count: number): Promise<void> {
    const old = this.#tasks
    this.#tasks = []
    this.#addHandOver(await this.#stopAll(old))
    this.#retire(old)
    if (count > 0) await this.#deps.beforeNewTasks?.()
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
