/**
 * Produces records (acks=all unless the user's `acks` says 1; `compression.type` as set), one
 * batch per partition, and reports the offset each batch starts at on the target (record i of a
 * batch is at base + i), which the copier needs for offset syncs.
 *
 * Batches are encoded here (record-batch.ts `encodeBatch`, every header kept in order,
 * duplicates and null values too) and sent as raw Produce requests over the client library's
 * connections (`sendBatches`); the library's own producer serves only metadata and connections.
 *
 * A producer given a write gate (write-gate.ts: the group's lease) checks it synchronously
 * before each request is built or handed to the client, and its connections are gated at the
 * socket. A refused write fails with the gate's error (kafkaCode LEASE_EXPIRED, not retriable):
 * nothing of it was sent, and it is not retried here, since only a renewed lease can let it pass.
 */
import {
  type ClusterMetadata,
  Producer,
  ProduceAcks,
  protocolErrors,
  protocolErrorsCodesById
} from '@platformatic/kafka'
import type { ClientConfig } from '../config/model.ts'
import { clientOptions } from './security/client-options.ts'
import { KafkaError } from '../errors.ts'
import { isUnknownTopicError, toKafkaError } from './errors.ts'
import { type Compression, producerSettings } from './producer-settings.ts'
import { produceRaw } from './raw-protocol.ts'
import { type BatchBytes, type EncodableRecord, encodeBatch } from './record-batch.ts'
import { type PartitionBatch, tpKey } from './types.ts'
import { gateConnections, isGateRefusal, type WriteGate } from './write-gate.ts'

const SEND_ATTEMPTS = 8
/** Broker-side wait for acks=all (Java's request.timeout.ms default). */
const PRODUCE_TIMEOUT_MS = 30_000
/** Answers after which the partition's leader must be looked up again. */
const STALE_LEADER = new Set([
  'NOT_LEADER_OR_FOLLOWER',
  'LEADER_NOT_AVAILABLE',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'KAFKA_STORAGE_ERROR',
  'NOT_ENOUGH_REPLICAS'
])

/**
 * Every batch's outcome until its answer replaces it. One shared value: an Error per batch per
 * round captured a stack trace each time, which showed in the copy path's profile.
 */
const NOT_SENT: BatchOutcome = { error: new KafkaError('not sent', { retriable: true }) }

/** One encoded record batch (record-batch.ts) for one partition. */
export interface EncodedBatch {
  readonly topic: string
  readonly partition: number
  readonly batch: BatchBytes
}

/** Where a batch landed (its first record's offset on the target), or why it did not. */
export type BatchOutcome =
  { readonly base: bigint; readonly error?: undefined } | { readonly base?: undefined; readonly error: KafkaError }

/**
 * A send that failed for some partitions. Partitions in one request succeed or fail one by
 * one, so `acked` gives, per input batch, the base offset it was written at when its partition
 * succeeded (undefined when it did not): retrying those would duplicate them.
 */
export class ProduceFailure extends KafkaError {
  readonly acked: ReadonlyArray<bigint | undefined>
  constructor(cause: KafkaError, acked: ReadonlyArray<bigint | undefined>) {
    super(cause.message, { retriable: cause.retriable, kafkaCode: cause.kafkaCode, cause: cause.cause })
    this.acked = acked
  }
}

export class KafkaProducer {
  readonly #producer: Producer<Buffer | null, Buffer | null, Buffer, Buffer | null>
  readonly #cluster: string
  /** The most bytes one partition should put in one send (`batch.size`, capped; see producer-settings.ts). */
  readonly partitionBatchBytes: number
  /**
   * Compression of the record path; `compressionSet` says whether the user chose it (raw batches keep the source's
   * otherwise).
   */
  readonly compression: Compression
  readonly compressionSet: boolean
  readonly #acks: number
  readonly #gate: WriteGate | undefined
  #leadersStale = false

  constructor(cfg: ClientConfig, clientId: string, opts: { readonly gate?: WriteGate | undefined } = {}) {
    this.#cluster = cfg.cluster
    this.#gate = opts.gate
    const settings = producerSettings(cfg)
    this.partitionBatchBytes = settings.partitionBatchBytes
    this.compression = settings.compression
    this.compressionSet = settings.compressionSet
    this.#acks = settings.acksAll ? ProduceAcks.ALL : ProduceAcks.LEADER
    this.#producer = new Producer({
      ...clientOptions(cfg, clientId),
      // Only its metadata and connections are used (sendBatches writes the Produce requests
      // itself): a plain producer that never creates topics nor retries on its own.
      idempotent: false,
      retries: 0,
      autocreateTopics: false
    } as ConstructorParameters<typeof Producer>[0]) as unknown as Producer<
      Buffer | null,
      Buffer | null,
      Buffer,
      Buffer | null
    >
    if (opts.gate !== undefined) gateConnections(this.#producer as never, opts.gate)
  }

  /**
   * Sends the batches (at most one per partition) in one request per broker, retrying only the
   * partitions that failed, and returns each batch's base offset. Each batch is encoded here
   * (encodeBatch: the library's own writer keeps only 32 bits of a timestamp delta); a record
   * without a timestamp gets the send time. sendBatches checks the write gate, never writes a
   * batch to a partition its metadata does not list, and re-reads metadata after an answer that
   * says it is stale. Throws ProduceFailure, which tells the batches that were written anyway.
   */
  async send(batches: readonly PartitionBatch[]): Promise<bigint[]> {
    const now = BigInt(Date.now())
    const encoded: EncodedBatch[] = await Promise.all(
      batches.map(async ({ topic, partition, records }) => ({
        topic,
        partition,
        batch: await encodeBatch(
          records.map(r => (r.timestamp === undefined ? { ...r, timestamp: now } : (r as EncodableRecord))),
          this.compression
        )
      }))
    )
    const offsets: Array<bigint | undefined> = batches.map(() => undefined)
    let pending = batches.map((_, i) => i)
    for (let attempt = 1; ; attempt++) {
      const outcomes = await this.sendBatches(pending.map(i => encoded[i] as EncodedBatch))
      const failures: KafkaError[] = []
      pending = pending.filter((i, j) => {
        const outcome = outcomes[j] as BatchOutcome
        if (outcome.error !== undefined) failures.push(outcome.error)
        else offsets[i] = outcome.base
        return outcome.error !== undefined
      })
      const failure = failures.find(e => !e.retriable) ?? failures[0]
      if (failure === undefined) return offsets.map(o => o ?? -1n)
      if (!failure.retriable || attempt >= SEND_ATTEMPTS) throw new ProduceFailure(failure, offsets)
      await new Promise(resolve => setTimeout(resolve, Math.min(1000, 50 * 2 ** (attempt - 1))))
    }
  }

  /**
   * Sends encoded batches (at most one per partition), one request per leader, all leaders at
   * once, with no retry: every batch's outcome comes back as a value (partial success is the
   * normal case, and the caller's one retry layer decides what to send again). A partition the
   * metadata does not list (after one forced refresh) is refused with a retriable
   * UNKNOWN_TOPIC_OR_PARTITION, never sent elsewhere. A request that fails as a whole (network,
   * timeout) fails its batches with a retriable error: they may have been written.
   */
  async sendBatches(batches: readonly EncodedBatch[]): Promise<BatchOutcome[]> {
    const outcomes: BatchOutcome[] = batches.map(() => NOT_SENT)
    const topics = [...new Set(batches.map(b => b.topic))]
    try {
      this.#gate?.assertValid(() => `producing to ${topics.slice(0, 5).join(', ')} on cluster ${this.#cluster}`)
    } catch (err) {
      return batches.map(() => ({ error: err as KafkaError }))
    }
    let md: ClusterMetadata
    try {
      md = await this.#producer.metadata({ topics, forceUpdate: this.#leadersStale })
      this.#leadersStale = false
      if (batches.some(b => (md?.topics.get(b.topic)?.partitionsCount ?? 0) <= b.partition))
        md = await this.#producer.metadata({ topics, forceUpdate: true })
    } catch (err) {
      if (!isUnknownTopicError(err) || topics.length === 1) {
        this.#leadersStale = true
        const error = isUnknownTopicError(err)
          ? new KafkaError(`producing to ${topics[0] ?? ''} on cluster ${this.#cluster}: UNKNOWN_TOPIC_OR_PARTITION`, {
              retriable: true,
              kafkaCode: 'UNKNOWN_TOPIC_OR_PARTITION'
            })
          : toKafkaError(`reading metadata of ${topics.slice(0, 5).join(', ')} on cluster ${this.#cluster}`, err)
        return batches.map(() => ({ error }))
      }
      // One topic the brokers do not know (yet) fails the whole request: send each topic alone.
      const byTopic = Map.groupBy(
        batches.map((b, i) => ({ b, i })),
        x => x.b.topic
      )
      await Promise.all(
        [...byTopic.values()].map(async group => {
          const answers = await this.sendBatches(group.map(x => x.b))
          group.forEach((x, j) => {
            outcomes[x.i] = answers[j] as BatchOutcome
          })
        })
      )
      return outcomes
    }
    const byLeader = new Map<number, number[]>()
    batches.forEach((b, i) => {
      const t = md.topics.get(b.topic)
      const leader = t?.partitions[b.partition]?.leader ?? -2
      if (t === undefined || b.partition >= t.partitionsCount || leader === -2) {
        outcomes[i] = {
          error: new KafkaError(
            `producing to ${b.topic}-${b.partition} on cluster ${this.#cluster}: UNKNOWN_TOPIC_OR_PARTITION (the topic has ${t?.partitionsCount ?? 0} partitions in metadata)`,
            { retriable: true, kafkaCode: 'UNKNOWN_TOPIC_OR_PARTITION' }
          )
        }
        this.#leadersStale = true
      } else if (leader < 0 || !md.brokers.has(leader)) {
        outcomes[i] = {
          error: new KafkaError(
            `producing to ${b.topic}-${b.partition} on cluster ${this.#cluster}: LEADER_NOT_AVAILABLE`,
            { retriable: true, kafkaCode: 'LEADER_NOT_AVAILABLE' }
          )
        }
        this.#leadersStale = true
      } else {
        const list = byLeader.get(leader) ?? []
        list.push(i)
        byLeader.set(leader, list)
      }
    })
    await Promise.all(
      [...byLeader].map(async ([leader, indexes]) => {
        const broker = md.brokers.get(leader) as { host: string; port: number }
        const byTopic = Map.groupBy(indexes, i => (batches[i] as EncodedBatch).topic)
        const request = [...byTopic].map(([topic, is]) => ({
          topic,
          partitions: is.map(i => ({
            partition: (batches[i] as EncodedBatch).partition,
            batch: (batches[i] as EncodedBatch).batch
          }))
        }))
        try {
          const answers = await produceRaw(
            this.#producer as never,
            broker,
            this.#acks,
            PRODUCE_TIMEOUT_MS,
            request,
            this.#gate === undefined
              ? undefined
              : {
                  gate: this.#gate,
                  what: () =>
                    `producing to broker ${leader} (${broker.host}:${broker.port}) of cluster ${this.#cluster}`
                }
          )
          const byPartition = new Map(answers.map(a => [tpKey(a.topic, a.partition), a]))
          for (const i of indexes) {
            const b = batches[i] as EncodedBatch
            const a = byPartition.get(tpKey(b.topic, b.partition))
            if (a === undefined) {
              outcomes[i] = {
                error: new KafkaError(
                  `producing to ${b.topic}-${b.partition} on cluster ${this.#cluster}: the broker's answer does not mention this partition`,
                  { retriable: true }
                )
              }
            } else if (a.errorCode === 0) {
              outcomes[i] = { base: a.baseOffset }
            } else {
              const name = protocolErrorsCodesById[a.errorCode] ?? `error code ${a.errorCode}`
              if (STALE_LEADER.has(name)) this.#leadersStale = true
              const retriable = protocolErrors[name]?.canRetry === true || STALE_LEADER.has(name)
              outcomes[i] = {
                error: new KafkaError(
                  `producing to ${b.topic}-${b.partition} on cluster ${this.#cluster}: ${name}${a.errorMessage === null ? '' : ` (${a.errorMessage})`}`,
                  { retriable, kafkaCode: name }
                )
              }
            }
          }
        } catch (err) {
          if (isGateRefusal(err)) {
            for (const i of indexes) outcomes[i] = { error: err as KafkaError }
            return
          }
          this.#leadersStale = true
          const error = toKafkaError(
            `producing to broker ${leader} (${broker.host}:${broker.port}) of cluster ${this.#cluster}`,
            err
          )
          for (const i of indexes) outcomes[i] = { error }
        }
      })
    )
    return outcomes
  }

  async close(): Promise<void> {
    await this.#producer.close().catch(() => {})
  }
}
