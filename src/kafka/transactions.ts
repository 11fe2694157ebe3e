/**
 * The transaction requests of the exactly-once mode (docs/exactly-once-plan.md §4.1), built and
 * sent on a library client of their own: FindCoordinator(TRANSACTION), InitProducerId with a
 * transactional id, AddPartitionsToTxn v3, EndTxn, and the transactional Produce of record
 * batches as bytes (raw-protocol.ts). The library's transactional Producer is not used (plan
 * §4.2): it encodes every record itself, sends AddPartitionsToTxn v4+ (the broker-to-broker form)
 * and hides its sequences and retries.
 *
 * Answers come back as values: every broker error code is classified (`TxnError`) and returned,
 * because each one is a state transition for the caller (the transactional session, build step
 * 4), not a failure. Only a failed request (network, timeout, a closed client, a write the gate
 * refused) throws: then nothing is known about what the broker did.
 *
 * Versions (plan §4.1): the v1 transaction flow on every broker. AddPartitionsToTxn is pinned at
 * v3 (v4+ is for brokers and needs CLUSTER_ACTION, KafkaApis.handleAddPartitionsToTxnRequest),
 * EndTxn at most v4 and Produce at most v11, since the coordinator uses transaction version 2
 * only with EndTxn v5+ (KAFKA-17898). InitProducerId v3+ (it carries the producer id and epoch,
 * KIP-360) and FindCoordinator v4+ (a list of keys, KIP-699).
 *
 * No state is kept here apart from the client and the broker's version ranges.
 */
import {
  addPartitionsToTxnV3,
  Base,
  endTxnV3,
  endTxnV4,
  findCoordinatorV4,
  findCoordinatorV5,
  findCoordinatorV6,
  initProducerIdV3,
  initProducerIdV4,
  initProducerIdV5,
  listTransactionsV0,
  listTransactionsV1,
  protocolErrors,
  protocolErrorsCodesById
} from '@platformatic/kafka'
import type { ClientConfig } from '../config/model.ts'
import { KafkaError } from '../errors.ts'
import { answerInError, bootstrapConnection, brokerConnection, type Connection } from './connections.ts'
import { toKafkaError } from './errors.ts'
import { produceRaw } from './raw-protocol.ts'
import type { BatchBytes } from './record-batch.ts'
import { clientOptions } from './security/client-options.ts'
import { tpKey } from './types.ts'
import { gateConnections, type WriteGate } from './write-gate.ts'

/** Broker error codes of the transaction requests (Apache Kafka's Errors enum). */
export const TxnErrorCode = {
  NONE: 0,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  NOT_LEADER_OR_FOLLOWER: 6,
  /** Java's RecordTooLargeException: a batch above the topic's max.message.bytes. */
  MESSAGE_TOO_LARGE: 10,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  RECORD_LIST_TOO_LARGE: 18,
  TOPIC_AUTHORIZATION_FAILED: 29,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  INVALID_TIMESTAMP: 32,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  INVALID_PRODUCER_EPOCH: 47,
  INVALID_TXN_STATE: 48,
  INVALID_PRODUCER_ID_MAPPING: 49,
  INVALID_TRANSACTION_TIMEOUT: 50,
  CONCURRENT_TRANSACTIONS: 51,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 53,
  OPERATION_NOT_ATTEMPTED: 55,
  UNKNOWN_PRODUCER_ID: 59,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  INVALID_RECORD: 87,
  PRODUCER_FENCED: 90,
  TRANSACTION_ABORTABLE: 120
} as const

/**
 * What an error code means for the transaction:
 * - `retriable`: send the same request again after a backoff (with `rediscover`, look the
 *   coordinator or the partition's leader up first); the transaction stays as it was.
 * - `refused`: Produce only, one partition's batch was not appended (too large, invalid); the
 *   rest of the transaction can still commit (pinned on 4.3.1 by
 *   test/integration/transactions.test.ts), and the broker's sequence did not move.
 * - `abortable`: this transaction cannot commit; EndTxn(abort) and start again from the
 *   committed positions. The producer id and epoch stay valid.
 * - `fenced`: this producer id and epoch can no longer write: another InitProducerId took the
 *   transactional id, or the coordinator aborted the transaction on its timeout (the next request
 *   then sees a bumped epoch). Only a new InitProducerId helps, and only the group may decide to
 *   send one (plan, decision 8).
 * - `fatal`: authorisation, configuration or a protocol violation (our bug): no retry helps.
 */
export type TxnErrorKind = 'retriable' | 'refused' | 'abortable' | 'fenced' | 'fatal'

export interface TxnError {
  readonly code: number
  /** The broker's name for the code (`PRODUCER_FENCED`), or `error code N`. */
  readonly name: string
  readonly kind: TxnErrorKind
  /** What to look up again before retrying. */
  readonly rediscover?: 'coordinator' | 'leader'
  /** The broker's message, when it sent one. */
  readonly message: string | null
}

export type TxnApi = 'FindCoordinator' | 'InitProducerId' | 'AddPartitionsToTxn' | 'Produce' | 'EndTxn'

type Rule = readonly [TxnErrorKind, ('coordinator' | 'leader')?]

const C = TxnErrorCode
/** Coordinator answers shared by the four coordinator requests (Java's TransactionManager handlers). */
const COORDINATOR_RULES: ReadonlyMap<number, Rule> = new Map<number, Rule>([
  [C.COORDINATOR_NOT_AVAILABLE, ['retriable', 'coordinator']],
  [C.NOT_COORDINATOR, ['retriable', 'coordinator']],
  [C.COORDINATOR_LOAD_IN_PROGRESS, ['retriable']],
  // The previous transaction's markers are still being written, or InitProducerId is aborting
  // the open transaction of the previous epoch (TransactionCoordinator): wait and ask again.
  [C.CONCURRENT_TRANSACTIONS, ['retriable']],
  [C.PRODUCER_FENCED, ['fenced']],
  [C.INVALID_PRODUCER_EPOCH, ['fenced']],
  // The coordinator no longer maps the id to our producer id (expired id): like a fence, only a
  // new InitProducerId helps.
  [C.INVALID_PRODUCER_ID_MAPPING, ['fenced']],
  [C.TRANSACTION_ABORTABLE, ['abortable']],
  [C.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, ['fatal']],
  [C.CLUSTER_AUTHORIZATION_FAILED, ['fatal']],
  [C.INVALID_TRANSACTION_TIMEOUT, ['fatal']],
  // EndTxn without an open transaction, or a request in the wrong state: a bug of ours.
  [C.INVALID_TXN_STATE, ['fatal']]
])

const API_RULES: Readonly<Record<TxnApi, ReadonlyMap<number, Rule>>> = {
  FindCoordinator: new Map<number, Rule>([
    [C.COORDINATOR_NOT_AVAILABLE, ['retriable']],
    [C.COORDINATOR_LOAD_IN_PROGRESS, ['retriable']],
    [C.NOT_COORDINATOR, ['retriable']],
    [C.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, ['fatal']]
  ]),
  InitProducerId: COORDINATOR_RULES,
  EndTxn: COORDINATOR_RULES,
  AddPartitionsToTxn: new Map<number, Rule>([
    ...COORDINATOR_RULES,
    // A partition the metadata of the coordinator does not know yet (a new topic).
    [C.UNKNOWN_TOPIC_OR_PARTITION, ['retriable']],
    // Not tried because another partition of the request failed: nothing was added.
    [C.OPERATION_NOT_ATTEMPTED, ['retriable']],
    [C.TOPIC_AUTHORIZATION_FAILED, ['refused']]
  ]),
  Produce: new Map<number, Rule>([
    [C.NOT_LEADER_OR_FOLLOWER, ['retriable', 'leader']],
    [C.UNKNOWN_TOPIC_OR_PARTITION, ['retriable', 'leader']],
    [C.PRODUCER_FENCED, ['fenced']],
    [C.INVALID_PRODUCER_EPOCH, ['fenced']],
    // The batch is not appended and the sequence does not move (LogValidator / UnifiedLog).
    [C.MESSAGE_TOO_LARGE, ['refused']],
    [C.RECORD_LIST_TOO_LARGE, ['refused']],
    [C.INVALID_RECORD, ['refused']],
    [C.INVALID_TIMESTAMP, ['refused']],
    [C.UNSUPPORTED_COMPRESSION_TYPE, ['refused']],
    [C.TOPIC_AUTHORIZATION_FAILED, ['fatal']],
    [C.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, ['fatal']],
    [C.CLUSTER_AUTHORIZATION_FAILED, ['fatal']],
    [C.TRANSACTION_ABORTABLE, ['abortable']],
    [C.UNKNOWN_PRODUCER_ID, ['abortable']],
    // A partition not added to the transaction is refused by server-side verification (KIP-890
    // part 1): 4.3.1 answers Produce v11 with TRANSACTION_ABORTABLE (above), older brokers with
    // INVALID_TXN_STATE. Either way our bug (every partition is added before its first Produce),
    // as is a sequence table that disagrees with the broker's: never retried blindly.
    [C.INVALID_TXN_STATE, ['fatal']],
    [C.OUT_OF_ORDER_SEQUENCE_NUMBER, ['fatal']]
  ])
}

/** The broker's name for a code; `error code N` for one the library does not know. */
export function txnErrorName(code: number): string {
  return (protocolErrorsCodesById as Record<number, string | undefined>)[code] ?? `error code ${code}`
}

/**
 * Classifies one error code of `api`; undefined for NONE. A code the tables do not list is
 * retriable when the library marks it so (a network-level or leadership error), else fatal.
 */
export function classifyTxnError(api: TxnApi, code: number, message: string | null = null): TxnError | undefined {
  if (code === C.NONE) return undefined
  const name = txnErrorName(code)
  const rule = API_RULES[api].get(code)
  if (rule !== undefined)
    return { code, name, kind: rule[0], ...(rule[1] === undefined ? {} : { rediscover: rule[1] }), message }
  const retriable = (protocolErrors as Record<string, { canRetry?: boolean } | undefined>)[name]?.canRetry === true
  return {
    code,
    name,
    kind: retriable ? 'retriable' : 'fatal',
    ...(retriable && api === 'Produce' ? { rediscover: 'leader' as const } : {}),
    message
  }
}

/** The kinds in order of what the caller must do: the most severe error of a request decides. */
const SEVERITY: Readonly<Record<TxnErrorKind, number>> = {
  retriable: 0,
  refused: 1,
  abortable: 2,
  fenced: 3,
  fatal: 4
}

/** The most severe of `errors` (undefined when none). */
export function worstTxnError(errors: ReadonlyArray<TxnError | undefined>): TxnError | undefined {
  let worst: TxnError | undefined
  for (const e of errors)
    if (e !== undefined && (worst === undefined || SEVERITY[e.kind] > SEVERITY[worst.kind])) worst = e
  return worst
}

export interface Broker {
  readonly nodeId: number
  readonly host: string
  readonly port: number
}

/** The producer a transaction belongs to, as InitProducerId gave it. */
export interface TxnProducer {
  readonly transactionalId: string
  readonly producerId: bigint
  readonly producerEpoch: number
}

export interface TopicPartition {
  readonly topic: string
  readonly partition: number
}

export interface FindCoordinatorResult {
  readonly error?: TxnError
  /** Present when there is no error. */
  readonly coordinator?: Broker
}

export interface InitProducerIdResult {
  readonly error?: TxnError
  /** -1 and -1 when there is an error. */
  readonly producerId: bigint
  readonly producerEpoch: number
}

export interface AddPartitionsResult {
  /** The most severe partition error; undefined when every partition was added. */
  readonly error?: TxnError
  readonly partitions: ReadonlyArray<TopicPartition & { readonly error?: TxnError }>
}

export interface EndTxnResult {
  readonly error?: TxnError
}

export interface TxnBatch extends TopicPartition {
  /** A transactional record batch: attribute bit 4, the producer's id and epoch, its base sequence. */
  readonly batch: BatchBytes
}

export interface TxnProduceAnswer extends TopicPartition {
  readonly error?: TxnError
  /** The batch's first offset on the target; -1 with an error. */
  readonly baseOffset: bigint
}

export interface TakeIdResult extends InitProducerIdResult {
  readonly coordinator?: Broker
  /**
   * The error names answered before success, in order (CONCURRENT_TRANSACTIONS while a previous
   * epoch's transaction is aborted).
   */
  readonly retried: readonly string[]
}

/** Highest versions sent (plan §4.1); lowest the flow works with. */
const VERSIONS = {
  FindCoordinator: { min: 4, max: 6, key: 10 },
  InitProducerId: { min: 3, max: 5, key: 22 },
  AddPartitionsToTxn: { min: 3, max: 3, key: 24 },
  EndTxn: { min: 3, max: 4, key: 26 },
  ListTransactions: { min: 0, max: 1, key: 66 }
} as const

interface Api {
  readonly async: (connection: unknown, ...args: unknown[]) => Promise<unknown>
}
const BUILDERS: Readonly<Record<keyof typeof VERSIONS, Readonly<Record<number, Api>>>> = {
  FindCoordinator: { 4: findCoordinatorV4.api, 5: findCoordinatorV5.api, 6: findCoordinatorV6.api } as never,
  InitProducerId: { 3: initProducerIdV3.api, 4: initProducerIdV4.api, 5: initProducerIdV5.api } as never,
  AddPartitionsToTxn: { 3: addPartitionsToTxnV3.api } as never,
  EndTxn: { 3: endTxnV3.api, 4: endTxnV4.api } as never,
  ListTransactions: { 0: listTransactionsV0.api, 1: listTransactionsV1.api } as never
}

/** FindCoordinator's key type for a transactional id (Apache Kafka's CoordinatorType.TRANSACTION). */
const TRANSACTION_KEY_TYPE = 1
/** Broker-side wait for acks=all (Java's request.timeout.ms default). */
const PRODUCE_TIMEOUT_MS = 30_000
export class KafkaTransactions {
  readonly #client: Base
  readonly #cluster: string
  readonly #gate: WriteGate | undefined
  #ranges: Promise<Map<string, { minVersion: number; maxVersion: number }>> | undefined

  /**
   * A client of its own: the coordinator holds EndTxn until PrepareCommit is logged, and sharing
   * the connection with Produce would put records behind it. With `gate`, every request that
   * changes transaction state (InitProducerId, AddPartitionsToTxn, Produce, EndTxn) asks it
   * first, and its sockets are gated (write-gate.ts).
   */
  constructor(cfg: ClientConfig, clientId: string, opts: { readonly gate?: WriteGate | undefined } = {}) {
    this.#cluster = cfg.cluster
    this.#gate = opts.gate
    this.#client = new Base(clientOptions(cfg, clientId) as never)
    if (opts.gate !== undefined) gateConnections(this.#client as never, opts.gate)
  }

  async findCoordinator(transactionalId: string): Promise<FindCoordinatorResult> {
    const api = await this.#api('FindCoordinator')
    const conn = await bootstrapConnection(this.#client).catch((err: unknown) => {
      throw toKafkaError(`connecting to cluster ${this.#cluster}`, err)
    })
    const answer = await this.#call<{
      coordinators: Array<{
        nodeId: number
        host: string
        port: number
        errorCode: number
        errorMessage: string | null
      }>
    }>(`finding the transaction coordinator of ${transactionalId}`, api, conn, TRANSACTION_KEY_TYPE, [transactionalId])
    const found = answer.coordinators[0]
    if (found === undefined)
      return { error: classifyTxnError('FindCoordinator', C.COORDINATOR_NOT_AVAILABLE, 'no coordinator in the answer') }
    const error = classifyTxnError('FindCoordinator', found.errorCode, found.errorMessage)
    if (error !== undefined) return { error }
    return { coordinator: { nodeId: found.nodeId, host: found.host, port: found.port } }
  }

  /**
   * InitProducerId for `transactionalId` with producer id and epoch -1/-1: a new producer, as
   * the first init of a task and as Admin.fenceProducers send it. Success bumps the id's epoch,
   * which fences any earlier holder and aborts its open transaction (TransactionCoordinator,
   * handleInitProducerId; while that abort runs, the answer is CONCURRENT_TRANSACTIONS).
   *
   * With `current` (KIP-360), the holder bumps its own epoch: the coordinator aborts its open
   * transaction and answers the same producer id with the next epoch, whose sequences start
   * again at 0; it answers PRODUCER_FENCED instead when `current` is no longer the id's epoch,
   * so a fenced holder can never take the id back this way.
   */
  async initProducerId(
    coordinator: Broker,
    transactionalId: string,
    transactionTimeoutMs: number,
    current?: TxnProducer
  ): Promise<InitProducerIdResult> {
    this.#checkGate(() => `InitProducerId for ${transactionalId}`)
    const api = await this.#api('InitProducerId')
    const answer = await this.#call<{ errorCode: number; producerId: bigint; producerEpoch: number }>(
      `InitProducerId for ${transactionalId}`,
      api,
      await this.#connection(coordinator),
      transactionalId,
      transactionTimeoutMs,
      current?.producerId ?? -1n,
      current?.producerEpoch ?? -1
    )
    const error = classifyTxnError('InitProducerId', answer.errorCode)
    if (error !== undefined) return { error, producerId: -1n, producerEpoch: -1 }
    return { producerId: answer.producerId, producerEpoch: answer.producerEpoch }
  }

  /**
   * Finds the coordinator and takes the id with InitProducerId, retrying retriable answers (a
   * moved or loading coordinator, CONCURRENT_TRANSACTIONS while the previous epoch's transaction
   * is aborted) until `deadlineMs` (a Date.now() value). This is what Admin.fenceProducers does
   * per id (FenceProducersHandler) and what a task's first init needs. A failed request that is
   * retriable (network, timeout) is retried too, with the coordinator looked up again; a
   * non-retriable one (the write gate, an unsupported version) throws.
   */
  async takeId(transactionalId: string, transactionTimeoutMs: number, deadlineMs: number): Promise<TakeIdResult> {
    const retried: string[] = []
    const slot: CoordinatorSlot = { coordinator: undefined }
    let taken: InitProducerIdResult | undefined
    const error = await callCoordinator(
      this,
      transactionalId,
      slot,
      { deadlineMs, onRetry: e => retried.push(e.name) },
      async coordinator => {
        const init = await this.initProducerId(coordinator, transactionalId, transactionTimeoutMs)
        if (init.error === undefined) taken = init
        return init.error
      }
    )
    if (error === undefined && taken !== undefined && slot.coordinator !== undefined)
      return { ...taken, coordinator: slot.coordinator, retried }
    return { producerId: -1n, producerEpoch: -1, ...(error === undefined ? {} : { error }), retried }
  }

  /**
   * AddPartitionsToTxn v3: adds the partitions to the producer's open transaction (opening it).
   * Every partition's outcome comes back; when one fails, the broker adds none of them (the
   * others answer OPERATION_NOT_ATTEMPTED).
   */
  async addPartitions(
    coordinator: Broker,
    producer: TxnProducer,
    partitions: readonly TopicPartition[]
  ): Promise<AddPartitionsResult> {
    this.#checkGate(() => `AddPartitionsToTxn for ${producer.transactionalId}`)
    const api = await this.#api('AddPartitionsToTxn')
    const topics = [...Map.groupBy(partitions, p => p.topic)].map(([name, ps]) => ({
      name,
      partitions: ps.map(p => p.partition)
    }))
    const answer = await this.#call<{
      errorCode?: number
      resultsByTransaction: Array<{
        topicResults: Array<{
          name: string
          resultsByPartition: Array<{ partitionIndex: number; partitionErrorCode: number }>
        }>
      }>
    }>(`AddPartitionsToTxn for ${producer.transactionalId}`, api, await this.#connection(coordinator), [
      { ...producer, topics }
    ])
    const codes = new Map<string, number>()
    for (const t of answer.resultsByTransaction[0]?.topicResults ?? [])
      for (const p of t.resultsByPartition) codes.set(tpKey(t.name, p.partitionIndex), p.partitionErrorCode)
    const results = partitions.map(p => {
      const code = codes.get(tpKey(p.topic, p.partition))
      const error =
        code === undefined
          ? classifyTxnError(
              'AddPartitionsToTxn',
              C.OPERATION_NOT_ATTEMPTED,
              'the answer does not mention this partition'
            )
          : classifyTxnError('AddPartitionsToTxn', code)
      return { topic: p.topic, partition: p.partition, ...(error === undefined ? {} : { error }) }
    })
    const error = worstTxnError(results.map(r => r.error))
    return { ...(error === undefined ? {} : { error }), partitions: results }
  }

  /** EndTxn: commits (`committed`) or aborts the producer's open transaction. */
  async endTxn(coordinator: Broker, producer: TxnProducer, committed: boolean): Promise<EndTxnResult> {
    this.#checkGate(() => `EndTxn(${committed ? 'commit' : 'abort'}) for ${producer.transactionalId}`)
    const api = await this.#api('EndTxn')
    const answer = await this.#call<{ errorCode: number }>(
      `EndTxn(${committed ? 'commit' : 'abort'}) for ${producer.transactionalId}`,
      api,
      await this.#connection(coordinator),
      producer.transactionalId,
      producer.producerId,
      producer.producerEpoch,
      committed
    )
    const error = classifyTxnError('EndTxn', answer.errorCode)
    return error === undefined ? {} : { error }
  }

  /** The leader of each partition (by tpKey), from the client's metadata; `refresh` forces a new look-up. */
  async leaders(topics: readonly string[], refresh = false): Promise<Map<string, Broker>> {
    const md = await this.#client.metadata({ topics: [...topics], forceUpdate: refresh }).catch((err: unknown) => {
      throw toKafkaError(`reading metadata of ${topics.slice(0, 5).join(', ')} on cluster ${this.#cluster}`, err)
    })
    const leaders = new Map<string, Broker>()
    for (const [name, t] of md.topics) {
      t.partitions.forEach((p, partition) => {
        const b = md.brokers.get(p.leader)
        if (b !== undefined) leaders.set(tpKey(name, partition), { nodeId: p.leader, host: b.host, port: b.port })
      })
    }
    return leaders
  }

  /**
   * One transactional Produce (acks=-1) to `broker`, the leader of every batch's partition, with
   * at most one batch per partition; every partition must have been added to the transaction.
   * Each partition's outcome comes back as a value.
   */
  async produce(broker: Broker, producer: TxnProducer, batches: readonly TxnBatch[]): Promise<TxnProduceAnswer[]> {
    // Before the version look-up too: a refused write opens no connection.
    this.#checkGate(() => `transactional produce for ${producer.transactionalId} to ${broker.host}:${broker.port}`)
    const request = [...Map.groupBy(batches, b => b.topic)].map(([topic, bs]) => ({
      topic,
      partitions: bs.map(b => ({ partition: b.partition, batch: b.batch }))
    }))
    let answers
    try {
      answers = await produceRaw(
        this.#client,
        broker,
        -1,
        PRODUCE_TIMEOUT_MS,
        request,
        this.#gate === undefined
          ? undefined
          : {
              gate: this.#gate,
              what: () => `transactional produce for ${producer.transactionalId} to ${broker.host}:${broker.port}`
            },
        producer.transactionalId
      )
    } catch (err) {
      throw toKafkaError(
        `transactional produce for ${producer.transactionalId} to broker ${broker.nodeId} (${broker.host}:${broker.port}) of cluster ${this.#cluster}`,
        err
      )
    }
    const byPartition = new Map(answers.map(a => [tpKey(a.topic, a.partition), a]))
    return batches.map(b => {
      const a = byPartition.get(tpKey(b.topic, b.partition))
      if (a === undefined)
        return {
          topic: b.topic,
          partition: b.partition,
          baseOffset: -1n,
          error: {
            code: -1,
            name: 'NO_ANSWER',
            kind: 'retriable',
            message: "the broker's answer does not mention this partition"
          }
        }
      const error = classifyTxnError('Produce', a.errorCode, a.errorMessage)
      return error === undefined
        ? { topic: b.topic, partition: b.partition, baseOffset: a.baseOffset }
        : { topic: b.topic, partition: b.partition, baseOffset: -1n, error }
    })
  }

  /**
   * The transactional ids that hold an open transaction (Ongoing, PrepareCommit or PrepareAbort)
   * on any broker of the cluster: each broker lists those it coordinates (ListTransactions,
   * KIP-664; ids the principal may not describe are left out by the broker).
   */
  async openTransactionalIds(): Promise<string[]> {
    const api = await this.#api('ListTransactions')
    const md = await this.#client.metadata({ topics: [] }).catch((err: unknown) => {
      throw toKafkaError(`reading the brokers of cluster ${this.#cluster}`, err)
    })
    const perBroker = await Promise.all(
      [...md.brokers].map(async ([nodeId, b]) => {
        const answer = await this.#call<{
          errorCode: number
          transactionStates: Array<{ transactionalId: string }>
        }>(
          `listing the open transactions of broker ${nodeId}`,
          api,
          await this.#connection({ nodeId, host: b.host, port: b.port }),
          ['Ongoing', 'PrepareCommit', 'PrepareAbort'],
          [],
          -1n,
          null
        )
        if (answer.errorCode !== 0)
          throw new KafkaError(
            `listing the open transactions of broker ${nodeId} of cluster ${this.#cluster}: ${protocolErrorsCodesById[answer.errorCode] ?? `error code ${answer.errorCode}`}`,
            { retriable: true, kafkaCode: protocolErrorsCodesById[answer.errorCode] }
          )
        return answer.transactionStates.map(t => t.transactionalId)
      })
    )
    return perBroker.flat()
  }

  async close(): Promise<void> {
    await this.#client.close()
  }

  /** The request builder for `name` at the highest version both we and the broker have. */
  async #api(name: keyof typeof VERSIONS): Promise<Api> {
    this.#ranges ??= this.#client.listApis().then(
      apis => new Map(apis.map(a => [a.name, { minVersion: a.minVersion, maxVersion: a.maxVersion }])),
      (err: unknown) => {
        this.#ranges = undefined
        throw toKafkaError(`listing the API versions of cluster ${this.#cluster}`, err)
      }
    )
    const range = (await this.#ranges).get(name)
    const ours = VERSIONS[name]
    const version = Math.min(ours.max, range?.maxVersion ?? -1)
    if (range === undefined || version < ours.min || version < range.minVersion) {
      throw new KafkaError(
        `cluster ${this.#cluster} offers ${name} versions ${range === undefined ? 'none' : `${range.minVersion}-${range.maxVersion}`}; the exactly-once mode needs one of ${ours.min}-${ours.max}`,
        { retriable: false, kafkaCode: 'UNSUPPORTED_VERSION' }
      )
    }
    return BUILDERS[name][version] as Api
  }

  async #connection(broker: Broker): Promise<Connection> {
    return await brokerConnection(this.#client, broker).catch((err: unknown) => {
      throw toKafkaError(
        `connecting to broker ${broker.nodeId} (${broker.host}:${broker.port}) of cluster ${this.#cluster}`,
        err
      )
    })
  }

  #checkGate(what: () => string): void {
    this.#gate?.assertValid(() => `${what()} on cluster ${this.#cluster}`)
  }

  /**
   * Sends one request; a broker error comes back as the parsed answer (the library throws it),
   * a failed request throws.
   */
  async #call<T>(doing: string, api: Api, conn: unknown, ...args: unknown[]): Promise<T> {
    try {
      return (await api.async(conn, ...args)) as T
    } catch (err) {
      const answer = answerInError<T>(err)
      if (answer !== undefined) return answer
      throw toKafkaError(`${doing} on cluster ${this.#cluster}`, err)
    }
  }
}

/** Where a transactional id's coordinator, once found, is kept between requests (undefined: look it up). */
export interface CoordinatorSlot {
  coordinator: Broker | undefined
}

export interface CoordinatorRetry {
  /** Retriable answers and failed requests are retried until then (in `now`'s terms). */
  readonly deadlineMs: number
  readonly now?: () => number
  readonly sleep?: (ms: number) => Promise<void>
  /** Told each retriable answer (or failed request) before it is retried. */
  readonly onRetry?: (error: TxnError) => void
}

const COORDINATOR_BACKOFF_MS = [50, 100, 200, 400, 800, 1000] as const
/**
 * CONCURRENT_TRANSACTIONS: the markers of the previous transaction are being written, which takes
 * milliseconds (Java's TransactionManager retries AddPartitionsToTxn on it after 20 ms, not after
 * its usual backoff).
 */
const CONCURRENT_BACKOFF_MS = 20

/**
 * Runs one request to a transactional id's coordinator: looks the coordinator up when `slot` has
 * none (and again when an answer says it moved), retries retriable answers and failed requests
 * that are retriable until the deadline. Returns undefined on success, the first error that is
 * not retriable, or the last retriable one once the deadline has passed. Throws a failed request
 * that is not retriable (the write gate, an unsupported version), or a retriable one at the deadline.
 * The one retry loop of the transaction requests: taking an id, and every request of a session.
 */
export async function callCoordinator(
  client: Pick<KafkaTransactions, 'findCoordinator'>,
  transactionalId: string,
  slot: CoordinatorSlot,
  retry: CoordinatorRetry,
  call: (coordinator: Broker) => Promise<TxnError | undefined>
): Promise<TxnError | undefined> {
  const now = retry.now ?? Date.now
  const sleep = retry.sleep ?? ((ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms)))
  for (let attempt = 0; ; attempt++) {
    let error: TxnError | undefined
    try {
      if (slot.coordinator === undefined) {
        const found = await client.findCoordinator(transactionalId)
        slot.coordinator = found.coordinator
        error = found.error
      }
      if (slot.coordinator !== undefined) {
        error = await call(slot.coordinator)
        if (error?.rediscover === 'coordinator') slot.coordinator = undefined
      }
    } catch (err) {
      if (!(err instanceof KafkaError) || !err.retriable || now() >= retry.deadlineMs) throw err
      slot.coordinator = undefined
      error = { code: -1, name: err.kafkaCode ?? 'REQUEST_FAILED', kind: 'retriable', message: err.message }
    }
    if (error === undefined || error.kind !== 'retriable' || now() >= retry.deadlineMs) return error
    retry.onRetry?.(error)
    await sleep(
      error.code === TxnErrorCode.CONCURRENT_TRANSACTIONS
        ? CONCURRENT_BACKOFF_MS
        : (COORDINATOR_BACKOFF_MS[Math.min(attempt, COORDINATOR_BACKOFF_MS.length - 1)] as number)
    )
  }
}
