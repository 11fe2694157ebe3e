/**
 * Copies records from the source partitions of a flow to the same partitions of the remote
 * topics (MirrorSourceTask, mm2-spec §4.5 and §6.7): same key, value, headers (all, in order)
 * and timestamp; null keys and tombstones kept.
 *
 * Safety rules:
 * - a position is stored only after the target acknowledged every record up to it; after a
 *   crash at most one flush interval of records is copied again, none is lost;
 * - a failed send moves the read position back to the first unacknowledged record of each
 *   partition in it, so nothing is skipped, whatever the failure;
 * - a partition that cannot be copied (not authorised, record too large for the target) is
 *   reported with topic, partition, offset and reason, paused, and retried later, while the
 *   others continue;
 * - records that expired on the source before they were copied, or a topic deleted and
 *   re-created, are reported as data loss with counts (log, status), never skipped silently.
 */
import type { FlowConfig } from '../config/model.ts'
import type { KafkaError } from '../errors.ts'
import type { KafkaAdmin } from '../kafka/admin.ts'
import type { PartitionReader, PartitionEvent } from '../kafka/partition-reader.ts'
import { type KafkaProducer, ProduceFailure } from '../kafka/producer.ts'
import { type ConsumedRecord, type RecordToSend, tpKey } from '../kafka/types.ts'
import type { Logger } from '../observe/logger.ts'
import { backoffMs, sleep } from '../util/abortable.ts'
import type { OffsetSyncWriter } from './offset-sync-writer.ts'
import type { PositionStore } from './position-store.ts'
import type { ReplicatedTopic } from './topic-sync.ts'

export interface DataLossEvent {
  readonly topic: string
  readonly partition: number
  readonly reason: 'expired' | 'recreated' | 'truncated'
  /** Records that were on the source but never copied (best knowledge; -1 when unknown). */
  readonly lost: bigint
  readonly from: bigint
  readonly resumedAt: bigint
  readonly at: number
}

export interface PartitionFailure {
  readonly topic: string
  readonly partition: number
  readonly offset: bigint
  readonly reason: string
  readonly since: number
  readonly retryAt: number
}

export interface CopierStats {
  recordsCopied: number
  bytesCopied: number
  batches: number
  lastCopyAt: number
  readonly dataLoss: DataLossEvent[]
  readonly failures: Map<string, PartitionFailure>
  /** Source end offset minus next position, per partition (records not yet copied). */
  readonly lag: Map<string, bigint>
  /** Set while copying fails as a whole (e.g. a cluster is unreachable); cleared on success. */
  lastError: string | undefined
}

interface Assigned {
  readonly topic: ReplicatedTopic
  readonly partition: number
  /** Highest end offset seen on the source for this partition (to count losses). */
  endOffset: bigint
  attempts: number
}

/** Largest batch (bytes of keys, values and headers) one partition contributes to one send. */
const MAX_PARTITION_SEND_BYTES = 900 * 1024

export class RecordCopier {
  readonly #flow: FlowConfig
  readonly #reader: PartitionReader
  readonly #producer: KafkaProducer
  readonly #sourceAdmin: KafkaAdmin
  readonly #positions: PositionStore
  readonly #syncs: OffsetSyncWriter | undefined
  readonly #log: Logger
  readonly #assigned = new Map<string, Assigned>()
  /** Offset of the last record acknowledged by the target, per partition, not yet stored. */
  readonly #lastCopied = new Map<string, { topic: string, partition: number, offset: bigint }>()
  readonly #topicIds = new Map<string, string>()
  /** Partitions already reported missing (reported once, not every poll). */
  readonly #missing = new Set<string>()
  #lastFlush = Date.now()
  readonly stats: CopierStats = { recordsCopied: 0, bytesCopied: 0, batches: 0, lastCopyAt: 0, dataLoss: [], failures: new Map(), lag: new Map(), lastError: undefined }

  constructor (flow: FlowConfig, deps: { reader: PartitionReader, producer: KafkaProducer, sourceAdmin: KafkaAdmin, positions: PositionStore, offsetSyncs: OffsetSyncWriter | undefined, log: Logger }) {
    this.#flow = flow
    this.#reader = deps.reader
    this.#producer = deps.producer
    this.#sourceAdmin = deps.sourceAdmin
    this.#positions = deps.positions
    this.#syncs = deps.offsetSyncs
    this.#log = deps.log
  }

  get assignedCount (): number {
    return this.#assigned.size
  }

  /** Adds partitions of topics ready on the target; starts each at its stored position. */
  async assign (topics: ReadonlyMap<string, ReplicatedTopic>): Promise<void> {
    const fresh: Array<{ t: ReplicatedTopic, partition: number }> = []
    for (const t of topics.values()) {
      const knownId = this.#topicIds.get(t.source)
      if (knownId !== undefined && knownId !== t.sourceId) await this.#topicRecreated(t)
      this.#topicIds.set(t.source, t.sourceId)
      for (let partition = 0; partition < t.partitions; partition++) {
        if (!this.#assigned.has(tpKey(t.source, partition))) fresh.push({ t, partition })
      }
    }
    if (fresh.length === 0) return
    const tps = fresh.map(f => ({ topic: f.t.source, partition: f.partition }))
    const resetLatest = String(this.#flow.clients.sourceConsumer.props['auto.offset.reset'] ?? 'earliest') === 'latest'
    const [earliest, latest] = await Promise.all([this.#sourceAdmin.listOffsets(tps, 'earliest'), this.#sourceAdmin.listOffsets(tps, 'latest')])
    for (const { t, partition } of fresh) {
      const k = tpKey(t.source, partition)
      const first = earliest.get(k) ?? 0n
      const end = latest.get(k) ?? 0n
      const stored = this.#positions.resumeOffset(t.source, partition)
      let start = stored ?? (resetLatest ? end : first)
      if (stored !== undefined && stored < first) {
        this.#reportLoss({ topic: t.source, partition, reason: 'expired', lost: first - stored, from: stored, resumedAt: first, at: Date.now() })
        start = first
      } else if (stored !== undefined && stored > end) {
        this.#reportLoss({ topic: t.source, partition, reason: 'truncated', lost: -1n, from: stored, resumedAt: first, at: Date.now() })
        start = first
      }
      this.#assigned.set(k, { topic: t, partition, endOffset: end, attempts: 0 })
      this.#reader.seek(t.source, partition, start)
      this.#syncs?.reset(t.source, partition)
      this.#log.debug('assigned partition', { topic: t.source, partition, start, stored })
    }
    this.#log.info('copying partitions', { added: fresh.length, total: this.#assigned.size })
  }

  async #topicRecreated (t: ReplicatedTopic): Promise<void> {
    for (const [k, a] of this.#assigned) {
      if (a.topic.source !== t.source) continue
      const position = this.#reader.position(t.source, a.partition) ?? 0n
      const lost = a.endOffset > position ? a.endOffset - position : 0n
      this.#reportLoss({ topic: t.source, partition: a.partition, reason: 'recreated', lost, from: position, resumedAt: 0n, at: Date.now() })
      this.#assigned.delete(k)
      this.#reader.remove(t.source, a.partition)
      this.#lastCopied.delete(k)
    }
  }

  #reportLoss (e: DataLossEvent): void {
    this.stats.dataLoss.push(e)
    if (this.stats.dataLoss.length > 1000) this.stats.dataLoss.shift()
    const what = e.reason === 'expired'
      ? 'records expired on the source before they were copied'
      : e.reason === 'recreated' ? 'source topic was deleted and re-created; records of the old topic were not copied' : 'source partition was truncated below the stored position'
    this.#log.error(`DATA LOSS: ${what}`, { flow: this.#flow.name, topic: e.topic, partition: e.partition, lost: e.lost < 0n ? 'unknown' : e.lost, from: e.from, resumedAt: e.resumedAt })
  }

  /** Runs until the signal aborts; then stores positions of everything acknowledged. */
  async run (signal: AbortSignal): Promise<void> {
    let failures = 0
    while (!signal.aborted) {
      try {
        this.#retryFailedPartitions()
        await this.copyOnce(signal)
        if (Date.now() - this.#lastFlush >= this.#flow.offsetFlushIntervalMs) await this.flush()
        if (failures > 0) this.#log.info('copying recovered', { flow: this.#flow.name })
        failures = 0
        this.stats.lastError = undefined
      } catch (err) {
        failures++
        this.stats.lastError = (err as Error).message
        this.#log.warn('copying failed; retrying', { flow: this.#flow.name, attempt: failures, error: err as Error })
        await sleep(backoffMs(failures), signal)
      }
    }
    await this.flush()
  }

  /** One fetch round and one send. Exposed for tests. */
  async copyOnce (signal?: AbortSignal): Promise<number> {
    const round = await this.#reader.poll(signal)
    if (round.records.size > 0 || round.events.length > 0) this.#log.debug('fetched', { records: [...round.records].map(([k, r]) => `${k}=${r.length}`).join(','), events: round.events.map(e => `${e.kind}:${e.topic}-${e.partition}`).join(',') })
    for (const e of round.events) await this.#onEvent(e)
    for (const [k, end] of round.endOffsets) {
      const a = this.#assigned.get(k)
      if (a !== undefined && end > a.endOffset) a.endOffset = end
      const pos = a === undefined ? undefined : this.#reader.position(a.topic.source, a.partition)
      if (pos !== undefined) this.stats.lag.set(k, end > pos ? end - pos : 0n)
    }
    const toSend: RecordToSend[] = []
    const origin: ConsumedRecord[] = []
    const firstOffset = new Map<string, bigint>()
    for (const [k, records] of round.records) {
      const a = this.#assigned.get(k)
      if (a === undefined) continue
      let bytes = 0
      for (const r of records) {
        const size = (r.key?.length ?? 0) + (r.value?.length ?? 0) + r.headers.reduce((n, [hk, hv]) => n + hk.length + (hv?.length ?? 0), 0)
        if (bytes > 0 && bytes + size > MAX_PARTITION_SEND_BYTES) {
          // Leave the rest for the next round: one send must stay under the broker's request limits.
          this.#reader.seek(r.topic, r.partition, r.offset)
          break
        }
        bytes += size
        if (!firstOffset.has(k)) firstOffset.set(k, r.offset)
        toSend.push({ topic: a.topic.remote, partition: r.partition, key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp })
        origin.push(r)
      }
    }
    const advancedOnly = [...round.advanced].filter(([k]) => !firstOffset.has(k))
    if (toSend.length > 0) {
      const ok = await this.#send(toSend, origin)
      if (!ok) return 0
    }
    // Partitions that moved past markers or aborted records only: their position is safe to store.
    for (const [k, next] of advancedOnly) {
      const a = this.#assigned.get(k)
      if (a === undefined || next <= 0n) continue
      if (this.#reader.position(a.topic.source, a.partition) !== next) continue
      this.#lastCopied.set(k, { topic: a.topic.source, partition: a.partition, offset: next - 1n })
    }
    return toSend.length
  }

  async #send (toSend: RecordToSend[], origin: ConsumedRecord[]): Promise<boolean> {
    let offsets: bigint[]
    try {
      offsets = await this.#producer.send(toSend)
    } catch (err) {
      const error = err as KafkaError
      // Partitions the broker accepted are copied; only the others are rewound and retried.
      const acked = err instanceof ProduceFailure ? err.acked : []
      const done = origin.filter((_, i) => acked[i] !== undefined)
      this.#acknowledged(done, acked.filter((o): o is bigint => o !== undefined))
      const failed = new Map<string, { first: bigint, records: number[] }>()
      origin.forEach((r, i) => {
        if (acked[i] !== undefined) return
        const k = tpKey(r.topic, r.partition)
        const f = failed.get(k) ?? { first: r.offset, records: [] }
        f.records.push(i)
        failed.set(k, f)
      })
      for (const [k, f] of failed) {
        const a = this.#assigned.get(k)
        if (a !== undefined) this.#reader.seek(a.topic.source, a.partition, f.first)
      }
      if (failed.size === 0) return true
      if (error.retriable) {
        this.#log.warn('sending to the target failed; will retry the same records', { flow: this.#flow.name, records: toSend.length - done.length, error })
        await sleep(1000)
        return false
      }
      // Not retriable: find the first record each failing partition cannot take.
      for (const [k, f] of failed) await this.#sendOneByOne(k, f.records.map(i => toSend[i]), f.records.map(i => origin[i]))
      return false
    }
    this.#acknowledged(origin, offsets)
    // Due syncs go out right after the records they describe, as MM2 fires them after each ack.
    if (this.#syncs !== undefined) await this.#syncs.flush(false)
    return true
  }

  /** Sends a partition's records one at a time; stops (and pauses the partition) at the first refused one. */
  async #sendOneByOne (k: string, records: Array<RecordToSend | undefined>, origin: Array<ConsumedRecord | undefined>): Promise<void> {
    for (let i = 0; i < records.length; i++) {
      const r = records[i]
      const o = origin[i]
      if (r === undefined || o === undefined) continue
      try {
        const [offset] = await this.#producer.send([r])
        this.#acknowledged([o], [offset ?? -1n])
        this.#reader.seek(o.topic, o.partition, o.offset + 1n)
      } catch (err) {
        this.#reader.seek(o.topic, o.partition, o.offset)
        if ((err as KafkaError).retriable) return
        this.#failPartition(k, o.offset, err as KafkaError)
        return
      }
    }
  }

  #failPartition (k: string, offset: bigint, error: KafkaError): void {
    const a = this.#assigned.get(k)
    if (a === undefined) return
    a.attempts++
    const retryAt = Date.now() + backoffMs(a.attempts, 5_000, 60_000)
    const previous = this.stats.failures.get(k)
    this.stats.failures.set(k, { topic: a.topic.source, partition: a.partition, offset, reason: error.message, since: previous?.since ?? Date.now(), retryAt })
    this.#reader.remove(a.topic.source, a.partition)
    this.#log.error('cannot copy partition; it is paused and retried later, other partitions continue', {
      flow: this.#flow.name, topic: a.topic.source, partition: a.partition, offset, remote: a.topic.remote, reason: error.message, retryInMs: retryAt - Date.now()
    })
  }

  #retryFailedPartitions (): void {
    const now = Date.now()
    for (const [k, f] of this.stats.failures) {
      if (f.retryAt > now) continue
      const a = this.#assigned.get(k)
      if (a === undefined) { this.stats.failures.delete(k); continue }
      if (this.#reader.position(f.topic, f.partition) === undefined) this.#reader.seek(f.topic, f.partition, f.offset)
    }
  }

  #acknowledged (origin: readonly ConsumedRecord[], offsets: readonly bigint[]): void {
    let bytes = 0
    for (let i = 0; i < origin.length; i++) {
      const r = origin[i]
      const downstream = offsets[i]
      if (r === undefined || downstream === undefined) continue
      const k = tpKey(r.topic, r.partition)
      this.#lastCopied.set(k, { topic: r.topic, partition: r.partition, offset: r.offset })
      if (downstream >= 0n) this.#syncs?.record(r.topic, r.partition, r.offset, downstream)
      bytes += r.value?.length ?? 0
      const a = this.#assigned.get(k)
      if (a !== undefined && a.attempts > 0) {
        a.attempts = 0
        if (this.stats.failures.delete(k)) this.#log.info('partition recovered', { topic: r.topic, partition: r.partition })
      }
    }
    this.stats.recordsCopied += origin.length
    this.stats.bytesCopied += bytes
    this.stats.batches++
    this.stats.lastCopyAt = Date.now()
  }

  async #onEvent (e: PartitionEvent): Promise<void> {
    const k = tpKey(e.topic, e.partition)
    const a = this.#assigned.get(k)
    if (a === undefined) return
    if (e.kind === 'out-of-range') {
      const tp = [{ topic: e.topic, partition: e.partition }]
      const [earliest, latest] = await Promise.all([this.#sourceAdmin.listOffsets(tp, 'earliest'), this.#sourceAdmin.listOffsets(tp, 'latest')])
      const first = earliest.get(k) ?? 0n
      const end = latest.get(k) ?? 0n
      if (e.requested < first) {
        this.#reportLoss({ topic: e.topic, partition: e.partition, reason: 'expired', lost: first - e.requested, from: e.requested, resumedAt: first, at: Date.now() })
      } else if (e.requested > end) {
        const lost = a.endOffset > e.requested ? a.endOffset - e.requested : 0n
        // The reader follows a topic by name; a new id means the topic was deleted and re-created.
        const currentId = this.#reader.topicId(e.topic)
        const recreated = currentId !== undefined && currentId !== this.#topicIds.get(e.topic)
        if (recreated && currentId !== undefined) this.#topicIds.set(e.topic, currentId)
        this.#reportLoss({ topic: e.topic, partition: e.partition, reason: recreated ? 'recreated' : 'truncated', lost: recreated ? lost : (lost === 0n ? -1n : lost), from: e.requested, resumedAt: first, at: Date.now() })
        a.endOffset = end
      } else {
        return // the range moved while we asked; the next fetch will succeed
      }
      this.#reader.seek(e.topic, e.partition, first)
      this.#syncs?.reset(e.topic, e.partition)
      return
    }
    if (e.kind === 'topic-gone') {
      if (!this.#missing.has(k)) this.#log.warn('source topic or partition not found; waiting for topic discovery', { topic: e.topic, partition: e.partition })
      this.#missing.add(k)
      return
    }
    this.#missing.delete(k)
    if (!e.error.retriable) this.#failPartition(k, this.#reader.position(e.topic, e.partition) ?? 0n, e.error)
    else this.#log.debug('transient error reading partition', { topic: e.topic, partition: e.partition, error: e.error })
  }

  /** Stores the positions of acknowledged records and writes offset syncs. */
  async flush (): Promise<void> {
    this.#lastFlush = Date.now()
    if (this.#syncs !== undefined) await this.#syncs.flush(true)
    if (this.#lastCopied.size === 0) return
    const snapshot = new Map(this.#lastCopied)
    try {
      await this.#positions.store(snapshot)
      for (const [k, v] of snapshot) if (this.#lastCopied.get(k) === v) this.#lastCopied.delete(k)
    } catch (err) {
      this.#log.warn('storing positions failed; will retry', { flow: this.#flow.name, error: err as Error })
    }
  }
}
