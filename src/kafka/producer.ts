/**
 * Produces records (acks=all unless the user's `acks` says 1; `compression.type` as set), one batch per partition, and
 * reports the offset each batch
 * starts at on the target (record i of a batch is at base + i), which the copier needs for
 * offset syncs.
 *
 * Records keep every header in order, duplicates and null values too: the client takes headers
 * as a Map, so each header key is passed as its own Buffer object (a Map keys by identity), and
 * the client's default serializers pass the bytes through unchanged.
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
import { errorTree } from '../util/error-tree.ts'
import { isUnknownTopicError, toKafkaError } from './errors.ts'
import { type Compression, producerSettings } from './producer-settings.ts'
import { produceRaw } from './raw-protocol.ts'
import type { BatchBytes } from './record-batch.ts'
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

/** Base offsets of partitions the broker accepted, found anywhere in a failed send's error tree. */
function acceptedPartitions(err: unknown): Map<string, bigint> {
  const accepted = new Map<string, bigint>()
  for (const { error } of errorTree(err)) {
    const { produced, response } = error as {
      produced?: { offsets?: Array<{ topic: string; partition: number; offset: bigint }> }
      response?: {
        responses?: Array<{
          name?: string
          partitionResponses?: Array<{ index: number; errorCode: number; baseOffset: bigint }>
        }>
      }
    }
    for (const o of produced?.offsets ?? []) accepted.set(tpKey(o.topic, o.partition), o.offset)
    for (const t of response?.responses ?? []) {
      for (const p of t.partitionResponses ?? []) {
        if (t.name !== undefined && p.errorCode === 0 && p.baseOffset >= 0n)
          accepted.set(tpKey(t.name, p.index), p.baseOffset)
      }
    }
  }
  return accepted
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
      // A brand-new producer must announce itself with -1/-1 (the client's default of 0/0 is
      // rejected for reused transactional ids).
      producerId: -1n,
      producerEpoch: -1,
      acks: settings.acksAll ? ProduceAcks.ALL : ProduceAcks.LEADER,
      compression: settings.compression,
      idempotent: false,
      // The client's own retry resends a whole request when one partition of it fails, which
      // writes the partitions that had succeeded twice. send() retries only what failed.
      retries: 0,
      // Same reason: on a stale-metadata error the client repeats the whole request.
      repeatOnStaleMetadata: false,
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
   * partitions that failed, and returns each batch's base offset. Throws ProduceFailure, which
   * tells the batches that were written anyway.
   */
  async send(batches: readonly PartitionBatch[]): Promise<bigint[]> {
    const offsets: Array<bigint | undefined> = batches.map(() => undefined)
    let pending = batches.map((_, i) => i)
    for (let attempt = 0; ; attempt++) {
      try {
        // Before the metadata look-ups too: a refused send should not open or use connections.
        this.#checkGate(() => `producing to ${batches[0]?.topic ?? ''} on cluster ${this.#cluster}`)
        const sent = await this.#sendOnce(pending.map(i => batches[i] as PartitionBatch))
        pending.forEach((i, j) => {
          offsets[i] = sent[j]
        })
        return offsets.map(o => o ?? -1n)
      } catch (err) {
        if (!(err instanceof ProduceFailure)) throw err
        pending.forEach((i, j) => {
          if (err.acked[j] !== undefined) offsets[i] = err.acked[j]
        })
        pending = pending.filter((_, j) => err.acked[j] === undefined)
        if (!err.retriable || attempt >= SEND_ATTEMPTS - 1 || pending.length === 0)
          throw new ProduceFailure(err, offsets)
        // Leadership moved or the topic is new: refresh metadata before trying the rest again.
        const topics = [...new Set(pending.map(i => (batches[i] as PartitionBatch).topic))]
        await this.#producer.metadata({ topics, forceUpdate: true }).catch(() => {})
        await new Promise(resolve => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)))
      }
    }
  }

  /**
   * The batches whose partition the producer's metadata lists, after one forced refresh for any
   * that it does not. The library writes a record for a partition it does not know yet to
   * `partition % cachedPartitionCount` (KafkaProducer must never redirect a record: a mirror's
   * record belongs on its source partition), so an unknown partition is held back here and
   * reported as a retriable UNKNOWN_TOPIC_OR_PARTITION for its batch alone.
   */
  async #knownPartitions(
    batches: readonly PartitionBatch[]
  ): Promise<{ known: boolean[]; error: KafkaError | undefined }> {
    let counts = await this.#partitionCounts([...new Set(batches.map(b => b.topic))], false)
    const stale = [...new Set(batches.filter(b => b.partition >= (counts.get(b.topic) ?? 0)).map(b => b.topic))]
    if (stale.length > 0) counts = new Map([...counts, ...(await this.#partitionCounts(stale, true))])
    const unknown = batches.filter(b => b.partition >= (counts.get(b.topic) ?? 0))
    if (unknown.length === 0) return { known: batches.map(() => true), error: undefined }
    const names = unknown
      .slice(0, 5)
      .map(
        b =>
          `${b.topic}-${b.partition} (partition ${b.partition} not known: the topic has ${counts.get(b.topic) ?? 0} partitions in metadata)`
      )
      .join(', ')
    const error = new KafkaError(`producing to ${names} on cluster ${this.#cluster}: UNKNOWN_TOPIC_OR_PARTITION`, {
      retriable: true,
      kafkaCode: 'UNKNOWN_TOPIC_OR_PARTITION'
    })
    return { known: batches.map(b => b.partition < (counts.get(b.topic) ?? 0)), error }
  }

  /**
   * Partition count per topic from the producer's metadata (0 for a topic it cannot see). Fails
   * closed: when metadata cannot be read at all, nothing is sent (the library would fall back
   * to its cache and wrap partitions), and the failure is retried like a failed send.
   */
  async #partitionCounts(topics: readonly string[], forceUpdate: boolean): Promise<Map<string, number>> {
    const read = async (names: readonly string[]): Promise<Map<string, number>> => {
      const md = await this.#producer.metadata({ topics: [...names], forceUpdate })
      return new Map(names.map(t => [t, md.topics.get(t)?.partitionsCount ?? 0]))
    }
    try {
      try {
        return await read(topics)
      } catch (err) {
        // One topic the brokers do not know (yet) fails the whole request: ask each alone.
        if (topics.length === 1 || !isUnknownTopicError(err)) throw err
        const each = await Promise.all(
          topics.map(
            async t =>
              await read([t]).catch((e: unknown) => {
                if (isUnknownTopicError(e)) return new Map([[t, 0]])
                throw e
              })
          )
        )
        return new Map(each.flatMap(m => [...m]))
      }
    } catch (err) {
      if (topics.length === 1 && isUnknownTopicError(err)) return new Map([[topics[0] ?? '', 0]])
      throw toKafkaError(`reading metadata of ${topics.slice(0, 5).join(', ')} on cluster ${this.#cluster}`, err)
    }
  }

  /** One produce call; on failure the ProduceFailure says which batches were written anyway. */
  async #sendOnce(all: readonly PartitionBatch[]): Promise<Array<bigint | undefined>> {
    let checked: { known: boolean[]; error: KafkaError | undefined }
    try {
      checked = await this.#knownPartitions(all)
    } catch (err) {
      throw new ProduceFailure(
        err as KafkaError,
        all.map(() => undefined)
      )
    }
    const { known, error: unknownPartitions } = checked
    if (unknownPartitions !== undefined) {
      const sendable = all.filter((_, i) => known[i])
      let sent: Array<bigint | undefined> = []
      let failure: ProduceFailure | undefined
      try {
        if (sendable.length > 0) sent = await this.#sendKnown(sendable)
      } catch (err) {
        if (!(err instanceof ProduceFailure)) throw err
        failure = err
        sent = [...err.acked]
      }
      let j = 0
      const acked = all.map((_, i) => (known[i] === true ? sent[j++] : undefined))
      throw new ProduceFailure(failure ?? unknownPartitions, acked)
    }
    return await this.#sendKnown(all)
  }

  async #sendKnown(batches: readonly PartitionBatch[]): Promise<Array<bigint | undefined>> {
    const messages = []
    for (const { topic, partition, records } of batches) {
      for (const r of records) {
        const headers = new Map<Buffer, Buffer | null>()
        for (const [k, v] of r.headers) headers.set(headers.has(k) ? Buffer.from(k) : k, v)
        messages.push({ topic, partition, key: r.key, value: r.value, headers, timestamp: r.timestamp })
      }
    }
    const baseOffsets = (offsets: ReadonlyMap<string, bigint>): Array<bigint | undefined> =>
      batches.map(b => offsets.get(tpKey(b.topic, b.partition)))
    let bases: Array<bigint | undefined>
    // As late as this path allows: the client builds the request inside send(); the socket gate covers the rest.
    this.#checkGate(
      () => `producing ${messages.length} records to ${batches[0]?.topic ?? ''} on cluster ${this.#cluster}`
    )
    try {
      const result = await this.#producer.send({ messages: messages as never })
      bases = baseOffsets(new Map((result.offsets ?? []).map(o => [tpKey(o.topic, o.partition), o.offset])))
    } catch (err) {
      const topics = [...new Set(batches.map(b => b.topic))].slice(0, 5).join(', ')
      const error = toKafkaError(`producing ${messages.length} records to ${topics} on cluster ${this.#cluster}`, err)
      // The client's own "Unknown topic" (no request sent) is what a topic created a moment ago
      // looks like until its metadata has spread: worth a metadata refresh and another try.
      const unknownTopic =
        !error.retriable && [...errorTree(err)].some(({ error }) => /^Unknown topic/i.test(error.message))
      throw new ProduceFailure(
        unknownTopic
          ? new KafkaError(error.message, { retriable: true, kafkaCode: 'UNKNOWN_TOPIC_OR_PARTITION', cause: err })
          : error,
        baseOffsets(acceptedPartitions(err))
      )
    }
    // A batch the answer does not place at its own partition went somewhere else: the library
    // re-read its metadata between our check and its send and wrapped the partition. Said loudly;
    // those batches are sent again one record at a time by the caller, to their own partition.
    const astray = batches.filter((_, i) => bases[i] === undefined).map(b => `${b.topic}-${b.partition}`)
    if (astray.length > 0)
      throw new ProduceFailure(
        new KafkaError(
          `producing to ${astray.slice(0, 5).join(', ')} on cluster ${this.#cluster}: the client reported no write at these partitions; their records may have gone to another partition`,
          { retriable: false, kafkaCode: 'PARTITION_MISMATCH' }
        ),
        bases
      )
    return bases
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

  /** Throws the gate's refusal as a ProduceFailure that says nothing of these batches was written. */
  #checkGate(what: () => string): void {
    try {
      this.#gate?.assertValid(what)
    } catch (err) {
      throw new ProduceFailure(err as KafkaError, [])
    }
  }

  async close(): Promise<void> {
    await this.#producer.close().catch(() => {})
  }
}
