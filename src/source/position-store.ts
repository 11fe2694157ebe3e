/**
 * Source positions, stored where Kafka Connect (and so Java MM2) keeps them: a compacted topic
 * on the target cluster, key `["<connector>",{"cluster":S,"partition":N,"topic":T}]` and value
 * `{"offset":<last copied offset>}`, partitioned with Kafka's murmur2 like Connect's producer.
 * Java MM2 started on the same config resumes from what we stored, and we from what it stored.
 *
 * The copier hands positions here only after the target acknowledged every record up to them.
 *
 * With an `owner`, every stored record carries the header `kafka-mirror-owner` (UTF-8, the
 * instance and its group generation, docs/scale-out-plan.md §4 "Position records show the
 * writer"), so one can tell which instance wrote a position. Connect's offset store reads only
 * key and value (test/integration/strimzi-state.test.ts shows Java still reads ours).
 */
import { pairClientId } from '../config/client-ids.ts'
import type { FlowConfig } from '../config/model.ts'
import {
  decodeOffsetValue,
  decodeSourceOffsetKey,
  encodeOffsetValue,
  encodeSourceOffsetKey,
  javaPartition
} from '../formats/connect-offsets.ts'
import type { KafkaAdmin } from '../kafka/admin.ts'
import type { KafkaProducer } from '../kafka/producer.ts'
import { readTopic } from '../kafka/read-topic.ts'
import { ensureCompactedTopic } from '../kafka/state-topic.ts'
import type { EncodableRecord } from '../kafka/record-batch.ts'
import { type Header, tpKey } from '../kafka/types.ts'
import { waitForPartitions } from '../kafka/wait-for-partitions.ts'
import type { Logger } from '../observe/logger.ts'

/** Connect's default partition count for the offsets topic (offset.storage.partitions). */
const OFFSETS_TOPIC_PARTITIONS = 25

/** The header naming the writer of a position record. */
export const OWNER_HEADER = 'kafka-mirror-owner'
const OWNER_KEY = Buffer.from(OWNER_HEADER)

/** The owner header's value: the instance and the group generation its writes belong to. */
export function ownerLabel(instance: string, generation: number | undefined): string {
  return generation === undefined ? instance : `${instance} ${generation}`
}

export interface PositionStoreOptions {
  /** The writer to name in each record's owner header; no header when absent or undefined. */
  readonly owner?: (() => string | undefined) | undefined
}

export class PositionStore {
  readonly #flow: FlowConfig
  readonly #admin: KafkaAdmin
  readonly #producer: KafkaProducer
  readonly #log: Logger
  readonly #owner: (() => string | undefined) | undefined
  #partitions = OFFSETS_TOPIC_PARTITIONS
  /** Last stored offset (of the last copied record) per `topic:partition`. */
  readonly #stored = new Map<string, bigint>()

  constructor(
    flow: FlowConfig,
    targetAdmin: KafkaAdmin,
    targetProducer: KafkaProducer,
    log: Logger,
    opts: PositionStoreOptions = {}
  ) {
    this.#flow = flow
    this.#admin = targetAdmin
    this.#producer = targetProducer
    this.#log = log
    this.#owner = opts.owner
  }

  get topic(): string {
    return this.#flow.naming.offsetsTopic
  }

  /**
   * Creates the offsets topic if needed and reads every position in it; `signal` ends the wait for a new topic early.
   */
  async load(signal?: AbortSignal): Promise<void> {
    const topic = this.topic
    let description = (await this.#admin.describeTopics([topic])).get(topic)
    if (description === undefined) {
      const outcome = await ensureCompactedTopic(this.#admin, {
        name: topic,
        partitions: OFFSETS_TOPIC_PARTITIONS,
        replicationFactor: -1
      })
      if (outcome === 'created')
        this.#log.info('created positions topic', { topic, partitions: OFFSETS_TOPIC_PARTITIONS })
      description = (await waitForPartitions(this.#admin, new Map([[topic, 1]]), { attempts: 50, signal })).get(topic)
    }
    this.#partitions = description?.partitions ?? OFFSETS_TOPIC_PARTITIONS
    const consumer = this.#flow.clients.targetConsumer
    const records = await readTopic(
      this.#admin,
      // In the exactly-once mode only committed positions count, whatever the target consumer
      // says (Connect forces it too: Worker.exactlyOnceSourceOffsetsConsumerConfigs).
      this.#flow.exactlyOnce.enabled
        ? { ...consumer, props: { ...consumer.props, 'isolation.level': 'read_committed' } }
        : consumer,
      topic,
      pairClientId(this.#flow, 'positions-reader'),
      // Up to the last stable offset: once the task's transactional id is taken, the open
      // transactions left are other live tasks', whose positions are not this task's to read.
      { committedOnly: this.#flow.exactlyOnce.enabled }
    )
    for (const r of records ?? []) this.#apply(r.key, r.value)
    this.#log.info('loaded positions', { topic, partitions: this.#stored.size })
  }

  /** Applies one record of the offsets topic; other connectors' and other clusters' keys are skipped. */
  #apply(key: Buffer | null, value: Buffer | null): void {
    let k: string
    let offset: bigint | null
    try {
      const p = decodeSourceOffsetKey(key)
      if (p.connector !== this.#flow.naming.sourceConnectorName || p.cluster !== this.#flow.source) return
      k = tpKey(p.topic, p.partition)
      offset = decodeOffsetValue(value)
    } catch {
      return
    }
    if (offset === null) this.#stored.delete(k)
    else this.#stored.set(k, offset)
  }

  /** The last copied offset stored (or read) for the partition. */
  lastStored(topic: string, partition: number): bigint | undefined {
    return this.#stored.get(tpKey(topic, partition))
  }

  /**
   * Positions another task or instance stored (handed over when it released the partitions),
   * taken where they are newer than what this store read: with acks=1 the offsets topic's end
   * can trail what was acknowledged.
   */
  adopt(positions: ReadonlyArray<readonly [topic: string, partition: number, offset: bigint]>): void {
    for (const [topic, partition, offset] of positions) {
      const k = tpKey(topic, partition)
      const known = this.#stored.get(k)
      if (known === undefined || offset > known) this.#stored.set(k, offset)
    }
  }

  /** Offset of the next record to copy, or undefined when nothing was ever stored (or negative). */
  resumeOffset(topic: string, partition: number): bigint | undefined {
    const last = this.#stored.get(tpKey(topic, partition))
    return last === undefined || last < 0n ? undefined : last + 1n
  }

  /**
   * The position records for `lastCopied` offsets that changed, by offsets-topic partition: what
   * `store` produces, and what a copier in the exactly-once mode writes inside its transaction.
   */
  positionRecords(
    lastCopied: ReadonlyMap<string, { topic: string; partition: number; offset: bigint }>
  ): Array<{ topic: string; partition: number; records: EncodableRecord[] }> {
    const byPartition = new Map<number, EncodableRecord[]>()
    const owner = this.#owner?.()
    const headers: readonly Header[] = owner === undefined ? [] : [[OWNER_KEY, Buffer.from(owner, 'utf8')]]
    const timestamp = BigInt(Date.now())
    for (const [k, p] of lastCopied) {
      if (this.#stored.get(k) === p.offset) continue
      const key = encodeSourceOffsetKey({
        connector: this.#flow.naming.sourceConnectorName,
        cluster: this.#flow.source,
        topic: p.topic,
        partition: p.partition
      })
      const partition = javaPartition(key, this.#partitions)
      const records = byPartition.get(partition) ?? []
      records.push({ key, value: encodeOffsetValue(p.offset), headers, timestamp })
      byPartition.set(partition, records)
    }
    return [...byPartition].map(([partition, records]) => ({ topic: this.topic, partition, records }))
  }

  /** Takes `lastCopied` as stored (written by `store`, or committed in a transaction). */
  remember(lastCopied: ReadonlyMap<string, { topic: string; partition: number; offset: bigint }>): void {
    for (const [k, p] of lastCopied) this.#stored.set(k, p.offset)
  }

  /** Stores `lastCopied` offsets; only the ones that changed are written. */
  async store(lastCopied: ReadonlyMap<string, { topic: string; partition: number; offset: bigint }>): Promise<number> {
    const batches = this.positionRecords(lastCopied)
    if (batches.length === 0) return 0
    await this.#producer.send(batches)
    this.remember(lastCopied)
    return batches.reduce((n, b) => n + b.records.length, 0)
  }
}
