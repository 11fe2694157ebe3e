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
 *
 * Beyond Java's rule, a downstream gap (a retried send that the target had in fact written, so
 * the records sit there twice) also makes a sync due, and each sync carries a
 * `kafka-mirror-prev-sync` header (formats/offset-sync-chain.ts) naming the previous sync of its
 * partition and where the contiguous run after it ended. With both, the records between two
 * linked syncs have a known mapping and translation is exact (checkpoint/offset-translation.ts).
 */
import { Buffer } from 'node:buffer'
import type { FlowConfig } from '../config/model.ts'
import { encodeOffsetSync } from '../formats/offset-sync.ts'
import { encodeSyncLink, PREV_SYNC_HEADER, type SyncLink } from '../formats/offset-sync-chain.ts'
import { OffsetSyncRule } from '../formats/offset-sync-rule.ts'
import type { KafkaAdmin } from '../kafka/admin.ts'
import type { KafkaProducer } from '../kafka/producer.ts'
import { ensureCompactedTopic } from '../kafka/state-topic.ts'
import { tpKey } from '../kafka/types.ts'
import { isGateRefusal } from '../kafka/write-gate.ts'
import type { Logger } from '../observe/logger.ts'
import type { ReplicationPolicy } from '../policy/replication-policy.ts'
import { offsetSyncsLocation } from '../config/offset-syncs-topic.ts'

const MAX_PENDING = 100_000
/** Syncs per produce request: keeps a request well below the broker's 1 MB message.max.bytes. */
const SEND_CHUNK = 2000
const PREV_SYNC_KEY = Buffer.from(PREV_SYNC_HEADER)

interface Pair {
  readonly topic: string
  readonly partition: number
  readonly upstream: bigint
  readonly downstream: bigint
  readonly link?: SyncLink
}

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
  /** The last sync queued per partition in this lifetime (what the next sync links to). */
  readonly #lastQueued = new Map<string, Pair>()
  /** A write refused by the lease was logged; cleared by the next write (said once per episode). */
  #gateLogged = false

  constructor(flow: FlowConfig, policy: ReplicationPolicy, admin: KafkaAdmin, producer: KafkaProducer, log: Logger) {
    this.#flow = flow
    this.#topic = offsetSyncsLocation(flow, policy).topic
    this.#admin = admin
    this.#producer = producer
    this.#log = log
  }

  get topic(): string {
    return this.#topic
  }

  async ensureTopic(): Promise<void> {
    const outcome = await ensureCompactedTopic(this.#admin, {
      name: this.#topic,
      partitions: 1,
      replicationFactor: this.#flow.offsetSyncs.replicationFactor
    })
    if (outcome === 'created')
      this.#log.info('created offset-syncs topic', { topic: this.#topic, cluster: this.#flow.offsetSyncs.location })
  }

  /**
   * Records a partition's acknowledged run of records: record i (source offset
   * `records[i].offset`) was written at target offset `downstreamBase + i`.
   */
  recordAcked(
    topic: string,
    partition: number,
    records: ReadonlyArray<{ readonly offset: bigint }>,
    downstreamBase: bigint
  ): void {
    const first = records[0]?.offset
    const last = records.at(-1)?.offset
    if (first !== undefined && last !== undefined && last - first === BigInt(records.length - 1))
      this.rangeAcked(topic, partition, first, records.length, downstreamBase)
    else
      this.offsetsAcked(
        topic,
        partition,
        records.map(r => r.offset),
        downstreamBase
      )
  }

  /**
   * `count` records of contiguous upstream offsets from `first` landed at `downstreamBase` and on
   * (a raw batch, or records with no hole). The same syncs as offsetsAcked gives for each offset,
   * without visiting each: the first record may follow a gap on either side, so the rule decides
   * it; after it both sides are contiguous and only offset.lag.max makes a record due, so the
   * walk jumps from one due record to the next (a raw batch holds hundreds of records, offset
   * syncs come every offset.lag.max, 100 by default).
   */
  rangeAcked(topic: string, partition: number, first: bigint, count: number, downstreamBase: bigint): void {
    if (count <= 0) return
    const rule = this.#rule(topic, partition)
    const n = BigInt(count)
    let lastDue = this.#acked(rule, topic, partition, first, downstreamBase)
    for (let i = 1n; i < n;) {
      const dueAt = rule.nextDueDownstream() - downstreamBase
      if (dueAt >= n) {
        rule.passContiguous(first + n - 1n, downstreamBase + n - 1n)
        lastDue = false
        break
      }
      const j = dueAt > i ? dueAt : i
      if (j > i) rule.passContiguous(first + j - 1n, downstreamBase + j - 1n)
      // Due by construction (the rule says so again, and queues it).
      this.#acked(rule, topic, partition, first + j, downstreamBase + j)
      lastDue = j === n - 1n
      i = j + 1n
    }
    const k = tpKey(topic, partition)
    if (lastDue) this.#delayed.delete(k)
    else this.#delayed.set(k, { topic, partition, upstream: first + n - 1n, downstream: downstreamBase + n - 1n })
  }

  #rule(topic: string, partition: number): OffsetSyncRule {
    const k = tpKey(topic, partition)
    let rule = this.#rules.get(k)
    if (rule === undefined) {
      rule = new OffsetSyncRule(this.#flow.offsetLagMax)
      this.#rules.set(k, rule)
    }
    return rule
  }

  /** One acked pair through the rule; queues its sync when due (and says so). */
  #acked(rule: OffsetSyncRule, topic: string, partition: number, upstream: bigint, downstream: bigint): boolean {
    const { prevUp, prevDown } = rule.state
    // A downstream gap changes the mapping as much as an upstream one (Java does not sync it).
    const downstreamGap = prevDown >= 0n && downstream !== prevDown + 1n
    const due = rule.update(upstream, downstream) || downstreamGap
    if (due) this.#queue({ topic, partition, upstream, downstream }, prevUp)
    return due
  }

  /** Upstream offsets, in order, that landed at `downstreamBase`, `downstreamBase + 1`, ... */
  offsetsAcked(topic: string, partition: number, offsets: Iterable<bigint>, downstreamBase: bigint): void {
    const k = tpKey(topic, partition)
    const rule = this.#rule(topic, partition)
    let lastDue = false
    let downstream = downstreamBase
    let last: bigint | undefined
    for (const offset of offsets) {
      lastDue = this.#acked(rule, topic, partition, offset, downstream)
      downstream++
      last = offset
    }
    if (last === undefined) return
    if (lastDue) this.#delayed.delete(k)
    else this.#delayed.set(k, { topic, partition, upstream: last, downstream: downstream - 1n })
  }

  /**
   * Queues a sync linked to the previous one of its partition; `runEnd` is the upstream offset of
   * the record acked just before it (the end of the contiguous run since the previous sync).
   */
  #queue(pair: Pair, runEnd: bigint): void {
    const k = tpKey(pair.topic, pair.partition)
    const prev = this.#lastQueued.get(k)
    const linked: Pair =
      prev !== undefined && runEnd >= prev.upstream && runEnd < pair.upstream
        ? { ...pair, link: { prevUpstream: prev.upstream, prevDownstream: prev.downstream, runEndUpstream: runEnd } }
        : pair
    this.#lastQueued.set(k, linked)
    this.#pending.push(linked)
    if (this.#pending.length > MAX_PENDING) this.#pending = this.#pending.slice(-MAX_PENDING / 2)
  }

  /** Forgets a partition's history (after a seek or data loss the next record must be synced). */
  reset(topic: string, partition: number): void {
    const k = tpKey(topic, partition)
    this.#rules.delete(k)
    this.#lastQueued.delete(k)
    this.#delayed.delete(k)
  }

  /** Writes the due syncs; with `includeDelayed`, also the latest pair of every partition. */
  async flush(includeDelayed: boolean): Promise<number> {
    if (includeDelayed) {
      // A delayed pair was not due: every record since the previous sync up to it is contiguous.
      for (const pair of this.#delayed.values()) this.#queue(pair, pair.upstream - 1n)
      this.#delayed.clear()
    }
    if (this.#pending.length === 0) return 0
    const pairs = this.#pending
    this.#pending = []
    const records = pairs.map(p => ({
      ...encodeOffsetSync({
        topic: p.topic,
        partition: p.partition,
        upstreamOffset: p.upstream,
        downstreamOffset: p.downstream
      }),
      headers: p.link === undefined ? [] : [[PREV_SYNC_KEY, encodeSyncLink(p.link)] as const]
    }))
    let sent = 0
    try {
      // Java reads only partition 0 of the offset-syncs topic.
      for (; sent < records.length; sent += SEND_CHUNK) {
        await this.#producer.send([
          { topic: this.#topic, partition: 0, records: records.slice(sent, sent + SEND_CHUNK) }
        ])
      }
    } catch (err) {
      // A lost sync only makes translation less precise; put the unsent ones back for the next attempt.
      this.#pending = [...pairs.slice(sent), ...this.#pending].slice(-MAX_PENDING)
      if (!isGateRefusal(err))
        this.#log.warn('writing offset syncs failed; will retry', { topic: this.#topic, error: err as Error })
      else if (!this.#gateLogged)
        this.#log.warn('writing offset syncs refused: the write lease has ended; will write once it is renewed', {
          topic: this.#topic,
          error: err as Error
        })
      this.#gateLogged ||= isGateRefusal(err)
      return sent
    }
    this.#gateLogged = false
    return records.length
  }
}
