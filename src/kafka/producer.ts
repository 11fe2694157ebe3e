/**
 * Produces records with acks=all and reports the offset each record got on the target, which
 * the copier needs for offset syncs.
 *
 * Records keep every header in order, duplicates and null values too: the client takes headers
 * as a Map, so each header key is passed as its own Buffer object (a Map keys by identity), and
 * the client's default serializers pass the bytes through unchanged.
 */
import { Producer, ProduceAcks } from '@platformatic/kafka'
import type { ClientConfig } from '../config/model.ts'
import { clientOptions } from './client-options.ts'
import { KafkaError } from '../errors.ts'
import { errorTree, toKafkaError } from './errors.ts'
import { type RecordToSend, tpKey } from './types.ts'

/**
 * A send that failed for some partitions. Partitions in one request succeed or fail one by
 * one, so `acked` gives, per input record, the offset it was written at when its partition
 * succeeded (undefined when it did not): retrying those would duplicate them.
 */
const SEND_ATTEMPTS = 8

export class ProduceFailure extends KafkaError {
  readonly acked: ReadonlyArray<bigint | undefined>
  constructor (cause: KafkaError, acked: ReadonlyArray<bigint | undefined>) {
    super(cause.message, { retriable: cause.retriable, kafkaCode: cause.kafkaCode, cause: cause.cause })
    this.acked = acked
  }
}

/** Base offsets of partitions the broker accepted, found anywhere in a failed send's error tree. */
function acceptedPartitions (err: unknown): Map<string, bigint> {
  const accepted = new Map<string, bigint>()
  for (const { error } of errorTree(err)) {
    const { produced, response } = error as {
      produced?: { offsets?: Array<{ topic: string, partition: number, offset: bigint }> }
      response?: { responses?: Array<{ name?: string, partitionResponses?: Array<{ index: number, errorCode: number, baseOffset: bigint }> }> }
    }
    for (const o of produced?.offsets ?? []) accepted.set(tpKey(o.topic, o.partition), o.offset)
    for (const t of response?.responses ?? []) {
      for (const p of t.partitionResponses ?? []) {
        if (t.name !== undefined && p.errorCode === 0 && p.baseOffset >= 0n) accepted.set(tpKey(t.name, p.index), p.baseOffset)
      }
    }
  }
  return accepted
}

function offsetsFor (records: readonly RecordToSend[], base: ReadonlyMap<string, bigint>): Array<bigint | undefined> {
  const seen = new Map<string, bigint>()
  return records.map(r => {
    const key = tpKey(r.topic, r.partition)
    const index = seen.get(key) ?? 0n
    seen.set(key, index + 1n)
    const b = base.get(key)
    return b === undefined ? undefined : b + index
  })
}

export class KafkaProducer {
  readonly #producer: Producer<Buffer | null, Buffer | null, Buffer, Buffer | null>
  readonly #cluster: string

  constructor (cfg: ClientConfig, clientId: string) {
    this.#cluster = cfg.cluster
    this.#producer = new Producer({
      ...clientOptions(cfg, clientId),
      // A brand-new producer must announce itself with -1/-1 (the client's default of 0/0 is
      // rejected for reused transactional ids).
      producerId: -1n,
      producerEpoch: -1,
      acks: ProduceAcks.ALL,
      idempotent: false,
      // The client's own retry resends a whole request when one partition of it fails, which
      // writes the partitions that had succeeded twice. send() retries only what failed.
      retries: 0,
      // Same reason: on a stale-metadata error the client repeats the whole request.
      repeatOnStaleMetadata: false,
      autocreateTopics: false
    } as ConstructorParameters<typeof Producer>[0]) as unknown as Producer<Buffer | null, Buffer | null, Buffer, Buffer | null>
  }

  /**
   * Sends the records in one request per broker and returns, for each input record (same
   * order), the offset it was written at. Records of one partition are written contiguously in
   * input order, so each gets the partition's base offset plus its index among them.
   */
  async send (records: readonly RecordToSend[]): Promise<bigint[]> {
    const offsets: Array<bigint | undefined> = records.map(() => undefined)
    let pending = records.map((_, i) => i)
    for (let attempt = 0; ; attempt++) {
      try {
        const sent = await this.#sendOnce(pending.map(i => records[i] as RecordToSend))
        pending.forEach((i, j) => { offsets[i] = sent[j] })
        return offsets.map(o => o ?? -1n)
      } catch (err) {
        if (!(err instanceof ProduceFailure)) throw err
        pending.forEach((i, j) => { if (err.acked[j] !== undefined) offsets[i] = err.acked[j] })
        const remaining = pending.filter((_, j) => err.acked[j] === undefined)
        if (!err.retriable || attempt >= SEND_ATTEMPTS - 1 || remaining.length === 0) {
          throw new ProduceFailure(err, offsets)
        }
        pending = remaining
        // Leadership moved or the topic is new: refresh metadata before trying the rest again.
        const topics = [...new Set(pending.map(i => (records[i] as RecordToSend).topic))]
        await this.#producer.metadata({ topics, forceUpdate: true }).catch(() => {})
        await new Promise(resolve => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)))
      }
    }
  }

  /** One produce call; on failure the ProduceFailure says which records were written anyway. */
  async #sendOnce (records: readonly RecordToSend[]): Promise<bigint[]> {
    const messages = records.map(r => {
      const headers = new Map<Buffer, Buffer | null>()
      for (const [k, v] of r.headers) headers.set(headers.has(k) ? Buffer.from(k) : k, v)
      return { topic: r.topic, partition: r.partition, key: r.key, value: r.value, headers, timestamp: r.timestamp }
    })
    let result
    try {
      result = await this.#producer.send({ messages: messages as never })
    } catch (err) {
      const topics = [...new Set(records.map(r => r.topic))].slice(0, 5).join(', ')
      throw new ProduceFailure(toKafkaError(`producing ${records.length} records to ${topics} on cluster ${this.#cluster}`, err), offsetsFor(records, acceptedPartitions(err)))
    }
    const base = new Map<string, bigint>()
    for (const o of result.offsets ?? []) base.set(tpKey(o.topic, o.partition), o.offset)
    return offsetsFor(records, base).map(o => o ?? -1n)
  }

  async close (): Promise<void> {
    await this.#producer.close().catch(() => {})
  }
}
