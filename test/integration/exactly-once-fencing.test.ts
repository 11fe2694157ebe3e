/**
 * Fencing in the exactly-once mode on real brokers (docs/exactly-once-plan.md §2.2, §5.3): a
 * second instance that takes a flow fences the transactional ids of its tasks before it reads
 * the committed positions, so the first instance, still copying as a zombie would (no group
 * here, so no lease stops it first), can commit nothing more: its next request is answered
 * PRODUCER_FENCED or INVALID_PRODUCER_EPOCH, its open transaction was aborted, it says so and
 * stops writing. A read_committed reader of the target then holds every source record exactly
 * once, in order, though both wrote the same partitions.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { taskTransactionalId } from '../../src/config/exactly-once.ts'
import { loadConfig } from '../../src/config/load.ts'
import { encodeBatch } from '../../src/kafka/record-batch.ts'
import { TransactionalSession } from '../../src/kafka/transactional-session.ts'
import { KafkaTransactions } from '../../src/kafka/transactions.ts'
import { tpKey } from '../../src/kafka/types.ts'
import { SourceFlow } from '../../src/source/source-flow.ts'
import type { KafkaCluster } from '../harness/cluster.ts'
import {
  clientConfig,
  clustersForFile,
  comparable,
  createTopic,
  numberedRecords,
  produce,
  readAll,
  uniqueName,
  waitFor
} from '../harness/helpers.ts'
import { writeCopyOnlyProperties } from '../harness/mirror-config.ts'
import { testLogger } from '../harness/mirror-runner.ts'

let A: KafkaCluster
let B: KafkaCluster
clustersForFile([{ name: 'A' }, { name: 'B' }], ([a, b]) => {
  A = a
  B = b
})

const PARTITIONS = 3

test(
  'a flow taken by a second instance fences the first: its late writes are refused, the target holds every record once',
  { timeout: 300_000 },
  async t => {
    const topic = uniqueName('eos-fence')
    const remote = `A.${topic}`
    await createTopic(A, topic, { partitions: PARTITIONS })
    const records = numberedRecords(PARTITIONS)
    await produce(A, topic, records.take(3000))
    const file = writeCopyOnlyProperties({ A, B }, topic, {
      'B.exactly.once.source.support': 'enabled',
      'sync.topic.acls.enabled': 'false'
    })
    const { config } = await loadConfig(file)
    const flowConfig = config.flows.find(f => f.name === 'A->B')
    assert.ok(flowConfig?.exactlyOnce.enabled)
    const firstLines: string[] = []
    const secondLines: string[] = []
    const shared = { onTopicsChanged: () => {} }
    const first = new SourceFlow(flowConfig, testLogger({ lines: firstLines }), { shared, owner: 'first' })
    const second = new SourceFlow(flowConfig, testLogger({ lines: secondLines }), { shared, owner: 'second' })
    let writing = true
    let writer: Promise<void> = Promise.resolve()
    let firstClosed = false
    t.after(async () => {
      writing = false
      await writer
      await Promise.all([firstClosed ? Promise.resolve() : first.close(), second.close()])
    })
    const all = new Set(Array.from({ length: PARTITIONS }, (_, p) => tpKey(topic, p)))
    first.setTopicsJob(true)
    await first.own(all, 1, [])
    first.start()
    writer = (async () => {
      while (writing) {
        await produce(A, topic, records.take(30))
        await new Promise(resolve => setTimeout(resolve, 20))
      }
    })()
    await waitFor(async () => (first.status().copier?.transactions?.committed ?? 0) >= 3, {
      timeoutMs: 120_000,
      what: 'the first instance committed transactions'
    })

    // The second instance takes the whole flow while the first still copies.
    await second.own(all, 1, [])
    second.start()
    await waitFor(async () => first.status().copier?.transactions?.fenced === true, {
      timeoutMs: 30_000,
      what: 'the first instance fenced'
    })
    assert.ok(
      firstLines.some(l => l.includes('this task was fenced')),
      firstLines.filter(l => /fenc|abort/i.test(l)).join('\n')
    )
    // Before it would take its id back (5 s later): a zombie gone for good.
    firstClosed = true
    await first.close()
    // Logged once all its ids are taken: the first may see the fence a moment before.
    await waitFor(async () => secondLines.some(l => l.includes('fenced the transactional ids of the flow')), {
      timeoutMs: 30_000,
      what: 'the second instance fenced the ids'
    })

    await new Promise(resolve => setTimeout(resolve, 1500))
    writing = false
    await writer
    const sourceRecords = (await readAll(A, topic)).map(comparable)
    await waitFor(async () => (await readAll(B, remote)).length >= sourceRecords.length, {
      timeoutMs: 120_000,
      what: 'every record committed on the target'
    })
    await new Promise(resolve => setTimeout(resolve, 1000))
    const committed = (await readAll(B, remote)).map(comparable)
    assert.equal(committed.length, sourceRecords.length, 'no record twice in the committed view')
    assert.deepEqual(committed, sourceRecords, 'every record once, in order')
    const copier = second.status().copier
    assert.equal(copier?.transactions?.fenced, false)
    assert.equal(copier?.lastError, undefined)
  }
)

test(
  'a transaction left open under a task id at or above tasks.max (a run with more tasks crashed) is fenced at start, not waited out',
  { timeout: 180_000 },
  async t => {
    const topic = uniqueName('eos-lowered')
    const remote = `A.${topic}`
    await createTopic(A, topic, { partitions: 1 })
    const records = numberedRecords(1)
    await produce(A, topic, records.take(200))
    const file = writeCopyOnlyProperties({ A, B }, topic, {
      'B.exactly.once.source.support': 'enabled',
      'sync.topic.acls.enabled': 'false',
      'tasks.max': '1'
    })
    const { config } = await loadConfig(file)
    const flowConfig = config.flows.find(f => f.name === 'A->B')
    assert.ok(flowConfig?.exactlyOnce.enabled)

    // The earlier run had tasks.max 4; its task 3 died with a transaction open on the remote
    // topic. Until it is ended, read_committed consumers see nothing past its first record, and
    // its timeout is 10 minutes.
    await createTopic(B, remote, { partitions: 1 })
    const crashedClient = new KafkaTransactions(clientConfig(B), 'test-crashed-task')
    t.after(async () => {
      await crashedClient.close()
    })
    const crashed = new TransactionalSession(crashedClient, {
      transactionalId: taskTransactionalId(flowConfig, 3),
      transactionTimeoutMs: 600_000
    })
    await crashed.init()
    const leftOpen = await encodeBatch(
      [{ key: null, value: Buffer.from('left open'), headers: [], timestamp: BigInt(Date.now()) }],
      'none'
    )
    const outcomes: string[] = []
    for (let attempt = 0; attempt < 20; attempt++) {
      const [written] = await crashed.send([{ topic: remote, partition: 0, batch: leftOpen }])
      if (written !== undefined && 'baseOffset' in written) break
      // A topic created a moment ago can answer NOT_LEADER_OR_FOLLOWER until its leader is ready:
      // end this attempt (the session bumps its epoch) and write again, as the copier would.
      outcomes.push(written === undefined ? 'no answer' : written.error.name)
      await crashed.abort()
      await new Promise(resolve => setTimeout(resolve, 250))
    }
    assert.ok(crashed.open, `the crashed task wrote into its transaction (failed attempts: ${outcomes.join(', ')})`)

    const lines: string[] = []
    const flow = new SourceFlow(flowConfig, testLogger({ lines }), {
      shared: { onTopicsChanged: () => {} },
      owner: 'only'
    })
    t.after(async () => {
      await flow.close()
    })
    flow.setTopicsJob(true)
    await flow.own(new Set([tpKey(topic, 0)]), 1, [])
    flow.start()
    await waitFor(async () => (await readAll(B, remote, { readCommitted: true })).length === 200, {
      timeoutMs: 60_000,
      what: `the 200 records committed on ${remote} visible to read_committed`
    })
    const fenced = lines.find(l => l.includes('fenced the transactional ids of the flow'))
    assert.ok(fenced?.includes(taskTransactionalId(flowConfig, 3)), fenced ?? lines.join('\n'))
    const committed = (await readAll(B, remote, { readCommitted: true })).map(comparable)
    assert.deepEqual(committed, (await readAll(A, topic)).map(comparable))
  }
)
