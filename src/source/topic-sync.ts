/**
 * Keeps the remote topics on the target in step with the source (MirrorSourceConnector's topic
 * work, MirrorSourceConnector, DefaultTopicFilter, DefaultConfigPropertyFilter):
 * - discovers the source topics to replicate (filters, MM2's default excludes, cycle detection);
 * - creates missing remote topics with the source's partition count, `replication.factor` and
 *   the source's topic configs minus excluded properties, and grows them when the source grows
 *   (never shrinks, never deletes);
 * - re-syncs topic configs with incremental alters.
 *
 * Unlike MM2, creation is awaited before the copier produces into a topic, so a target with
 * auto-create enabled can never create it first with broker defaults. Missing topics are
 * created together (MM2 creates them one request each), so a thousand new topics cost a few
 * requests, not a thousand round trips.
 */
import type { FlowConfig } from '../config/model.ts'
import type { CreateTopicOutcome, KafkaAdmin, TopicConfigEntry } from '../kafka/admin.ts'
import { waitForPartitions } from '../kafka/wait-for-partitions.ts'
import type { Logger } from '../observe/logger.ts'
import type { TopicSelection } from './topic-selection.ts'

export interface ReplicatedTopic {
  readonly source: string
  readonly remote: string
  readonly partitions: number
}

export interface TopicSyncResult {
  /** Source topics whose remote topic exists with at least as many partitions. */
  readonly ready: ReadonlyMap<string, ReplicatedTopic>
  readonly created: readonly string[]
  readonly grown: readonly string[]
  readonly failed: ReadonlyMap<string, Error>
}

export class TopicSync {
  readonly #flow: FlowConfig
  readonly #selection: TopicSelection
  readonly #source: KafkaAdmin
  readonly #target: KafkaAdmin
  readonly #log: Logger
  readonly #signal: AbortSignal | undefined
  /**
   * Remote topics that could not be prepared, with the error last logged for each: a pass logs a
   * failure only when it is new or changed, or a thousand refused topics would log a thousand
   * lines at every discovery pass.
   */
  readonly #failing = new Map<string, string>()

  /** `signal` (the flow's, aborted on close) ends the wait for new topics to show early. */
  constructor(
    flow: FlowConfig,
    selection: TopicSelection,
    sourceAdmin: KafkaAdmin,
    targetAdmin: KafkaAdmin,
    log: Logger,
    signal?: AbortSignal
  ) {
    this.#signal = signal
    this.#flow = flow
    this.#selection = selection
    this.#source = sourceAdmin
    this.#target = targetAdmin
    this.#log = log
  }

  remoteName(sourceTopic: string): string {
    return this.#selection.remoteName(sourceTopic)
  }

  /**
   * One pass: discover, create, grow. Per-topic failures are returned, not thrown.
   * `create: false` only looks: a topic is ready as far as its remote topic already has
   * partitions (the instance that runs the flow's topics job creates and grows them).
   */
  async syncOnce(opts: { readonly create?: boolean } = {}): Promise<TopicSyncResult> {
    const topics = this.#selection.select(await this.#source.listTopics())
    const sources = await this.#source.describeTopics(topics)
    const remotes = await this.#target.describeTopics(topics.map(t => this.remoteName(t)))
    const ready = new Map<string, ReplicatedTopic>()
    const created: string[] = []
    const grown: string[] = []
    const failed = new Map<string, Error>()
    if (opts.create === false) {
      for (const s of sources.values()) {
        const remote = this.remoteName(s.name)
        const partitions = Math.min(s.partitions, remotes.get(remote)?.partitions ?? 0)
        if (partitions > 0) ready.set(s.name, { source: s.name, remote, partitions })
      }
      return { ready, created, grown, failed }
    }
    const missing = [...sources.values()].filter(s => !remotes.has(this.remoteName(s.name)))
    const sourceConfigs =
      missing.length > 0
        ? await this.#source.describeTopicConfigs(missing.map(s => s.name))
        : new Map<string, TopicConfigEntry[]>()
    // All missing remote topics in one go (one request per distinct config set).
    const toCreate = new Map(
      missing.map(s => [
        this.remoteName(s.name),
        {
          name: this.remoteName(s.name),
          partitions: s.partitions,
          replicationFactor: this.#flow.replicationFactor,
          configs: this.targetConfig(sourceConfigs.get(s.name) ?? [], false).set
        }
      ])
    )
    const outcomes =
      toCreate.size > 0
        ? await this.#target.createTopics([...toCreate.values()])
        : new Map<string, CreateTopicOutcome>()
    for (const s of sources.values()) {
      const remote = this.remoteName(s.name)
      const existing = remotes.get(remote)
      try {
        if (existing === undefined) {
          const outcome = outcomes.get(remote)
          if (outcome === undefined) throw new Error(`no outcome for creating ${remote}`)
          if (outcome.status === 'failed') throw outcome.error
          if (outcome.status === 'created') {
            created.push(remote)
            this.#log.info('created remote topic', {
              topic: remote,
              partitions: s.partitions,
              configs: Object.keys(toCreate.get(remote)?.configs ?? {}).length
            })
          }
        } else if (existing.partitions < s.partitions) {
          await this.#target.createPartitions(remote, s.partitions)
          grown.push(remote)
          this.#log.info('grew remote topic', { topic: remote, from: existing.partitions, to: s.partitions })
        }
        ready.set(s.name, { source: s.name, remote, partitions: s.partitions })
        if (this.#failing.delete(remote)) this.#log.info('remote topic prepared after an earlier failure', { remote })
      } catch (err) {
        failed.set(s.name, err as Error)
        const message = (err as Error).message
        if (this.#failing.get(remote) === message) continue
        this.#failing.set(remote, message)
        this.#log.error('cannot prepare remote topic; its records are not copied until this is fixed', {
          topic: s.name,
          remote,
          error: err as Error
        })
      }
    }
    // Topics gone from the source (or the selection) are forgotten, so a new failure is said again.
    const current = new Set([...sources.values()].map(s => this.remoteName(s.name)))
    for (const remote of this.#failing.keys()) if (!current.has(remote)) this.#failing.delete(remote)
    if (created.length > 0 || grown.length > 0) await this.#waitVisible([...created, ...grown], ready)
    return { ready, created, grown, failed }
  }

  /**
   * Waits until created or grown topics show their partitions in target metadata. A topic still
   * short of partitions after that is handed over with only the partitions the target shows (or
   * left out): a partition is never copied before the target has it.
   */
  async #waitVisible(remotes: readonly string[], ready: Map<string, ReplicatedTopic>): Promise<void> {
    const wanted = new Map([...ready.values()].filter(r => remotes.includes(r.remote)).map(r => [r.remote, r]))
    const seen = await waitForPartitions(
      this.#target,
      new Map([...wanted.values()].map(r => [r.remote, r.partitions])),
      { attempts: 100, signal: this.#signal }
    )
    for (const r of wanted.values()) {
      const visible = seen.get(r.remote)?.partitions ?? 0
      if (visible >= r.partitions) continue
      this.#log.warn('remote topic does not show all its partitions yet; copying only those it shows', {
        topic: r.remote,
        expected: r.partitions,
        visible
      })
      if (visible === 0) ready.delete(r.source)
      else ready.set(r.source, { ...r, partitions: visible })
    }
  }

  /**
   * Which source config entries go to the target (DefaultConfigPropertyFilter). At creation (`incremental`
   * false) only non-default values are set; when syncing, source defaults are either deleted
   * on the target (use.defaults.from=target) or set (=source).
   */
  targetConfig(
    entries: readonly TopicConfigEntry[],
    incremental: boolean
  ): { set: Record<string, string>; remove: string[] } {
    const set: Record<string, string> = {}
    const remove: string[] = []
    for (const e of entries) {
      if (e.readOnly || e.sensitive || e.source === 'static-broker') continue
      if (!this.#selection.configFilter.shouldReplicateConfigProperty(e.name)) continue
      const isDefault = e.source === 'default'
      if (isDefault && !this.#selection.configFilter.shouldReplicateSourceDefault(e.name)) {
        if (incremental) remove.push(e.name)
        continue
      }
      if (e.value !== null) set[e.name] = e.value
    }
    return { set, remove }
  }

  /** Copies source topic configs to the remote topics that exist. Returns the topics altered. */
  async syncConfigsOnce(
    topics: ReadonlyMap<string, ReplicatedTopic>
  ): Promise<{ synced: number; failed: Map<string, Error> }> {
    const failed = new Map<string, Error>()
    if (topics.size === 0) return { synced: 0, failed }
    const [sourceConfigs, targetConfigs] = await Promise.all([
      this.#source.describeTopicConfigs([...topics.keys()]),
      this.#target.describeTopicConfigs([...topics.values()].map(t => t.remote))
    ])
    let synced = 0
    for (const t of topics.values()) {
      const wanted = this.targetConfig(sourceConfigs.get(t.source) ?? [], true)
      const current = new Map((targetConfigs.get(t.remote) ?? []).map(e => [e.name, e]))
      // Only send what differs: the same values every interval would be noise on the controller.
      const set = Object.fromEntries(
        Object.entries(wanted.set).filter(([k, v]) => current.get(k)?.value !== v || current.get(k)?.source !== 'topic')
      )
      const remove = wanted.remove.filter(k => current.get(k)?.source === 'topic')
      if (Object.keys(set).length === 0 && remove.length === 0) continue
      try {
        await this.#target.alterTopicConfigs(t.remote, set, remove)
        synced++
        this.#log.info('synced topic configs', {
          topic: t.remote,
          set: Object.keys(set).join(','),
          reverted: remove.join(',')
        })
      } catch (err) {
        failed.set(t.source, err as Error)
        this.#log.warn('topic config sync failed', { topic: t.remote, error: err as Error })
      }
    }
    return { synced, failed }
  }
}
