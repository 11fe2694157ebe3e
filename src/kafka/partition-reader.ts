/**
 * Reads a set of partitions without joining a consumer group, from positions the caller owns
 * (MM2's source task `assign()`s its partitions and seeks from stored positions; a group would
 * fight it). The client library has no group-less stream, so this drives its low-level Fetch:
 * one request per partition leader, all leaders at once.
 *
 * What it guarantees to the copier:
 * - records come back in offset order per partition, starting exactly at the requested offset;
 * - control batches and (in read_committed) records of aborted transactions are dropped, but
 *   the position still moves past them;
 * - the timestamp is the one consumers see: CreateTime, or the batch's append time when the
 *   topic uses LogAppendTime (attribute bit 3), which the library's own stream gets wrong;
 * - `pollBatches()` hands over the record batches as the broker sent them (record-batch.ts), for
 *   the copier's raw path; `poll()` decodes them into records for everyone else;
 * - one fetch per partition leader is in flight at a time, each leader on its own: a poll returns
 *   as soon as any leader answered (an idle broker's long poll never holds back a busy one), and
 *   the others' fetches stay in flight for the next poll (fetch-ahead);
 * - partition-level problems (offset out of range, not authorised, topic gone) come back as
 *   events for that partition only; the other partitions keep flowing;
 * - fair share: a fetch lists its partitions in the reader's order and the broker fills the
 *   answer in that order up to maxBytes, so the last ones can get nothing for as long as the first
 *   ones have data (a 6-partition copy had one partition wait until the five others were done). A
 *   partition that brought records moves to the end of the order, as Kafka's consumer does
 *   (SubscriptionState.movePartitionToEnd);
 * - the first fetches of a reader ask for little (FIRST_FETCH_PARTITION_BYTES per partition) and
 *   grow fourfold per round that brought records, up to partitionMaxBytes: the first records of a
 *   (re)start reach the target, and their positions get stored, within milliseconds instead of
 *   after a full-size round of decoding and sending.
 */
import { Consumer, FetchIsolationLevels, protocolErrors, protocolErrorsCodesById } from '@platformatic/kafka'
import type { ClientConfig } from '../config/model.ts'
import { KafkaError } from '../errors.ts'
import { sleep } from '../util/abortable.ts'
import { reveal } from '../util/secret.ts'
import { clientOptions } from './security/client-options.ts'
import { toKafkaError } from './errors.ts'
import { fetchRaw, type RawFetchPartition, type RawFetchResponse } from './raw-protocol.ts'
import type { ArenaRegion, FetchArena } from './fetch-arena.ts'
import { controlType, decodeBatch, type RawBatch, splitBatches } from './record-batch.ts'
import { type ConsumedRecord, type TopicPartition, tpKey } from './types.ts'

const CONTROL_TYPE_ABORT = 0
const FIRST_FETCH_PARTITION_BYTES = 64 * 1024

export type PartitionEvent =
  /** The requested offset is outside the partition's log (retention, truncation, re-creation). */
  | { readonly kind: 'out-of-range'; readonly topic: string; readonly partition: number; readonly requested: bigint }
  /** The topic (or partition) does not exist (now). */
  | { readonly kind: 'topic-gone'; readonly topic: string; readonly partition: number; readonly error: KafkaError }
  /**
   * The topic was deleted and re-created (its id changed): the position belongs to the old
   * topic, so the reader dropped the partition; the caller decides where to start again.
   */
  | { readonly kind: 'recreated'; readonly topic: string; readonly partition: number; readonly previous: bigint }
  /** Any other partition-level failure (not authorised, ...); the partition is retried next poll. */
  | { readonly kind: 'error'; readonly topic: string; readonly partition: number; readonly error: KafkaError }

export interface FetchRound {
  /** Records per `topic:partition`, in offset order. */
  readonly records: Map<string, ConsumedRecord[]>
  /** High watermark (or last stable offset in read_committed) per partition seen this round. */
  readonly endOffsets: Map<string, bigint>
  readonly events: PartitionEvent[]
}

/**
 * One record batch of a fetch; `skip`: a transaction marker or an aborted transaction's batch (nothing to copy, the
 * position moves past it).
 */
export interface FetchedBatch {
  readonly batch: RawBatch
  readonly skip: boolean
}

/** What one fetch brought for one partition: its batches from `from` (the first may start before it) up to `next`. */
export interface FetchedPartition {
  readonly topic: string
  readonly partition: number
  readonly from: bigint
  readonly next: bigint
  readonly batches: readonly FetchedBatch[]
  /**
   * Set when the batches' bytes were copied into the reader's arena (copyFetchedInto): the
   * caller must say for how long they are read (region.holdWhile) or that they are not
   * (release, releaseUnclaimed), or the arena stops giving out room.
   */
  readonly region?: ArenaRegion
}

export interface BatchRound {
  /** Per `topic:partition` that advanced. */
  readonly fetched: Map<string, FetchedPartition>
  readonly endOffsets: Map<string, bigint>
  readonly events: PartitionEvent[]
}

export interface PartitionReaderOptions {
  readonly maxWaitMs?: number
  readonly partitionMaxBytes?: number
  readonly maxBytes?: number
  /** What a broker gathers before it answers (up to maxWaitMs); default 1. */
  readonly minBytes?: number
}

type FetchPartition = TopicPartition & { readonly offset: bigint; readonly topicId: string; readonly leader: number }

interface TopicMeta {
  readonly id: string
  readonly leaders: readonly number[]
}

interface InFlight {
  readonly keys: ReadonlySet<string>
  result: BatchRound | undefined
  readonly done: Promise<void>
}

function emptyRound(): BatchRound {
  return { fetched: new Map(), endOffsets: new Map(), events: [] }
}

export class PartitionReader {
  readonly #consumer: Consumer
  readonly #cluster: string
  readonly #readCommitted: boolean
  readonly #options: Required<PartitionReaderOptions>
  /** Next offset to fetch, per `topic:partition`. */
  readonly #positions = new Map<string, TopicPartition & { offset: bigint }>()
  #meta = new Map<string, TopicMeta>()
  /** Last id seen per topic, kept while the topic is missing, to notice a re-creation. */
  readonly #knownIds = new Map<string, string>()
  #metaStale = true
  #metaAt = 0
  /** Bytes per partition asked for in the next fetch (slow start, see above). */
  #partitionFetchBytes: number
  /** The fetch in flight per leader (at most one: a broker answers one connection's requests in order). */
  readonly #inFlight = new Map<number, InFlight>()
  readonly #brokers = new Map<number, { host: string; port: number }>()

  #arena: FetchArena | undefined

  constructor(cfg: ClientConfig, clientId: string, options: PartitionReaderOptions = {}) {
    this.#cluster = cfg.cluster
    const isolation = cfg.props['isolation.level']
    this.#readCommitted = isolation === undefined || reveal(isolation) !== 'read_uncommitted'
    this.#options = {
      maxWaitMs: options.maxWaitMs ?? 500,
      partitionMaxBytes: options.partitionMaxBytes ?? 1024 * 1024,
      maxBytes: options.maxBytes ?? 16 * 1024 * 1024,
      minBytes: options.minBytes ?? 1
    }
    this.#partitionFetchBytes = Math.min(FIRST_FETCH_PARTITION_BYTES, this.#options.partitionMaxBytes)
    this.#consumer = new Consumer({
      ...clientOptions(cfg, clientId),
      // Required by the client's constructor; this reader never joins or commits to it.
      groupId: `${clientId}-groupless`,
      isolationLevel: this.#readCommitted ? FetchIsolationLevels.READ_COMMITTED : FetchIsolationLevels.READ_UNCOMMITTED
    })
  }

  /**
   * From now on, the record bytes of fetched partitions are copied into `arena` (when it has
   * room) instead of staying views of the socket chunks they arrived in, and each
   * FetchedPartition of pollBatches() carries its region. Only for a caller that releases the
   * regions (the copier); poll() must not be used on such a reader: its records would be views
   * of bytes that get reused.
   */
  copyFetchedInto(arena: FetchArena): void {
    this.#arena = arena
  }

  /** The most bytes one fetch answer brings (fetch.max.bytes; a single larger batch still comes whole). */
  get fetchMaxBytes(): number {
    return this.#options.maxBytes
  }

  /** Starts (or moves) reading a partition at `offset`; an answer to a fetch in flight for it is then ignored. */
  seek(topic: string, partition: number, offset: bigint): void {
    const meta = this.#meta.get(topic)
    if (meta === undefined || partition >= meta.leaders.length) this.#metaStale = true
    this.#positions.set(tpKey(topic, partition), { topic, partition, offset })
  }

  remove(topic: string, partition: number): void {
    this.#positions.delete(tpKey(topic, partition))
  }

  position(topic: string, partition: number): bigint | undefined {
    return this.#positions.get(tpKey(topic, partition))?.offset
  }

  assigned(): TopicPartition[] {
    return [...this.#positions.values()].map(({ topic, partition }) => ({ topic, partition }))
  }

  /** Reloads leaders and ids; partitions of re-created topics are dropped and reported in `events`. */
  async #refreshMetadata(events: PartitionEvent[]): Promise<void> {
    const topics = [...new Set([...this.#positions.values()].map(p => p.topic))]
    const meta = new Map<string, TopicMeta>()
    const keep = (
      md: {
        brokers: ReadonlyMap<number, { host: string; port: number }>
        topics: ReadonlyMap<string, { id: string; partitions: ReadonlyArray<{ leader: number }> } | undefined>
      },
      names: readonly string[]
    ): void => {
      for (const [node, b] of md.brokers) this.#brokers.set(node, { host: b.host, port: b.port })
      for (const topic of names) {
        const t = md.topics.get(topic)
        if (t !== undefined) meta.set(topic, { id: t.id, leaders: t.partitions.map(p => p.leader) })
      }
    }
    try {
      // One request for all topics, without the client's retries; a single missing topic fails
      // it (as may a transient failure), then each is asked alone, with retries.
      keep(await this.#consumer.metadata({ topics, forceUpdate: true, retries: 0 }), topics)
    } catch {
      await Promise.all(
        topics.map(async topic => {
          try {
            keep(await this.#consumer.metadata({ topics: [topic], forceUpdate: true }), [topic])
          } catch (err) {
            // Missing topic: its partitions report 'topic-gone' in poll(). An unreachable cluster
            // (network or timeout, no broker answer) fails the round, so it is not taken for a
            // deleted topic and the caller reports the cluster.
            const error = toKafkaError(`reading metadata of ${topic} on cluster ${this.#cluster}`, err)
            if (error.retriable && error.kafkaCode === undefined) throw error
          }
        })
      )
    }
    for (const [topic, { id }] of meta) {
      const known = this.#knownIds.get(topic)
      this.#knownIds.set(topic, id)
      if (known === undefined || known === id) continue
      for (const [key, p] of this.#positions) {
        if (p.topic !== topic) continue
        this.#positions.delete(key)
        events.push({ kind: 'recreated', topic, partition: p.partition, previous: p.offset })
      }
    }
    this.#meta = meta
    this.#metaStale = false
    this.#metaAt = Date.now()
  }

  /** One fetch round, decoded into records (everyone but the copier). Waits up to maxWaitMs when there is no data. */
  async poll(signal?: AbortSignal): Promise<FetchRound> {
    const round = await this.pollBatches(signal)
    const records = new Map<string, ConsumedRecord[]>()
    for (const [key, f] of round.fetched) {
      const out: ConsumedRecord[] = []
      for (const { batch, skip } of f.batches) {
        if (skip) continue
        for (const r of decodeBatch(batch)) {
          if (r.offset >= f.from) out.push({ topic: f.topic, partition: f.partition, ...r })
        }
      }
      if (out.length > 0) records.set(key, out)
    }
    return { records, endOffsets: round.endOffsets, events: round.events }
  }

  /**
   * The record batches of the partitions `accept` takes (all by default) as soon as one leader
   * answers; fetches to the other leaders stay in flight for the next call. Positions move past
   * what is returned. Waits up to maxWaitMs when there is no data.
   */
  async pollBatches(signal?: AbortSignal, accept?: (key: string) => boolean): Promise<BatchRound> {
    const round = emptyRound()
    if (this.#positions.size === 0 && this.#inFlight.size === 0) {
      await sleep(this.#options.maxWaitMs, signal)
      return round
    }
    if (this.#metaStale || Date.now() - this.#metaAt > 30_000) await this.#refreshMetadata(round.events)
    const busy = new Set<string>()
    for (const f of this.#inFlight.values()) for (const k of f.keys) busy.add(k)
    const fetchable: FetchPartition[] = []
    for (const [key, p] of this.#positions) {
      if (busy.has(key) || (accept !== undefined && !accept(key))) continue
      const meta = this.#meta.get(p.topic)
      const leader = meta?.leaders[p.partition]
      if (meta === undefined || leader === undefined) {
        this.#metaStale = true
        round.events.push({
          kind: 'topic-gone',
          topic: p.topic,
          partition: p.partition,
          error: this.#partitionFailure(p, 'UNKNOWN_TOPIC_OR_PARTITION', true)
        })
        continue
      }
      if (leader < 0) {
        this.#metaStale = true
        continue
      } // leader election in progress; try next round
      fetchable.push({ ...p, topicId: meta.id, leader })
    }
    for (const [node, parts] of Map.groupBy(fetchable, p => p.leader)) {
      if (this.#inFlight.has(node)) continue
      const entry: InFlight = {
        keys: new Set(parts.map(p => tpKey(p.topic, p.partition))),
        result: undefined,
        done: this.#fetchFrom(node, parts).then(r => {
          entry.result = r
        })
      }
      this.#inFlight.set(node, entry)
    }
    if (this.#inFlight.size === 0) {
      // Nothing to fetch: leaders unknown, or every partition held back by the caller.
      await sleep(Math.min(this.#options.maxWaitMs, 100), signal)
      return round
    }
    await abortable(Promise.race([...this.#inFlight.values()].map(f => f.done)), signal)
    for (const [node, f] of this.#inFlight) {
      if (f.result === undefined) continue
      this.#inFlight.delete(node)
      for (const [k, v] of f.result.fetched) round.fetched.set(k, v)
      for (const [k, v] of f.result.endOffsets) round.endOffsets.set(k, v)
      round.events.push(...f.result.events)
    }
    if (round.fetched.size > 0)
      this.#partitionFetchBytes = Math.min(this.#partitionFetchBytes * 4, this.#options.partitionMaxBytes)
    return round
  }

  async #fetchFrom(node: number, parts: FetchPartition[]): Promise<BatchRound> {
    const round = emptyRound()
    const byTopicId = Map.groupBy(parts, p => p.topicId)
    let response: RawFetchResponse
    try {
      const broker = this.#brokers.get(node)
      if (broker === undefined)
        throw new KafkaError(`broker ${node} is not in the metadata of cluster ${this.#cluster}`, { retriable: true })
      response = await fetchRaw(this.#consumer as never, broker, {
        maxWaitMs: this.#options.maxWaitMs,
        minBytes: this.#options.minBytes,
        maxBytes: this.#options.maxBytes,
        readCommitted: this.#readCommitted,
        topics: [...byTopicId].map(([topicId, ps]) => ({
          topicId,
          partitions: ps.map(p => ({
            partition: p.partition,
            fetchOffset: p.offset,
            partitionMaxBytes: this.#partitionFetchBytes
          }))
        }))
      })
    } catch (err) {
      this.#metaStale = true
      const error = toKafkaError(`fetching from broker ${node} of cluster ${this.#cluster}`, err)
      for (const p of parts) round.events.push({ kind: 'error', topic: p.topic, partition: p.partition, error })
      return round
    }
    if (response.errorCode !== 0) {
      const name = protocolErrorsCodesById[response.errorCode] ?? `error code ${response.errorCode}`
      this.#metaStale = true
      for (const p of parts)
        round.events.push({
          kind: 'error',
          topic: p.topic,
          partition: p.partition,
          error: this.#partitionFailure(p, name, protocolErrors[name]?.canRetry === true)
        })
      return round
    }
    for (const topicResponse of response.topics) {
      const requested = byTopicId.get(topicResponse.topicId)
      if (requested === undefined) continue
      for (const pr of topicResponse.partitions) {
        const p = requested.find(x => x.partition === pr.partition)
        if (p === undefined) continue
        const key = tpKey(p.topic, p.partition)
        if (this.#positions.get(key)?.offset !== p.offset) continue // moved by seek() meanwhile
        if (pr.errorCode !== 0) {
          this.#partitionError(p, pr.errorCode, round)
          continue
        }
        round.endOffsets.set(
          key,
          this.#readCommitted && pr.lastStableOffset >= 0n ? pr.lastStableOffset : pr.highWatermark
        )
        try {
          this.#walk(p, pr, round)
        } catch (err) {
          round.events.push({
            kind: 'error',
            topic: p.topic,
            partition: p.partition,
            error: new KafkaError(
              `reading ${p.topic}-${p.partition} at offset ${p.offset} on cluster ${this.#cluster}: ${(err as Error).message}`,
              { retriable: false, kafkaCode: 'CORRUPT_MESSAGE' }
            )
          })
        }
      }
    }
    return round
  }

  #partitionError(p: TopicPartition & { offset: bigint }, code: number, round: BatchRound): void {
    const name = protocolErrorsCodesById[code] ?? `error code ${code}`
    if (name === 'OFFSET_OUT_OF_RANGE') {
      round.events.push({ kind: 'out-of-range', topic: p.topic, partition: p.partition, requested: p.offset })
      return
    }
    if (STALE_METADATA.has(name)) this.#metaStale = true
    const error = this.#partitionFailure(p, name, protocolErrors[name]?.canRetry === true || STALE_METADATA.has(name))
    const gone =
      name === 'UNKNOWN_TOPIC_ID' || name === 'UNKNOWN_TOPIC_OR_PARTITION' || name === 'INCONSISTENT_TOPIC_ID'
    round.events.push({ kind: gone ? 'topic-gone' : 'error', topic: p.topic, partition: p.partition, error })
  }

  #partitionFailure(p: TopicPartition, name: string, retriable: boolean): KafkaError {
    return new KafkaError(`reading ${p.topic}-${p.partition} on cluster ${this.#cluster}: ${name}`, {
      retriable,
      kafkaCode: name
    })
  }

  /**
   * The partition's complete batches at or past its position, control batches and (in
   * read_committed) aborted transactions' batches marked to skip, using the response's aborted
   * list and the abort markers (Kafka's consumer Fetcher does the same). Moves the position.
   */
  #walk(p: TopicPartition & { offset: bigint }, pr: RawFetchPartition, round: BatchRound): void {
    const key = tpKey(p.topic, p.partition)
    const pendingAborts = [...pr.abortedTransactions].sort((a, b) =>
      a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0
    )
    const abortedProducers = new Set<bigint>()
    const batches: FetchedBatch[] = []
    let next = p.offset
    const copied = this.#arena?.copy(pr.records)
    try {
      for (const batch of splitBatches(copied?.bytes ?? pr.records)) {
        if (batch.nextOffset <= next) continue
        const lastOffset = batch.nextOffset - 1n
        while (pendingAborts.length > 0 && (pendingAborts[0]?.firstOffset ?? 0n) <= lastOffset) {
          abortedProducers.add(pendingAborts.shift()?.producerId ?? -1n)
        }
        if (batch.control) {
          if (controlType(batch) === CONTROL_TYPE_ABORT) abortedProducers.delete(batch.producerId)
          batches.push({ batch, skip: true })
        } else {
          batches.push({
            batch,
            skip: this.#readCommitted && batch.transactional && abortedProducers.has(batch.producerId)
          })
        }
        next = batch.nextOffset
      }
    } catch (err) {
      copied?.region.release()
      throw err
    }
    if (next === p.offset) copied?.region.release()
    else {
      round.fetched.set(key, {
        topic: p.topic,
        partition: p.partition,
        from: p.offset,
        next,
        batches,
        ...(copied === undefined ? {} : { region: copied.region })
      })
      // To the end of the order the next fetches list partitions in (see "fair share" above).
      this.#positions.delete(key)
      this.#positions.set(key, { topic: p.topic, partition: p.partition, offset: next })
    }
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.#inFlight.values()].map(async f => {
        await f.done
      })
    )
    this.#inFlight.clear()
    await this.#consumer.close(true).catch(() => {})
  }
}

/** Resolves when the promise settles or the signal aborts, whichever comes first. */
async function abortable(promise: Promise<unknown>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) {
    await promise
    return
  }
  if (signal.aborted) return
  let onAbort: (() => void) | undefined
  await Promise.race([
    promise,
    new Promise<void>(resolve => {
      onAbort = resolve
      signal.addEventListener('abort', onAbort, { once: true })
    })
  ])
  if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
}

/** Errors after which leaders or topic ids must be looked up again before the next fetch. */
const STALE_METADATA = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_OR_FOLLOWER',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'UNKNOWN_TOPIC_ID',
  'INCONSISTENT_TOPIC_ID',
  'KAFKA_STORAGE_ERROR'
])
