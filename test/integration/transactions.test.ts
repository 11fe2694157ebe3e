/**
 * The transaction requests of the exactly-once mode (src/kafka/transactions.ts; build step 3 of
 * docs/exactly-once-plan.md) on one real broker (Apache Kafka 4.3.1, which runs transaction
 * version 2 by default; we use the v1 client flow, plan §4.1). What this file pins, as the plan's
 * §8 asks (the figures are what the 4.3.1 broker answered; the assertions hold them):
 * - InitProducerId with -1/-1, AddPartitionsToTxn v3, a transactional Produce (v11) of encoded
 *   and raw-path batches, and EndTxn v4 commit and abort. The epoch stays the same across
 *   commits (no KIP-890 part 2 bump with EndTxn v4), and sequences continue across transactions
 *   of one epoch, the aborted one included. Markers take one offset per partition per transaction.
 * - A second InitProducerId for the same id is answered CONCURRENT_TRANSACTIONS while the open
 *   transaction is aborted, then succeeds with epoch + 2. The old epoch's Produce gets
 *   INVALID_PRODUCER_EPOCH (47), its AddPartitionsToTxn and EndTxn PRODUCER_FENCED (90).
 * - Right after EndTxn, AddPartitionsToTxn and EndTxn answer CONCURRENT_TRANSACTIONS until the
 *   markers are written; a completed commit sent again is answered NONE.
 * - A Produce to a partition not added to the transaction gets TRANSACTION_ABORTABLE (120), and
 *   the coordinator still commits the rest.
 * - A transaction in which one partition's batch is refused (MESSAGE_TOO_LARGE, Java's
 *   RecordTooLargeException) still commits the others, and the refused batch did not move that
 *   partition's sequence.
 * A Java read_committed console consumer (the independent check) sees exactly the committed
 * records of every test; a read_uncommitted one also sees the aborted ones.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  type BatchBytes,
  type EncodableRecord,
  encodeBatch,
  forTarget,
  hasValidCrc,
  splitBatches,
  stampTransactional
} from '../../src/kafka/record-batch.ts'
import {
  type AddPartitionsResult,
  type Broker,
  type EndTxnResult,
  KafkaTransactions,
  type TakeIdResult,
  type TxnBatch,
  TxnErrorCode,
  type TxnProduceAnswer,
  type TxnProducer
} from '../../src/kafka/transactions.ts'
import { tpKey } from '../../src/kafka/types.ts'
import type { KafkaCluster } from '../harness/cluster.ts'
import { clientConfig, clustersForFile, createTopic, readAll, uniqueName } from '../harness/helpers.ts'
import { runJava } from '../harness/java-tools.ts'

let T: KafkaCluster
clustersForFile([{ name: 'T' }], ([t]) => {
  T = t
})

/** Every topic of this file starts with it, so one Java consumer reads them all (`--include`). */
const PREFIX = uniqueName('txn')
/** Values a read_committed consumer must see, and values only a read_uncommitted one sees. */
const committedValues: string[] = []
const abortedValues: string[] = []

const TXN_TIMEOUT_MS = 60_000

/** A batch stamped for the transaction (record-batch.ts stampTransactional), checked by the split a broker does. */
function stampForTest(batch: BatchBytes, producer: TxnProducer, baseSequence: number): Buffer[] {
  const { bytes } = stampTransactional(batch, producer.producerId, producer.producerEpoch, baseSequence)
  const [check] = splitBatches(Buffer.concat(bytes))
  assert.ok(check !== undefined && hasValidCrc(check) && check.transactional, 'the stamp makes a valid batch')
  return bytes
}

const values = (tag: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${tag}-${i}`)
const recordsOf = (vs: readonly string[]): EncodableRecord[] =>
  vs.map(v => ({ key: null, value: Buffer.from(v), headers: [], timestamp: BigInt(Date.now()) }))

/** An encoded batch (the record path), stamped. */
async function encoded(vs: readonly string[], producer: TxnProducer, seq: number): Promise<Buffer[]> {
  return stampForTest(await encodeBatch(recordsOf(vs), 'none'), producer, seq)
}

/** A batch as the raw path sends it (forTarget: a new header and a view of the gzip payload), stamped. */
async function rawPath(vs: readonly string[], producer: TxnProducer, seq: number): Promise<Buffer[]> {
  const [source] = splitBatches(await encodeBatch(recordsOf(vs), 'gzip'))
  assert.ok(source !== undefined)
  return stampForTest(forTarget(source), producer, seq)
}

async function take(txns: KafkaTransactions, id: string): Promise<TakeIdResult & { coordinator: Broker }> {
  const taken = await txns.takeId(id, TXN_TIMEOUT_MS, Date.now() + 30_000)
  assert.equal(taken.error, undefined, `InitProducerId for ${id}: ${taken.error?.name}`)
  assert.ok(taken.coordinator !== undefined)
  assert.ok(taken.producerId >= 0n && taken.producerEpoch >= 0)
  return taken as TakeIdResult & { coordinator: Broker }
}

const producerOf = (id: string, t: TakeIdResult): TxnProducer => ({
  transactionalId: id,
  producerId: t.producerId,
  producerEpoch: t.producerEpoch
})

/**
 * Sends the batches to their leaders (one request per leader) and returns the answers in input
 * order. Retriable answers are sent again with the same bytes and sequence after a leader look-up
 * (a topic created a moment ago answers NOT_LEADER_OR_FOLLOWER until its leader is known), as
 * build step 4's session will.
 */
async function produceTxn(
  txns: KafkaTransactions,
  producer: TxnProducer,
  batches: readonly TxnBatch[]
): Promise<TxnProduceAnswer[]> {
  const answers = new Map<TxnBatch, TxnProduceAnswer>()
  let pending = [...batches]
  for (let attempt = 0; pending.length > 0 && attempt < 10; attempt++) {
    if (attempt > 0) await new Promise(resolve => setTimeout(resolve, 50 * 2 ** attempt))
    const leaders = await txns.leaders([...new Set(pending.map(b => b.topic))], attempt > 0)
    const byLeader = Map.groupBy(pending, b => leaders.get(tpKey(b.topic, b.partition))?.nodeId ?? -1)
    for (const [nodeId, bs] of byLeader) {
      const broker = [...leaders.values()].find(l => l.nodeId === nodeId)
      if (broker === undefined) continue
      const got = await txns.produce(broker, producer, bs)
      bs.forEach((b, i) => answers.set(b, got[i] as TxnProduceAnswer))
    }
    pending = pending.filter(b => answers.get(b) === undefined || answers.get(b)?.error?.kind === 'retriable')
  }
  return batches.map(b => {
    const a = answers.get(b)
    assert.ok(a !== undefined, `an answer for ${b.topic}-${b.partition}`)
    return a
  })
}

/** Answers to AddPartitionsToTxn that were retried, over the whole file (CONCURRENT_TRANSACTIONS). */
const addRetries: string[] = []

/**
 * AddPartitionsToTxn, retried on retriable answers with a backoff of 20 ms doubling (plan §4.1):
 * right after EndTxn the coordinator is still writing the markers of the previous transaction
 * and answers CONCURRENT_TRANSACTIONS (seen on 4.3.1), as build step 4's session will retry.
 */
async function addWhenReady(
  txns: KafkaTransactions,
  coordinator: Broker,
  producer: TxnProducer,
  partitions: ReadonlyArray<{ topic: string; partition: number }>
): Promise<AddPartitionsResult> {
  for (let attempt = 0; ; attempt++) {
    const added = await txns.addPartitions(coordinator, producer, partitions)
    if (added.error?.kind !== 'retriable' || attempt >= 10) return added
    addRetries.push(added.error.name)
    await new Promise(resolve => setTimeout(resolve, 20 * 2 ** attempt))
  }
}

/** EndTxn, retried on retriable answers like addWhenReady. */
async function endWhenReady(
  txns: KafkaTransactions,
  coordinator: Broker,
  producer: TxnProducer,
  committed: boolean
): Promise<EndTxnResult> {
  for (let attempt = 0; ; attempt++) {
    const ended = await txns.endTxn(coordinator, producer, committed)
    if (ended.error?.kind !== 'retriable' || attempt >= 10) return ended
    await new Promise(resolve => setTimeout(resolve, 20 * 2 ** attempt))
  }
}

async function valuesIn(topic: string, readCommitted: boolean): Promise<string[]> {
  return (await readAll(T, topic, { readCommitted })).map(r => r.value?.toString() ?? '')
}

test('commit and abort: InitProducerId -1/-1, AddPartitionsToTxn v3, a transactional Produce of encoded and raw-path batches, EndTxn', async t => {
  const topic = `${PREFIX}-a`
  await createTopic(T, topic, { partitions: 2 })
  const txns = new KafkaTransactions(clientConfig(T), 'test-txn-a')
  t.after(async () => await txns.close())
  const id = uniqueName('A-mm2-MirrorSourceConnector')
  const taken = await take(txns, id)
  // The first transactional id of a new cluster creates __transaction_state: until it exists
  // the answer is COORDINATOR_NOT_AVAILABLE, then NOT_COORDINATOR and COORDINATOR_LOAD_IN_PROGRESS
  // while its partitions load (seen on 4.3.1); takeId waits them out. A new id needs no abort.
  t.diagnostic(`first InitProducerId on the cluster retried: ${taken.retried.join(', ')}`)
  const warmUp = new Set(['COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR', 'COORDINATOR_LOAD_IN_PROGRESS'])
  assert.ok(
    taken.retried.every(n => warmUp.has(n)),
    taken.retried.join()
  )
  const producer = producerOf(id, taken)
  const both = [
    { topic, partition: 0 },
    { topic, partition: 1 }
  ]

  // Transaction 1: both partitions, committed. Sequences start at 0 in a new epoch.
  assert.deepEqual(await addWhenReady(txns, taken.coordinator, producer, both), { partitions: both })
  const c1p0 = values('a1-p0', 3)
  const c1p1 = values('a1-p1', 2)
  const first = await produceTxn(txns, producer, [
    { topic, partition: 0, batch: await encoded(c1p0, producer, 0) },
    { topic, partition: 1, batch: await rawPath(c1p1, producer, 0) }
  ])
  assert.deepEqual(
    first.map(a => [a.error?.name, a.baseOffset]),
    [
      [undefined, 0n],
      [undefined, 0n]
    ]
  )
  assert.deepEqual(await txns.endTxn(taken.coordinator, producer, true), {})

  // Transaction 2: partition 0 only, aborted. Same epoch (no bump at commit in the v1 flow);
  // the sequence continues at 3, and the commit marker took offset 3.
  const a2 = values('a2-p0', 2)
  assert.equal((await addWhenReady(txns, taken.coordinator, producer, both.slice(0, 1))).error, undefined)
  const second = await produceTxn(txns, producer, [{ topic, partition: 0, batch: await encoded(a2, producer, 3) }])
  assert.deepEqual(
    second.map(a => [a.error?.name, a.baseOffset]),
    [[undefined, 4n]]
  )
  assert.deepEqual(await txns.endTxn(taken.coordinator, producer, false), {})

  // Transaction 3: both, committed. Partition 0's sequence goes on after the aborted batch (5);
  // its offsets 4-5 are the aborted records and 6 the abort marker.
  const c3p0 = values('a3-p0', 1)
  const c3p1 = values('a3-p1', 2)
  assert.equal((await addWhenReady(txns, taken.coordinator, producer, both)).error, undefined)
  const third = await produceTxn(txns, producer, [
    { topic, partition: 0, batch: await rawPath(c3p0, producer, 5) },
    { topic, partition: 1, batch: await encoded(c3p1, producer, 2) }
  ])
  assert.deepEqual(
    third.map(a => [a.error?.name, a.baseOffset]),
    [
      [undefined, 7n],
      [undefined, 3n]
    ]
  )
  assert.deepEqual(await txns.endTxn(taken.coordinator, producer, true), {})

  // EndTxn again once the commit is done. While the markers are written the answer is
  // CONCURRENT_TRANSACTIONS (retried here). Then the same commit again is answered NONE: the
  // coordinator takes it for a retry of the commit it completed, so an EndTxn whose answer was
  // lost can be sent again. An abort instead is INVALID_TXN_STATE (fatal: our bug).
  const again = await endWhenReady(txns, taken.coordinator, producer, true)
  const abortNone = await endWhenReady(txns, taken.coordinator, producer, false)
  t.diagnostic(
    `EndTxn after the commit: commit ${again.error?.name ?? 'NONE'}, abort ${abortNone.error?.name ?? 'NONE'}`
  )
  assert.deepEqual(again, {})
  assert.deepEqual([abortNone.error?.name, abortNone.error?.kind], ['INVALID_TXN_STATE', 'fatal'])

  assert.deepEqual(await valuesIn(topic, true), [...c1p0, ...c3p0, ...c1p1, ...c3p1])
  assert.deepEqual(await valuesIn(topic, false), [...c1p0, ...a2, ...c3p0, ...c1p1, ...c3p1])
  committedValues.push(...c1p0, ...c3p0, ...c1p1, ...c3p1)
  abortedValues.push(...a2)
})

test('a second InitProducerId with the same transactional id fences the first and aborts its open transaction', async t => {
  const topic = `${PREFIX}-f`
  await createTopic(T, topic, { partitions: 1 })
  const first = new KafkaTransactions(clientConfig(T), 'test-txn-zombie')
  const second = new KafkaTransactions(clientConfig(T), 'test-txn-new-owner')
  t.after(async () => {
    await first.close()
    await second.close()
  })
  const id = uniqueName('A-mm2-MirrorSourceConnector')
  const p0 = [{ topic, partition: 0 }]

  const old = await take(first, id)
  const zombie = producerOf(id, old)
  const z = values('f-zombie', 2)
  assert.equal((await addWhenReady(first, old.coordinator, zombie, p0)).error, undefined)
  const open = await produceTxn(first, zombie, [{ topic, partition: 0, batch: await encoded(z, zombie, 0) }])
  assert.equal(open[0]?.error, undefined)

  // The new owner takes the id while the zombie's transaction is open. On 4.3.1 the first
  // InitProducerId is answered CONCURRENT_TRANSACTIONS while the coordinator aborts the open
  // transaction; the retry gets the same producer id with a higher epoch.
  const taken = await take(second, id)
  t.diagnostic(
    `zombie epoch ${old.producerEpoch}, new owner epoch ${taken.producerEpoch}, retried: ${taken.retried.join(', ')}`
  )
  assert.ok(
    taken.retried.length >= 1 && taken.retried.every(n => n === 'CONCURRENT_TRANSACTIONS'),
    taken.retried.join()
  )
  // Same producer id; the epoch went up twice: once for the abort of the zombie's transaction,
  // once for the new owner (0 -> 2 on 4.3.1).
  assert.equal(taken.producerId, old.producerId)
  assert.equal(taken.producerEpoch, old.producerEpoch + 2)
  const owner = producerOf(id, taken)

  // The zombie's late requests, with the codes the 4.3.1 broker gives them:
  // - Produce (v11): INVALID_PRODUCER_EPOCH (47);
  const late = await produceTxn(first, zombie, [{ topic, partition: 0, batch: await encoded(['late'], zombie, 2) }])
  assert.deepEqual([late[0]?.error?.code, late[0]?.error?.kind], [TxnErrorCode.INVALID_PRODUCER_EPOCH, 'fenced'])
  // - AddPartitionsToTxn (v3): PRODUCER_FENCED (90);
  const add = await first.addPartitions(old.coordinator, zombie, p0)
  assert.deepEqual([add.error?.code, add.error?.kind], [TxnErrorCode.PRODUCER_FENCED, 'fenced'])
  // - EndTxn (v4) commit: PRODUCER_FENCED (90).
  const end = await first.endTxn(old.coordinator, zombie, true)
  assert.deepEqual([end.error?.code, end.error?.kind], [TxnErrorCode.PRODUCER_FENCED, 'fenced'])

  // The new owner writes from sequence 0 of its epoch and commits.
  const y = values('f-owner', 2)
  assert.equal((await addWhenReady(second, taken.coordinator, owner, p0)).error, undefined)
  const mine = await produceTxn(second, owner, [{ topic, partition: 0, batch: await encoded(y, owner, 0) }])
  assert.equal(mine[0]?.error, undefined)
  assert.deepEqual(await second.endTxn(taken.coordinator, owner, true), {})

  // The zombie's records were written and then aborted by the fence: read_committed never sees them.
  assert.deepEqual(await valuesIn(topic, true), y)
  assert.deepEqual(await valuesIn(topic, false), [...z, ...y])
  committedValues.push(...y)
  abortedValues.push(...z)
})

test('a Produce to a partition that was not added to the transaction is refused', async t => {
  const topic = `${PREFIX}-n`
  await createTopic(T, topic, { partitions: 2 })
  const txns = new KafkaTransactions(clientConfig(T), 'test-txn-not-added')
  t.after(async () => await txns.close())
  const id = uniqueName('A-mm2-MirrorSourceConnector')
  const taken = await take(txns, id)
  const producer = producerOf(id, taken)
  assert.equal((await addWhenReady(txns, taken.coordinator, producer, [{ topic, partition: 0 }])).error, undefined)
  const added = values('n-added', 2)
  const answers = await produceTxn(txns, producer, [
    { topic, partition: 0, batch: await encoded(added, producer, 0) },
    { topic, partition: 1, batch: await encoded(['n-not-added'], producer, 0) }
  ])
  t.diagnostic(`not added: ${answers[1]?.error?.name} (${answers[1]?.error?.message ?? ''})`)
  assert.equal(answers[0]?.error, undefined)
  // Server-side verification (KIP-890 part 1) refuses the batch; with Produce v11 on 4.3.1 the
  // code is TRANSACTION_ABORTABLE (120), not INVALID_TXN_STATE (48).
  assert.deepEqual(
    [answers[1]?.error?.code, answers[1]?.error?.kind],
    [TxnErrorCode.TRANSACTION_ABORTABLE, 'abortable']
  )
  // The coordinator does not know of the refusal: a commit still succeeds (4.3.1) and the added
  // partition's records become visible. A client must abort after TRANSACTION_ABORTABLE all the
  // same (it is our bug when it happens: we add every partition before its first Produce).
  assert.deepEqual(await txns.endTxn(taken.coordinator, producer, true), {})
  assert.deepEqual(await valuesIn(topic, true), added)
  assert.deepEqual(await valuesIn(topic, false), added)
  committedValues.push(...added)
})

test("a transaction in which one partition's batch is refused (MESSAGE_TOO_LARGE) still commits the others", async t => {
  const small = `${PREFIX}-small`
  const ok = `${PREFIX}-ok`
  await createTopic(T, small, { partitions: 1, configs: { 'max.message.bytes': '1024' } })
  await createTopic(T, ok, { partitions: 1 })
  const txns = new KafkaTransactions(clientConfig(T), 'test-txn-refused')
  t.after(async () => await txns.close())
  const id = uniqueName('A-mm2-MirrorSourceConnector')
  const taken = await take(txns, id)
  const producer = producerOf(id, taken)
  const both = [
    { topic: small, partition: 0 },
    { topic: ok, partition: 0 }
  ]
  assert.equal((await addWhenReady(txns, taken.coordinator, producer, both)).error, undefined)
  const big = [`r-big-${'x'.repeat(2000)}`]
  const fine = values('r-ok', 3)
  const answers = await produceTxn(txns, producer, [
    { topic: small, partition: 0, batch: await encoded(big, producer, 0) },
    { topic: ok, partition: 0, batch: await encoded(fine, producer, 0) }
  ])
  assert.deepEqual([answers[0]?.error?.code, answers[0]?.error?.kind], [TxnErrorCode.MESSAGE_TOO_LARGE, 'refused'])
  assert.equal(answers[1]?.error, undefined)
  assert.deepEqual(await txns.endTxn(taken.coordinator, producer, true), {})

  // The refused batch did not move the small topic's sequence: the next transaction starts it at 0.
  const after = values('r-small', 1)
  assert.equal((await addWhenReady(txns, taken.coordinator, producer, both.slice(0, 1))).error, undefined)
  const next = await produceTxn(txns, producer, [
    { topic: small, partition: 0, batch: await encoded(after, producer, 0) }
  ])
  assert.equal(next[0]?.error, undefined)
  assert.deepEqual(await txns.endTxn(taken.coordinator, producer, true), {})

  assert.deepEqual(await valuesIn(ok, true), fine)
  assert.deepEqual(await valuesIn(small, true), after)
  assert.deepEqual(await valuesIn(small, false), after)
  committedValues.push(...fine, ...after)
})

/** Values the Java console consumer prints for every topic of this file, with the given isolation. */
async function javaValues(isolation: 'read_committed' | 'read_uncommitted', count: number): Promise<string[]> {
  const r = await runJava(
    [
      'org.apache.kafka.tools.consumer.ConsoleConsumer',
      '--bootstrap-server',
      T.bootstrap(),
      '--include',
      `${PREFIX}-.*`,
      '--from-beginning',
      '--max-messages',
      String(count),
      '--timeout-ms',
      '20000',
      '--command-property',
      `isolation.level=${isolation}`
    ],
    { timeoutMs: 50_000, label: 'java-console-consumer' }
  )
  return r.stdout.split('\n').filter(l => l !== '')
}

test('a Java read_committed consumer sees exactly the committed records; a read_uncommitted one also the aborted', async t => {
  assert.ok(committedValues.length > 0, 'the tests above ran')
  t.diagnostic(`AddPartitionsToTxn retried: ${addRetries.join(', ') || 'never'}`)
  // Exactly as many as expected: an aborted record that showed would push out a committed one.
  const [committed, uncommitted] = await Promise.all([
    javaValues('read_committed', committedValues.length),
    javaValues('read_uncommitted', committedValues.length + abortedValues.length)
  ])
  assert.deepEqual(committed.toSorted(), committedValues.toSorted())
  assert.deepEqual(uncommitted.toSorted(), [...committedValues, ...abortedValues].toSorted())
})
