/**
 * Follows the offset-syncs topic (`mm2-offset-syncs.<alias>.internal`, partition 0 only, as Java
 * reads it) from its earliest offset and feeds every sync into an OffsetSyncStore, then keeps
 * tailing it. Syncs written by Java MM2 (no link header) are kept too: they translate with Java's
 * rule. Records that do not decode are skipped, as Java does.
 *
 * `caughtUp` turns true once the end offset seen at start has been read: before that, a store
 * would translate from partial history, so callers wait (Java: readToEnd).
 */
import type { ClientConfig, FlowConfig } from '../config/model.ts'
import { offsetSyncsRoles } from '../config/what-runs.ts'
import { findSyncLink } from '../formats/offset-sync-chain.ts'
import { decodeOffsetSync } from '../formats/offset-sync.ts'
import type { KafkaAdmin } from '../kafka/admin.ts'
import { PartitionReader } from '../kafka/partition-reader.ts'
import { tpKey } from '../kafka/types.ts'
import type { Logger } from '../observe/logger.ts'
import type { ReplicationPolicy } from '../policy/replication-policy.ts'
import { offsetSyncsLocation, onSyncsSide } from '../config/offset-syncs-topic.ts'
import { sleep } from '../util/abortable.ts'
import type { OffsetSyncStore } from './offset-translation.ts'

/**
 * A follower of a flow's offset syncs, reading them with the pair's consumer and admin on the
 * cluster they live on (the checkpoint flow, `verify` and the `offsets` commands all start one).
 */
export function followOffsetSyncs(
  flow: FlowConfig,
  policy: ReplicationPolicy,
  admins: { readonly source: KafkaAdmin; readonly target: KafkaAdmin },
  store: OffsetSyncStore,
  clientId: string,
  log: Logger
): OffsetSyncFollower {
  const location = offsetSyncsLocation(flow, policy)
  return new OffsetSyncFollower(
    flow.clients[offsetSyncsRoles(flow).reader],
    onSyncsSide(location, admins),
    location.topic,
    store,
    clientId,
    log
  )
}

/** How long to wait before looking again for an offset-syncs topic that does not exist yet. */
const NO_TOPIC_WAIT_MS = 1000

export class OffsetSyncFollower {
  readonly topic: string
  readonly #admin: KafkaAdmin
  readonly #reader: PartitionReader
  readonly #store: OffsetSyncStore
  readonly #log: Logger
  #started = false
  #caughtUp = false
  #skipped = 0
  /** Wall-clock time the last sync was read. */
  lastReadAt = 0

  constructor(
    readerConfig: ClientConfig,
    admin: KafkaAdmin,
    topic: string,
    store: OffsetSyncStore,
    clientId: string,
    log: Logger
  ) {
    this.topic = topic
    this.#admin = admin
    this.#store = store
    this.#log = log
    this.#reader = new PartitionReader(readerConfig, clientId, { maxWaitMs: 250 })
  }

  get caughtUp(): boolean {
    return this.#caughtUp
  }

  /** Positions the reader at the earliest offset; false while the topic does not exist. */
  async #start(): Promise<boolean> {
    const tp = [{ topic: this.topic, partition: 0 }]
    if (!(await this.#admin.describeTopics([this.topic])).has(this.topic)) return false
    const earliest = await this.#admin.listOffsets(tp, 'earliest')
    this.#reader.seek(this.topic, 0, earliest.get(tpKey(this.topic, 0)) ?? 0n)
    this.#started = true
    return true
  }

  /** Reads up to the end offset the topic has now. Returns false if the topic does not exist. */
  async catchUp(signal?: AbortSignal, timeoutMs = 120_000): Promise<boolean> {
    if (!this.#started && !(await this.#start())) return false
    const end =
      (await this.#admin.listOffsets([{ topic: this.topic, partition: 0 }], 'latest')).get(tpKey(this.topic, 0)) ?? 0n
    const deadline = Date.now() + timeoutMs
    while ((this.#reader.position(this.topic, 0) ?? 0n) < end && signal?.aborted !== true) {
      if (Date.now() > deadline)
        throw new Error(`reading offset syncs from ${this.topic} did not reach offset ${end} in ${timeoutMs} ms`)
      await this.pollOnce(signal)
    }
    this.#caughtUp = true
    return true
  }

  /**
   * One step of following: reads to the end first (waiting a second while the topic does not
   * exist yet), then one poll of the tail. The owner repeats it (Lifecycle.every) and retries
   * with backoff when it throws.
   */
  async step(signal: AbortSignal): Promise<void> {
    if (this.#caughtUp) {
      await this.pollOnce(signal)
      return
    }
    if (!(await this.catchUp(signal))) {
      await sleep(NO_TOPIC_WAIT_MS, signal)
      return
    }
    this.#log.info('offset syncs read', { topic: this.topic, syncs: this.#store.count })
  }

  async pollOnce(signal?: AbortSignal): Promise<void> {
    const round = await this.#reader.poll(signal)
    for (const e of round.events) {
      if (e.kind === 'out-of-range' || e.kind === 'recreated') {
        // Compaction or re-creation moved the log start: read again from the earliest offset.
        this.#started = false
        await this.#start()
      } else if (e.kind === 'error' && !e.error.retriable) {
        throw e.error
      }
    }
    for (const records of round.records.values()) {
      for (const r of records) {
        let sync
        try {
          sync = decodeOffsetSync(r.key, r.value)
        } catch {
          if (this.#skipped++ === 0)
            this.#log.warn('skipping an offset-sync record that does not decode', {
              topic: this.topic,
              offset: r.offset
            })
          continue
        }
        this.#store.add(sync.topic, sync.partition, {
          upstream: sync.upstreamOffset,
          downstream: sync.downstreamOffset,
          link: findSyncLink(r.headers)
        })
        this.lastReadAt = Date.now()
      }
    }
  }

  async close(): Promise<void> {
    await this.#reader.close()
  }
}
