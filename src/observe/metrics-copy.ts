/**
 * What a copier task counts for metrics and /status, per partition (MirrorSourceMetrics' sensors
 * and Connect's consumer/producer/task counters), and the few functions the copier calls to count.
 *
 * Cost on the copy path: the copier calls these once per fetched batch and once per
 * acknowledged unit, never per record; everything is plain numbers in plain objects, posted to
 * the main thread with the task's other stats (copier-worker-run.ts, every 500 ms at most).
 *
 * Record age and replication latency come from record batch headers, not from each record:
 * MM2 records `now - record timestamp` for every record (age when polled, latency when
 * acknowledged). A raw batch is never decoded, so we take the batch's first timestamp (the
 * base timestamp, the first record's) and its max timestamp: the youngest record gives the min,
 * the oldest the max (exact when timestamps grow within the batch, as producers write them),
 * and the avg is the batches' midpoints weighted by their record counts, an approximation. A
 * LogAppendTime batch stamps every record with its max timestamp, so that is used for both.
 */
import type { RawBatch } from '../kafka/record-batch.ts'
import { newWindow, observe, type SampledWindow } from './metrics-window.ts'

export interface PartitionStats {
  readonly topic: string
  readonly partition: number
  /** The topic's name on the target (MirrorSourceMetrics labels partitions by it). */
  readonly remote: string
  /** Records the target acknowledged. */
  records: number
  /** Bytes of those records: record values on the record path (as MM2 counts), whole batches on the raw path. */
  bytes: number
  /** Of `bytes`: copied as raw batches. */
  rawBytes: number
  /** Acknowledged records (observations) and their bytes (sum): both rates from one window. */
  readonly copyWindow: SampledWindow
  readonly ageWindow: SampledWindow
  readonly latencyWindow: SampledWindow
  /** The newest observation (MM2's `record-age-ms` and `replication-latency-ms`, a Value stat); NaN before any. */
  lastAgeMs: number
  lastLatencyMs: number
  /** Source end offset as last seen in a fetch answer; -1 before any. */
  endOffset: number
  /** Every offset below this one is on the target. */
  copiedTo: number
  /** The position last stored in the offsets topic (the next offset to copy); -1 before any store. */
  storedTo: number
  /** Offsets fetched and not yet acknowledged (Connect's source-record-active-count). */
  active: number
  /** Distinct records the target refused (each paused the partition). */
  refusedRecords: number
}

/** A task's client-level counters (Connect's consumer, producer and task metrics). */
export interface TaskIo {
  /** Record batch bytes fetched from the source (the replication consumer's incoming bytes). */
  fetchedBytes: number
  /** Records fetched (source-record-poll-total). */
  fetchedRecords: number
  /** Batch bytes sent to the target, retries included (the producer's outgoing bytes). */
  sentBytes: number
  /** Bytes waiting in the task's queues. */
  queuedBytes: number
  /** What the queues may hold before fetching waits (the source consumer's fetch.max.bytes). */
  queueLimitBytes: number
  /** Fetched bytes copied into the task's fetch arena (src/kafka/fetch-arena.ts). */
  arenaBytes: number
  /** Fetched bytes kept as views of their socket chunks because the arena was full. */
  arenaFullBytes: number
  /** The arena's ring size now (it grows when it runs out of room). */
  arenaSizeBytes: number
  /** Durations of position stores (Connect's offset commit time). */
  readonly storeWindow: SampledWindow
  stores: number
}

export function newPartitionStats(topic: string, partition: number, remote: string, start: bigint): PartitionStats {
  return {
    topic,
    partition,
    remote,
    records: 0,
    bytes: 0,
    rawBytes: 0,
    copyWindow: newWindow(),
    ageWindow: newWindow(),
    latencyWindow: newWindow(),
    lastAgeMs: NaN,
    lastLatencyMs: NaN,
    endOffset: -1,
    copiedTo: Number(start),
    storedTo: -1,
    active: 0,
    refusedRecords: 0
  }
}

export function newTaskIo(): TaskIo {
  return {
    fetchedBytes: 0,
    fetchedRecords: 0,
    sentBytes: 0,
    queuedBytes: 0,
    queueLimitBytes: 0,
    arenaBytes: 0,
    arenaFullBytes: 0,
    arenaSizeBytes: 0,
    storeWindow: newWindow(),
    stores: 0
  }
}

/**
 * Observes `now - timestamp` of one batch's records into `w`: the youngest record's value, or NaN when the batch has no
 * timestamp.
 */
function observeBatch(w: SampledWindow, b: RawBatch, now: number): number {
  if (b.control || b.count === 0) return NaN
  const newest = Number(b.maxTimestamp)
  const oldest = b.logAppendTime ? newest : Number(b.baseTimestamp)
  if (newest < 0 || oldest < 0) return NaN
  const min = now - newest
  const max = now - Math.min(oldest, newest)
  observe(w, now, b.count, (b.count * (min + max)) / 2, min, max)
  return min
}

/**
 * Batches fetched for the partition (skipped ones: aborted records, markers): bytes in, and their records' age (MM2
 * records it at poll).
 */
export function countFetched(
  p: PartitionStats,
  io: TaskIo,
  fetched: ReadonlyArray<{ readonly batch: RawBatch; readonly skip: boolean }>,
  now: number
): void {
  for (const { batch, skip } of fetched) {
    io.fetchedBytes += batch.size
    if (skip) continue
    io.fetchedRecords += batch.count
    const age = observeBatch(p.ageWindow, batch, now)
    if (!Number.isNaN(age)) p.lastAgeMs = age
  }
}

/** A unit the target acknowledged: counts, rates and replication latency (from its batches' headers). */
export function countAcked(
  p: PartitionStats,
  unit: { records: number; bytes: number; raw: boolean; batches: readonly RawBatch[]; copiedTo: bigint },
  now: number
): void {
  p.records += unit.records
  p.bytes += unit.bytes
  if (unit.raw) p.rawBytes += unit.bytes
  observe(p.copyWindow, now, unit.records, unit.bytes, 0, 0)
  for (const b of unit.batches) {
    const latency = observeBatch(p.latencyWindow, b, now)
    if (!Number.isNaN(latency)) p.lastLatencyMs = latency
  }
  p.copiedTo = Number(unit.copiedTo)
}

/** Several tasks' counters as one (a flow's total); their store windows' samples side by side. */
export function mergeIo(all: readonly TaskIo[]): TaskIo {
  const out = newTaskIo()
  for (const io of all) {
    out.fetchedBytes += io.fetchedBytes
    out.fetchedRecords += io.fetchedRecords
    out.sentBytes += io.sentBytes
    out.queuedBytes += io.queuedBytes
    out.queueLimitBytes += io.queueLimitBytes
    out.arenaBytes += io.arenaBytes
    out.arenaFullBytes += io.arenaFullBytes
    out.arenaSizeBytes += io.arenaSizeBytes
    out.stores += io.stores
    out.storeWindow.samples.push(...io.storeWindow.samples)
  }
  out.storeWindow.samples.sort((a, b) => a.start - b.start)
  return out
}
