/**
 * Copies records from the source partitions of a flow to the same partitions of the remote
 * topics (MirrorSourceTask): same key, value, headers (all, in order)
 * and timestamp; null keys and tombstones kept.
 *
 * Safety rules:
 * - a position is stored only after the target acknowledged every record up to it, none is
 *   lost; stores come soon and often enough (position-flush-policy.ts) that a crash re-copies
 *   little and a mirror restarted again and again still moves forward;
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
import { type ConsumedRecord, type PartitionBatch, tpKey } from '../kafka/types.ts'
import type { Logger } from '../observe/logger.ts'
import { backoffMs, sleep } from '../util/abortable.ts'
import type { OffsetSyncWriter } from './offset-sync-writer.ts'
import { DEFAULT_FLUSH_THRESHOLDS, PositionFlushPolicy } from './position-flush-policy.ts'
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

/** One partition's records in one send. */
interface Slice {
  readonly key: string
  readonly assigned: Assigned
  readonly records: readonly ConsumedRecord[]
  /** Bytes of keys, values and headers of `records` (counted once, when the slice is cut). */
  readonly bytes: number
}

function recordSize (r: ConsumedRecord): number {
  let size = (r.key?.length ?? 0) + (r.value?.length ?? 0)
  for (const [k, v] of r.headers) size += k.length + (v?.length ?? 0)
  return size
}

/** Told about every run of records the target acknowledged (the heartbeat latency tracker listens). */
export type AckedListener = (topic: ReplicatedTopic, records: readonly ConsumedRecord[], ackedAt: number) => void

export class RecordCopier {
  readonly #flow: FlowConfig
  readonly #reader: PartitionReader
  readonly #producer: KafkaProducer
  readonly #sourceAdmin: KafkaAdmin
  readonly #positions: PositionStore
  readonly #syncs: OffsetSyncWriter | undefined
  readonly #log: Logger
  readonly #onAcked: AckedListener | undefined
  readonly #assigned = new Map<string, Assigned>()
  /** Offset of the last record acknowledged by the target, per partition, not yet stored. */
  readonly #lastCopied = new Map<string, { topic: string, partition: number, offset: bigint }>()
  /** Partitions already reported missing (reported once, not every poll). */
  readonly #missing = new Set<string>()
  readonly #flushPolicy: PositionFlushPolicy
  readonly stats: CopierStats = { recordsCopied: 0, bytesCopied: 0, batches: 0, lastCopyAt: 0, dataLoss: [], failures: new Map(), lag: new Map(), lastError: undefined }

  constructor (flow: FlowConfig, deps: { reader: PartitionReader, producer: KafkaProducer, sourceAdmin: KafkaAdmin, positions: PositionStore, offsetSyncs: OffsetSyncWriter | undefined, log: Logger, onAcked?: AckedListener }) {
    this.#flow = flow
    this.#reader = deps.reader
    this.#producer = deps.producer
    this.#sourceAdmin = deps.sourceAdmin
    this.#positions = deps.positions
    this.#syncs = deps.offsetSyncs
    this.#log = deps.log
    this.#onAcked = deps.onAcked
    this.#flushPolicy = new PositionFlushPolicy({ intervalMs: flow.offsetFlushIntervalMs, ...DEFAULT_FLUSH_THRESHOLDS }, Date.now())
  }

  get assignedCount (): number {
    return this.#assigned.size
  }

  /** Adds partitions of topics ready on the target (those `only` accepts); starts each at its stored position. */
  async assign (topics: ReadonlyMap<string, ReplicatedTopic>, only?: (topic: string, partition: number) => boolean): Promise<void> {
    const fresh: Array<{ t: ReplicatedTopic, partition: number }> = []
    for (const t of topics.values()) {
      for (let partition = 0; partition < t.partitions; partition++) {
        if (only !== undefined && !only(t.source, partition)) continue
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
        const now = Date.now()
        if (this.#flushPolicy.intervalDue(now)) await this.flush()
        else if (this.#flushPolicy.due(now)) await this.#storePositions()
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

  /** One fetch round and one send. */
  async copyOnce (signal?: AbortSignal): Promise<void> {
    const round = await this.#reader.poll(signal)
    for (const e of round.events) await this.#onEvent(e)
    for (const [k, end] of round.endOffsets) {
      const a = this.#assigned.get(k)
      if (a === undefined) continue
      if (end > a.endOffset) a.endOffset = end
      const pos = this.#reader.position(a.topic.source, a.partition)
      if (pos !== undefined) this.stats.lag.set(k, end > pos ? end - pos : 0n)
    }
    const slices = this.#slices(round.records)
    if (slices.length > 0) await this.#send(slices)
    // Every record below a partition's new position is now acknowledged, or was a transaction
    // marker or an aborted record: that position is safe to store. A partition moved back by a
    // failed or size-limited send no longer sits at its new position and is left out.
    for (const [k, next] of round.advanced) {
      const a = this.#assigned.get(k)
      if (a === undefined || this.#reader.position(a.topic.source, a.partition) !== next) continue
      this.#lastCopied.set(k, { topic: a.topic.source, partition: a.partition, offset: next - 1n })
    }
  }

  /** Each assigned partition's records, cut at the producer's per-partition batch bytes (the rest is read again next round). */
  #slices (records: ReadonlyMap<string, ConsumedRecord[]>): Slice[] {
    const slices: Slice[] = []
    for (const [key, all] of records) {
      const assigned = this.#assigned.get(key)
      if (assigned === undefined) continue
      let bytes = 0
      let n = 0
      for (; n < all.length; n++) {
        const size = recordSize(all[n] as ConsumedRecord)
        if (n > 0 && bytes + size > this.#producer.partitionBatchBytes) break
        bytes += size
      }
      const rest = all[n]
      if (rest !== undefined) this.#reader.seek(rest.topic, rest.partition, rest.offset)
      slices.push({ key, assigned, records: rest === undefined ? all : all.slice(0, n), bytes })
    }
    return slices
  }

  async #send (slices: readonly Slice[]): Promise<void> {
    try {
      const bases = await this.#producer.send(slices.map(s => this.#batch(s)))
      slices.forEach((s, i) => { this.#acknowledged(s, bases[i] ?? -1n) })
      // Due syncs go out right after the records they describe, as MM2 fires them after each ack.
      await this.#syncs?.flush(false)
      return
    } catch (err) {
      const error = err as KafkaError
      // Partitions the broker accepted are copied; only the others are rewound and retried.
      const acked = err instanceof ProduceFailure ? err.acked : []
      const failed = slices.filter((s, i) => {
        const base = acked[i]
        if (base !== undefined) this.#acknowledged(s, base)
        else this.#reader.seek(s.assigned.topic.source, s.assigned.partition, (s.records[0] as ConsumedRecord).offset)
        return base === undefined
      })
      if (error.retriable) {
        this.#log.warn('sending to the target failed; will retry the same records', { flow: this.#flow.name, partitions: failed.length, error })
        await sleep(1000)
        return
      }
      // Not retriable: find the first record each failing partition cannot take.
      for (const s of failed) await this.#sendOneByOne(s)
    }
  }

  #batch (s: Slice): PartitionBatch {
    return { topic: s.assigned.topic.remote, partition: s.assigned.partition, records: s.records }
  }

  /** Sends a partition's records one at a time; stops (and pauses the partition) at the first refused one. */
  async #sendOneByOne (s: Slice): Promise<void> {
    const topic = s.assigned.topic.source
    const partition = s.assigned.partition
    for (const r of s.records) {
      const one = { ...s, records: [r], bytes: recordSize(r) }
      try {
        const [base] = await this.#producer.send([this.#batch(one)])
        this.#acknowledged(one, base ?? -1n)
        this.#reader.seek(topic, partition, r.offset + 1n)
      } catch (err) {
        this.#reader.seek(topic, partition, r.offset)
        if (!(err as KafkaError).retriable) this.#failPartition(s.key, r.offset, err as KafkaError)
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

  /** A slice's records are on the target, starting at offset `base`. */
  #acknowledged (s: Slice, base: bigint): void {
    const last = s.records[s.records.length - 1]
    if (last === undefined) return
    const a = s.assigned
    this.#lastCopied.set(s.key, { topic: a.topic.source, partition: a.partition, offset: last.offset })
    if (base >= 0n) this.#syncs?.recordAcked(a.topic.source, a.partition, s.records, base)
    this.#onAcked?.(a.topic, s.records, Date.now())
    let bytes = 0
    for (const r of s.records) bytes += r.value?.length ?? 0
    this.#flushPolicy.acknowledged(s.records.length, s.bytes)
    if (a.attempts > 0) {
      a.attempts = 0
      if (this.stats.failures.delete(s.key)) this.#log.info('partition recovered', { topic: a.topic.source, partition: a.partition })
    }
    this.stats.recordsCopied += s.records.length
    this.stats.bytesCopied += bytes
    this.stats.batches++
    this.stats.lastCopyAt = Date.now()
  }

  async #onEvent (e: PartitionEvent): Promise<void> {
    const k = tpKey(e.topic, e.partition)
    const a = this.#assigned.get(k)
    if (a === undefined) return
    if (e.kind === 'recreated') {
      // Whatever the old topic held past our position was never copied.
      const lost = a.endOffset > e.previous ? a.endOffset - e.previous : 0n
      this.#restart(a, await this.#logRange(a), { reason: 'recreated', lost, from: e.previous })
      return
    }
    if (e.kind === 'out-of-range') {
      const range = await this.#logRange(a)
      if (e.requested < range.first) {
        this.#restart(a, range, { reason: 'expired', lost: range.first - e.requested, from: e.requested })
      } else if (e.requested > range.end) {
        // Truncated below our position (e.g. unclean leader election): what the log held is unknown.
        this.#restart(a, range, { reason: 'truncated', lost: -1n, from: e.requested })
      }
      return // otherwise the range moved while we asked; the next fetch will succeed
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

  async #logRange (a: Assigned): Promise<{ first: bigint, end: bigint }> {
    const tp = [{ topic: a.topic.source, partition: a.partition }]
    const k = tpKey(a.topic.source, a.partition)
    const [earliest, latest] = await Promise.all([this.#sourceAdmin.listOffsets(tp, 'earliest'), this.#sourceAdmin.listOffsets(tp, 'latest')])
    return { first: earliest.get(k) ?? 0n, end: latest.get(k) ?? 0n }
  }

  /** Reports the loss and continues from the partition's earliest offset. */
  #restart (a: Assigned, range: { first: bigint, end: bigint }, loss: Pick<DataLossEvent, 'reason' | 'lost' | 'from'>): void {
    this.#reportLoss({ topic: a.topic.source, partition: a.partition, ...loss, resumedAt: range.first, at: Date.now() })
    a.endOffset = range.end
    this.#reader.seek(a.topic.source, a.partition, range.first)
    this.#syncs?.reset(a.topic.source, a.partition)
  }

  /** Writes the latest offset sync of every partition and stores the positions of acknowledged records. */
  async flush (): Promise<void> {
    if (this.#syncs !== undefined) await this.#syncs.flush(true)
    await this.#storePositions()
  }

  async #storePositions (): Promise<void> {
    const snapshot = new Map(this.#lastCopied)
    try {
      if (snapshot.size > 0) await this.#positions.store(snapshot)
      for (const [k, v] of snapshot) if (this.#lastCopied.get(k) === v) this.#lastCopied.delete(k)
      this.#flushPolicy.stored(Date.now())
    } catch (err) {
      this.#flushPolicy.failed(Date.now())
      this.#log.warn('storing positions failed; will retry', { flow: this.#flow.name, error: err as Error })
    }
  }
}
