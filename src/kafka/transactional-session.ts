/**
 * One copier task's transactional producer in the exactly-once mode (docs/exactly-once-plan.md
 * §5.1): the transactional id, the producer id and epoch InitProducerId gave, the transaction
 * coordinator, the partitions of the open transaction and each partition's next sequence number.
 * It is what Java's TransactionManager keeps for a transactional KafkaProducer, for batches that
 * arrive already built (record-batch.ts stamps them).
 *
 * What it guarantees the copier:
 * - every partition is added to the transaction (AddPartitionsToTxn) before its first batch is
 *   produced in it, and every batch carries this producer's id, epoch and the partition's next
 *   sequence, so the broker appends it exactly once or refuses it;
 * - an answer that leaves a batch's fate unknown (a request that failed, a retriable error that
 *   may come after the append) is never guessed at: the session becomes `tainted`, the
 *   transaction must be aborted, and the abort bumps the epoch (KIP-360, InitProducerId with the
 *   current id and epoch), which resets every sequence so nothing the broker may or may not have
 *   seen can clash with what comes next;
 * - being fenced (another holder took the id, or the coordinator aborted us on the transaction
 *   timeout) is final for the epoch: `TransactionFenced` is thrown and nothing is written again
 *   until `init` takes the id anew, which the caller decides (the copier does so only while its
 *   group lease holds, through the write gate).
 *
 * Errors other than fencing that are thrown (a commit or abort that could not finish, the write
 * gate) leave the outcome of the open transaction unknown: the caller calls `recover`, which
 * bumps the epoch (so whatever was open is aborted or finished by the coordinator first) and then
 * re-reads what was committed.
 */
import { KafkaError } from '../errors.ts'
import { type BatchBytes, stampTransactional } from './record-batch.ts'
import {
  type Broker,
  callCoordinator,
  type CoordinatorSlot,
  type KafkaTransactions,
  type TopicPartition,
  type TxnError,
  type TxnProducer,
  type TxnProduceAnswer
} from './transactions.ts'
import { tpKey } from './types.ts'

/** What the session needs of the transaction requests (KafkaTransactions; a script in unit tests). */
export type TxnClient = Pick<
  KafkaTransactions,
  'takeId' | 'findCoordinator' | 'initProducerId' | 'addPartitions' | 'endTxn' | 'leaders' | 'produce'
>

/** This producer can no longer write: another holder took the transactional id (or the coordinator timed us out). */
export class TransactionFenced extends KafkaError {
  constructor(transactionalId: string, error: TxnError | undefined) {
    super(
      `transactional id ${transactionalId} was taken by another producer (${error?.name ?? 'fenced'}): this task stops writing`,
      { retriable: false, kafkaCode: error?.name ?? 'PRODUCER_FENCED' }
    )
  }
}

export interface SessionBatch extends TopicPartition {
  /** A batch as forTarget or encodeBatch made it; the session stamps it. */
  readonly batch: BatchBytes
}

/** One batch's fate: appended at `baseOffset`, or not, with why. */
export type SessionOutcome = { readonly baseOffset: bigint } | { readonly error: TxnError }

export interface SessionOptions {
  readonly transactionalId: string
  readonly transactionTimeoutMs: number
  /** How long a coordinator request is retried on retriable answers before the session gives up (throws). */
  readonly retryForMs?: number
  readonly now?: () => number
  readonly sleep?: (ms: number) => Promise<void>
}

const RETRY_FOR_MS = 30_000

function sleepFor(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

function failure(doing: string, error: TxnError): KafkaError {
  return new KafkaError(`${doing}: ${error.name}${error.message === null ? '' : ` (${error.message})`}`, {
    retriable: error.kind === 'retriable' || error.kind === 'abortable',
    kafkaCode: error.name
  })
}

export class TransactionalSession {
  readonly #client: TxnClient
  readonly #id: string
  readonly #timeoutMs: number
  readonly #retryForMs: number
  readonly #now: () => number
  readonly #sleep: (ms: number) => Promise<void>
  #producer: TxnProducer | undefined
  /** The coordinator of the id, once found (callCoordinator looks it up again when it moves). */
  readonly #slot: CoordinatorSlot = { coordinator: undefined }
  /** Partitions (tpKey) added to the open transaction. */
  readonly #added = new Set<string>()
  /** The base sequence of each partition's next batch in this epoch. */
  readonly #sequences = new Map<string, number>()
  #tainted = false
  #fenced = false
  #leadersStale = false

  constructor(client: TxnClient, opts: SessionOptions) {
    this.#client = client
    this.#id = opts.transactionalId
    this.#timeoutMs = opts.transactionTimeoutMs
    this.#retryForMs = opts.retryForMs ?? RETRY_FOR_MS
    this.#now = opts.now ?? Date.now
    this.#sleep = opts.sleep ?? sleepFor
  }

  get transactionalId(): string {
    return this.#id
  }

  /** The producer id and epoch in use (undefined before init). */
  get producer(): TxnProducer | undefined {
    return this.#producer
  }

  /** A transaction is open: something was added to it since the last commit or abort. */
  get open(): boolean {
    return this.#added.size > 0
  }

  /** The open transaction must be aborted: a batch's fate is unknown or the broker said it cannot commit. */
  get tainted(): boolean {
    return this.#tainted
  }

  get fenced(): boolean {
    return this.#fenced
  }

  /**
   * Takes the transactional id (InitProducerId with -1/-1): any earlier holder, a previous run of
   * this task or a zombie of it elsewhere, is fenced and its open transaction aborted before this
   * answers. Throws when the id cannot be taken before the deadline.
   */
  async init(): Promise<void> {
    const taken = await this.#client.takeId(this.#id, this.#timeoutMs, this.#now() + this.#retryForMs)
    if (taken.error !== undefined || taken.coordinator === undefined)
      throw failure(`taking transactional id ${this.#id}`, taken.error ?? unknownCoordinator())
    this.#slot.coordinator = taken.coordinator
    this.#start({ transactionalId: this.#id, producerId: taken.producerId, producerEpoch: taken.producerEpoch })
  }

  /**
   * Produces the batches in the open transaction (opening it), adding their partitions first.
   * At most one batch per partition. Outcomes are values, in the order given; `refused` ones
   * were not appended and may be narrowed down while the rest still commits; any other error
   * leaves the session `tainted`. Throws TransactionFenced when fenced, and a KafkaError when the
   * requests themselves fail (the session is tainted then too).
   */
  async send(batches: readonly SessionBatch[]): Promise<SessionOutcome[]> {
    const producer = this.#ready()
    if (batches.length === 0) return []
    const added = await this.#addPartitions(batches)
    if (added !== undefined) return batches.map(() => ({ error: added }))
    const stamped = batches.map(b => {
      const k = tpKey(b.topic, b.partition)
      const stamp = stampTransactional(
        b.batch,
        producer.producerId,
        producer.producerEpoch,
        this.#sequences.get(k) ?? 0
      )
      return { key: k, next: stamp.nextSequence, batch: { topic: b.topic, partition: b.partition, batch: stamp.bytes } }
    })
    // A failed look-up throws with nothing produced: the transaction is as it was.
    const leaders = await this.#client.leaders([...new Set(batches.map(b => b.topic))], this.#leadersStale)
    this.#leadersStale = false
    // A batch with no known leader is not sent (its sequence does not move): retriable, not tainting.
    const outcomes: SessionOutcome[] = batches.map(() => ({ error: noLeader() }))
    const byLeader = new Map<number, { broker: Broker; items: number[] }>()
    stamped.forEach((s, i) => {
      const broker = leaders.get(s.key)
      if (broker === undefined) {
        this.#leadersStale = true
        return
      }
      const entry = byLeader.get(broker.nodeId) ?? { broker, items: [] }
      entry.items.push(i)
      byLeader.set(broker.nodeId, entry)
    })
    let thrown: unknown
    await Promise.all(
      [...byLeader.values()].map(async ({ broker, items }) => {
        let answers: TxnProduceAnswer[]
        try {
          answers = await this.#client.produce(
            broker,
            producer,
            items.map(i => (stamped[i] as (typeof stamped)[number]).batch)
          )
        } catch (err) {
          // The batches may or may not have been appended.
          this.#tainted = true
          thrown ??= err
          return
        }
        answers.forEach((a, j) => {
          const i = items[j] as number
          const s = stamped[i] as (typeof stamped)[number]
          if (a.error === undefined) {
            this.#sequences.set(s.key, s.next)
            outcomes[i] = { baseOffset: a.baseOffset }
            return
          }
          outcomes[i] = { error: a.error }
          if (a.error.kind === 'fenced') this.#fenced = true
          // `refused`: not appended, the sequence did not move. Anything else may have been
          // appended (a timeout after the append, a leader that moved after it): only an abort
          // and a new epoch make the next sequence certain.
          else if (a.error.kind !== 'refused') this.#tainted = true
          if (a.error.rediscover === 'leader') this.#leadersStale = true
        })
      })
    )
    if (this.#fenced) throw new TransactionFenced(this.#id, firstFence(outcomes))
    if (thrown !== undefined) throw thrown as Error
    return outcomes
  }

  /**
   * Commits the open transaction (nothing to do when none is open). Retriable answers are
   * retried (a retried commit of a transaction that did commit is answered with success). Throws
   * TransactionFenced, or a KafkaError when the commit could not be made: with code
   * TRANSACTION_ABORTABLE when the broker will not commit it (abort next), else the outcome is
   * unknown and the caller must `recover`.
   */
  async commit(): Promise<void> {
    if (this.#tainted) throw new KafkaError('the transaction cannot commit: it must be aborted', { retriable: true })
    await this.#end(true)
  }

  /** Aborts the open transaction and, when the session is tainted, bumps the epoch. Throws like commit. */
  async abort(): Promise<void> {
    if (this.open) await this.#end(false)
    if (this.#tainted) await this.#bump()
  }

  /**
   * After an error thrown by commit, abort or send: bumps the epoch with InitProducerId carrying
   * the current one, which aborts whatever transaction is still open (or lets a commit already
   * logged finish) before it answers. Afterwards nothing is in flight or open; what was committed
   * is whatever the offsets topic says. Throws TransactionFenced when the id has moved on.
   */
  async recover(): Promise<void> {
    this.#ready()
    await this.#bump()
  }

  // ---- internals -------------------------------------------------------------------------

  #start(producer: TxnProducer): void {
    this.#producer = producer
    this.#added.clear()
    this.#sequences.clear()
    this.#tainted = false
    this.#fenced = false
  }

  #ready(): TxnProducer {
    if (this.#fenced) throw new TransactionFenced(this.#id, undefined)
    if (this.#producer === undefined) throw new Error(`transactional session ${this.#id} used before init`)
    return this.#producer
  }

  /** Adds the batches' partitions not in the transaction yet; an error for all of them when they cannot be added. */
  async #addPartitions(batches: readonly SessionBatch[]): Promise<TxnError | undefined> {
    const producer = this.#ready()
    const missing = new Map<string, TopicPartition>()
    for (const b of batches) {
      const k = tpKey(b.topic, b.partition)
      if (!this.#added.has(k)) missing.set(k, { topic: b.topic, partition: b.partition })
    }
    if (missing.size === 0) return undefined
    const error = await this.#coordinatorCall('AddPartitionsToTxn', async coordinator => {
      const r = await this.#client.addPartitions(coordinator, producer, [...missing.values()])
      return r.error
    })
    if (error === undefined) {
      for (const k of missing.keys()) this.#added.add(k)
      return undefined
    }
    if (error.kind === 'fenced') {
      this.#fenced = true
      throw new TransactionFenced(this.#id, error)
    }
    if (error.kind === 'fatal') throw failure(`AddPartitionsToTxn for ${this.#id}`, error)
    // `abortable`: the transaction cannot commit. `refused` (not authorised for a topic): none
    // was added; the others can be added again without it.
    if (error.kind === 'abortable') this.#tainted = true
    return error
  }

  async #end(committed: boolean): Promise<void> {
    const producer = this.#ready()
    const what = committed ? 'committing' : 'aborting'
    const error = await this.#coordinatorCall(`EndTxn(${committed ? 'commit' : 'abort'})`, async coordinator => {
      const r = await this.#client.endTxn(coordinator, producer, committed)
      return r.error
    })
    if (error === undefined) {
      this.#added.clear()
      return
    }
    if (error.kind === 'fenced') {
      this.#fenced = true
      throw new TransactionFenced(this.#id, error)
    }
    if (error.kind === 'abortable') this.#tainted = true
    throw failure(`${what} the transaction of ${this.#id}`, error)
  }

  /** InitProducerId with the current id and epoch (KIP-360): a new epoch, sequences from 0, nothing open. */
  async #bump(): Promise<void> {
    const producer = this.#ready()
    let next: TxnProducer | undefined
    const error = await this.#coordinatorCall('InitProducerId (epoch bump)', async coordinator => {
      const r = await this.#client.initProducerId(coordinator, this.#id, this.#timeoutMs, producer)
      if (r.error === undefined)
        next = { transactionalId: this.#id, producerId: r.producerId, producerEpoch: r.producerEpoch }
      return r.error
    })
    if (error === undefined && next !== undefined) {
      this.#start(next)
      return
    }
    if (error?.kind === 'fenced') {
      this.#fenced = true
      throw new TransactionFenced(this.#id, error)
    }
    throw failure(`bumping the epoch of ${this.#id}`, error ?? unknownCoordinator())
  }

  /**
   * Runs a coordinator request with the retries of callCoordinator (for up to retryForMs);
   * returns undefined or the error that is not retriable, and throws when the time is up.
   */
  async #coordinatorCall(
    doing: string,
    call: (coordinator: Broker) => Promise<TxnError | undefined>
  ): Promise<TxnError | undefined> {
    const error = await callCoordinator(
      this.#client,
      this.#id,
      this.#slot,
      { deadlineMs: this.#now() + this.#retryForMs, now: this.#now, sleep: this.#sleep },
      call
    )
    if (error?.kind === 'retriable') throw failure(`${doing} for ${this.#id}`, error)
    return error
  }
}

function unknownCoordinator(): TxnError {
  return { code: 15, name: 'COORDINATOR_NOT_AVAILABLE', kind: 'retriable', message: 'no coordinator found' }
}

function noLeader(): TxnError {
  return { code: -1, name: 'NO_LEADER', kind: 'retriable', message: 'no leader is known for this partition' }
}

function firstFence(outcomes: readonly SessionOutcome[]): TxnError | undefined {
  for (const o of outcomes) if ('error' in o && o.error.kind === 'fenced') return o.error
  return undefined
}
