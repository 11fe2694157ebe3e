/**
 * A topic read a little further on every call, for watching a copy while it runs: each
 * `advance()` returns the records added since the previous call, up to the end a consumer of the
 * chosen isolation can reach now. read_committed stops at the last stable offset (LSO), the first
 * offset of the oldest transaction still open, as Kafka's consumer does; read_uncommitted at the
 * high watermark.
 *
 * `readAll` (helpers.ts) reads to the high watermark instead, which a read_committed reader
 * cannot pass while a transaction is open there: after a kill -9 in the exactly-once mode, the
 * killed task's transaction stays open until the next run's InitProducerId aborts it (or it
 * times out), so a full read between runs would wait for that. Below the LSO every transaction
 * is decided, so what this reads never changes afterwards, and reading on from where the
 * previous call stopped sees the whole topic.
 */
import type { KafkaAdmin } from '../../src/kafka/admin.ts'
import { PartitionReader } from '../../src/kafka/partition-reader.ts'
import { type ConsumedRecord, tpKey } from '../../src/kafka/types.ts'
import type { KafkaCluster } from './cluster.ts'
import { clientConfig } from './helpers.ts'

export class TopicTail {
  readonly #admin: KafkaAdmin
  readonly #topic: string
  readonly #cluster: string
  readonly #reader: PartitionReader
  /** Partitions seen (the topic may not exist yet when the tail is made). */
  #partitions = 0
  /** Records read by a call that then failed: the reader has moved past them, so the next call returns them. */
  #pending: ConsumedRecord[] = []

  constructor(
    cluster: KafkaCluster,
    admin: KafkaAdmin,
    topic: string,
    isolation: 'read_committed' | 'read_uncommitted'
  ) {
    this.#admin = admin
    this.#topic = topic
    this.#cluster = cluster.name
    this.#reader = new PartitionReader(clientConfig(cluster, { 'isolation.level': isolation }), `tail-${isolation}`, {
      maxWaitMs: 50
    })
  }

  /** The records added since the last call (every partition, each in offset order), up to the reachable end. */
  async advance(opts: { timeoutMs?: number } = {}): Promise<ConsumedRecord[]> {
    const description = (await this.#admin.describeTopics([this.#topic])).get(this.#topic)
    if (description === undefined) return []
    if (description.partitions > this.#partitions) {
      const added = Array.from({ length: description.partitions - this.#partitions }, (_, i) => ({
        topic: this.#topic,
        partition: this.#partitions + i
      }))
      const earliest = await this.#admin.listOffsets(added, 'earliest')
      for (const tp of added)
        this.#reader.seek(tp.topic, tp.partition, earliest.get(tpKey(tp.topic, tp.partition)) ?? 0n)
      this.#partitions = description.partitions
    }
    const reached = new Set<number>()
    const deadline = Date.now() + (opts.timeoutMs ?? 60_000)
    while (reached.size < this.#partitions) {
      if (Date.now() > deadline)
        throw new Error(
          `reading ${this.#topic} on cluster ${this.#cluster}: partitions ${Array.from(
            { length: this.#partitions },
            (_, p) => p
          )
            .filter(p => !reached.has(p))
            .join(', ')} did not reach their end in ${opts.timeoutMs ?? 60_000} ms`
        )
      const round = await this.#reader.poll()
      for (const records of round.records.values()) for (const r of records) this.#pending.push(r)
      for (const e of round.events)
        if (e.kind !== 'error' || !e.error.retriable)
          throw new Error(
            `reading ${this.#topic} on cluster ${this.#cluster}: ${e.kind}${'error' in e ? ` (${e.error.message})` : ''}`
          )
      for (const [key, end] of round.endOffsets) {
        const partition = Number(key.slice(key.lastIndexOf(':') + 1))
        if ((this.#reader.position(this.#topic, partition) ?? 0n) >= end) reached.add(partition)
      }
    }
    const out = this.#pending
    this.#pending = []
    return out
  }

  async close(): Promise<void> {
    await this.#reader.close()
  }
}
