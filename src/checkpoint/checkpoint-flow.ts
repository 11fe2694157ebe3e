/**
 * The checkpoint side of one source->target flow (MirrorCheckpointConnector and
 * MirrorCheckpointTask): discovers the consumer groups to follow, follows the offset syncs, translates each group's
 * committed source offsets (exactly when the syncs prove the mapping) and writes Checkpoint
 * records to `<S>.checkpoints.internal` on the target; with sync.group.offsets.enabled it also
 * commits the translated offsets into idle groups on the target.
 *
 * Lifecycle like SourceFlow: `start()` returns at once; connecting retries with backoff (status
 * not-ready with the reason) and recovers by itself; `close()` is idempotent.
 *
 * Rules kept from Java: a checkpoint never moves a group back unless the source group itself went
 * back; nothing is translated before the offset syncs were read to their end; the checkpoints
 * topic is read at start so a restart continues from what is there.
 */
import { connectorClientIds } from '../config/client-ids.ts'
import { flowRules } from '../config/flow-rules.ts'
import type { FlowConfig } from '../config/model.ts'
import { encodeCheckpoint, type Checkpoint } from '../formats/checkpoint.ts'
import { KafkaAdmin } from '../kafka/admin.ts'
import { KafkaProducer } from '../kafka/producer.ts'
import { ensureCompactedTopic } from '../kafka/state-topic.ts'
import type { Logger } from '../observe/logger.ts'
import { newWindow, observe, type SampledWindow } from '../observe/metrics-window.ts'
import type { GroupFilter, TopicFilter } from '../policy/filters.ts'
import type { ReplicationPolicy } from '../policy/replication-policy.ts'
import { offsetSyncsLocation } from '../config/offset-syncs-topic.ts'
import { Lifecycle, type LifecycleState } from '../util/lifecycle.ts'
import { CheckpointStore } from './checkpoint-store.ts'
import { syncGroupOffsets, type GroupSyncResult } from './group-offset-sync.ts'
import { isMoreRecent, toCheckpoint, translateGroup } from './group-translation.ts'
import { followOffsetSyncs, type OffsetSyncFollower } from './offset-sync-follower.ts'
import { OffsetSyncStore } from './offset-translation.ts'

/** Groups per OffsetFetch request. */
const GROUPS_PER_FETCH = 100
/** Checkpoint records per produce request (each is well under 200 bytes). */
const RECORDS_PER_SEND = 2000

export type CheckpointFlowState = LifecycleState

export interface CheckpointStats {
  /** Groups that had committed offsets for replicated topics at the last pass. */
  groups: number
  checkpointsWritten: number
  exact: number
  fallback: number
  lastEmitAt: number
  groupOffsetsCommitted: number
  /** Groups skipped by the last group offset sync because they had members on the target. */
  activeGroupsSkipped: number
}

export interface CheckpointFlowStatus {
  readonly flow: string
  readonly state: CheckpointFlowState
  readonly reason: string | undefined
  readonly checkpointsTopic: string
  readonly offsetSyncsTopic: string
  readonly syncsRead: number
  readonly stats: Readonly<CheckpointStats>
}

/**
 * MirrorCheckpointMetrics' checkpoint-latency-ms of one group's target partition: written minus when the group's
 * offsets were read.
 */
export interface CheckpointLatency {
  readonly group: string
  /** The target-side (renamed) topic. */
  readonly topic: string
  readonly partition: number
  readonly window: SampledWindow
  last: number
}

interface Clients {
  readonly sourceAdmin: KafkaAdmin
  readonly targetAdmin: KafkaAdmin
  readonly producer: KafkaProducer
  readonly follower: OffsetSyncFollower
}

export class CheckpointFlow {
  readonly flow: FlowConfig
  readonly policy: ReplicationPolicy
  readonly #topicFilter: TopicFilter
  readonly #groupFilter: GroupFilter
  readonly #log: Logger
  readonly #life: Lifecycle
  readonly #syncs = new OffsetSyncStore()
  readonly #checkpoints = new CheckpointStore()
  #groups: readonly string[] = []
  /**
   * Per group and target partition (key group, topic, partition joined by NUL). Unlike Java,
   * whose one shared sensor gives every group's metric the same values, each keeps its own.
   */
  readonly latency = new Map<string, CheckpointLatency>()
  readonly stats: CheckpointStats = {
    groups: 0,
    checkpointsWritten: 0,
    exact: 0,
    fallback: 0,
    lastEmitAt: 0,
    groupOffsetsCommitted: 0,
    activeGroupsSkipped: 0
  }

  /**
   * `waitingFor`: while this part has not started, why it cannot yet (an instance in a group
   * starts it when the group deals it here; until then the group's trouble is its reason).
   */
  constructor(flow: FlowConfig, log: Logger, opts: { readonly waitingFor?: () => string | undefined } = {}) {
    this.flow = flow
    const { policy, topicFilter, groupFilter } = flowRules(flow)
    this.policy = policy
    this.#topicFilter = topicFilter
    this.#groupFilter = groupFilter
    this.#log = log.child(`${flow.name} checkpoints`)
    this.#life = new Lifecycle({ log: this.#log, what: 'checkpoints', logRetryIn: false, waitingFor: opts.waitingFor })
  }

  get checkpointsTopic(): string {
    return this.policy.checkpointsTopic(this.flow.source)
  }

  get offsetSyncsTopic(): string {
    return offsetSyncsLocation(this.flow, this.policy).topic
  }

  status(): CheckpointFlowStatus {
    return {
      flow: this.flow.name,
      state: this.#life.state,
      reason: this.#life.reason,
      checkpointsTopic: this.checkpointsTopic,
      offsetSyncsTopic: this.offsetSyncsTopic,
      syncsRead: this.#syncs.count,
      stats: { ...this.stats }
    }
  }

  /** The latest checkpoint written or loaded for a group's target partition. */
  checkpoint(group: string, topic: string, partition: number): Checkpoint | undefined {
    return this.#checkpoints.get(group, topic, partition)
  }

  start(): void {
    this.#life.start(async () => {
      await this.#run()
    })
  }

  async #run(): Promise<void> {
    const life = this.#life
    const clients = await life.retry(async () => await this.#build())
    if (clients === undefined) return
    const { sourceAdmin, targetAdmin, producer, follower } = clients
    life.running()
    this.#log.info('checkpointing', {
      checkpoints: this.checkpointsTopic,
      offsetSyncs: `${this.offsetSyncsTopic} on ${this.flow.offsetSyncs.location}`
    })
    const flow = this.flow
    await Promise.all([
      // Tailing: the next step at once, after a failure the backoff.
      life.every(
        'offset syncs reading',
        0,
        async () => {
          await follower.step(life.signal)
        },
        { firstPassAtOnce: true }
      ),
      // Each first pass comes one interval after the start (#build discovered the groups once).
      life.every('group discovery', flow.refreshGroups.enabled ? flow.refreshGroups.intervalMs : -1, async () => {
        await this.#discover(sourceAdmin)
      }),
      life.every('checkpoint emission', flow.emitCheckpoints.intervalMs, async () => {
        await this.#emit(sourceAdmin, producer, follower)
      }),
      flow.syncGroupOffsets.enabled
        ? life.every('group offset sync', flow.syncGroupOffsets.intervalMs, async () => {
            this.#recordSync(await syncGroupOffsets(targetAdmin, this.#checkpoints.byGroup(), this.#log))
          })
        : Promise.resolve()
    ])
  }

  async #build(): Promise<Clients> {
    const flow = this.flow
    const id = connectorClientIds(flow, 'checkpoint')
    const sourceAdmin = this.#life.own(new KafkaAdmin(flow.clients.sourceAdmin, id('checkpoint-source-admin')))
    const targetAdmin = this.#life.own(new KafkaAdmin(flow.clients.targetAdmin, id('checkpoint-target-admin')))
    const producer = this.#life.own(new KafkaProducer(flow.clients.targetProducer, id('checkpoint-producer')))
    await Promise.all([sourceAdmin.clusterId(), targetAdmin.clusterId()])
    const created = await ensureCompactedTopic(targetAdmin, {
      name: this.checkpointsTopic,
      partitions: 1,
      replicationFactor: flow.checkpointsReplicationFactor
    })
    if (created === 'created') this.#log.info('created checkpoints topic', { topic: this.checkpointsTopic })
    try {
      const read = await this.#checkpoints.load(
        targetAdmin,
        flow.clients.targetConsumer,
        this.checkpointsTopic,
        id('checkpoints-reader'),
        g => this.#groupFilter.shouldReplicateGroup(g)
      )
      this.#log.info('loaded checkpoints', {
        topic: this.checkpointsTopic,
        records: read,
        latest: this.#checkpoints.size
      })
    } catch (err) {
      // Java goes on with an empty store (MM2 may only be allowed to write that topic).
      this.#log.warn('could not read existing checkpoints; starting without them', {
        topic: this.checkpointsTopic,
        error: err as Error
      })
    }
    const follower = this.#life.own(
      followOffsetSyncs(
        flow,
        this.policy,
        { source: sourceAdmin, target: targetAdmin },
        this.#syncs,
        id('offset-syncs-reader'),
        this.#log
      )
    )
    await this.#discover(sourceAdmin)
    return { sourceAdmin, targetAdmin, producer, follower }
  }

  /** The groups on the source that pass the group filter (offsets are read at each emission). */
  async #discover(sourceAdmin: KafkaAdmin): Promise<void> {
    const listed = await sourceAdmin.listConsumerGroups()
    const groups = listed
      .map(g => g.group)
      .filter(g => this.#groupFilter.shouldReplicateGroup(g))
      .sort()
    const added = groups.filter(g => !this.#groups.includes(g))
    if (added.length > 0)
      this.#log.info('following consumer groups', { added: added.slice(0, 20).join(','), total: groups.length })
    this.#groups = groups
  }

  async #emit(sourceAdmin: KafkaAdmin, producer: KafkaProducer, follower: OffsetSyncFollower): Promise<void> {
    if (!follower.caughtUp) return
    const ctx = {
      source: this.flow.source,
      target: this.flow.target,
      policy: this.policy,
      topicFilter: this.#topicFilter
    }
    const records: Array<{ key: Buffer; value: Buffer; headers: []; timestamp: bigint }> = []
    const emitted: Checkpoint[] = []
    /** When each emitted checkpoint's group offsets were read. */
    const readAt: number[] = []
    let withOffsets = 0
    for (let i = 0; i < this.#groups.length; i += GROUPS_PER_FETCH) {
      const chunk = this.#groups.slice(i, i + GROUPS_PER_FETCH)
      const now = BigInt(Date.now())
      const { offsets, failed } = await sourceAdmin.listGroupsOffsets(chunk)
      for (const [group, error] of failed)
        this.#log.warn('cannot read group offsets; skipping the group this time', { group, error })
      for (const [group, committed] of offsets) {
        const translated = translateGroup(group, committed, this.#syncs, ctx)
        if (translated.length > 0) withOffsets++
        for (const t of translated) {
          if (t.translation === undefined || t.translation.offset < 0n) continue
          const cp = toCheckpoint({ ...t, translation: t.translation })
          if (!isMoreRecent(cp, this.#checkpoints.get(cp.group, cp.topic, cp.partition))) continue
          records.push({ ...encodeCheckpoint(cp), headers: [], timestamp: now })
          emitted.push(cp)
          readAt.push(Number(now))
          if (t.translation.exact) this.stats.exact++
          else this.stats.fallback++
        }
      }
    }
    this.stats.groups = withOffsets
    if (records.length === 0) return
    // Java writes every checkpoint to partition 0 and readers only read that one. Chunks keep a
    // request below the broker's 1 MB limit; each chunk counts as written once acknowledged.
    for (let i = 0; i < records.length; i += RECORDS_PER_SEND) {
      await producer.send([
        { topic: this.checkpointsTopic, partition: 0, records: records.slice(i, i + RECORDS_PER_SEND) }
      ])
      const writtenAt = Date.now()
      emitted.slice(i, i + RECORDS_PER_SEND).forEach((cp, j) => {
        this.#checkpoints.set(cp)
        this.#observeLatency(cp, writtenAt - (readAt[i + j] ?? writtenAt), writtenAt)
      })
      this.stats.checkpointsWritten += Math.min(RECORDS_PER_SEND, records.length - i)
    }
    this.stats.lastEmitAt = Date.now()
    this.#log.debug('checkpoints written', { count: records.length })
  }

  #observeLatency(cp: Checkpoint, ms: number, now: number): void {
    const key = `${cp.group}\0${cp.topic}\0${cp.partition}`
    let l = this.latency.get(key)
    if (l === undefined) {
      l = { group: cp.group, topic: cp.topic, partition: cp.partition, window: newWindow(), last: ms }
      this.latency.set(key, l)
    }
    l.last = ms
    observe(l.window, now, 1, ms, ms, ms)
  }

  #recordSync(r: GroupSyncResult): void {
    this.stats.groupOffsetsCommitted += r.committed
    this.stats.activeGroupsSkipped = r.activeSkipped.length
  }

  async close(): Promise<void> {
    await this.#life.close()
  }
}
