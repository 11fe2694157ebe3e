/**
 * The write gate on real brokers (docs/scale-out-plan.md §4, Claim 3): a producer gated by a
 * group lease writes while the lease is valid, refuses with LEASE_EXPIRED and writes nothing
 * while it is not, and writes again once it is renewed; a running copy (tasks on the main
 * thread, and in worker threads that read the lease from shared memory) writes no record and no
 * position while its lease is fenced, and after the renewal finishes with every record exactly
 * once, its positions naming the writer (`kafka-mirror-owner: <instance> <generation>`).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadConfig } from '../../src/config/load.ts'
import { Lease } from '../../src/group/lease.ts'
import { type EncodedBatch, KafkaProducer, ProduceFailure } from '../../src/kafka/producer.ts'
import { encodeBatch } from '../../src/kafka/record-batch.ts'
import { SourceFlow } from '../../src/source/source-flow.ts'
import type { KafkaCluster } from '../harness/cluster.ts'
import {
  clientConfig,
  clustersForFile,
  comparable,
  createTopic,
  produce,
  readAll,
  uniqueName,
  waitFor
} from '../harness/helpers.ts'
import { writeCopyOnlyProperties } from '../harness/mirror-config.ts'
import { testLogger } from '../harness/mirror-runner.ts'
import { positionRecords, waitForStoredPositions } from '../harness/positions.ts'

let A: KafkaCluster
let B: KafkaCluster
clustersForFile([{ name: 'A' }, { name: 'B' }], ([a, b]) => {
  A = a
  B = b
})

/** A lease valid for ten minutes from now (no membership: the test renews and fences it by hand). */
function grantedLease(): Lease {
  const lease = new Lease({ groupId: 'A-mm2', sessionTimeoutMs: 600_000 })
  lease.renew(process.hrtime.bigint())
  return lease
}

const record = (i: number): { key: Buffer; value: Buffer; headers: [] } => ({
  key: Buffer.from(`k${i}`),
  value: Buffer.from(`v${i}`),
  headers: []
})

test('a gated producer writes while the lease is valid, refuses with LEASE_EXPIRED and writes nothing while fenced, and writes again once renewed', async t => {
  const topic = uniqueName('gated')
  await createTopic(B, topic, { partitions: 2 })
  const lease = grantedLease()
  const producer = new KafkaProducer(clientConfig(B), 'test-gated-producer', { gate: lease })
  t.after(async () => {
    lease.close()
    await producer.close()
  })
  const batch = async (from: number): Promise<EncodedBatch> => ({
    topic,
    partition: 1,
    batch: await encodeBatch(
      [0, 1].map(j => ({ ...record(from + j), timestamp: BigInt(Date.now()) })),
      'none'
    )
  })

  // Valid: both paths write.
  await producer.send([{ topic, partition: 0, records: [record(0), record(1)] }])
  const [first] = await producer.sendBatches([await batch(100)])
  assert.equal(first?.error, undefined)

  // Fenced: both refuse at once, with the lease's code, not retriable.
  lease.fence()
  await assert.rejects(
    producer.send([{ topic, partition: 0, records: [record(2)] }]),
    (err: unknown) => err instanceof ProduceFailure && err.kafkaCode === 'LEASE_EXPIRED' && !err.retriable
  )
  const [refused] = await producer.sendBatches([await batch(102)])
  assert.equal(refused?.error?.kafkaCode, 'LEASE_EXPIRED')
  assert.equal(refused?.error?.retriable, false)
  assert.match(refused?.error?.message ?? '', /lease in group A-mm2 has ended/)
  const whileFenced = await readAll(B, topic)
  assert.deepEqual(
    whileFenced.map(r => r.value?.toString()),
    ['v0', 'v1', 'v100', 'v101'],
    'nothing written while fenced'
  )

  // Renewed: writes again, on the same producer.
  lease.renew(process.hrtime.bigint())
  await producer.send([{ topic, partition: 0, records: [record(3)] }])
  const [again] = await producer.sendBatches([await batch(104)])
  assert.equal(again?.error, undefined)
  const after = await readAll(B, topic)
  assert.deepEqual(
    after.map(r => `${r.partition}:${r.value?.toString()}`),
    ['0:v0', '0:v1', '0:v3', '1:v100', '1:v101', '1:v104', '1:v105']
  )
})

test("the last gate is the socket: a produce that passed the producer's check is not written once the gate closed; the connection is cut", async t => {
  const topic = uniqueName('socket-gate')
  await createTopic(B, topic, { partitions: 1 })
  // What a lease ending between the producer's check and the socket write looks like: the check
  // still passes, the socket's does not.
  const gate = { socketOpen: true, valid: () => gate.socketOpen, assertValid: () => {} }
  const producer = new KafkaProducer(clientConfig(B), 'test-socket-gated-producer', { gate })
  t.after(async () => {
    await producer.close()
  })
  const batch = async (i: number): Promise<EncodedBatch> => ({
    topic,
    partition: 0,
    batch: await encodeBatch([{ ...record(i), timestamp: BigInt(Date.now()) }], 'none')
  })
  // Metadata, versions and the leader's connection are in place: the next send writes only its Produce request.
  const [first] = await producer.sendBatches([await batch(0)])
  assert.equal(first?.error, undefined)
  gate.socketOpen = false
  const [cut] = await producer.sendBatches([await batch(1)])
  assert.ok(cut?.error !== undefined, 'the send failed')
  assert.equal(cut.error.retriable, true, 'as a lost connection: the copier retries it, and the gate refuses it then')
  gate.socketOpen = true
  assert.deepEqual(
    (await readAll(B, topic)).map(r => r.value?.toString()),
    ['v0'],
    'the request the socket refused never reached the broker'
  )
  const [again] = await producer.sendBatches([await batch(2)])
  assert.equal(again?.error, undefined, 'a new connection writes once the gate is open')
})

test('a fenced copy that closes does not store its positions or offset syncs: said once each, not fatal', async t => {
  const topic = uniqueName('fenced-close')
  const remote = `A.${topic}`
  const offsetsTopic = 'mm2-offsets.A.internal'
  await createTopic(A, topic, { partitions: 1 })
  await produce(A, topic, [{ key: 'k0', value: 'v0' }])
  // A long interval: after the first store of the run, acknowledged positions wait for it (or for close).
  const file = writeCopyOnlyProperties({ A, B }, topic, {
    'B.offset.flush.interval.ms': '600000',
    'sync.topic.acls.enabled': 'false'
  })
  const { config } = await loadConfig(file)
  const flowConfig = config.flows.find(f => f.name === 'A->B')
  assert.ok(flowConfig !== undefined)
  const lease = grantedLease()
  const lines: string[] = []
  const flow = new SourceFlow(flowConfig, testLogger({ lines }), { gate: lease, owner: 'host-b/1' })
  t.after(async () => {
    await flow.close()
    lease.close()
  })
  flow.start()
  await waitForStoredPositions(A, [topic], B, { source: 'A' }, { timeoutMs: 120_000 })
  await produce(
    A,
    topic,
    Array.from({ length: 50 }, (_, i) => ({ key: `k${i + 1}`, value: `v${i + 1}` }))
  )
  await waitFor(async () => (await readAll(B, remote)).length >= 51, { timeoutMs: 60_000, what: 'the later records' })
  const positionsBefore = (await readAll(B, offsetsTopic)).length
  lease.fence()
  await flow.close()
  assert.equal((await readAll(B, offsetsTopic)).length, positionsBefore, 'no position stored after the lease ended')
  assert.equal(lines.filter(l => l.includes('storing positions refused')).length, 1)
  assert.equal(lines.filter(l => l.includes('writing offset syncs refused')).length, 1)
  assert.ok(!lines.some(l => /storing positions failed|writing offset syncs failed/.test(l)))
})

for (const threads of [false, true]) {
  test(
    `a copy (${threads ? 'tasks in worker threads' : 'task on the main thread'}) writes no record and no position while its lease is fenced, then finishes exactly once after the renewal; positions name the writer`,
    { timeout: 300_000 },
    async t => {
      if (threads && process.env.KAFKA_MIRROR_WORKER_THREADS === '0') {
        t.skip('KAFKA_MIRROR_WORKER_THREADS=0')
        return
      }
      const topic = uniqueName('fenced')
      const remote = `A.${topic}`
      const offsetsTopic = 'mm2-offsets.A.internal'
      await createTopic(A, topic, { partitions: 3 })
      const batch = (from: number, n: number): Array<{ partition: number; key: string; value: string }> =>
        Array.from({ length: n }, (_, j) => ({ partition: (from + j) % 3, key: `k${from + j}`, value: `v${from + j}` }))
      await produce(A, topic, batch(0, 1500))
      const file = writeCopyOnlyProperties({ A, B }, topic, {
        'B.offset.flush.interval.ms': '500',
        'tasks.max': threads ? '2' : '1',
        'sync.topic.acls.enabled': 'false'
      })
      const { config } = await loadConfig(file)
      const flowConfig = config.flows.find(f => f.name === 'A->B')
      assert.ok(flowConfig !== undefined)
      const lease = grantedLease()
      lease.setGeneration(5)
      const lines: string[] = []
      const flow = new SourceFlow(flowConfig, testLogger({ lines }), {
        configSource: threads ? config.loadedFrom : undefined,
        gate: lease,
        owner: 'host-a/4711'
      })
      t.after(async () => {
        lease.renew(process.hrtime.bigint()) // so closing can store, whatever the test left
        await flow.close()
        lease.close()
      })
      flow.start()
      await waitFor(async () => (await readAll(B, remote).catch(() => [])).length >= 1500, {
        timeoutMs: 120_000,
        what: 'the first 1500 records copied'
      })
      await waitForStoredPositions(A, [topic], B, { source: 'A' })
      if (threads) assert.equal(flow.status().threads, 2, 'the tasks run in worker threads')

      // Fenced: the copy keeps fetching, but nothing reaches the target.
      lease.fence()
      // Whatever was in flight when the lease ended settles first.
      await new Promise(resolve => setTimeout(resolve, 1000))
      const copiedBefore = (await readAll(B, remote)).length
      const positionsBefore = (await readAll(B, offsetsTopic)).length
      await produce(A, topic, batch(1500, 1500))
      await waitFor(() => lines.some(l => l.includes('sending refused: the write lease has ended')), {
        timeoutMs: 30_000,
        what: 'the copier to try the new records and be refused'
      })
      // Longer than the position flush interval (500 ms) and the retry backoff's first steps.
      await new Promise(resolve => setTimeout(resolve, 4000))
      assert.equal((await readAll(B, remote)).length, copiedBefore, 'no record written while fenced')
      assert.equal((await readAll(B, offsetsTopic)).length, positionsBefore, 'no position written while fenced')
      const refusals = lines.filter(l => l.includes('sending refused')).length
      assert.ok(refusals >= 1 && refusals <= (threads ? 2 : 1), `said once per task per episode (${refusals} times)`)
      assert.ok(!lines.some(l => /DATA LOSS|cannot copy partition/.test(l)), 'not reported as loss or a refused record')
      assert.equal(flow.status().copier?.dataLoss.length, 0)

      // Renewed: the queued records go out, exactly once, in order.
      lease.setGeneration(6)
      lease.renew(process.hrtime.bigint())
      await waitForStoredPositions(A, [topic], B, { source: 'A' }, { timeoutMs: 120_000 })
      assert.deepEqual(
        (await readAll(B, remote)).map(comparable),
        (await readAll(A, topic)).map(comparable),
        'every record once, in order'
      )

      // Every position record of this topic names the writer; the ones after the renewal its new generation.
      const owners: string[] = []
      for (const r of await positionRecords(B, { source: 'A', offsetsTopic }, topic)) {
        assert.equal(r.owners.length, 1, 'one owner header per position record')
        owners.push(r.owners[0] ?? '')
      }
      assert.ok(owners.length > 0)
      assert.ok(
        owners.every(o => o === 'host-a/4711 5' || o === 'host-a/4711 6'),
        `owners: ${[...new Set(owners)].join(', ')}`
      )
      assert.equal(owners.at(-1), 'host-a/4711 6')
    }
  )
}
