/**
 * The classification of the transaction requests' error codes (src/kafka/transactions.ts), and
 * the write gate in front of every request that changes transaction state. The codes a real
 * broker gives are pinned by test/integration/transactions.test.ts.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { LeaseExpiredError } from '../../../src/group/lease.ts'
import {
  classifyTxnError,
  KafkaTransactions,
  type TxnApi,
  TxnErrorCode as C,
  type TxnErrorKind,
  worstTxnError
} from '../../../src/kafka/transactions.ts'
import type { WriteGate } from '../../../src/kafka/write-gate.ts'

const kindOf = (api: TxnApi, code: number): [TxnErrorKind | undefined, string | undefined] => {
  const e = classifyTxnError(api, code)
  return [e?.kind, e?.rediscover]
}

test('NONE is no error for every request', () => {
  for (const api of ['FindCoordinator', 'InitProducerId', 'AddPartitionsToTxn', 'Produce', 'EndTxn'] as const)
    assert.equal(classifyTxnError(api, C.NONE), undefined)
})

test('coordinator requests: moved coordinator is looked up again, loading and concurrent transactions are waited out', () => {
  for (const api of ['InitProducerId', 'AddPartitionsToTxn', 'EndTxn'] as const) {
    assert.deepEqual(kindOf(api, C.NOT_COORDINATOR), ['retriable', 'coordinator'], api)
    assert.deepEqual(kindOf(api, C.COORDINATOR_NOT_AVAILABLE), ['retriable', 'coordinator'], api)
    assert.deepEqual(kindOf(api, C.COORDINATOR_LOAD_IN_PROGRESS), ['retriable', undefined], api)
    assert.deepEqual(kindOf(api, C.CONCURRENT_TRANSACTIONS), ['retriable', undefined], api)
  }
  // FindCoordinator itself just asks again.
  assert.deepEqual(kindOf('FindCoordinator', C.COORDINATOR_NOT_AVAILABLE), ['retriable', undefined])
})

test('fenced: PRODUCER_FENCED and INVALID_PRODUCER_EPOCH on every request that carries the epoch', () => {
  for (const api of ['InitProducerId', 'AddPartitionsToTxn', 'Produce', 'EndTxn'] as const) {
    assert.deepEqual(kindOf(api, C.PRODUCER_FENCED), ['fenced', undefined], api)
    assert.deepEqual(kindOf(api, C.INVALID_PRODUCER_EPOCH), ['fenced', undefined], api)
  }
  // An id the coordinator no longer maps to our producer id: only a new InitProducerId helps.
  assert.deepEqual(kindOf('EndTxn', C.INVALID_PRODUCER_ID_MAPPING), ['fenced', undefined])
})

test('abortable, refused and fatal answers', () => {
  assert.deepEqual(kindOf('Produce', C.TRANSACTION_ABORTABLE), ['abortable', undefined])
  assert.deepEqual(kindOf('EndTxn', C.TRANSACTION_ABORTABLE), ['abortable', undefined])
  assert.deepEqual(kindOf('Produce', C.UNKNOWN_PRODUCER_ID), ['abortable', undefined])
  for (const code of [C.MESSAGE_TOO_LARGE, C.RECORD_LIST_TOO_LARGE, C.INVALID_RECORD, C.INVALID_TIMESTAMP])
    assert.deepEqual(kindOf('Produce', code), ['refused', undefined], String(code))
  assert.deepEqual(kindOf('AddPartitionsToTxn', C.TOPIC_AUTHORIZATION_FAILED), ['refused', undefined])
  assert.deepEqual(kindOf('AddPartitionsToTxn', C.OPERATION_NOT_ATTEMPTED), ['retriable', undefined])
  for (const api of ['InitProducerId', 'AddPartitionsToTxn', 'Produce', 'EndTxn'] as const) {
    assert.deepEqual(kindOf(api, C.TRANSACTIONAL_ID_AUTHORIZATION_FAILED), ['fatal', undefined], api)
    assert.deepEqual(kindOf(api, C.INVALID_TXN_STATE), ['fatal', undefined], api)
  }
  assert.deepEqual(kindOf('InitProducerId', C.INVALID_TRANSACTION_TIMEOUT), ['fatal', undefined])
  assert.deepEqual(kindOf('Produce', C.OUT_OF_ORDER_SEQUENCE_NUMBER), ['fatal', undefined])
})

test('Produce: leadership errors look the leader up again; codes not listed follow the library: retriable or fatal', () => {
  assert.deepEqual(kindOf('Produce', C.NOT_LEADER_OR_FOLLOWER), ['retriable', 'leader'])
  // REQUEST_TIMED_OUT (7) is retriable in Kafka; UNSUPPORTED_VERSION (35) is not.
  assert.deepEqual(kindOf('Produce', 7), ['retriable', 'leader'])
  assert.deepEqual(kindOf('EndTxn', 7), ['retriable', undefined])
  assert.deepEqual(kindOf('EndTxn', 35), ['fatal', undefined])
  const unknown = classifyTxnError('EndTxn', 9999, 'from the future')
  assert.deepEqual(unknown, { code: 9999, name: 'error code 9999', kind: 'fatal', message: 'from the future' })
  assert.equal(classifyTxnError('Produce', C.PRODUCER_FENCED)?.name, 'PRODUCER_FENCED')
})

test('the most severe error decides: fatal over fenced over abortable over refused over retriable', () => {
  const e = (api: TxnApi, code: number) => classifyTxnError(api, code)
  assert.equal(worstTxnError([]), undefined)
  assert.equal(worstTxnError([undefined, undefined]), undefined)
  assert.equal(
    worstTxnError([e('Produce', C.NOT_LEADER_OR_FOLLOWER), undefined, e('Produce', C.MESSAGE_TOO_LARGE)])?.kind,
    'refused'
  )
  assert.equal(
    worstTxnError([e('Produce', C.TRANSACTION_ABORTABLE), e('Produce', C.INVALID_PRODUCER_EPOCH)])?.kind,
    'fenced'
  )
  assert.equal(
    worstTxnError([e('Produce', C.INVALID_PRODUCER_EPOCH), e('Produce', C.OUT_OF_ORDER_SEQUENCE_NUMBER)])?.kind,
    'fatal'
  )
})

test('a closed write gate refuses every state-changing request before anything is sent', async t => {
  const gate: WriteGate = {
    valid: () => false,
    assertValid: what => {
      throw new LeaseExpiredError(typeof what === 'string' ? what : what(), 'A-mm2')
    }
  }
  // Nothing listens on port 1: a request that got past the gate would fail with a connection error instead.
  const txns = new KafkaTransactions({ cluster: 'B', bootstrapServers: ['127.0.0.1:1'], props: {} }, 'test', { gate })
  t.after(async () => await txns.close())
  const broker = { nodeId: 1, host: '127.0.0.1', port: 1 }
  const producer = { transactionalId: 'A-mm2-MirrorSourceConnector-0', producerId: 7n, producerEpoch: 0 }
  const refused = { kafkaCode: 'LEASE_EXPIRED' }
  await assert.rejects(txns.initProducerId(broker, producer.transactionalId, 60_000), refused)
  await assert.rejects(txns.addPartitions(broker, producer, [{ topic: 't', partition: 0 }]), refused)
  await assert.rejects(txns.endTxn(broker, producer, true), refused)
  await assert.rejects(txns.produce(broker, producer, [{ topic: 't', partition: 0, batch: Buffer.alloc(61) }]), refused)
})
