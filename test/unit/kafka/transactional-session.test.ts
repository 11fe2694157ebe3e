/**
 * TransactionalSession against scripted coordinator and leader answers: what it sends, in which
 * order, with which producer fields and sequences, and what each answer does to the session.
 * The answers' meanings are the ones pinned on a real broker by
 * test/integration/transactions.test.ts.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { KafkaError } from '../../../src/errors.ts'
import { encodeBatch } from '../../../src/kafka/record-batch.ts'
import {
  type SessionBatch,
  TransactionalSession,
  TransactionFenced,
  type TxnClient
} from '../../../src/kafka/transactional-session.ts'
import {
  type Broker,
  classifyTxnError,
  type TxnApi,
  TxnErrorCode as C,
  type TxnProducer
} from '../../../src/kafka/transactions.ts'

const BROKER: Broker = { nodeId: 1, host: 'localhost', port: 9092 }

/** Header fields of a stamped batch (DefaultRecordBatch offsets). */
function fields(bytes: Buffer | readonly Buffer[]): { pid: bigint; epoch: number; seq: number; txn: boolean } {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.concat(bytes as Buffer[])
  return {
    pid: b.readBigInt64BE(43),
    epoch: b.readInt16BE(51),
    seq: b.readInt32BE(53),
    txn: (b.readInt16BE(21) & 0x10) !== 0
  }
}

async function batch(topic: string, partition: number, records: number): Promise<SessionBatch> {
  const rs = Array.from({ length: records }, (_, i) => ({
    key: null,
    value: Buffer.from(`v${i}`),
    headers: [],
    timestamp: 1n
  }))
  return { topic, partition, batch: await encodeBatch(rs, 'none') }
}

function err(api: TxnApi, code: number): ReturnType<typeof classifyTxnError> {
  return classifyTxnError(api, code)
}

/**
 * A client whose answers come from per-request queues (an empty queue answers success); every
 * request is logged as a line.
 */
class Script implements TxnClient {
  readonly log: string[] = []
  readonly produced: Array<{ topic: string; partition: number; pid: bigint; epoch: number; seq: number }> = []
  readonly answers: Record<string, Array<number | 'throw'>> = {}
  epoch = 0

  #next(api: string): number | 'throw' {
    return this.answers[api]?.shift() ?? C.NONE
  }

  async takeId(id: string): ReturnType<TxnClient['takeId']> {
    this.log.push(`takeId ${id}`)
    return { producerId: 7n, producerEpoch: this.epoch, coordinator: BROKER, retried: [] }
  }

  async findCoordinator(id: string): ReturnType<TxnClient['findCoordinator']> {
    this.log.push(`find ${id}`)
    return { coordinator: BROKER }
  }

  async initProducerId(
    _c: Broker,
    _id: string,
    _t: number,
    current?: TxnProducer
  ): ReturnType<TxnClient['initProducerId']> {
    this.log.push(`init ${current?.producerId ?? -1n}/${current?.producerEpoch ?? -1}`)
    const code = this.#next('init')
    if (code === 'throw') throw new KafkaError('lost', { retriable: true })
    const error = err('InitProducerId', code)
    if (error !== undefined) return { error, producerId: -1n, producerEpoch: -1 }
    this.epoch++
    return { producerId: 7n, producerEpoch: this.epoch }
  }

  async addPartitions(
    _c: Broker,
    p: TxnProducer,
    tps: ReadonlyArray<{ topic: string; partition: number }>
  ): ReturnType<TxnClient['addPartitions']> {
    this.log.push(`add e${p.producerEpoch} ${tps.map(t => `${t.topic}-${t.partition}`).join(',')}`)
    const code = this.#next('add')
    if (code === 'throw') throw new KafkaError('lost', { retriable: true })
    const error = err('AddPartitionsToTxn', code)
    return { ...(error === undefined ? {} : { error }), partitions: tps.map(t => ({ ...t })) }
  }

  async endTxn(_c: Broker, p: TxnProducer, committed: boolean): ReturnType<TxnClient['endTxn']> {
    this.log.push(`end ${committed ? 'commit' : 'abort'} e${p.producerEpoch}`)
    const code = this.#next('end')
    if (code === 'throw') throw new KafkaError('lost', { retriable: true })
    const error = err('EndTxn', code)
    return error === undefined ? {} : { error }
  }

  async leaders(topics: readonly string[]): ReturnType<TxnClient['leaders']> {
    const m = new Map<string, Broker>()
    for (const t of topics) for (let p = 0; p < 8; p++) m.set(`${t}:${p}`, BROKER)
    return m
  }

  async produce(
    _b: Broker,
    _p: TxnProducer,
    batches: ReadonlyArray<{ topic: string; partition: number; batch: Buffer | readonly Buffer[] }>
  ): ReturnType<TxnClient['produce']> {
    return batches.map(b => {
      const f = fields(b.batch)
      assert.ok(f.txn, 'every produced batch is transactional')
      const code = this.#next(`produce ${b.topic}-${b.partition}`)
      if (code === 'throw') throw new KafkaError('lost', { retriable: true })
      this.log.push(`produce ${b.topic}-${b.partition} e${f.epoch} s${f.seq}`)
      if (code === C.NONE) this.produced.push({ topic: b.topic, partition: b.partition, ...f })
      const error = err('Produce', code)
      return error === undefined
        ? { topic: b.topic, partition: b.partition, baseOffset: 100n }
        : { topic: b.topic, partition: b.partition, baseOffset: -1n, error }
    })
  }
}

function session(script: Script): TransactionalSession {
  return new TransactionalSession(script, {
    transactionalId: 'A-mm2-MirrorSourceConnector-0',
    transactionTimeoutMs: 60_000,
    sleep: async () => {}
  })
}

test('partitions are added once per transaction; sequences continue per partition across transactions', async () => {
  const s = new Script()
  const txn = session(s)
  await txn.init()
  assert.deepEqual(txn.producer, { transactionalId: 'A-mm2-MirrorSourceConnector-0', producerId: 7n, producerEpoch: 0 })
  const out1 = await txn.send([await batch('t', 0, 3), await batch('t', 1, 2)])
  assert.deepEqual(out1, [{ baseOffset: 100n }, { baseOffset: 100n }])
  assert.ok(txn.open)
  await txn.send([await batch('t', 0, 4)])
  await txn.commit()
  assert.equal(txn.open, false)
  await txn.send([await batch('t', 0, 1)])
  await txn.commit()
  assert.deepEqual(s.log, [
    'takeId A-mm2-MirrorSourceConnector-0',
    'add e0 t-0,t-1',
    'produce t-0 e0 s0',
    'produce t-1 e0 s0',
    'produce t-0 e0 s3',
    'end commit e0',
    'add e0 t-0',
    'produce t-0 e0 s7',
    'end commit e0'
  ])
})

test('a refused batch is not appended: its sequence stays, the transaction can still commit', async () => {
  const s = new Script()
  s.answers['produce t-0'] = [C.MESSAGE_TOO_LARGE]
  const txn = session(s)
  await txn.init()
  const out = await txn.send([await batch('t', 0, 5), await batch('t', 1, 1)])
  assert.equal('error' in out[0]! && out[0].error.kind, 'refused')
  assert.equal(txn.tainted, false)
  await txn.send([await batch('t', 0, 2)])
  await txn.commit()
  assert.deepEqual(
    s.log.filter(l => l.startsWith('produce t-0')),
    ['produce t-0 e0 s0', 'produce t-0 e0 s0']
  )
})

test('an answer that leaves the append unknown taints the transaction; the abort bumps the epoch and resets sequences', async () => {
  const s = new Script()
  s.answers['produce t-1'] = [C.NOT_LEADER_OR_FOLLOWER]
  const txn = session(s)
  await txn.init()
  await txn.send([await batch('t', 0, 3)])
  const out = await txn.send([await batch('t', 0, 2), await batch('t', 1, 2)])
  assert.equal('error' in out[1]! && out[1].error.kind, 'retriable')
  assert.ok(txn.tainted)
  await assert.rejects(txn.commit(), /must be aborted/)
  await txn.abort()
  assert.equal(txn.tainted, false)
  assert.equal(txn.producer?.producerEpoch, 1)
  await txn.send([await batch('t', 0, 1)])
  assert.deepEqual(s.log.slice(-5), [
    'produce t-1 e0 s0',
    'end abort e0',
    'init 7/0',
    'add e1 t-0',
    'produce t-0 e1 s0'
  ])
})

test('a produce request that fails taints and throws; recover bumps the epoch', async () => {
  const s = new Script()
  s.answers['produce t-0'] = ['throw']
  const txn = session(s)
  await txn.init()
  await assert.rejects(txn.send([await batch('t', 0, 1)]), /lost/)
  assert.ok(txn.tainted)
  await txn.recover()
  assert.equal(txn.open, false)
  assert.equal(txn.producer?.producerEpoch, 1)
})

test('fenced on produce, on AddPartitionsToTxn, on EndTxn or on the epoch bump: TransactionFenced, and nothing is sent after', async () => {
  const cases: Array<[string, (s: Script) => void, (t: TransactionalSession) => Promise<unknown>]> = [
    [
      'produce',
      s => (s.answers['produce t-0'] = [C.INVALID_PRODUCER_EPOCH]),
      async t => await t.send([await batch('t', 0, 1)])
    ],
    ['add', s => (s.answers.add = [C.PRODUCER_FENCED]), async t => await t.send([await batch('t', 0, 1)])],
    [
      'end',
      s => (s.answers.end = [C.PRODUCER_FENCED]),
      async t => {
        await t.send([await batch('t', 0, 1)])
        await t.commit()
      }
    ],
    ['bump', s => (s.answers.init = [C.PRODUCER_FENCED]), async t => await t.recover()]
  ]
  for (const [name, arrange, act] of cases) {
    const s = new Script()
    arrange(s)
    const txn = session(s)
    await txn.init()
    await assert.rejects(act(txn), TransactionFenced, name)
    assert.ok(txn.fenced, name)
    const before = s.log.length
    await assert.rejects(txn.send([await batch('t', 0, 1)]), TransactionFenced, name)
    assert.equal(s.log.length, before, `${name}: nothing sent once fenced`)
  }
})

test('coordinator answers that pass are retried: a moved coordinator is looked up again, CONCURRENT_TRANSACTIONS waited out', async () => {
  const s = new Script()
  s.answers.add = [C.CONCURRENT_TRANSACTIONS, C.NOT_COORDINATOR]
  s.answers.end = ['throw', C.COORDINATOR_LOAD_IN_PROGRESS]
  const txn = session(s)
  await txn.init()
  await txn.send([await batch('t', 0, 1)])
  await txn.commit()
  assert.deepEqual(s.log.slice(1), [
    'add e0 t-0',
    'add e0 t-0',
    'find A-mm2-MirrorSourceConnector-0',
    'add e0 t-0',
    'produce t-0 e0 s0',
    'end commit e0',
    'find A-mm2-MirrorSourceConnector-0',
    'end commit e0',
    'end commit e0'
  ])
})

test('TRANSACTION_ABORTABLE on EndTxn: the commit throws, the session must abort, and the abort bumps the epoch', async () => {
  const s = new Script()
  s.answers.end = [C.TRANSACTION_ABORTABLE]
  const txn = session(s)
  await txn.init()
  await txn.send([await batch('t', 0, 1)])
  await assert.rejects(txn.commit(), (e: unknown) => e instanceof KafkaError && e.kafkaCode === 'TRANSACTION_ABORTABLE')
  assert.ok(txn.tainted)
  await txn.abort()
  assert.deepEqual(s.log.slice(-2), ['end abort e0', 'init 7/0'])
})

test('retries end at the deadline with the last answer', async () => {
  let now = 0
  const s = new Script()
  s.answers.end = Array.from({ length: 100 }, () => C.COORDINATOR_NOT_AVAILABLE)
  const txn = new TransactionalSession(s, {
    transactionalId: 'x',
    transactionTimeoutMs: 1000,
    retryForMs: 1000,
    now: () => now,
    sleep: async ms => {
      now += ms
    }
  })
  await txn.init()
  await txn.send([await batch('t', 0, 1)])
  await assert.rejects(txn.commit(), /COORDINATOR_NOT_AVAILABLE/)
})
