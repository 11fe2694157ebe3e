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
 * - partition-level problems (offset out of range, not authorised, topic gone) come back as
 *   events for that partition only; the other partitions keep flowing;
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
import { clientOptions } from './client-options.ts'
import { toKafkaError } from './errors.ts'
import { type ConsumedRecord, type TopicPartition, tpKey } from './types.ts'

const ATTR_TIMESTAMP_LOG_APPEND = 0x08
const ATTR_TRANSACTIONAL = 0x10
const ATTR_CONTROL = 0x20
const CONTROL_TYPE_ABORT = 0
const FIRST_FETCH_PARTITION_BYTES = 64 * 1024

export type PartitionEvent =
  /** The requested offset is outside the partition's log (retention, truncation, re-creation). */
  | { readonly kind: 'out-of-range', readonly topic: string, readonly partition: number, readonly requested: bigint }
  /** The topic (or partition) does not exist (now). */
  | { readonly kind: 'topic-gone', readonly topic: string, readonly partition: number, readonly error: KafkaError }
  /**
   * The topic was deleted and re-created (its id changed): the position belongs to the old
   * topic, so the reader dropped the partition; the caller decides where to start again.
   */
  | { readonly kind: 'recreated', readonly topic: string, readonly partition: number, readonly previous: bigint }
  /** Any other partition-level failure (not authorised, ...); the partition is retried next poll. */
  | { readonly kind: 'error', readonly topic: string, readonly partition: number, readonly error: KafkaError }

export interface FetchRound {
  /** Records per `topic:partition`, in offset order. */
  readonly records: Map<string, ConsumedRecord[]>
  /** Next offset to read per partition that advanced (can advance with no records: markers, aborts). */
  readonly advanced: Map<string, bigint>
  /** High watermark (or last stable offset in read_committed) per partition seen this round. */
  readonly endOffsets: Map<string, bigint>
  readonly events: PartitionEvent[]
}

export interface PartitionReaderOptions {
  readonly maxWaitMs?: number
  readonly partitionMaxBytes?: number
  readonly maxBytes?: number
}

type FetchPartition = TopicPartition & { readonly offset: bigint, readonly topicId: string, readonly leader: number }

interface TopicMeta {
  readonly id: string
  readonly leaders: readonly number[]
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

  constructor (cfg: ClientConfig, clientId: string, options: PartitionReaderOptions = {}) {
    this.#cluster = cfg.cluster
    const isolation = cfg.props['isolation.level']
    this.#readCommitted = isolation === undefined || reveal(isolation) !== 'read_uncommitted'
    this.#options = {
      maxWaitMs: options.maxWaitMs ?? 500,
      partitionMaxBytes: options.partitionMaxBytes ?? 1024 * 1024,
      maxBytes: options.maxBytes ?? 16 * 1024 * 1024
    }
    this.#partitionFetchBytes = Math.min(FIRST_FETCH_PARTITION_BYTES, this.#options.partitionMaxBytes)
    this.#consumer = new Consumer({
      ...clientOptions(cfg, clientId),
      // Required by the client's constructor; this reader never joins or commits to it.
      groupId: `${clientId}-groupless`,
      isolationLevel: this.#readCommitted ? FetchIsolationLevels.READ_COMMITTED : FetchIsolationLevels.READ_UNCOMMITTED
    })
  }

  /** Starts (or moves) reading a partition at `offset`. */
  seek (topic: string, partition: number, offset: bigint): void {
    const meta = this.#meta.get(topic)
    if (meta === undefined || partition >= meta.leaders.length) this.#metaStale = true
    this.#positions.set(tpKey(topic, partition), { topic, partition, offset })
  }

  remove (topic: string, partition: number): void {
    this.#positions.delete(tpKey(topic, partition))
  }

  position (topic: string, partition: number): bigint | undefined {
    return this.#positions.get(tpKey(topic, partition))?.offset
  }

  assigned (): TopicPartition[] {
    return [...this.#positions.values()].map(({ topic, partition }) => ({ topic, partition }))
  }

  /** Reloads leaders and ids; partitions of re-created topics are dropped and reported in `events`. */
  async #refreshMetadata (events: PartitionEvent[]): Promise<void> {
    const topics = [...new Set([...this.#positions.values()].map(p => p.topic))]
    const meta = new Map<string, TopicMeta>()
    const keep = (md: { topics: ReadonlyMap<string, { id: string, partitions: ReadonlyArray<{ leader: number }> } | undefined> }, names: readonly string[]): void => {
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
      await Promise.all(topics.map(async topic => {
        try {
          keep(await this.#consumer.metadata({ topics: [topic], forceUpdate: true }), [topic])
        } catch (err) {
          // Missing topic: its partitions report 'topic-gone' in poll(). An unreachable cluster
          // (network or timeout, no broker answer) fails the round, so it is not taken for a
          // deleted topic and the caller reports the cluster.
          const error = toKafkaError(`reading metadata of ${topic} on cluster ${this.#cluster}`, err)
          if (error.retriable && error.kafkaCode === undefined) throw error
        }
      }))
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

  /** One fetch round over every assigned partition. Waits up to maxWaitMs when there is no data. */
  async poll (signal?: AbortSignal): Promise<FetchRound> {
    const round: FetchRound = { records: new Map(), advanced: new Map(), endOffsets: new Map(), events: [] }
    if (this.#positions.size === 0) {
      await sleep(this.#options.maxWaitMs, signal)
      return round
    }
    if (this.#metaStale || Date.now() - this.#metaAt > 30_000) await this.#refreshMetadata(round.events)
    const fetchable: FetchPartition[] = []
    for (const p of this.#positions.values()) {
      const meta = this.#meta.get(p.topic)
      const leader = meta?.leaders[p.partition]
      if (meta === undefined || leader === undefined) {
        this.#metaStale = true
        round.events.push({ kind: 'topic-gone', topic: p.topic, partition: p.partition, error: this.#partitionFailure(p, 'UNKNOWN_TOPIC_OR_PARTITION', true) })
        continue
      }
      if (leader < 0) continue // leader election in progress; try next round
      fetchable.push({ ...p, topicId: meta.id, leader })
    }
    const byLeader = Map.groupBy(fetchable, p => p.leader)
    if (byLeader.size === 0) {
      this.#metaStale = true
      await sleep(Math.min(this.#options.maxWaitMs, 250), signal)
      return round
    }
    await Promise.all([...byLeader].map(async ([node, parts]) => { await this.#fetchFrom(node, parts, round) }))
    if (round.records.size > 0) this.#partitionFetchBytes = Math.min(this.#partitionFetchBytes * 4, this.#options.partitionMaxBytes)
    return round
  }

  async #fetchFrom (node: number, parts: FetchPartition[], round: FetchRound): Promise<void> {
    const byTopicId = Map.groupBy(parts, p => p.topicId)
    let response
    try {
      response = await this.#consumer.fetch({
        node,
        maxWaitTime: this.#options.maxWaitMs,
        maxBytes: this.#options.maxBytes,
        topics: [...byTopicId].map(([topicId, ps]) => ({
          topicId,
          partitions: ps.map(p => ({ partition: p.partition, fetchOffset: p.offset, currentLeaderEpoch: -1, lastFetchedEpoch: -1, partitionMaxBytes: this.#partitionFetchBytes }))
        }))
      })
    } catch (err) {
      // Partition-level errors fail the whole call, but the response with the other partitions'
      // data is attached to the error.
      response = (err as { response?: typeof response }).response
      if (response === undefined || response.responses === undefined) {
        this.#metaStale = true
        const error = toKafkaError(`fetching from broker ${node} of cluster ${this.#cluster}`, err)
        for (const p of parts) round.events.push({ kind: 'error', topic: p.topic, partition: p.partition, error })
        return
      }
    }
    for (const topicResponse of response.responses) {
      const requested = byTopicId.get(topicResponse.topicId)
      if (requested === undefined) continue
      for (const pr of topicResponse.partitions) {
        const p = requested.find(x => x.partition === pr.partitionIndex)
        if (p === undefined) continue
        const key = tpKey(p.topic, p.partition)
        if (this.#positions.get(key)?.offset !== p.offset) continue // moved by seek() meanwhile
        if (pr.errorCode !== 0) {
          this.#partitionError(p, pr.errorCode, round)
          continue
        }
        round.endOffsets.set(key, this.#readCommitted && pr.lastStableOffset >= 0n ? pr.lastStableOffset : pr.highWatermark)
        this.#decode(p, pr.records ?? [], pr.abortedTransactions ?? [], round)
      }
    }
  }

  #partitionError (p: TopicPartition & { offset: bigint }, code: number, round: FetchRound): void {
    const name = protocolErrorsCodesById[code] ?? `error code ${code}`
    if (name === 'OFFSET_OUT_OF_RANGE') {
      round.events.push({ kind: 'out-of-range', topic: p.topic, partition: p.partition, requested: p.offset })
      return
    }
    if (STALE_METADATA.has(name)) this.#metaStale = true
    const error = this.#partitionFailure(p, name, protocolErrors[name]?.canRetry === true || STALE_METADATA.has(name))
    const gone = name === 'UNKNOWN_TOPIC_ID' || name === 'UNKNOWN_TOPIC_OR_PARTITION' || name === 'INCONSISTENT_TOPIC_ID'
    round.events.push({ kind: gone ? 'topic-gone' : 'error', topic: p.topic, partition: p.partition, error })
  }

  #partitionFailure (p: TopicPartition, name: string, retriable: boolean): KafkaError {
    return new KafkaError(`reading ${p.topic}-${p.partition} on cluster ${this.#cluster}: ${name}`, { retriable, kafkaCode: name })
  }

  #decode (p: TopicPartition & { offset: bigint }, batches: ReadonlyArray<FetchedBatch>, aborted: ReadonlyArray<{ producerId: bigint, firstOffset: bigint }>, round: FetchRound): void {
    const key = tpKey(p.topic, p.partition)
    const out: ConsumedRecord[] = round.records.get(key) ?? []
    const pendingAborts = [...aborted].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0))
    const abortedProducers = new Set<bigint>()
    let next = p.offset
    for (const batch of batches) {
      const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta)
      if (lastOffset < next) continue
      while (pendingAborts.length > 0 && (pendingAborts[0]?.firstOffset ?? 0n) <= lastOffset) {
        abortedProducers.add(pendingAborts.shift()?.producerId ?? -1n)
      }
      const isControl = (batch.attributes & ATTR_CONTROL) !== 0
      const isTransactional = (batch.attributes & ATTR_TRANSACTIONAL) !== 0
      if (isControl) {
        const marker = batch.records[0]?.key
        if (marker !== null && marker !== undefined && marker.length >= 4 && marker.readInt16BE(2) === CONTROL_TYPE_ABORT) abortedProducers.delete(batch.producerId)
        next = lastOffset + 1n
        continue
      }
      if (this.#readCommitted && isTransactional && abortedProducers.has(batch.producerId)) {
        next = lastOffset + 1n
        continue
      }
      const logAppendTime = (batch.attributes & ATTR_TIMESTAMP_LOG_APPEND) !== 0
      for (const r of batch.records) {
        const offset = batch.firstOffset + BigInt(r.offsetDelta)
        if (offset < next) continue
        out.push({
          topic: p.topic,
          partition: p.partition,
          offset,
          timestamp: logAppendTime ? batch.maxTimestamp : batch.firstTimestamp + r.timestampDelta,
          key: r.key,
          value: r.value,
          headers: r.headers.map(([k, v]) => [k ?? Buffer.alloc(0), v] as const)
        })
        next = offset + 1n
      }
      next = lastOffset + 1n
    }
    if (out.length > 0) round.records.set(key, out)
    if (next !== p.offset) {
      round.advanced.set(key, next)
      this.#positions.set(key, { topic: p.topic, partition: p.partition, offset: next })
    }
  }

  async close (): Promise<void> {
    await this.#consumer.close(true).catch(() => {})
  }
}

interface FetchedBatch {
  readonly firstOffset: bigint
  readonly lastOffsetDelta: number
  readonly attributes: number
  readonly firstTimestamp: bigint
  readonly maxTimestamp: bigint
  readonly producerId: bigint
  readonly records: ReadonlyArray<{ offsetDelta: number, timestampDelta: bigint, key: Buffer | null, value: Buffer | null, headers: Array<[Buffer | null, Buffer | null]> }>
}

/** Errors after which leaders or topic ids must be looked up again before the next fetch. */
const STALE_METADATA = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_OR_FOLLOWER', 'FENCED_LEADER_EPOCH', 'UNKNOWN_LEADER_EPOCH', 'UNKNOWN_TOPIC_ID', 'INCONSISTENT_TOPIC_ID', 'KAFKA_STORAGE_ERROR'])
