/**
 * Copies records from the source partitions of a flow to the same partitions of the remote
 * topics (MirrorSourceTask): same key, value, headers (all, in order) and timestamp; null keys
 * and tombstones kept.
 *
 * A pipeline of two loops per task (docs/DESIGN.md, "Copy pipeline"):
 * - the fetch loop reads ahead, one fetch per source leader in flight, into per-partition queues
 *   bounded in bytes (a full partition is simply not fetched until the sender drained it);
 * - the send loop sends the head of every partition queue that is free, several produce
 *   requests in flight at once but one unit per partition (source order kept without an
 *   idempotent producer); each partition's outcome comes back on its own;
 * - offset syncs and acknowledgement listeners are told after each acknowledgement and are
 *   never waited on; positions are stored in the background when position-flush-policy.ts says.
 * What may be sent, stored or retried is decided by partition-progress.ts (pure logic).
 *
 * Raw batches: a source batch that would be copied unchanged (contiguous offsets, CreateTime,
 * not cut by the position, the compression the target producer would use or none chosen) is
 * sent as bytes with only its producer fields and CRC rewritten (record-batch.ts forTarget).
 * Everything else goes through the record path: decoded, re-encoded in the target producer's
 * compression, small batches coalesced up to the producer's batch size.
 *
 * Safety rules:
 * - a position is stored only after the target acknowledged every record up to it;
 * - a failed unit is sent again, before anything behind it, until it is acknowledged;
 * - a partition that cannot be copied (not authorised, record too large for the target) is
 *   narrowed down to the refused record, reported with topic, partition, offset and reason,
 *   paused and retried later, while the others continue;
 * - records that expired on the source before they were copied, or a topic deleted and
 *   re-created, are reported as data loss with counts (log, status), never skipped silently;
 * - a send or store the write gate refused (this instance's group lease ended, write-gate.ts)
 *   left nothing on the target: its units stay queued and are sent again with the retry backoff
 *   once the lease is renewed; it is said once per episode, never reported as a refused record.
 */
import type { FlowConfig } from '../config/model.ts'
import { KafkaError } from '../errors.ts'
import type { KafkaAdmin } from '../kafka/admin.ts'
import { FetchArena } from '../kafka/fetch-arena.ts'
import type { FetchedPartition, PartitionEvent, PartitionReader } from '../kafka/partition-reader.ts'
import type { BatchOutcome, EncodedBatch, KafkaProducer } from '../kafka/producer.ts'
import {
  type BatchBytes,
  batchLength,
  type DecodedRecord,
  decodeBatch,
  encodeBatch,
  forTarget,
  type RawBatch,
  rawCopyRefusal
} from '../kafka/record-batch.ts'
import { TransactionFenced, type TransactionalSession } from '../kafka/transactional-session.ts'
import type { TxnError } from '../kafka/transactions.ts'
import { tpKey } from '../kafka/types.ts'
import { isGateRefusal } from '../kafka/write-gate.ts'
import type { Logger } from '../observe/logger.ts'
import {
  countAcked,
  countFetched,
  newPartitionStats,
  newTaskIo,
  type PartitionStats,
  type TaskIo
} from '../observe/metrics-copy.ts'
import { observe } from '../observe/metrics-window.ts'
import { sleep } from '../util/abortable.ts'
import type { Position } from './copier-protocol.ts'
import { type CopyUnit, joinUnits, type Payload } from './copy-unit.ts'
import type { OffsetSyncWriter } from './offset-sync-writer.ts'
import { backoff, PartitionProgress, REFUSED_BACKOFF } from './partition-progress.ts'
import { DEFAULT_FLUSH_THRESHOLDS, PositionFlushPolicy } from './position-flush-policy.ts'
import type { PositionStore } from './position-store.ts'
import type { ReplicatedTopic } from './topic-sync.ts'
import { TransactionBoundary } from './transaction-boundary.ts'

/**
 * A raw batch smaller than this is coalesced with its neighbours through the record path, unless compressed or alone.
 */
const RAW_MIN_BYTES = 16 * 1024
/**
 * A partition whose fetch failed (transiently) or whose bytes came damaged waits this long before it is fetched again.
 */
const READ_RETRY_BACKOFF = { firstMs: 100, maxMs: 2_000 } as const
/** A task fenced while it still runs tries to take its transactional id again after this long. */
const FENCED_RETRY_MS = 5_000
/** A whole fetch round that failed (the source unreachable) waits this long before the next. */
const SOURCE_FAILED_BACKOFF = { firstMs: 1_000, maxMs: 30_000 } as const

/** Writes of released partitions' positions tried before their next owner is left to copy some again. */
const RELEASE_STORE_ATTEMPTS = 3

/** A partition whose bytes came damaged this many times in a row is reported paused (status, log). */
const DAMAGED_REPORTED = 5

/** Bytes that failed a CRC check (ours or the target broker's): fetching them again may bring them whole. */
function isDamaged(err: unknown): boolean {
  return err instanceof KafkaError && err.kafkaCode === 'CORRUPT_MESSAGE' && err.retriable
}

/**
 * Larger raw batches go through the record path, which cuts them to the producer's batch size (a target's default
 * max.message.bytes is 1 MB).
 */
const RAW_MAX_BYTES = 1_000_000
/** Units (of up to the producer's batch size) queued per partition before its fetching waits for the sender. */
const PARTITION_QUEUE_UNITS = 2
/**
 * The fetch arena starts at one task queue (fetch.max.bytes, at least ARENA_MIN_QUEUE_BYTES) and
 * grows to hold up to this many when it runs out of room: the queue, the fetch that overshoots
 * it, one more answer in flight. When it is full at that size, fetched bytes stay views of their
 * socket chunks (correct, with more collections).
 */
const ARENA_QUEUES = 3
const ARENA_MIN_QUEUE_BYTES = 1024 * 1024
/** Produce requests of one task in flight at once (each to every leader that has free partitions). */
const SENDS_IN_FLIGHT = 4
/** Bytes of one send round (all partitions, all leaders). */
const SEND_ROUND_BYTES = 16 * 1024 * 1024
/**
 * Offset syncs are written in the background, one write at a time; a write that follows another
 * starts at least this long after it. Without the spacing a fast copy wrote them as fast as the
 * target acknowledged, about 140 small produce requests a second (830 in a 6 s lz4 copy of
 * 1,000,000 records, ~12 syncs each): each request costs the target broker a request and the
 * mirror a library send (metadata check, request encoding, a socket write that wakes the broker).
 * Java MM2 bounds them too (MirrorSourceTask keeps at most 10 offset syncs outstanding and skips
 * the rest). The first write after a quiet spell goes at once; the partitions' latest pairs are
 * written on every position flush and at stop whatever this says.
 */
const SYNC_WRITE_SPACING_MS = 50

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
  /** Bytes of record values copied on the record path plus record batch bytes on the raw path. */
  bytesCopied: number
  /** Of bytesCopied: record batch bytes copied as they were (raw path). */
  rawBytesCopied: number
  batches: number
  lastCopyAt: number
  readonly dataLoss: DataLossEvent[]
  readonly failures: Map<string, PartitionFailure>
  /** Source end offset minus next position, per partition (records not yet copied). */
  readonly lag: Map<string, bigint>
  /** Set while copying fails as a whole (e.g. a cluster is unreachable); cleared on success. */
  lastError: string | undefined
  /** Per partition (tpKey of the source partition): MirrorSourceMetrics' counters and windows, offsets for /status. */
  readonly partitions: Map<string, PartitionStats>
  /** This task's consumer/producer/commit counters (for the Connect-style metrics). */
  readonly io: TaskIo
  /** The exactly-once mode's transactions of this task; undefined when the mode is off. */
  transactions: TransactionStats | undefined
}

/** A task's transactions in the exactly-once mode (metrics, /status). */
export interface TransactionStats {
  readonly transactionalId: string
  producerId: string | undefined
  epoch: number | undefined
  committed: number
  aborted: number
  /** Another producer holds the id: the task writes nothing (it tries to take the id again every 5 s). */
  fenced: boolean
  /** Records and milliseconds of the last committed transaction (EndTxn included). */
  lastRecords: number
  lastCommitMs: number
}

interface Assigned {
  readonly key: string
  readonly topic: ReplicatedTopic
  readonly partition: number
  readonly progress: PartitionProgress<Payload>
  /** What metrics and /status show of this partition (the same object as in stats.partitions). */
  readonly metrics: PartitionStats
  /** Highest end offset seen on the source for this partition (to count losses). */
  endOffset: bigint
  /** Reading failed: not fetched again before this time (growing with each failure in a row). */
  readRetryAt: number
  readFailures: number
  /** Fetches in a row whose bytes failed their CRC check (reset by the next acknowledgement). */
  damaged: number
  /** Given up by release(): an answer still in flight moves its progress, nothing else touches it. */
  released: boolean
  /** Units sent and not settled yet (one, or a stale one after a restart and a new one): the bytes they read. */
  readonly sending: Set<CopyUnit>
}

/** The round's sends have settled (answered, failed or given up): their units no longer read their bytes. */
function settled(round: ReadonlyArray<{ readonly a: Assigned; readonly unit: CopyUnit }>): void {
  for (const { a, unit } of round) a.sending.delete(unit)
}

/** What a task in the exactly-once mode keeps about its transactions (docs/exactly-once-plan.md §5.1). */
interface TransactionalCopy {
  readonly session: TransactionalSession
  readonly boundary: TransactionBoundary
  /** Partitions with records acknowledged in the open transaction: their positions go in it. */
  readonly parts: Map<string, Assigned>
  /** What an acknowledgement does besides moving the progress (counters, syncs, listeners): run at the commit. */
  readonly effects: Array<() => void>
  /** Waiting for the open transaction to end (a release). */
  readonly settled: Array<() => void>
  /** The id taken and the committed positions read (once, before the first partition starts). */
  ready: Promise<void> | undefined
  /** Another producer took the transactional id: this task writes nothing more. */
  fenced: boolean
  /** Records acknowledged in the open transaction. */
  records: number
}

/** A transaction request's error as the copier reports failures. */
function transactionError(e: TxnError): KafkaError {
  return new KafkaError(`${e.name}${e.message === null ? '' : `: ${e.message}`}`, {
    retriable: e.kind === 'retriable',
    kafkaCode: e.name
  })
}

/** The counters of a task that has copied nothing yet. */
export function newCopierStats(): CopierStats {
  return {
    recordsCopied: 0,
    bytesCopied: 0,
    rawBytesCopied: 0,
    batches: 0,
    lastCopyAt: 0,
    dataLoss: [],
    failures: new Map(),
    lag: new Map(),
    lastError: undefined,
    partitions: new Map(),
    io: newTaskIo(),
    transactions: undefined
  }
}

/** The positions of these partitions that moved since their last store, by tpKey (what PositionStore.store takes). */
function storableSnapshot(
  partitions: Iterable<Assigned>
): Map<string, { topic: string; partition: number; offset: bigint }> {
  const snapshot = new Map<string, { topic: string; partition: number; offset: bigint }>()
  for (const a of partitions) {
    const offset = a.progress.storable()
    if (offset !== undefined) snapshot.set(a.key, { topic: a.topic.source, partition: a.partition, offset })
  }
  return snapshot
}

/**
 * Told about every run of records the target acknowledged (the heartbeat latency tracker listens); `records` decodes on
 * demand.
 */
export type AckedListener = (topic: ReplicatedTopic, records: () => readonly DecodedRecord[], ackedAt: number) => void

export class RecordCopier {
  readonly #flow: FlowConfig
  readonly #reader: PartitionReader
  /**
   * Fetched bytes queued before all fetching waits for the sender (one fetch in flight per leader
   * comes on top): the reader's fetch.max.bytes, so one answer is at most what the task queues.
   */
  readonly #queueBytes: number
  readonly #arena: FetchArena | undefined
  readonly #producer: KafkaProducer
  readonly #sourceAdmin: KafkaAdmin
  readonly #positions: PositionStore
  readonly #syncs: OffsetSyncWriter | undefined
  readonly #log: Logger
  readonly #onAcked: AckedListener | undefined
  /** The exactly-once mode: every copy round is written in this session's transactions. */
  readonly #txn: TransactionalCopy | undefined
  readonly #assigned = new Map<string, Assigned>()
  /** Partitions already reported missing (reported once, not every poll). */
  readonly #missing = new Set<string>()
  readonly #flushPolicy: PositionFlushPolicy
  /** Raw-path refusals already logged, by reason (logged once each). */
  readonly #fallbacksLogged = new Set<string>()
  #sendsInFlight = 0
  readonly #inFlight = new Set<Promise<void>>()
  #wake: (() => void) | undefined
  #storing: Promise<void> | undefined
  #syncFlush: Promise<void> | undefined
  #syncFlushAgain = false
  /** The next offset-sync write, waiting for SYNC_WRITE_SPACING_MS since the last one. */
  #syncTimer: NodeJS.Timeout | undefined
  #lastSyncWrite = 0
  #consecutiveFailedRounds = 0
  /** A lease refusal was logged (sending / storing); cleared by the next success, so once per episode. */
  #sendGateLogged = false
  #storeGateLogged = false
  readonly stats: CopierStats = newCopierStats()

  constructor(
    flow: FlowConfig,
    deps: {
      reader: PartitionReader
      producer: KafkaProducer
      sourceAdmin: KafkaAdmin
      positions: PositionStore
      offsetSyncs: OffsetSyncWriter | undefined
      log: Logger
      onAcked?: AckedListener
      /** Copy in Kafka transactions with this session (the exactly-once mode; flow.exactlyOnce says how). */
      transactions?: TransactionalSession
    }
  ) {
    this.#flow = flow
    this.#reader = deps.reader
    // At least a byte: with fetch.max.bytes=0 (one batch per fetch) the queue must still let one fetch in.
    this.#queueBytes = Math.max(1, deps.reader.fetchMaxBytes)
    this.stats.io.queueLimitBytes = this.#queueBytes
    // Fetched bytes go into one reused block (fetch-arena.ts says why). Not in the exactly-once mode: its
    // acknowledged records are kept until the commit, past what the arena's holds account for.
    if (deps.transactions === undefined) {
      const queue = Math.max(this.#queueBytes, ARENA_MIN_QUEUE_BYTES)
      this.#arena = new FetchArena(ARENA_QUEUES * queue, queue)
      deps.reader.copyFetchedInto(this.#arena)
    }
    this.#producer = deps.producer
    this.#sourceAdmin = deps.sourceAdmin
    this.#positions = deps.positions
    this.#syncs = deps.offsetSyncs
    this.#log = deps.log
    this.#onAcked = deps.onAcked
    if (deps.transactions !== undefined)
      this.#txn = {
        session: deps.transactions,
        boundary: new TransactionBoundary(flow.exactlyOnce),
        parts: new Map(),
        effects: [],
        settled: [],
        ready: undefined,
        fenced: false,
        records: 0
      }
    if (deps.transactions !== undefined)
      this.stats.transactions = {
        transactionalId: deps.transactions.transactionalId,
        producerId: undefined,
        epoch: undefined,
        committed: 0,
        aborted: 0,
        fenced: false,
        lastRecords: 0,
        lastCommitMs: 0
      }
    this.#flushPolicy = new PositionFlushPolicy(
      { intervalMs: flow.offsetFlushIntervalMs, ...DEFAULT_FLUSH_THRESHOLDS },
      Date.now()
    )
  }

  get assignedCount(): number {
    return this.#assigned.size
  }

  /** Adds partitions of topics ready on the target (those `only` accepts); starts each at its stored position. */
  async assign(
    topics: ReadonlyMap<string, ReplicatedTopic>,
    only?: (topic: string, partition: number) => boolean
  ): Promise<void> {
    const fresh: Array<{ t: ReplicatedTopic; partition: number }> = []
    for (const t of topics.values()) {
      for (let partition = 0; partition < t.partitions; partition++) {
        if (only !== undefined && !only(t.source, partition)) continue
        if (!this.#assigned.has(tpKey(t.source, partition))) fresh.push({ t, partition })
      }
    }
    if (fresh.length === 0) return
    if (this.#txn !== undefined) await this.#transactionalStart(this.#txn)
    const tps = fresh.map(f => ({ topic: f.t.source, partition: f.partition }))
    const resetLatest = String(this.#flow.clients.sourceConsumer.props['auto.offset.reset'] ?? 'earliest') === 'latest'
    const [earliest, latest] = await Promise.all([
      this.#sourceAdmin.listOffsets(tps, 'earliest'),
      this.#sourceAdmin.listOffsets(tps, 'latest')
    ])
    for (const { t, partition } of fresh) {
      const k = tpKey(t.source, partition)
      const first = earliest.get(k) ?? 0n
      const end = latest.get(k) ?? 0n
      const stored = this.#positions.resumeOffset(t.source, partition)
      let start = stored ?? (resetLatest ? end : first)
      if (stored !== undefined && stored < first) {
        this.#reportLoss({
          topic: t.source,
          partition,
          reason: 'expired',
          lost: first - stored,
          from: stored,
          resumedAt: first,
          at: Date.now()
        })
        start = first
      } else if (stored !== undefined && stored > end) {
        this.#reportLoss({
          topic: t.source,
          partition,
          reason: 'truncated',
          lost: -1n,
          from: stored,
          resumedAt: first,
          at: Date.now()
        })
        start = first
      }
      const metrics = newPartitionStats(t.source, partition, t.remote, start)
      metrics.endOffset = Number(end)
      this.stats.partitions.set(k, metrics)
      this.#assigned.set(k, {
        key: k,
        topic: t,
        partition,
        progress: new PartitionProgress(start),
        metrics,
        endOffset: end,
        readRetryAt: 0,
        readFailures: 0,
        damaged: 0,
        released: false,
        sending: new Set()
      })
      this.#reader.seek(t.source, partition, start)
      this.#syncs?.reset(t.source, partition)
      this.#log.debug('assigned partition', { topic: t.source, partition, start, stored })
    }
    this.#log.info('copying partitions', { added: fresh.length, total: this.#assigned.size })
    this.#wakeUp()
  }

  /**
   * Gives up these partitions (tpKeys) while the others keep copying, as a revoked partition is
   * handed over (docs/scale-out-plan.md §5.3): they are no longer fetched, what the fetch loop
   * read ahead for them is dropped, the sends in flight are let finish (their acknowledgements
   * still count), then the offset syncs and the positions of everything acknowledged are
   * written, as on stop. Once it resolves nothing is sent or stored for them by this copier.
   * Returns the position of each: the last copied offset stored, or the offset before the one
   * it resumed from when that is newer (it was handed over and nothing was copied since); none
   * when neither is known.
   */
  async release(keys: ReadonlySet<string>): Promise<Position[]> {
    const leaving: Assigned[] = []
    for (const k of keys) {
      const a = this.#assigned.get(k)
      if (a === undefined) continue
      // Out of #assigned: the fetch loop drops answers for it, the send loop never takes it again.
      this.#assigned.delete(k)
      a.released = true
      a.progress.release()
      this.#reader.remove(a.topic.source, a.partition)
      this.stats.partitions.delete(k)
      this.stats.lag.delete(k)
      this.stats.failures.delete(k)
      this.#missing.delete(k)
      leaving.push(a)
    }
    if (leaving.length === 0) return []
    // A send taken before the release may carry a unit of theirs; a store or sync write begun
    // before may name them: all finish before their positions are written and release resolves.
    await Promise.all([...this.#inFlight])
    // In the exactly-once mode their positions are written in the open transaction: released once it ended.
    if (this.#txn !== undefined) await this.#transactionEnded(this.#txn)
    if (this.#storing !== undefined) await this.#storing
    if (this.#syncFlush !== undefined) await this.#syncFlush
    if (this.#syncs !== undefined) await this.#syncs.flush(true)
    if (this.#txn === undefined) await this.#storeReleased(leaving)
    for (const a of leaving) this.#syncs?.reset(a.topic.source, a.partition)
    this.#log.info('released partitions', { released: leaving.length, total: this.#assigned.size })
    this.#updateLag()
    return leaving.flatMap(a => {
      const stored = this.#positions.lastStored(a.topic.source, a.partition)
      const resumed = a.progress.storedTo - 1n
      const offset = stored === undefined || resumed > stored ? resumed : stored
      return offset < 0n ? [] : [[a.topic.source, a.partition, offset] as const]
    })
  }

  /** Stores released partitions' positions; a failing write is tried again twice (not when the lease refused it). */
  async #storeReleased(leaving: readonly Assigned[]): Promise<void> {
    const snapshot = storableSnapshot(leaving)
    for (let attempt = 1; snapshot.size > 0; attempt++) {
      try {
        await this.#positions.store(snapshot)
        for (const a of leaving) {
          const v = snapshot.get(a.key)
          if (v !== undefined) a.progress.stored(v.offset)
        }
        return
      } catch (err) {
        if (isGateRefusal(err) || attempt >= RELEASE_STORE_ATTEMPTS) {
          // The next owner resumes from the position stored before: records copied since are copied again.
          this.#log.warn(
            'storing the positions of released partitions failed; their next owner copies again from the last stored position',
            {
              flow: this.#flow.name,
              partitions: snapshot.size,
              error: err as Error
            }
          )
          return
        }
        await sleep(backoff(attempt, READ_RETRY_BACKOFF))
      }
    }
  }

  #reportLoss(e: DataLossEvent): void {
    this.stats.dataLoss.push(e)
    if (this.stats.dataLoss.length > 1000) this.stats.dataLoss.shift()
    const what =
      e.reason === 'expired'
        ? 'records expired on the source before they were copied'
        : e.reason === 'recreated'
          ? 'source topic was deleted and re-created; records of the old topic were not copied'
          : 'source partition was truncated below the stored position'
    this.#log.error(`DATA LOSS: ${what}`, {
      flow: this.#flow.name,
      topic: e.topic,
      partition: e.partition,
      lost: e.lost < 0n ? 'unknown' : e.lost,
      from: e.from,
      resumedAt: e.resumedAt
    })
  }

  /**
   * Runs until the signal aborts; then lets the sends in flight finish and stores positions of everything acknowledged.
   */
  async run(signal: AbortSignal): Promise<void> {
    const onAbort = (): void => {
      this.#wakeUp()
    }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      const txn = this.#txn
      await Promise.all([
        this.#fetchLoop(signal),
        txn === undefined ? this.#sendLoop(signal) : this.#transactionalLoop(signal, txn)
      ])
    } finally {
      signal.removeEventListener('abort', onAbort)
      await Promise.all(this.#inFlight)
      await this.flush()
    }
  }

  // ---- fetching ------------------------------------------------------------------------

  async #fetchLoop(signal: AbortSignal): Promise<void> {
    let failures = 0
    while (!signal.aborted) {
      try {
        if (this.#queuedBytes() >= this.#queueBytes) {
          await this.#waitForWork(signal, 1000)
          continue
        }
        const limit = PARTITION_QUEUE_UNITS * this.#producer.partitionBatchBytes
        const now = Date.now()
        const round = await this.#reader.pollBatches(signal, key => {
          const a = this.#assigned.get(key)
          return a === undefined || (a.progress.queuedBytes < limit && a.readRetryAt <= now)
        })
        try {
          for (const e of round.events) await this.#onEvent(e)
          for (const [k, end] of round.endOffsets) {
            const a = this.#assigned.get(k)
            if (a !== undefined && end > a.endOffset) a.endOffset = end
          }
          const fetchedAt = Date.now()
          for (const [k, f] of round.fetched) {
            const a = this.#assigned.get(k)
            if (a === undefined) continue
            countFetched(a.metrics, this.stats.io, f.batches, fetchedAt)
            this.#enqueue(a, f)
            if (a.readFailures > 0) this.#readRecovered(a)
          }
        } finally {
          // The arena bytes of a fetch answer that was not queued (its partition gone, a restart
          // in between, an error on the way) are read by nobody.
          for (const f of round.fetched.values()) f.region?.releaseUnclaimed()
        }
        this.#updateLag()
        if (failures > 0 && round.fetched.size > 0) failures = 0
        this.#wakeUp()
      } catch (err) {
        failures++
        this.stats.lastError = (err as Error).message
        this.#log.warn('reading the source failed; retrying', {
          flow: this.#flow.name,
          attempt: failures,
          error: err as Error
        })
        await sleep(backoff(failures, SOURCE_FAILED_BACKOFF), signal)
      }
    }
  }

  /**
   * Cuts what one fetch brought into units: each raw batch on its own (a produce request takes
   * one batch per partition), runs of other batches together up to the producer's batch size,
   * markers and aborted batches folded into the unit next to them.
   */
  #enqueue(a: Assigned, f: FetchedPartition): void {
    const progress = a.progress
    // A fetch answered for a position the progress no longer expects (a restart came in between) is dropped.
    if (f.from !== progress.end) return
    f.region?.holdWhile(this.#holds(a, f.from, f.next))
    const rawAllowed = this.#flow.rawBatches
    const wanted = f.batches.filter(b => !b.skip).length
    let open: { first: bigint; batches: RawBatch[]; bytes: number; hasRecords: boolean } | undefined
    let at = f.from
    const close = (next: bigint): void => {
      if (open === undefined) return
      progress.enqueue({
        first: open.first,
        next,
        bytes: open.hasRecords ? open.bytes : 0,
        empty: !open.hasRecords,
        payload: { kind: open.hasRecords ? 'records' : 'skip', batches: open.batches }
      })
      open = undefined
    }
    for (const { batch, skip } of f.batches) {
      if (!skip && rawAllowed && batch.baseOffset >= at && this.#rawEligible(batch, wanted)) {
        // Offsets before it that no batch holds (compaction removed whole batches) belong to the
        // unit before it, or are stepped over.
        if (open !== undefined) close(batch.baseOffset)
        else if (batch.baseOffset > at)
          progress.enqueue({
            first: at,
            next: batch.baseOffset,
            bytes: 0,
            empty: true,
            payload: { kind: 'skip', batches: [] }
          })
        progress.enqueue({
          first: batch.baseOffset,
          next: batch.nextOffset,
          bytes: batch.size,
          empty: false,
          payload: { kind: 'raw', batches: [batch] }
        })
        at = batch.nextOffset
        continue
      }
      if (
        open !== undefined &&
        open.hasRecords &&
        !skip &&
        open.bytes + batch.size > this.#producer.partitionBatchBytes
      )
        close(at)
      open ??= { first: at, batches: [], bytes: 0, hasRecords: false }
      if (!skip) {
        open.batches.push(batch)
        open.hasRecords = true
      }
      open.bytes += batch.size
      at = batch.nextOffset
    }
    close(f.next)
  }

  #rawEligible(b: RawBatch, batchesInFetch: number): boolean {
    let reason = rawCopyRefusal(b)
    if (reason === undefined && this.#producer.compressionSet && b.codec !== this.#producer.compression)
      reason = `its compression (${b.codec}) is not the target producer's compression.type (${this.#producer.compression})`
    if (reason === undefined && b.size > RAW_MAX_BYTES)
      reason = `it is larger (${b.size} bytes) than a target topic takes by default`
    if (reason !== undefined) {
      const kind = reason.replace(/\d+/g, 'N')
      if (!this.#fallbacksLogged.has(kind)) {
        this.#fallbacksLogged.add(kind)
        this.#log.info('copying some batches record by record instead of as bytes', { flow: this.#flow.name, reason })
      }
      return false
    }
    // Small uncompressed batches are cheaper to coalesce than to send one request each.
    return b.codec !== 'none' || b.size >= RAW_MIN_BYTES || batchesInFetch === 1
  }

  /** Fetched bytes waiting in this task's queues. */
  #queuedBytes(): number {
    let n = 0
    for (const a of this.#assigned.values()) n += a.progress.queuedBytes
    return n
  }

  /**
   * Once per fetch round. The source end offset is the high watermark (or last stable offset)
   * every fetch answer carries, so lag costs no request of its own; an idle partition's fetch
   * still answers (with no records) at least every fetch wait, so its end offset stays fresh.
   */
  #updateLag(): void {
    let queued = 0
    for (const [k, a] of this.#assigned) {
      const done = a.progress.ackedTo
      this.stats.lag.set(k, a.endOffset > done ? a.endOffset - done : 0n)
      a.metrics.endOffset = Number(a.endOffset)
      a.metrics.active = Number(a.progress.end - done)
      queued += a.progress.queuedBytes
    }
    this.stats.io.queuedBytes = queued
    this.stats.io.arenaBytes = this.#arena?.copiedBytes ?? 0
    this.stats.io.arenaFullBytes = this.#arena?.fullBytes ?? 0
    this.stats.io.arenaSizeBytes = this.#arena?.capacity ?? 0
  }

  // ---- sending -------------------------------------------------------------------------

  async #sendLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const now = Date.now()
      if (this.#sendsInFlight < SENDS_IN_FLIGHT) {
        const round = this.#takeRound(now)
        if (round.length > 0) {
          this.#startSend(round)
          continue
        }
      }
      this.#maybeStore(now)
      await this.#waitForWork(signal, this.#nextRetryIn(now))
    }
  }

  /** The head unit of every partition that may send now, up to SEND_ROUND_BYTES. */
  #takeRound(now: number): Array<{ a: Assigned; unit: CopyUnit; epoch: number }> {
    const round: Array<{ a: Assigned; unit: CopyUnit; epoch: number }> = []
    let bytes = 0
    for (const a of this.#assigned.values()) {
      a.progress.coalesceHead(this.#joinUnits)
      const unit = a.progress.next(now)
      if (unit === undefined) continue
      if (round.length > 0 && bytes + unit.bytes > SEND_ROUND_BYTES) break
      a.progress.sending(unit)
      a.sending.add(unit)
      round.push({ a, unit, epoch: a.progress.epoch })
      bytes += unit.bytes
    }
    return round
  }

  /**
   * Whether the arena bytes of a fetch of `a` over [from, next) may still be read: by a send not
   * settled yet of a unit over any of those offsets (it may be encoding them, or the socket
   * writing them; a unit only reads batches of the fetches its offsets came from), or by the
   * partition's queue, which holds every offset from `ackedTo` on until a restart or a re-fetch
   * drops it (the epoch moves) or the partition is given up. Offsets below `ackedTo` are on the
   * target, and an acknowledged unit lets go of its bytes (#counted).
   */
  #holds(a: Assigned, from: bigint, next: bigint): () => boolean {
    const epoch = a.progress.epoch
    return () => {
      if (!a.released && this.#assigned.get(a.key) === a && a.progress.epoch === epoch && a.progress.ackedTo < next)
        return true
      for (const unit of a.sending) if (unit.first < next && unit.next > from) return true
      return false
    }
  }

  readonly #joinUnits = (head: CopyUnit, following: CopyUnit): CopyUnit | undefined =>
    joinUnits(head, following, this.#producer.partitionBatchBytes)

  #startSend(round: Array<{ a: Assigned; unit: CopyUnit; epoch: number }>): void {
    this.#sendsInFlight++
    const p = this.#send(round)
      .catch((err: unknown) => {
        // Only a bug gets here (send outcomes are values): the units go back to be sent again.
        this.#log.error('sending failed unexpectedly; will retry', { flow: this.#flow.name, error: err as Error })
        for (const { a, unit } of round) a.progress.failed(unit, Date.now())
      })
      .finally(() => {
        this.#sendsInFlight--
        settled(round)
        this.#inFlight.delete(p)
        this.#wakeUp()
      })
    this.#inFlight.add(p)
  }

  async #send(round: Array<{ a: Assigned; unit: CopyUnit; epoch: number }>): Promise<void> {
    const ready: Array<{ a: Assigned; unit: CopyUnit; epoch: number; batch: EncodedBatch }> = []
    for (const item of round) {
      try {
        const encoded = await this.#encode(item.unit)
        ready.push({ ...item, batch: { topic: item.a.topic.remote, partition: item.a.partition, batch: encoded } })
      } catch (err) {
        if (isDamaged(err)) this.#refetch(item.a, item.unit, err as KafkaError)
        else this.#refused(item.a, item.unit, err as KafkaError)
      }
    }
    if (ready.length === 0) return
    for (const r of ready) this.stats.io.sentBytes += batchLength(r.batch.batch)
    const outcomes = await this.#producer.sendBatches(ready.map(r => r.batch))
    let failedRetriable: KafkaError | undefined
    let gateRefused: KafkaError | undefined
    let anyAcked = false
    ready.forEach((r, i) => {
      const outcome = outcomes[i] as BatchOutcome
      if (outcome.error === undefined) {
        anyAcked = true
        this.#acknowledged(r.a, r.unit, r.epoch, outcome.base)
      } else if (isDamaged(outcome.error)) {
        this.#refetch(r.a, r.unit, outcome.error)
      } else if (isGateRefusal(outcome.error)) {
        // Not sent at all: like a retriable failure, but nothing to narrow down or report per record.
        gateRefused ??= outcome.error
        r.a.progress.failed(r.unit, Date.now())
      } else if (outcome.error.retriable) {
        failedRetriable ??= outcome.error
        r.a.progress.failed(r.unit, Date.now())
      } else {
        this.#refused(r.a, r.unit, outcome.error)
      }
    })
    if (anyAcked) {
      // Stored as soon as the policy says so, even while the pipeline never idles.
      this.#maybeStore(Date.now())
      if (this.#consecutiveFailedRounds > 0 || this.#sendGateLogged)
        this.#log.info('copying recovered', { flow: this.#flow.name })
      this.#consecutiveFailedRounds = 0
      this.#sendGateLogged = false
      this.stats.lastError = undefined
    } else if (gateRefused !== undefined) {
      this.stats.lastError = gateRefused.message
      if (!this.#sendGateLogged)
        this.#log.warn('sending refused: the write lease has ended; the records stay queued until it is renewed', {
          flow: this.#flow.name,
          error: gateRefused
        })
      this.#sendGateLogged = true
    } else if (failedRetriable !== undefined) {
      this.#sendFailed(failedRetriable, ready.length)
    }
  }

  /** A send failed in a way that may pass: counted, said once per streak and then every 20th time. */
  #sendFailed(error: KafkaError, partitions: number): void {
    this.#consecutiveFailedRounds++
    this.stats.lastError = error.message
    // A cluster away for minutes must not flood the log.
    if (this.#consecutiveFailedRounds === 1 || this.#consecutiveFailedRounds % 20 === 0) {
      this.#log.warn('sending to the target failed; will retry the same records', {
        flow: this.#flow.name,
        partitions,
        attempt: this.#consecutiveFailedRounds,
        error
      })
    }
  }

  // ---- exactly-once mode (docs/exactly-once-plan.md §5.1) -------------------------------

  /**
   * Before the first partition starts: takes the task's transactional id (which fences any
   * earlier holder and lets its open transaction end), then reads the committed positions, so
   * every partition resumes exactly after what was committed. Later calls read the positions
   * again for the partitions being added (another task or instance may have committed some).
   */
  async #transactionalStart(txn: TransactionalCopy): Promise<void> {
    if (txn.ready === undefined) {
      txn.ready = (async () => {
        await txn.session.init()
        this.#producerTaken(txn)
        const p = txn.session.producer
        this.#log.info('took transactional id', {
          flow: this.#flow.name,
          transactionalId: txn.session.transactionalId,
          producerId: p?.producerId,
          epoch: p?.producerEpoch
        })
      })()
      try {
        await txn.ready
      } catch (err) {
        txn.ready = undefined
        throw err
      }
    } else await txn.ready
    await this.#positions.load()
  }

  /**
   * The send loop of the exactly-once mode: one round at a time, each sent in the open
   * transaction; the transaction commits, with the positions of everything acknowledged in it,
   * when the boundary says so, when a release waits for it, and on stop (Connect's final
   * transaction). Whatever goes wrong ends in an abort (or an epoch bump) and a restart from the
   * committed positions, never in a position that is ahead of what was committed.
   */
  async #transactionalLoop(signal: AbortSignal, txn: TransactionalCopy): Promise<void> {
    while (!signal.aborted) {
      if (txn.fenced) {
        await this.#takeIdAgain(txn, signal)
        continue
      }
      const now = Date.now()
      const open = txn.session.open || txn.parts.size > 0
      if (open && (txn.boundary.due(now) || txn.settled.length > 0)) {
        await this.#transactionStep(txn, signal, async () => {
          await this.#commit(txn)
        })
        continue
      }
      const round = txn.session.producer === undefined ? [] : this.#takeRound(now)
      if (round.length > 0) {
        await this.#transactionStep(txn, signal, async () => {
          try {
            await this.#sendInTransaction(txn, round)
          } finally {
            settled(round)
          }
        })
        continue
      }
      if (open && txn.boundary.dueWhenIdle()) {
        await this.#transactionStep(txn, signal, async () => {
          await this.#commit(txn)
        })
        continue
      }
      if (!open) this.#settle(txn)
      this.#maybeFlushAllSyncs(now)
      await this.#waitForWork(signal, Math.min(this.#nextRetryIn(now), txn.boundary.dueIn(now)))
    }
    if (!txn.fenced && (txn.session.open || txn.parts.size > 0))
      await this.#transactionStep(txn, undefined, async () => {
        await this.#commit(txn)
      })
    this.#settle(txn)
  }

  /** Runs one step; fencing stops the task, any other error recovers from the committed positions. */
  async #transactionStep(
    txn: TransactionalCopy,
    signal: AbortSignal | undefined,
    step: () => Promise<void>
  ): Promise<void> {
    try {
      await step()
      if (this.#consecutiveFailedRounds > 0) this.#log.info('copying recovered', { flow: this.#flow.name })
      this.#consecutiveFailedRounds = 0
    } catch (err) {
      if (err instanceof TransactionFenced) this.#fenced(txn, err)
      else await this.#recover(txn, err as Error, signal)
    } finally {
      // What was sent left room in the queues: a fetch loop waiting for room goes on at once.
      this.#wakeUp()
    }
  }

  async #sendInTransaction(
    txn: TransactionalCopy,
    round: Array<{ a: Assigned; unit: CopyUnit; epoch: number }>
  ): Promise<void> {
    const ready: Array<{ a: Assigned; unit: CopyUnit; epoch: number; batch: BatchBytes }> = []
    for (const item of round) {
      try {
        ready.push({ ...item, batch: await this.#encode(item.unit) })
      } catch (err) {
        if (isDamaged(err)) this.#refetch(item.a, item.unit, err as KafkaError)
        else this.#refused(item.a, item.unit, err as KafkaError)
      }
    }
    if (ready.length === 0) return
    for (const r of ready) this.stats.io.sentBytes += batchLength(r.batch)
    let outcomes
    try {
      outcomes = await txn.session.send(
        ready.map(r => ({ topic: r.a.topic.remote, partition: r.a.partition, batch: r.batch }))
      )
    } catch (err) {
      const now = Date.now()
      for (const r of ready) r.a.progress.failed(r.unit, now)
      throw err
    }
    let records = 0
    let bytes = 0
    let failed: TxnError | undefined
    ready.forEach((r, i) => {
      const outcome = outcomes[i]
      if (outcome === undefined) return
      if ('baseOffset' in outcome) {
        if (!r.a.progress.acked(r.unit, r.epoch)) return
        txn.parts.set(r.a.key, r.a)
        txn.effects.push(() => {
          this.#counted(r.a, r.unit, outcome.baseOffset)
        })
        // The stamped bytes are on the target; the records stay (decoded once) for the offset syncs at the commit.
        r.unit.payload.encoded = undefined
        records +=
          r.unit.payload.kind === 'raw' ? (r.unit.payload.batches[0]?.count ?? 0) : this.#records(r.unit).length
        bytes += r.unit.bytes
      } else if (outcome.error.kind === 'refused') {
        this.#refused(r.a, r.unit, transactionError(outcome.error))
      } else {
        failed ??= outcome.error
        r.a.progress.failed(r.unit, Date.now())
      }
    })
    txn.records += records
    txn.boundary.round(Date.now(), records, bytes)
    if (txn.session.tainted) {
      await this.#abort(txn, failed)
      return
    }
    if (failed !== undefined) this.#sendFailed(transactionError(failed), ready.length)
  }

  /** Writes the positions of what the transaction holds into it, then commits it; then counts and syncs. */
  async #commit(txn: TransactionalCopy): Promise<void> {
    const started = Date.now()
    const snapshot = storableSnapshot(txn.parts.values())
    const positions = await Promise.all(
      this.#positions.positionRecords(snapshot).map(async b => ({
        topic: b.topic,
        partition: b.partition,
        batch: await encodeBatch(b.records, 'none')
      }))
    )
    if (positions.length > 0) {
      const outcomes = await txn.session.send(positions)
      const failed = outcomes.find(o => 'error' in o)
      if (failed !== undefined && 'error' in failed)
        throw new KafkaError(`writing positions in the transaction failed: ${failed.error.name}`, {
          retriable: true,
          kafkaCode: failed.error.name
        })
    }
    await txn.session.commit()
    const now = Date.now()
    for (const [k, v] of snapshot) {
      const a = txn.parts.get(k)
      a?.progress.stored(v.offset)
      if (a !== undefined) a.metrics.storedTo = Number(v.offset) + 1
    }
    this.#positions.remember(snapshot)
    if (snapshot.size > 0) {
      observe(this.stats.io.storeWindow, now, 1, now - started, now - started, now - started)
      this.stats.io.stores++
    }
    const t = this.stats.transactions
    if (t !== undefined) {
      t.committed++
      t.lastRecords = txn.records
      t.lastCommitMs = Date.now() - started
    }
    txn.records = 0
    for (const effect of txn.effects.splice(0)) effect()
    txn.parts.clear()
    txn.boundary.ended()
    this.#settle(txn)
    this.#maybeFlushAllSyncs(now)
  }

  /**
   * The exactly-once mode's counterpart of the interval store (#maybeStore): every
   * offset.flush.interval.ms, the latest offset sync of every partition is written, in the
   * background, even while idle. It closes the last run of syncs, which translation needs to
   * prove exact answers (docs/DESIGN.md "Exact offset translation"); positions need nothing here,
   * they are committed with the records.
   */
  #maybeFlushAllSyncs(now: number): void {
    const syncs = this.#syncs
    if (syncs === undefined || this.#storing !== undefined || !this.#flushPolicy.intervalDue(now)) return
    this.#storing = (async () => {
      if (this.#syncFlush !== undefined) await this.#syncFlush
      await syncs.flush(true)
    })()
      .then(
        () => {
          this.#flushPolicy.stored(Date.now())
        },
        (err: unknown) => {
          this.#flushPolicy.failed(Date.now())
          this.#log.warn('writing offset syncs failed; will retry', { flow: this.#flow.name, error: err as Error })
        }
      )
      .finally(() => {
        this.#storing = undefined
      })
  }

  /** Aborts the open transaction; its partitions start again from their committed positions. */
  async #abort(txn: TransactionalCopy, cause: TxnError | undefined): Promise<void> {
    this.#log.warn('aborting a transaction; its partitions are copied again from their committed positions', {
      flow: this.#flow.name,
      transactionalId: txn.session.transactionalId,
      partitions: txn.parts.size,
      reason: cause === undefined ? 'the transaction cannot commit' : `${cause.name} (${cause.kind})`
    })
    await txn.session.abort()
    this.#producerTaken(txn)
    if (this.stats.transactions !== undefined) this.stats.transactions.aborted++
    this.#rewind(txn, () => undefined)
  }

  /**
   * After an error that leaves the open transaction's outcome unknown (a commit or abort that
   * could not finish, a lost answer, the write lease): bumps the epoch, retried with backoff until
   * it succeeds, is fenced, or the task stops; then reads the committed positions and restarts the
   * transaction's partitions from them. A commit that did land is found there, so nothing it held
   * is copied twice.
   */
  async #recover(txn: TransactionalCopy, error: Error, signal: AbortSignal | undefined): Promise<void> {
    this.#consecutiveFailedRounds++
    this.stats.lastError = error.message
    if (this.#consecutiveFailedRounds === 1 || this.#consecutiveFailedRounds % 20 === 0)
      this.#log.warn('a transaction failed; recovering from the committed positions', {
        flow: this.#flow.name,
        transactionalId: txn.session.transactionalId,
        attempt: this.#consecutiveFailedRounds,
        error
      })
    for (let attempt = 1; ; attempt++) {
      try {
        await txn.session.recover()
        await this.#positions.load()
        break
      } catch (err) {
        if (err instanceof TransactionFenced) {
          this.#fenced(txn, err)
          return
        }
        this.stats.lastError = (err as Error).message
        if (signal === undefined || signal.aborted) {
          // Stopping: what was not committed is copied again by the next owner, from what is committed.
          this.#rewind(txn, () => undefined)
          return
        }
        await sleep(backoff(attempt, SOURCE_FAILED_BACKOFF), signal)
      }
    }
    this.#producerTaken(txn)
    if (this.stats.transactions !== undefined) this.stats.transactions.aborted++
    this.#rewind(txn, a => this.#positions.resumeOffset(a.topic.source, a.partition))
  }

  /**
   * The open transaction is gone: its partitions start again from `committed(a)` (what the
   * offsets topic says) or, when that is not known, from the position this task committed last.
   */
  #rewind(txn: TransactionalCopy, committed: (a: Assigned) => bigint | undefined): void {
    for (const a of txn.parts.values()) {
      const from = committed(a) ?? a.progress.storedTo
      const wasAt = a.progress.storedTo
      a.progress.restart(from)
      if (from !== wasAt)
        this.#log.info('the last commit had landed; resuming after it', {
          topic: a.topic.source,
          partition: a.partition,
          from
        })
      if (a.released) continue
      this.#reader.seek(a.topic.source, a.partition, from)
      this.#syncs?.reset(a.topic.source, a.partition)
    }
    txn.parts.clear()
    txn.effects.length = 0
    txn.records = 0
    txn.boundary.ended()
    this.#settle(txn)
  }

  /** The producer id and epoch in use, for status and metrics. */
  #producerTaken(txn: TransactionalCopy): void {
    const p = txn.session.producer
    const t = this.stats.transactions
    if (t === undefined || p === undefined) return
    t.producerId = String(p.producerId)
    t.epoch = p.producerEpoch
  }

  /**
   * After FENCED_RETRY_MS, takes the id again (InitProducerId with -1/-1) and resumes every
   * partition from its committed position. The request goes through the write gate, so it is
   * sent only while this instance's group lease holds: while it holds, no other member was
   * given this flow (docs/scale-out-plan.md §4), and the fence came from the coordinator
   * aborting a transaction that outlived transaction.timeout.ms (which bumps the epoch too) or
   * from a stale fencing. Should it still take the id from a live owner, that owner is fenced
   * in turn: fencing only ever stops writers, so the cost is an aborted transaction, never a
   * record seen twice.
   */
  async #takeIdAgain(txn: TransactionalCopy, signal: AbortSignal): Promise<void> {
    await sleep(FENCED_RETRY_MS, signal)
    if (signal.aborted) return
    try {
      await txn.session.init()
      await this.#positions.load()
    } catch (err) {
      this.#log.debug('taking the transactional id again failed; will retry', { error: err as Error })
      return
    }
    for (const a of this.#assigned.values()) {
      const from = this.#positions.resumeOffset(a.topic.source, a.partition) ?? a.progress.storedTo
      a.progress.restart(from)
      this.#reader.seek(a.topic.source, a.partition, from)
      this.#syncs?.reset(a.topic.source, a.partition)
    }
    txn.fenced = false
    this.#producerTaken(txn)
    if (this.stats.transactions !== undefined) this.stats.transactions.fenced = false
    this.stats.lastError = undefined
    this.#log.info('took the transactional id again; copying from the committed positions', {
      flow: this.#flow.name,
      transactionalId: txn.session.transactionalId,
      epoch: txn.session.producer?.producerEpoch
    })
  }

  #fenced(txn: TransactionalCopy, err: TransactionFenced): void {
    if (!txn.fenced)
      this.#log.error('this task was fenced: another producer took its transactional id; it stops writing', {
        flow: this.#flow.name,
        transactionalId: txn.session.transactionalId,
        error: err
      })
    txn.fenced = true
    if (this.stats.transactions !== undefined) this.stats.transactions.fenced = true
    this.stats.lastError = err.message
    txn.parts.clear()
    txn.effects.length = 0
    this.#settle(txn)
    this.#wakeUp()
  }

  /** Resolves once no transaction is open (at once when none is); the loop commits one that a caller waits for. */
  async #transactionEnded(txn: TransactionalCopy): Promise<void> {
    if (txn.fenced || (!txn.session.open && txn.parts.size === 0)) return
    await new Promise<void>(resolve => {
      txn.settled.push(resolve)
      this.#wakeUp()
    })
  }

  #settle(txn: TransactionalCopy): void {
    for (const resolve of txn.settled.splice(0)) resolve()
  }

  /**
   * The bytes to produce for a unit: the raw batch rewritten, or its records encoded (split first when too many for one
   * batch).
   */
  async #encode(unit: CopyUnit): Promise<BatchBytes> {
    const payload = unit.payload
    if (payload.encoded !== undefined) return payload.encoded
    if (payload.kind === 'raw') {
      payload.encoded = forTarget(payload.batches[0] as RawBatch)
      return payload.encoded
    }
    payload.encoded = await encodeBatch(this.#records(unit), this.#producer.compression)
    return payload.encoded
  }

  /** A record-path unit's records (decoded once; the first batch may start below the unit). */
  #records(unit: CopyUnit): readonly DecodedRecord[] {
    const payload = unit.payload
    if (payload.records !== undefined) return payload.records
    const out: DecodedRecord[] = []
    for (const b of payload.batches) {
      for (const r of decodeBatch(b)) if (r.offset >= unit.first && r.offset < unit.next) out.push(r)
    }
    payload.records = out
    return out
  }

  #acknowledged(a: Assigned, unit: CopyUnit, epoch: number, base: bigint): void {
    if (!a.progress.acked(unit, epoch)) return
    this.#counted(a, unit, base)
  }

  /** What an acknowledged unit does besides moving its partition's progress: counters, offset syncs, listeners. */
  #counted(a: Assigned, unit: CopyUnit, base: bigint): void {
    const payload = unit.payload
    const now = Date.now()
    let records: number
    let bytes: number
    if (payload.kind === 'raw') {
      const b = payload.batches[0] as RawBatch
      records = b.count
      bytes = b.size
      this.stats.rawBytesCopied += bytes
      this.#syncs?.rangeAcked(a.topic.source, a.partition, b.baseOffset, b.count, base)
    } else {
      const rs = this.#records(unit)
      records = rs.length
      bytes = 0
      for (const r of rs) bytes += r.value?.length ?? 0
      this.#syncs?.recordAcked(a.topic.source, a.partition, rs, base)
    }
    this.#onAcked?.(a.topic, () => this.#records(unit), now)
    this.#flushPolicy.acknowledged(records, unit.bytes)
    a.damaged = 0
    if (this.stats.failures.delete(a.key))
      this.#log.info('partition recovered', { topic: a.topic.source, partition: a.partition })
    this.stats.recordsCopied += records
    this.stats.bytesCopied += bytes
    this.stats.batches++
    this.stats.lastCopyAt = now
    const lag = a.endOffset - a.progress.ackedTo
    if (!a.released) this.stats.lag.set(a.key, lag > 0n ? lag : 0n)
    countAcked(
      a.metrics,
      { records, bytes, raw: payload.kind === 'raw', batches: payload.batches, copiedTo: a.progress.ackedTo },
      now
    )
    a.metrics.active = Number(a.progress.end - a.progress.ackedTo)
    this.#flushSyncs()
    // Drop what the unit held: its bytes are on the target.
    payload.encoded = undefined
    payload.records = undefined
  }

  /**
   * The target refused a unit. Several records: narrowed down to one unit per record, so the
   * records before the refused one are copied and the report names its offset. One record: the
   * partition pauses and tries it again later (growing pause), the others go on.
   */
  #refused(a: Assigned, unit: CopyUnit, error: KafkaError): void {
    const progress = a.progress
    let records: readonly DecodedRecord[] | undefined
    try {
      records = this.#records(unit)
    } catch {
      records = undefined
    }
    if (records !== undefined && records.length > 1) {
      progress.failed(unit, 0)
      const parts: CopyUnit[] = records.map((r, i) => ({
        first: i === 0 ? unit.first : r.offset,
        next: i === records.length - 1 ? unit.next : (records[i + 1] as DecodedRecord).offset,
        bytes: i === 0 ? unit.bytes : 0,
        empty: false,
        payload: { kind: 'records', batches: [], records: [r] }
      }))
      progress.splitHead(parts)
      return
    }
    const pause = progress.refused(unit, Date.now(), error.message)
    const offset = records?.[0]?.offset ?? unit.first
    if (this.stats.failures.get(a.key)?.offset !== offset) a.metrics.refusedRecords++
    this.#reportPaused(a, records?.[0]?.offset ?? unit.first, error.message, pause.since, progress.retryAt)
  }

  /**
   * The unit's bytes failed their CRC check (here, or at the target broker, which checks every
   * batch it is sent): damaged between the source's disk and us. Sending them again would fail
   * again, so the partition fetches again from the unit's first offset, after the backoff of a
   * transient read error; bytes damaged on the source's disk fail every time and leave the
   * partition paused and reported, as an unreadable one.
   */
  #refetch(a: Assigned, unit: CopyUnit, error: KafkaError): void {
    if (a.released) return
    a.progress.refetch(unit)
    this.#reader.seek(a.topic.source, a.partition, unit.first)
    const now = Date.now()
    a.damaged++
    a.readRetryAt = now + backoff(a.damaged, READ_RETRY_BACKOFF)
    if (a.damaged >= DAMAGED_REPORTED)
      this.#reportPaused(a, unit.first, error.message, this.stats.failures.get(a.key)?.since ?? now, a.readRetryAt)
    else
      this.#log.warn('damaged record batch (CRC mismatch); fetching it again', {
        flow: this.#flow.name,
        topic: a.topic.source,
        partition: a.partition,
        offset: unit.first,
        attempt: a.damaged,
        error
      })
  }

  /**
   * A partition that cannot be copied (refused by the target, or not readable): in status and logged, with where and
   * why.
   */
  #reportPaused(a: Assigned, offset: bigint, reason: string, since: number, retryAt: number): void {
    if (a.released) return
    this.stats.failures.set(a.key, { topic: a.topic.source, partition: a.partition, offset, reason, since, retryAt })
    this.#log.error('cannot copy partition; it is paused and retried later, other partitions continue', {
      flow: this.#flow.name,
      topic: a.topic.source,
      partition: a.partition,
      offset,
      remote: a.topic.remote,
      reason,
      retryInMs: retryAt - Date.now()
    })
  }

  #nextRetryIn(now: number): number {
    let soonest = 1000
    for (const a of this.#assigned.values()) {
      const at = a.progress.retryAt
      if (at > now && a.progress.queuedUnits > 0 && !a.progress.inFlight) soonest = Math.min(soonest, at - now)
    }
    return soonest
  }

  async #waitForWork(signal: AbortSignal, maxMs: number): Promise<void> {
    if (signal.aborted) return
    await new Promise<void>(resolve => {
      const timer = setTimeout(done, Math.max(1, maxMs))
      const previous = this.#wake
      function done(): void {
        clearTimeout(timer)
        resolve()
      }
      this.#wake = () => {
        previous?.()
        done()
      }
    })
  }

  #wakeUp(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  // ---- offset syncs and positions ------------------------------------------------------

  /**
   * Writes due offset syncs in the background (never waited on by the copy): one write at a
   * time, each at least SYNC_WRITE_SPACING_MS after the one before; a timer takes what comes in
   * between. `#syncFlush` is only the write in progress, so what awaits it (a position flush, a
   * release) waits for one write, never for a copy that keeps making syncs.
   */
  #flushSyncs(): void {
    const syncs = this.#syncs
    if (syncs === undefined || this.#syncTimer !== undefined) return
    if (this.#syncFlush !== undefined) {
      this.#syncFlushAgain = true
      return
    }
    const wait = this.#lastSyncWrite + SYNC_WRITE_SPACING_MS - Date.now()
    if (wait > 0) {
      this.#syncTimer = setTimeout(() => {
        this.#syncTimer = undefined
        this.#flushSyncs()
      }, wait)
      this.#syncTimer.unref()
      return
    }
    this.#lastSyncWrite = Date.now()
    this.#syncFlushAgain = false
    this.#syncFlush = syncs
      .flush(false)
      .then(() => undefined)
      .finally(() => {
        this.#syncFlush = undefined
        if (this.#syncFlushAgain) this.#flushSyncs()
      })
  }

  #maybeStore(now: number): void {
    if (this.#storing !== undefined) return
    if (!this.#flushPolicy.intervalDue(now) && !this.#flushPolicy.due(now)) return
    const withSyncs = this.#flushPolicy.intervalDue(now)
    this.#storing = (withSyncs ? this.flush() : this.#storePositions()).finally(() => {
      this.#storing = undefined
    })
  }

  /** Writes the latest offset sync of every partition and stores the positions of acknowledged records. */
  async flush(): Promise<void> {
    // Everything due is written just below: a spaced write waiting for its turn has nothing left.
    clearTimeout(this.#syncTimer)
    this.#syncTimer = undefined
    if (this.#syncFlush !== undefined) await this.#syncFlush
    if (this.#syncs !== undefined) await this.#syncs.flush(true)
    await this.#storePositions()
  }

  async #storePositions(): Promise<void> {
    // The exactly-once mode writes positions only inside its transactions.
    if (this.#txn !== undefined) return
    const snapshot = storableSnapshot(this.#assigned.values())
    const started = Date.now()
    try {
      if (snapshot.size > 0) await this.#positions.store(snapshot)
      const now = Date.now()
      if (snapshot.size > 0) {
        observe(this.stats.io.storeWindow, now, 1, now - started, now - started, now - started)
        this.stats.io.stores++
      }
      for (const [k, v] of snapshot) {
        const a = this.#assigned.get(k)
        a?.progress.stored(v.offset)
        // The stored value is the last copied offset (MM2's); a restart resumes one after it.
        if (a !== undefined) a.metrics.storedTo = Number(v.offset) + 1
      }
      this.#flushPolicy.stored(Date.now())
      this.#storeGateLogged = false
    } catch (err) {
      this.#flushPolicy.failed(Date.now())
      if (!isGateRefusal(err))
        this.#log.warn('storing positions failed; will retry', { flow: this.#flow.name, error: err as Error })
      else if (!this.#storeGateLogged)
        this.#log.warn('storing positions refused: the write lease has ended; will store once it is renewed', {
          flow: this.#flow.name,
          error: err as Error
        })
      this.#storeGateLogged ||= isGateRefusal(err)
    }
  }

  // ---- partition events ----------------------------------------------------------------

  async #onEvent(e: PartitionEvent): Promise<void> {
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
      if (!this.#missing.has(k))
        this.#log.warn('source topic or partition not found; waiting for topic discovery', {
          topic: e.topic,
          partition: e.partition
        })
      this.#missing.add(k)
      return
    }
    this.#missing.delete(k)
    const now = Date.now()
    a.readFailures++
    if (!e.error.retriable) {
      // Not allowed to read (or another lasting refusal): paused, tried again later, the others go on.
      a.readRetryAt = now + backoff(a.readFailures, REFUSED_BACKOFF)
      this.#reportPaused(
        a,
        this.#reader.position(e.topic, e.partition) ?? a.progress.end,
        e.error.message,
        this.stats.failures.get(k)?.since ?? now,
        a.readRetryAt
      )
    } else {
      a.readRetryAt = now + backoff(a.readFailures, READ_RETRY_BACKOFF)
      this.#log.debug('transient error reading partition', { topic: e.topic, partition: e.partition, error: e.error })
    }
  }

  #readRecovered(a: Assigned): void {
    a.readFailures = 0
    a.readRetryAt = 0
    if (a.progress.pause === undefined && this.stats.failures.delete(a.key))
      this.#log.info('partition recovered', { topic: a.topic.source, partition: a.partition })
  }

  async #logRange(a: Assigned): Promise<{ first: bigint; end: bigint }> {
    const tp = [{ topic: a.topic.source, partition: a.partition }]
    const k = tpKey(a.topic.source, a.partition)
    const [earliest, latest] = await Promise.all([
      this.#sourceAdmin.listOffsets(tp, 'earliest'),
      this.#sourceAdmin.listOffsets(tp, 'latest')
    ])
    return { first: earliest.get(k) ?? 0n, end: latest.get(k) ?? 0n }
  }

  /** Reports the loss and continues from the partition's earliest offset. */
  #restart(
    a: Assigned,
    range: { first: bigint; end: bigint },
    loss: Pick<DataLossEvent, 'reason' | 'lost' | 'from'>
  ): void {
    // Released while the log range was asked for: its next owner finds the loss itself.
    if (a.released) return
    this.#reportLoss({ topic: a.topic.source, partition: a.partition, ...loss, resumedAt: range.first, at: Date.now() })
    a.endOffset = range.end
    a.progress.restart(range.first)
    this.#reader.seek(a.topic.source, a.partition, range.first)
    this.#syncs?.reset(a.topic.source, a.partition)
  }
}
