/**
 * Fetch and Produce with record batches as bytes, on the client library's connections.
 *
 * The library decodes every record of a Fetch response and encodes every record of a Produce
 * request itself; the copy engine needs the batches as they are (copied unchanged when nothing
 * must change, see record-batch.ts), so these two requests are built and parsed here, on the
 * connections, authentication and version negotiation of a library client:
 * - Fetch v13-v17 (topic ids; Kafka 3.1+), session-less (epoch -1, KIP-227's "no session"), and
 *   the response keeps each partition's `records` as a Buffer;
 * - Produce v9-v11 (flexible versions; Kafka 2.8+): one record batch per partition (brokers
 *   refuse more than one in a v3+ request), and every partition's outcome comes back as a value
 *   (base offset or error code), never as one error for the whole request. A transactional
 *   Produce names its transactional id (transactions.ts); v11 is the cap on purpose, as v12 is
 *   the transaction version 2 flow (docs/exactly-once-plan.md §4.1).
 * Request layouts: Apache Kafka's FetchRequest.json / ProduceRequest.json message definitions.
 */
import type { Reader } from '@platformatic/kafka'
import {
  type Base,
  createAPI,
  fetchV13,
  fetchV14,
  fetchV15,
  fetchV16,
  fetchV17,
  kGetApi,
  Writer
} from '@platformatic/kafka'
import { KafkaError } from '../errors.ts'
import { brokerConnection } from './connections.ts'
import { gathered, gatherProduceWrites } from './gathered-produce.ts'
import { type BatchBytes, batchLength } from './record-batch.ts'
import type { WriteGate } from './write-gate.ts'

const FETCH_REQUESTS: Readonly<Record<number, (...args: never[]) => unknown>> = {
  13: fetchV13.createRequest as never,
  14: fetchV14.createRequest as never,
  15: fetchV15.createRequest as never,
  16: fetchV16.createRequest as never,
  17: fetchV17.createRequest as never
}
const MIN_PRODUCE_VERSION = 9
const MAX_PRODUCE_VERSION = 11

export interface RawFetchPartitionRequest {
  readonly partition: number
  readonly fetchOffset: bigint
  readonly partitionMaxBytes: number
}

export interface RawFetchRequest {
  readonly maxWaitMs: number
  readonly minBytes: number
  readonly maxBytes: number
  readonly readCommitted: boolean
  readonly topics: ReadonlyArray<{ readonly topicId: string; readonly partitions: readonly RawFetchPartitionRequest[] }>
}

export interface RawFetchPartition {
  readonly partition: number
  readonly errorCode: number
  readonly highWatermark: bigint
  readonly lastStableOffset: bigint
  readonly logStartOffset: bigint
  readonly abortedTransactions: ReadonlyArray<{ readonly producerId: bigint; readonly firstOffset: bigint }>
  /**
   * Record batches as the broker sent them (the last one may be cut short), as views into the
   * socket chunks the answer arrived in (not copied into one Buffer); empty when none.
   */
  readonly records: readonly Buffer[]
}

export interface RawFetchResponse {
  readonly errorCode: number
  readonly topics: ReadonlyArray<{ readonly topicId: string; readonly partitions: readonly RawFetchPartition[] }>
}

export interface ProducePartitionAnswer {
  readonly topic: string
  readonly partition: number
  readonly errorCode: number
  readonly baseOffset: bigint
  readonly errorMessage: string | null
}

interface Broker {
  readonly host: string
  readonly port: number
}

async function negotiatedVersion(client: Base, name: string): Promise<number> {
  return await new Promise((resolve, reject) => {
    client[kGetApi](name as never, (error, api) => {
      if (error != null || api == null) reject(error ?? new Error(`no ${name} API`))
      else resolve((api as unknown as { version: number }).version)
    })
  })
}

function parseFetch(
  _correlationId: number,
  _apiKey: number,
  _apiVersion: number,
  r: InstanceType<typeof Reader>
): RawFetchResponse {
  r.readInt32() // throttle_time_ms
  const errorCode = r.readInt16()
  r.readInt32() // session_id
  const topics = r.readArray(t => ({
    topicId: t.readUUID(),
    partitions: t.readArray(p => {
      const partition = p.readInt32()
      const code = p.readInt16()
      const highWatermark = p.readInt64()
      const lastStableOffset = p.readInt64()
      const logStartOffset = p.readInt64()
      const abortedTransactions =
        p.readNullableArray(a => ({ producerId: a.readInt64(), firstOffset: a.readInt64() })) ?? []
      p.readInt32() // preferred_read_replica
      const size = p.readUnsignedVarInt()
      let records: readonly Buffer[] = NONE
      if (size > 1) {
        records = p.buffer.subarray(p.position, p.position + size - 1).buffers
        p.skip(size - 1)
      }
      return {
        partition,
        errorCode: code,
        highWatermark,
        lastStableOffset,
        logStartOffset,
        abortedTransactions,
        records
      }
    })
  }))
  r.readTaggedFields()
  return { errorCode, topics }
}

const NONE: readonly Buffer[] = []

/** One session-less Fetch to `broker`. Partition errors come back in the answer; a failed request throws. */
export async function fetchRaw(client: Base, broker: Broker, request: RawFetchRequest): Promise<RawFetchResponse> {
  const version = await negotiatedVersion(client, 'Fetch')
  const createRequest = FETCH_REQUESTS[version]
  if (createRequest === undefined) {
    throw new KafkaError(
      `broker ${broker.host}:${broker.port} offers Fetch version ${version}; kafka-mirror needs 13 to 17 (Apache Kafka 3.1 or newer)`,
      { retriable: false, kafkaCode: 'UNSUPPORTED_VERSION' }
    )
  }
  const api = createAPI(1, version, createRequest as never, parseFetch as never)
  const conn = await brokerConnection(client, broker)
  const topics = request.topics.map(t => ({
    topicId: t.topicId,
    partitions: t.partitions.map(p => ({
      partition: p.partition,
      fetchOffset: p.fetchOffset,
      partitionMaxBytes: p.partitionMaxBytes,
      currentLeaderEpoch: -1,
      lastFetchedEpoch: -1
    }))
  }))
  // session id 0 with epoch -1: a full fetch that opens no session on the broker.
  return await (api.async as (...args: unknown[]) => Promise<RawFetchResponse>)(
    conn,
    request.maxWaitMs,
    request.minBytes,
    request.maxBytes,
    request.readCommitted ? 1 : 0,
    0,
    -1,
    topics,
    [],
    ''
  )
}

/** A Produce v9-v11 body; the record batches are appended as they are (views, not copies). */
export function produceBody(
  transactionalId: string | null,
  acks: number,
  timeoutMs: number,
  topics: ReadonlyArray<{ topic: string; partitions: ReadonlyArray<{ partition: number; batch: BatchBytes }> }>
): InstanceType<typeof Writer> {
  return Writer.create()
    .appendString(transactionalId as never) // transactional_id (null: not transactional)
    .appendInt16(acks)
    .appendInt32(timeoutMs)
    .appendArray(
      topics as never[],
      (w, t: { topic: string; partitions: ReadonlyArray<{ partition: number; batch: BatchBytes }> }) => {
        w.appendString(t.topic).appendArray(
          t.partitions as never[],
          (w, p: { partition: number; batch: BatchBytes }) => {
            w.appendInt32(p.partition).appendUnsignedVarInt(batchLength(p.batch) + 1)
            if (Buffer.isBuffer(p.batch)) w.append(p.batch)
            else for (const piece of p.batch) w.append(piece)
          }
        )
      }
    )
    .appendTaggedFields()
}

function parseProduce(
  _correlationId: number,
  _apiKey: number,
  _apiVersion: number,
  r: InstanceType<typeof Reader>
): ProducePartitionAnswer[] {
  const answers: ProducePartitionAnswer[] = []
  r.readArray(t => {
    const topic = t.readString()
    t.readArray(p => {
      const partition = p.readInt32()
      const errorCode = p.readInt16()
      const baseOffset = p.readInt64()
      p.readInt64() // log_append_time_ms
      p.readInt64() // log_start_offset
      const recordErrors = p.readArray(e => ({ index: e.readInt32(), message: e.readNullableString() }))
      const message = p.readNullableString()
      const detail = message ?? recordErrors.map(e => `record ${e.index}: ${e.message ?? ''}`).join('; ')
      answers.push({ topic, partition, errorCode, baseOffset, errorMessage: detail === '' ? null : detail })
    })
  })
  r.readInt32() // throttle_time_ms
  r.readTaggedFields()
  return answers
}

/**
 * One Produce request to `broker`: each entry is one encoded record batch for its partition
 * (at most one per partition). Returns every partition's answer; a failed request (network,
 * timeout) throws, and then nothing is known about what was written.
 *
 * With `check`, the write gate is asked inside the request builder, which the client calls when
 * it serializes the request, after any wait for the connection and before its in-flight queue
 * (@platformatic/kafka network/connection.js `send`): a refusal there rejects with the gate's
 * error and nothing was written.
 *
 * `transactionalId` must be set when the batches are transactional (attribute bit 4): the broker
 * refuses such a request without it (KafkaApis.handleProduceRequest answers
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED), and acks must then be -1.
 */
export async function produceRaw(
  client: Base,
  broker: Broker,
  acks: number,
  timeoutMs: number,
  topics: ReadonlyArray<{ topic: string; partitions: ReadonlyArray<{ partition: number; batch: BatchBytes }> }>,
  check?: { readonly gate: WriteGate; readonly what: () => string },
  transactionalId: string | null = null
): Promise<ProducePartitionAnswer[]> {
  const offered = await negotiatedVersion(client, 'Produce')
  if (offered < MIN_PRODUCE_VERSION) {
    throw new KafkaError(
      `broker ${broker.host}:${broker.port} offers Produce version ${offered}; kafka-mirror needs ${MIN_PRODUCE_VERSION} or newer (Apache Kafka 2.8 or newer)`,
      { retriable: false, kafkaCode: 'UNSUPPORTED_VERSION' }
    )
  }
  const conn = await brokerConnection(client, broker)
  const gathers = gatherProduceWrites(conn)
  const build = (...args: Parameters<typeof produceBody>): InstanceType<typeof Writer> => {
    check?.gate.assertValid(check.what)
    const body = produceBody(...args)
    return gathers ? gathered(body) : body
  }
  const api = createAPI(0, Math.min(offered, MAX_PRODUCE_VERSION), build as never, parseProduce as never)
  return await (api.async as (...args: unknown[]) => Promise<ProducePartitionAnswer[]>)(
    conn,
    transactionalId,
    acks,
    timeoutMs,
    topics
  )
}
