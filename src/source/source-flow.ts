/**
 * Runs the replication side of one source->target flow: prepares the state topics, keeps the
 * remote topics in sync, and copies records, until closed.
 *
 * Lifecycle: `start()` returns at once; the flow connects in the background and retries with
 * backoff while a cluster is unreachable (status `not-ready` with the reason), then recovers
 * without a restart. `close()` stops fetching, lets the in-flight send finish, stores positions
 * and closes the clients; it is idempotent.
 */
import { availableParallelism } from 'node:os'
import { connectorClientIds } from '../config/client-ids.ts'
import type { ConfigSource, FlowConfig } from '../config/model.ts'
import type { LeaseView } from '../group/lease.ts'
import { offsetSyncsRoles } from '../config/what-runs.ts'
import { type HeartbeatRecordLike, HeartbeatLatencyTracker, type HeartbeatSample } from '../policy/heartbeat-latency.ts'
import { KafkaAdmin } from '../kafka/admin.ts'
import { copierReaderOptions } from '../kafka/fetch-settings.ts'
import { PartitionReader } from '../kafka/partition-reader.ts'
import { KafkaProducer } from '../kafka/producer.ts'
import type { Logger } from '../observe/logger.ts'
import { Lifecycle, type LifecycleState, PassTrigger } from '../util/lifecycle.ts'
import { AclSync } from './acl-sync.ts'
import { type AckedListener, type CopierStats } from './copier.ts'
import { type CopierTask, CopierTasks, inThreadTask } from './copier-tasks.ts'
import { CopierThread, processHeapLimitMb } from './copier-thread.ts'
import { OffsetSyncWriter } from './offset-sync-writer.ts'
import { offsetSyncsLocation, onSyncsSide } from '../config/offset-syncs-topic.ts'
import { ownerLabel, PositionStore } from './position-store.ts'
import { fenceTaskIds, taskSession } from './task-transactions.ts'
import { TopicSelection } from './topic-selection.ts'
import { TopicSync, type ReplicatedTopic } from './topic-sync.ts'
import type { Position } from './copier-protocol.ts'

function sameTopics(a: ReadonlyMap<string, ReplicatedTopic>, b: ReadonlyMap<string, ReplicatedTopic>): boolean {
  return (
    a.size === b.size &&
    [...a].every(([k, t]) => b.get(k)?.partitions === t.partitions && b.get(k)?.remote === t.remote)
  )
}

export type FlowState = LifecycleState

export interface SourceFlowStatus {
  readonly flow: string
  readonly state: FlowState
  readonly reason: string | undefined
  readonly topics: number
  readonly partitions: number
  readonly copier: CopierStats | undefined
  /** Copier tasks running (min(tasks.max, partitions)). */
  readonly tasks: number
  /** Worker threads running those tasks: one per task, or 0 when they run on the main thread. */
  readonly threads: number
  /** The worker threads' ids (for logs and debugging). */
  readonly threadIds: readonly number[]
  /** Replication latency shown by the heartbeats this flow copied, newest per topic and emitter. */
  readonly heartbeats: readonly HeartbeatSample[]
  /** Each copier task's own stats, by task index (for per-task metrics). */
  readonly perTask: ReadonlyArray<{ readonly task: number; readonly stats: CopierStats }>
}

export interface SourceFlowOptions {
  /**
   * Where the config was loaded from: with it, each copier task runs in a worker thread that
   * loads the same config; without it (a config built in code), or with
   * KAFKA_MIRROR_WORKER_THREADS=0, the tasks run on the main thread.
   */
  readonly configSource?: ConfigSource | undefined
  /**
   * Set when instances share the flow's work through a group (src/group-work.ts): the flow then
   * copies only the partitions given with `own()`, creates and syncs remote topics only while
   * `setTopicsJob(true)`, and reports every change of the ready topics here.
   */
  readonly shared?: { readonly onTopicsChanged: (ready: ReadonlyMap<string, ReplicatedTopic>) => void } | undefined
  /** The group's write lease: the flow's producers (and its worker threads') write only while it is valid. */
  readonly gate?: LeaseView | undefined
  /** This instance's label: stored positions carry `<owner> <generation>` (from the gate) in a header. */
  readonly owner?: string | undefined
}

/** The config to load in copier worker threads, or undefined for tasks on the main thread. */
export function workerThreadsSource(
  configSource: ConfigSource | undefined,
  env: NodeJS.ProcessEnv = process.env
): ConfigSource | undefined {
  return env.KAFKA_MIRROR_WORKER_THREADS === '0' ? undefined : configSource
}

export class SourceFlow {
  readonly flow: FlowConfig
  readonly selection: TopicSelection
  /** Latency of the heartbeats this flow copies: the one place metrics read replication latency from. */
  readonly heartbeatLatency: HeartbeatLatencyTracker
  readonly #log: Logger
  readonly #life: Lifecycle
  #topics: ReadonlyMap<string, ReplicatedTopic> = new Map()
  #copier: CopierTasks | undefined
  readonly #threads: ConfigSource | undefined
  readonly #shared: SourceFlowOptions['shared']
  /** In a group: whether this instance runs the flow's topics job (create, grow, configs, ACLs). */
  #topicsJob = false
  /** In a group: the partitions (tpKeys) and tasks this instance owns, until the copier exists to take them. */
  #owned: { partitions: ReadonlySet<string>; tasks: number | undefined; handOver: Position[] } = {
    partitions: new Set(),
    tasks: undefined,
    handOver: []
  }
  /** Copier changes (discovery's assign, the group's own) one at a time. */
  #serial: Promise<unknown> = Promise.resolve()
  #topicSync: TopicSync | undefined
  #aclSync: AclSync | undefined
  #positions: PositionStore | undefined
  readonly #opts: SourceFlowOptions

  constructor(flow: FlowConfig, log: Logger, opts: SourceFlowOptions = {}) {
    this.flow = flow
    this.#opts = opts
    // One task uses one core, and the main thread's other work is light: a flow with tasks.max 1
    // copies on the main thread, which saves a thread's memory (~50 MB) and its start-up (~1 s
    // more from restart to first copy) and keeps one OAuth token per process. From two tasks on,
    // each task gets a worker thread.
    this.#threads = flow.tasksMax > 1 ? workerThreadsSource(opts.configSource) : undefined
    this.#shared = opts.shared
    this.selection = new TopicSelection(flow)
    this.heartbeatLatency = new HeartbeatLatencyTracker(this.selection.policy)
    this.#log = log.child(flow.name)
    this.#life = new Lifecycle({ log: this.#log, what: 'flow', logRetryIn: true })
  }

  status(): SourceFlowStatus {
    const stats = this.#copier?.stats
    const copyError = stats?.lastError
    const life = this.#life
    const state = life.state === 'running' && copyError !== undefined ? 'not-ready' : life.state
    return {
      flow: this.flow.name,
      state,
      reason: life.reason ?? copyError,
      topics: this.#topics.size,
      partitions: this.#copier?.assignedCount ?? 0,
      copier: stats,
      tasks: this.#copier?.count ?? 0,
      threads: this.#copier?.threadIds.length ?? 0,
      threadIds: this.#copier?.threadIds ?? [],
      heartbeats: this.heartbeatLatency.samples(),
      perTask: this.#copier?.perTask ?? []
    }
  }

  start(): void {
    this.#life.start(async () => {
      await this.#run()
    })
  }

  async #run(): Promise<void> {
    const life = this.#life
    const signal = life.signal
    const flow = this.flow
    // Connect and prepare; retry while a cluster is unreachable.
    const built = await life.retry(async () => await this.#build())
    if (built === undefined) return
    const { copier, topicSync, aclSync } = built
    this.#copier = copier
    // The first passes were part of #build; these follow one interval later.
    const loop = { logPasses: true }
    const discovery = life.every(
      'topic discovery',
      flow.refreshTopics.enabled ? flow.refreshTopics.intervalMs : -1,
      async () => {
        await this.#discover(topicSync, copier)
      },
      { ...loop, trigger: this.#discoverNow }
    )
    const configSync = life.every(
      'topic config sync',
      flow.syncTopicConfigs.enabled ? flow.syncTopicConfigs.intervalMs : -1,
      async () => {
        if (this.#runsTopicsJob) await topicSync.syncConfigsOnce(this.#topics)
      },
      loop
    )
    // First pass at start, as MM2; failures are logged and never stop the flow.
    const acls = life.every(
      'topic ACL sync',
      flow.syncTopicAcls.enabled ? flow.syncTopicAcls.intervalMs : -1,
      async () => {
        if (this.#runsTopicsJob) await aclSync.syncOnce()
      },
      { firstPassAtOnce: true, sideTask: true }
    )
    life.running()
    this.#log.info('replicating', { from: flow.source, to: flow.target, topics: this.#topics.size })
    await copier.run(signal)
    await Promise.all([discovery, configSync, acls])
  }

  readonly #firstDiscovery = Promise.withResolvers<void>()
  /** Starts the next discovery pass at once (partitions owned before their topic was seen ready). */
  readonly #discoverNow = new PassTrigger()

  /** Settles once the flow has looked at the topics for the first time (it may never, while a cluster is down). */
  get firstDiscovery(): Promise<void> {
    return this.#firstDiscovery.promise
  }

  get #runsTopicsJob(): boolean {
    return this.#shared === undefined || this.#topicsJob
  }

  /** The topics whose remote topic is ready (this instance's last look). */
  get readyTopics(): ReadonlyMap<string, ReplicatedTopic> {
    return this.#topics
  }

  /** One discovery pass: creates remote topics when this instance runs the topics job, then copies what is ready. */
  async #discover(topicSync: TopicSync, copier: CopierTasks): Promise<void> {
    const result = await topicSync.syncOnce({ create: this.#runsTopicsJob })
    const changed = !sameTopics(this.#topics, result.ready)
    this.#topics = result.ready
    await this.#inOrder(async () => {
      await copier.assign(result.ready)
    })
    if (changed) this.#shared?.onTopicsChanged(result.ready)
  }

  async #inOrder<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#serial.then(fn, fn)
    this.#serial = next.catch(() => {})
    return await next
  }

  /**
   * In a group: from now on this instance runs (or stops running) the flow's topics job. Taking
   * it runs a pass of discovery, config and ACL sync at once (their intervals are long).
   */
  setTopicsJob(on: boolean): void {
    if (this.#topicsJob === on) return
    this.#topicsJob = on
    const topicSync = this.#topicSync
    const copier = this.#copier
    const aclSync = this.#aclSync
    if (!on || topicSync === undefined || copier === undefined) return
    void (async () => {
      try {
        await this.#discover(topicSync, copier)
        if (this.flow.syncTopicConfigs.enabled) await topicSync.syncConfigsOnce(this.#topics)
        if (this.flow.syncTopicAcls.enabled) await aclSync?.syncOnce()
      } catch (err) {
        this.#log.warn('first pass of the topics job failed; it runs again at its interval', { error: err as Error })
      }
    })()
  }

  /**
   * In a group: copy exactly these partitions (tpKeys) from now on, in `tasks` tasks, resuming
   * from the stored positions or `handOver` (positions their previous owners stored on
   * release), whichever is newer. Returns the positions stored for the partitions it stopped.
   */
  async own(
    partitions: ReadonlySet<string>,
    tasks: number | undefined,
    handOver: Position[],
    opts: { readonly fresh?: boolean } = {}
  ): Promise<Position[]> {
    const copier = this.#copier
    if (copier === undefined) {
      // Not built yet: the build hands these to the copier it creates.
      this.#owned = { partitions, tasks, handOver: [...this.#owned.handOver, ...handOver] }
      return []
    }
    this.#owned = { partitions, tasks, handOver: [] }
    // Tasks on the main thread share the flow's position store, read again for partitions that
    // other instances may have copied; a worker thread reads the positions when it starts.
    const reload = async (): Promise<void> => {
      await this.#positions?.load(this.#life.signal)
    }
    const stored = await this.#inOrder(async () => await copier.own(partitions, tasks, handOver, reload, opts))
    // The leader deals the partitions of topics the topics job found ready on the target; this
    // instance may not have looked since (its discovery interval), so it looks now instead of
    // leaving them idle until then.
    if ([...partitions].some(k => !this.#topics.has(k.slice(0, k.lastIndexOf(':'))))) this.#discoverNow.now()
    return [...stored]
  }

  /** Clients, state topics, first topic sync; throws while a cluster cannot be reached. */
  async #build(): Promise<{ copier: CopierTasks; topicSync: TopicSync; aclSync: AclSync }> {
    const flow = this.flow
    const id = connectorClientIds(flow, 'source')
    const threads = this.#threads
    let copier: CopierTasks | undefined
    if (threads !== undefined) {
      // Each task in a worker thread with clients of its own; it loads the positions itself.
      // The threads start now: loading the sources and connecting takes a worker a second or
      // more, which then overlaps with connecting and the first topic sync here.
      const heapLimitMb = processHeapLimitMb()
      const onHeartbeats = (topic: string, records: readonly HeartbeatRecordLike[], ackedAt: number): void => {
        this.heartbeatLatency.observe(topic, records, ackedAt)
      }
      const log = (index: number): Logger => (flow.tasksMax > 1 ? this.#log.child(`task-${index}`) : this.#log)
      copier = this.#life.own(
        new CopierTasks(
          flow,
          {
            newTask: index =>
              new CopierThread({
                config: threads,
                flow: flow.name,
                task: index,
                log: log(index),
                onHeartbeats,
                heapLimitMb,
                gate: this.#opts.gate,
                owner: this.#opts.owner
              }),
            log: this.#log,
            ...this.#fencing()
          },
          this.#shared === undefined ? undefined : new Set()
        )
      )
      // Not in a group: a warm task reads the positions when it starts, and a partition dealt
      // to it later may have been copied by another instance since.
      if (this.#shared === undefined) copier.warmUp(Math.min(flow.tasksMax, availableParallelism()))
    }
    const sourceAdmin = this.#life.own(new KafkaAdmin(flow.clients.sourceAdmin, id('replication-source-admin')))
    const targetAdmin = this.#life.own(new KafkaAdmin(flow.clients.targetAdmin, id('replication-target-admin')))
    const { gate, owner } = this.#opts
    const targetProducer = this.#life.own(
      new KafkaProducer(flow.clients.targetProducer, id('replication-producer'), { gate })
    )
    await Promise.all([sourceAdmin.clusterId(), targetAdmin.clusterId()])
    let offsetSyncs: (() => OffsetSyncWriter) | undefined
    if (flow.offsetSyncs.enabled) {
      const syncs = offsetSyncsLocation(flow, this.selection.policy)
      // Worker threads have their own producers; here the writer only creates the topic.
      const syncProducer =
        syncs.side === 'source' && threads === undefined
          ? this.#life.own(
              new KafkaProducer(flow.clients[offsetSyncsRoles(flow).writer], id('offset-syncs-source-producer'), {
                gate
              })
            )
          : targetProducer
      offsetSyncs = () =>
        new OffsetSyncWriter(
          flow,
          this.selection.policy,
          onSyncsSide(syncs, { source: sourceAdmin, target: targetAdmin }),
          syncProducer,
          this.#log
        )
      await offsetSyncs().ensureTopic()
    }
    const topicSync = new TopicSync(flow, this.selection, sourceAdmin, targetAdmin, this.#log, this.#life.signal)
    if (copier === undefined) {
      const positions = new PositionStore(flow, targetAdmin, targetProducer, this.#log, {
        owner: owner === undefined ? undefined : () => ownerLabel(owner, gate?.generation)
      })
      await positions.load(this.#life.signal)
      this.#positions = positions
      // One reader per task, as each MirrorSourceTask has its own consumer; closed by the task set.
      // One fetch answer is at most what a task queues (the consumer's fetch.max.bytes): memory
      // stays bounded by settings however many partitions a task copies.
      const readerOptions = copierReaderOptions(flow.clients.sourceConsumer, targetProducer.partitionBatchBytes)
      const newReader = (task: number): PartitionReader =>
        new PartitionReader(
          flow.clients.sourceConsumer,
          flow.tasksMax > 1 ? id(`replication-consumer-${task}`) : id('replication-consumer'),
          readerOptions
        )
      const onAcked: AckedListener = (topic, records, ackedAt) => {
        this.#observeHeartbeats(topic, records, ackedAt)
      }
      const deps = {
        newReader,
        newOffsetSyncs: offsetSyncs,
        producer: targetProducer,
        sourceAdmin,
        positions,
        onAcked,
        ...(flow.exactlyOnce.enabled
          ? { newSession: (index: number) => taskSession(flow, index, id('replication-producer'), gate) }
          : {})
      }
      const newTask = (index: number, count: number): CopierTask =>
        inThreadTask(flow, deps, index, count > 1 ? this.#log.child(`task-${index}`) : this.#log)
      copier = this.#life.own(
        new CopierTasks(
          flow,
          { newTask, log: this.#log, ...this.#fencing() },
          this.#shared === undefined ? undefined : new Set()
        )
      )
    }
    const built = copier
    this.#copier = built
    if (this.#shared !== undefined) {
      // What the group gave this instance before the copier existed.
      const { partitions, tasks, handOver } = this.#owned
      await this.own(partitions, tasks, handOver)
    }
    const first = await topicSync.syncOnce({ create: this.#runsTopicsJob })
    this.#topics = first.ready
    await this.#inOrder(async () => {
      await built.assign(first.ready)
    })
    this.#shared?.onTopicsChanged(first.ready)
    this.#firstDiscovery.resolve()
    this.#topicSync = topicSync
    const aclSync = new AclSync(
      flow,
      { accepts: t => this.selection.select([t]).length === 1, remoteName: t => this.selection.remoteName(t) },
      sourceAdmin,
      targetAdmin,
      this.#log
    )
    this.#aclSync = aclSync
    return { copier, topicSync, aclSync }
  }

  /** In the exactly-once mode, the flow's transactional ids are fenced before a new set of tasks starts. */
  #fencing(): { beforeNewTasks?: () => Promise<void> } {
    const flow = this.flow
    if (!flow.exactlyOnce.enabled) return {}
    const id = connectorClientIds(flow, 'source')
    return {
      beforeNewTasks: async () => {
        await fenceTaskIds(flow, id('replication-producer'), this.#opts.gate, this.#log)
      }
    }
  }

  /** Copied heartbeats landed on the target when acknowledged: that moment minus their emission time is the latency. */
  #observeHeartbeats(topic: ReplicatedTopic, records: () => readonly HeartbeatRecordLike[], ackedAt: number): void {
    if (this.selection.policy.isHeartbeatsTopic(topic.source))
      this.heartbeatLatency.observe(topic.remote, records(), ackedAt)
  }

  async close(): Promise<void> {
    await this.#life.close()
  }
}
