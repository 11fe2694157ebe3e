/**
 * Writes offset syncs (source offset -> target offset of the same record) to
 * `mm2-offset-syncs.<alias>.internal`, in Java MM2's binary format, so checkpoints (ours or
 * Java's) can translate consumer-group offsets.
 *
 * MM2 writes a sync only every offset.lag.max records (or on gaps). We write the same due syncs
 * and, at every position flush, the latest pair of each partition that moved, so that every
 * mapping change is recorded: the first record, every upstream gap (compaction, transaction
 * markers, aborted records) and every restart produce a sync, which is what makes exact
 * translation possible.
 */
import type { FlowConfig } from '../config/model.ts'
import { encodeOffsetSync } from '../formats/offset-sync.ts'
import { OffsetSyncRule } from '../formats/offset-sync-rule.ts'
import type { KafkaAdmin } from '../kafka/admin.ts'
import type { KafkaProducer } from '../kafka/producer.ts'
import { tpKey } from '../kafka/types.ts'
import type { Logger } from '../observe/logger.ts'
import type { ReplicationPolicy } from '../policy/replication-policy.ts'

const MAX_PENDING = 100_000

interface Pair { readonly topic: string, readonly partition: number, readonly upstream: bigint, readonly downstream: bigint }

export class OffsetSyncWriter {
  readonly #flow: FlowConfig
  readonly #topic: string
  readonly #admin: KafkaAdmin
  readonly #producer: KafkaProducer
  readonly #log: Logger
  readonly #rules = new Map<string, OffsetSyncRule>()
  /**
   * Due syncs not yet written, in order. Every due sync is kept (not only the latest per
   * partition, as MM2 does under back-pressure): each one marks a change of the mapping that
   * exact translation needs. Bounded: past the limit the oldest are dropped (translation then
   * falls back to an earlier sync, less precise but never wrong).
   */
  #pending: Pair[] = []
  /** Latest pair per partition that was not due; written at the next flush. */
  readonly #delayed = new Map<string, Pair>()

  constructor (flow: FlowConfig, policy: ReplicationPolicy, admin: KafkaAdmin, producer: KafkaProducer, log: Logger) {
    this.#flow = flow
    this.#topic = policy.offsetSyncsTopic(flow.offsetSyncs.location === 'source' ? flow.target : flow.source)
    this.#admin = admin
    this.#producer = producer
    this.#log = log
  }

  get topic (): string {
    return this.#topic
  }

  async ensureTopic (): Promise<void> {
    const outcome = await this.#admin.createTopic({ name: this.#topic, partitions: 1, replicationFactor: this.#flow.offsetSyncs.replicationFactor, configs: { 'cleanup.policy': 'compact' } })
    if (outcome.status === 'failed') throw outcome.error
    if (outcome.status === 'created') this.#log.info('created offset-syncs topic', { topic: this.#topic, cluster: this.#flow.offsetSyncs.location })
  }

  /**
   * Records a partition's acknowledged run of records: record i (source offset
   * `records[i].offset`) was written at target offset `downstreamBase + i`.
   */
  recordAcked (topic: string, partition: number, records: ReadonlyArray<{ readonly offset: bigint }>, downstreamBase: bigint): void {
    const k = tpKey(topic, partition)
    let rule = this.#rules.get(k)
    if (rule === undefined) {
      rule = new OffsetSyncRule(this.#flow.offsetLagMax)
      this.#rules.set(k, rule)
    }
    let lastDue = false
    let downstream = downstreamBase
    for (const { offset } of records) {
      lastDue = rule.update(offset, downstream)
      if (lastDue) {
        this.#pending.push({ topic, partition, upstream: offset, downstream })
        if (this.#pending.length > MAX_PENDING) this.#pending = this.#pending.slice(-MAX_PENDING / 2)
      }
      downstream++
    }
    const last = records[records.length - 1]
    if (last === undefined) return
    if (lastDue) this.#delayed.delete(k)
    else this.#delayed.set(k, { topic, partition, upstream: last.offset, downstream: downstream - 1n })
  }

  /** Forgets a partition's history (after a seek or data loss the next record must be synced). */
  reset (topic: string, partition: number): void {
    this.#rules.delete(tpKey(topic, partition))
  }

  /** Writes the due syncs; with `includeDelayed`, also the latest pair of every partition. */
  async flush (includeDelayed: boolean): Promise<number> {
    if (includeDelayed) {
      for (const pair of this.#delayed.values()) this.#pending.push(pair)
      this.#delayed.clear()
    }
    if (this.#pending.length === 0) return 0
    const pairs = this.#pending
    this.#pending = []
    const records = pairs.map(p => ({
      ...encodeOffsetSync({ topic: p.topic, partition: p.partition, upstreamOffset: p.upstream, downstreamOffset: p.downstream }),
      headers: []
    }))
    try {
      // Java reads only partition 0 of the offset-syncs topic.
      await this.#producer.send([{ topic: this.#topic, partition: 0, records }])
    } catch (err) {
      // A lost sync only makes translation less precise; put them back for the next attempt.
      this.#pending = [...pairs, ...this.#pending].slice(-MAX_PENDING)
      this.#log.warn('writing offset syncs failed; will retry', { topic: this.#topic, error: err as Error })
      return 0
    }
    return records.length
  }
}
