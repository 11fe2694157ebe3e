/**
 * The main thread's handle on one copier task that runs in a worker thread (copier-worker.ts):
 * it starts the worker, sends it the partitions CopierTasks dealt it, keeps its latest stats for
 * status, hands the flow its heartbeat acknowledgements and writes its log lines with the
 * flow's logger.
 *
 * Release: `release` is sent and `released` awaited (those partitions' in-flight sends finished,
 * their positions stored, the others still copying); the partitions leave the assignment a
 * restarted worker gets.
 *
 * Stop: `stop` is sent and `stopped` awaited (the copier stopped, in-flight sends finished,
 * positions stored), then the worker is terminated; a worker that does not answer within the
 * stop limit (30 s) is terminated anyway and that is logged. A worker that dies on its own (an
 * uncaught error, a fatal `error`, an exit) is reported as the task's lastError and started
 * again after a backoff with the same partitions; it resumes from the stored positions.
 */
import { Worker } from 'node:worker_threads'
import type { ConfigSource } from '../config/model.ts'
import type { LeaseView } from '../group/lease.ts'
import type { HeartbeatRecordLike } from '../policy/heartbeat-latency.ts'
import type { Logger } from '../observe/logger.ts'
import { newTaskIo } from '../observe/metrics-copy.ts'
import { backoffMs } from '../util/abortable.ts'
import type { CopierStats } from './copier.ts'
import type { DealtPartition } from './copier-tasks.ts'
import type { CopierWorkerData, FromWorker, Position, ToWorker } from './copier-protocol.ts'
import type { ReplicatedTopic } from './topic-sync.ts'
import { tpKey } from '../kafka/types.ts'

const STOP_LIMIT_MS = 30_000
/** A worker that ran this long before dying starts again after the shortest backoff. */
const HEALTHY_AFTER_MS = 60_000

export interface CopierThreadOptions {
  readonly config: ConfigSource
  readonly flow: string
  readonly task: number
  readonly log: Logger
  /** Acknowledged heartbeat records (topic = their name on the target). */
  readonly onHeartbeats?: (topic: string, records: readonly HeartbeatRecordLike[], ackedAt: number) => void
  /**
   * Old-space limit of the worker's heap (Node applies the process's --max-old-space-size instead when one is given).
   */
  readonly heapLimitMb?: number | undefined
  readonly stopLimitMs?: number
  readonly restartBackoffMs?: (attempt: number) => number
  /** The write lease the worker's producers are gated with (its shared buffer goes in workerData). */
  readonly gate?: LeaseView | undefined
  /** This instance's label for the owner header of stored positions. */
  readonly owner?: string | undefined
}

/** The old-space limit the main thread was given (launcher or NODE_OPTIONS), which every thread gets. */
export function processHeapLimitMb(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions = process.env.NODE_OPTIONS ?? ''
): number | undefined {
  let mb: number | undefined
  for (const a of [...nodeOptions.split(/\s+/), ...execArgv]) {
    const m = /^--max[-_]old[-_]space[-_]size=(\d+)$/.exec(a)
    if (m !== null) mb = Number(m[1])
  }
  return mb
}

interface Incarnation {
  readonly worker: Worker
  readonly startedAt: number
  threadId: number | undefined
  exitCode: number | undefined
  stats: CopierStats | undefined
  error: string | undefined
  /** Answers awaited by id: `assigned` (no positions) and `released` (the positions stored). */
  readonly pending: Map<number, { resolve: (positions: readonly Position[]) => void; reject: (err: Error) => void }>
  onStopped: ((positions: readonly Position[] | undefined) => void) | undefined
  readonly exited: Promise<void>
}

interface Assignment {
  readonly topics: readonly ReplicatedTopic[]
  readonly partitions: ReadonlyArray<readonly [string, number]>
}

export class CopierThread {
  readonly index: number
  readonly #opts: CopierThreadOptions
  #current: Incarnation | undefined
  #assignment: Assignment | undefined
  #assigned = 0
  #running = false
  #stopped = false
  #stopping: Promise<readonly Position[]> | undefined
  #restartTimer: NodeJS.Timeout | undefined
  #restarts = 0
  #nextId = 1
  /** Set while the thread is down after a failure; cleared when a new one is ready. */
  #lastError: string | undefined
  /** Counters of earlier incarnations of this task, so its stats never go back. */
  readonly #retired = {
    recordsCopied: 0,
    bytesCopied: 0,
    rawBytesCopied: 0,
    batches: 0,
    lastCopyAt: 0,
    dataLoss: [] as CopierStats['dataLoss']
  }

  constructor(opts: CopierThreadOptions) {
    this.index = opts.task
    this.#opts = opts
    this.#spawn()
  }

  /** The running worker's thread id; undefined while none runs (stopped, or waiting to restart). */
  get threadId(): number | undefined {
    const inc = this.#current
    return inc === undefined || inc.exitCode !== undefined ? undefined : inc.threadId
  }

  get assignedCount(): number {
    return this.#assigned
  }

  get stats(): CopierStats {
    const r = this.#retired
    const s = this.#current?.stats
    return {
      recordsCopied: r.recordsCopied + (s?.recordsCopied ?? 0),
      bytesCopied: r.bytesCopied + (s?.bytesCopied ?? 0),
      rawBytesCopied: r.rawBytesCopied + (s?.rawBytesCopied ?? 0),
      batches: r.batches + (s?.batches ?? 0),
      lastCopyAt: Math.max(r.lastCopyAt, s?.lastCopyAt ?? 0),
      dataLoss: [...r.dataLoss, ...(s?.dataLoss ?? [])],
      failures: s?.failures ?? new Map(),
      lag: s?.lag ?? new Map(),
      transactions: s?.transactions,
      lastError: this.#lastError ?? s?.lastError,
      // Per-partition counters start again with a new worker, as MM2's do with a restarted task.
      partitions: s?.partitions ?? new Map(),
      io: s?.io ?? newTaskIo()
    }
  }

  /**
   * Gives the task these partitions (of `topics`); resolves when the worker started them at
   * their stored positions, or at once while the worker is down (its restart gets them).
   * `handOver`: positions just stored by the tasks (or instances) the partitions come from;
   * `reread`: the worker reads the offsets topic again first (partitions another instance copied).
   */
  async assign(dealt: readonly DealtPartition[], handOver: readonly Position[] = [], reread = false): Promise<void> {
    const topics = [
      ...new Map(
        dealt.map(p => [
          p.topic,
          { source: p.replicated.source, remote: p.replicated.remote, partitions: p.replicated.partitions }
        ])
      ).values()
    ]
    this.#assignment = { topics, partitions: dealt.map(p => [p.topic, p.partition] as const) }
    const inc = this.#current
    if (inc === undefined || this.#stopped) return
    await this.#sendAssign(inc, handOver, reread)
  }

  async #sendAssign(inc: Incarnation, handOver: readonly Position[], reread = false): Promise<void> {
    const a = this.#assignment
    if (a === undefined) return
    const id = this.#nextId++
    const done = new Promise<readonly Position[]>((resolve, reject) => {
      inc.pending.set(id, { resolve, reject })
    })
    this.#post(inc, { type: 'assign', id, topics: a.topics, partitions: a.partitions, positions: handOver, reread })
    await done
  }

  /**
   * Gives up these partitions while the others keep copying; resolves with the positions the
   * worker stored for them once their in-flight sends finished. A restarted worker never gets
   * them again. While the worker is down there is nothing to wait for: what it stored is stored.
   */
  async release(partitions: readonly DealtPartition[]): Promise<readonly Position[]> {
    const gone = new Set(partitions.map(p => tpKey(p.topic, p.partition)))
    const a = this.#assignment
    if (a !== undefined) {
      const keep = a.partitions.filter(([topic, partition]) => !gone.has(tpKey(topic, partition)))
      const topics = new Set(keep.map(([topic]) => topic))
      this.#assignment = { topics: a.topics.filter(t => topics.has(t.source)), partitions: keep }
    }
    const inc = this.#current
    if (inc === undefined || this.#stopped || inc.exitCode !== undefined) return []
    const id = this.#nextId++
    const done = new Promise<readonly Position[]>((resolve, reject) => {
      inc.pending.set(id, { resolve, reject })
    })
    this.#post(inc, {
      type: 'release',
      id,
      partitions: partitions.map(p => [p.topic, p.partition] as const)
    })
    try {
      return await done
    } catch (err) {
      // The worker died meanwhile: its positions are what it stored before; the next one starts without the partitions.
      this.#opts.log.warn('copier task thread ended while releasing partitions', {
        task: this.index,
        error: err as Error
      })
      return []
    }
  }

  /** Starts copying (now, and in every restarted worker); the task stops on stop(), not on the signal. */
  start(_signal?: AbortSignal): void {
    if (this.#running) return
    this.#running = true
    if (this.#current !== undefined) this.#post(this.#current, { type: 'run' })
  }

  /**
   * Stops the worker after it stored its positions (or after the stop limit), terminates it; the positions it stored
   * last. Idempotent.
   */
  async stop(): Promise<readonly Position[]> {
    this.#stopping ??= this.#stop()
    return await this.#stopping
  }

  async #stop(): Promise<readonly Position[]> {
    this.#stopped = true
    clearTimeout(this.#restartTimer)
    const inc = this.#current
    if (inc === undefined) return []
    const stopped = new Promise<readonly Position[] | undefined>(resolve => {
      inc.onStopped = resolve
    })
    this.#post(inc, { type: 'stop' })
    let timer: NodeJS.Timeout | undefined
    const limitMs = this.#opts.stopLimitMs ?? STOP_LIMIT_MS
    const outcome = await Promise.race([
      stopped,
      new Promise<'timeout'>(resolve => {
        timer = setTimeout(() => {
          resolve('timeout')
        }, limitMs)
      })
    ])
    clearTimeout(timer)
    if (outcome === 'timeout')
      this.#opts.log.error(
        'copier task thread did not stop in time; terminating it (positions acknowledged since its last store will be copied again)',
        { task: this.index, limitMs }
      )
    await inc.worker.terminate()
    await inc.exited
    return outcome === 'timeout' || outcome === undefined ? [] : outcome
  }

  /** Stops and terminates the worker if it still runs (the flow could not start, or closes). */
  async close(): Promise<void> {
    await this.stop()
  }

  #post(inc: Incarnation, message: ToWorker): void {
    inc.worker.postMessage(message)
  }

  #spawn(): void {
    const opts = this.#opts
    const workerData: CopierWorkerData = {
      config: opts.config,
      flow: opts.flow,
      task: opts.task,
      gate: opts.gate === undefined ? undefined : { buffer: opts.gate.buffer, groupId: opts.gate.groupId },
      owner: opts.owner
    }
    const resourceLimits = opts.heapLimitMb === undefined ? undefined : { maxOldGenerationSizeMb: opts.heapLimitMb }
    const worker = new Worker(new URL('./copier-worker.ts', import.meta.url), {
      workerData,
      resourceLimits,
      name: `copier ${opts.flow} task ${opts.task}`
    })
    let exited: () => void = () => {}
    const inc: Incarnation = {
      worker,
      startedAt: Date.now(),
      threadId: worker.threadId,
      exitCode: undefined,
      stats: undefined,
      error: undefined,
      pending: new Map(),
      onStopped: undefined,
      exited: new Promise(resolve => {
        exited = resolve
      })
    }
    this.#current = inc
    worker.on('message', (m: FromWorker) => {
      this.#onMessage(inc, m)
    })
    worker.on('error', err => {
      inc.error ??= err.message
    })
    worker.on('exit', code => {
      inc.exitCode = code
      exited()
      this.#onExit(inc, code)
    })
    if (this.#assignment !== undefined) void this.#reassign(inc)
    if (this.#running) this.#post(inc, { type: 'run' })
  }

  /**
   * A restarted worker gets its partitions again, retried with backoff (the source may still be unreachable) while it
   * is the current one.
   */
  async #reassign(inc: Incarnation): Promise<void> {
    for (let attempt = 1; this.#current === inc && !this.#stopped && inc.exitCode === undefined; attempt++) {
      try {
        await this.#sendAssign(inc, [])
        return
      } catch (err) {
        if (this.#current !== inc || inc.exitCode !== undefined) return
        const retryInMs = (this.#opts.restartBackoffMs ?? backoffMs)(attempt)
        this.#opts.log.warn('assigning partitions to a restarted copier task failed; retrying', {
          task: this.index,
          attempt,
          retryInMs,
          error: err as Error
        })
        await new Promise(resolve => {
          setTimeout(resolve, retryInMs).unref()
        })
      }
    }
  }

  #onMessage(inc: Incarnation, m: FromWorker): void {
    const log = this.#opts.log
    switch (m.type) {
      case 'ready':
        inc.threadId = m.threadId
        if (this.#lastError !== undefined) log.info('copier task thread running again', { task: this.index })
        this.#lastError = undefined
        break
      case 'assigned': {
        this.#assigned = m.assigned
        const p = inc.pending.get(m.id)
        inc.pending.delete(m.id)
        if (m.error === undefined) p?.resolve([])
        else p?.reject(new Error(m.error))
        break
      }
      case 'released': {
        this.#assigned = m.assigned
        const p = inc.pending.get(m.id)
        inc.pending.delete(m.id)
        if (m.error === undefined) p?.resolve(m.positions)
        else p?.reject(new Error(m.error))
        break
      }
      case 'stats':
        inc.stats = m.stats
        this.#assigned = m.assigned
        break
      case 'heartbeats':
        this.#opts.onHeartbeats?.(m.topic, m.records, m.ackedAt)
        break
      case 'log': {
        const scoped = m.scope === undefined ? log : log.child(m.scope)
        scoped[m.level](m.message, m.fields)
        break
      }
      case 'stopped':
        inc.stats = m.stats
        inc.onStopped?.(m.positions)
        break
      case 'error':
        inc.error = m.message
        if (!m.fatal) log.warn('copier task thread reported an error', { task: this.index, error: m.message })
        break
    }
  }

  #onExit(inc: Incarnation, code: number): void {
    const reason = inc.error ?? `its thread exited with code ${code}`
    for (const p of inc.pending.values()) p.reject(new Error(`copier task ${this.index}: ${reason}`))
    inc.pending.clear()
    inc.onStopped?.(undefined)
    if (this.#current !== inc) return
    if (this.#stopped) return
    // Keep what it copied; its failures and lag are re-learnt by the next worker.
    const s = inc.stats
    if (s !== undefined) {
      const r = this.#retired
      r.recordsCopied += s.recordsCopied
      r.bytesCopied += s.bytesCopied
      r.rawBytesCopied += s.rawBytesCopied
      r.batches += s.batches
      r.lastCopyAt = Math.max(r.lastCopyAt, s.lastCopyAt)
      r.dataLoss.push(...s.dataLoss)
    }
    this.#current = undefined
    if (Date.now() - inc.startedAt > HEALTHY_AFTER_MS) this.#restarts = 0
    this.#restarts++
    const retryInMs = (this.#opts.restartBackoffMs ?? backoffMs)(this.#restarts)
    this.#lastError = `copier task ${this.index} failed: ${reason}`
    this.#opts.log.error('copier task thread stopped unexpectedly; starting it again', {
      task: this.index,
      reason,
      attempt: this.#restarts,
      retryInMs
    })
    this.#restartTimer = setTimeout(() => {
      if (!this.#stopped) this.#spawn()
    }, retryInMs)
  }
}
