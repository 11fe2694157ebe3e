/**
 * Regression: records of a partition added while the mirror ran were written to another target
 * partition. The client library's producer wraps a partition number its cached metadata does not
 * know yet modulo the cached partition count, so source partitions 6, 7 and 8 of a topic grown
 * from 6 to 9 partitions landed in target partitions 0, 1 and 2, silently. KafkaProducer now
 * refuses to let a record reach a partition its metadata does not list: it refreshes metadata and
 * retries that partition, and never redirects it.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import { KafkaProducer, ProduceFailure } from '../../src/kafka/producer.ts'
import { startMirror } from '../harness/mirror-runner.ts'
import { writeCopyOnlyProperties } from '../harness/mirror-config.ts'
import { clientConfig, clustersFor, createTopic, produce, readAll, uniqueName, waitFor } from '../harness/helpers.ts'

test('a topic grown while records flow to every partition: each record lands on its own partition', async t => {
  const [A, B] = await clustersFor(t, [{ name: 'A' }, { name: 'B' }])
  assert.ok(A !== undefined && B !== undefined)
  const topic = uniqueName('grows')
  await createTopic(A, topic, { partitions: 6 })
  const file = writeCopyOnlyProperties({ A, B }, topic, { 'refresh.topics.interval.seconds': '1' })
  await startMirror(t, file)

  let partitions = 6
  let produced = 0
  // Each round writes to every partition the topic has; the key names the partition it was sent to.
  const round = async (): Promise<void> => {
    const records = Array.from({ length: partitions * 50 }, (_, i) => ({
      partition: i % partitions,
      key: `p${i % partitions}-${produced + i}`,
      value: 'x'.repeat(100)
    }))
    await produce(A, topic, records)
    produced += records.length
  }
  for (let i = 0; i < 5; i++) await round()
  await waitFor(async () => (await readAll(B, `A.${topic}`).catch(() => [])).length === produced, {
    timeoutMs: 60_000,
    what: 'the first records copied'
  })

  const admin = new KafkaAdmin(clientConfig(A), 'test-admin')
  t.after(async () => {
    await admin.close()
  })
  await admin.createPartitions(topic, 9)
  partitions = 9
  // Keep producing to all nine partitions while the mirror notices the growth and starts copying them.
  for (let i = 0; i < 40; i++) {
    await round()
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  await waitFor(async () => (await readAll(B, `A.${topic}`).catch(() => [])).length >= produced, {
    timeoutMs: 60_000,
    what: `${produced} records on A.${topic}`
  })

  const source = await readAll(A, topic)
  const target = await readAll(B, `A.${topic}`)
  const sourcePartitionOf = new Map(source.map(r => [r.key?.toString(), r.partition]))
  for (const r of source)
    assert.equal(
      r.key?.toString().split('-')[0],
      `p${r.partition}`,
      'the source holds each record on the partition it was sent to'
    )
  assert.equal(target.length, source.length)
  const misplaced = target.filter(r => sourcePartitionOf.get(r.key?.toString()) !== r.partition)
  assert.deepEqual(
    misplaced.slice(0, 5).map(r => `${r.key?.toString()} on target partition ${r.partition}`),
    [],
    `${misplaced.length} records on another partition than on the source`
  )
  for (const p of [6, 7, 8])
    assert.ok(
      target.some(r => r.partition === p),
      `new partition ${p} received its records`
    )
})

test('the producer refuses a partition its metadata does not list instead of wrapping it onto another', async t => {
  const [A] = await clustersFor(t, [{ name: 'A' }])
  assert.ok(A !== undefined)
  const topic = uniqueName('small')
  await createTopic(A, topic, { partitions: 2 })
  const producer = new KafkaProducer(clientConfig(A), 'test-producer')
  t.after(async () => {
    await producer.close()
  })
  await producer.send([{ topic, partition: 0, records: [{ key: null, value: Buffer.from('warm-up'), headers: [] }] }])
  await assert.rejects(
    producer.send([{ topic, partition: 3, records: [{ key: null, value: Buffer.from('nowhere'), headers: [] }] }]),
    (err: Error & { retriable?: boolean }) =>
      /partition 3 .*not known|UNKNOWN_TOPIC_OR_PARTITION/i.test(err.message) && err.retriable === true
  )
  // Mixed with a known partition: that one is written and reported, the unknown one is not.
  const mixed = await producer
    .send([
      { topic, partition: 0, records: [{ key: null, value: Buffer.from('known'), headers: [] }] },
      { topic, partition: 3, records: [{ key: null, value: Buffer.from('nowhere'), headers: [] }] }
    ])
    .then(
      () => undefined,
      (err: unknown) => err
    )
  assert.ok(mixed instanceof ProduceFailure, 'the send fails for the unknown partition')
  assert.equal(mixed.retriable, true)
  assert.deepEqual(
    mixed.acked,
    [1n, undefined],
    'the known partition is reported written at offset 1, the unknown one not written'
  )
  const all = await readAll(A, topic)
  assert.deepEqual(
    all.map(r => [r.partition, r.value?.toString()]),
    [
      [0, 'warm-up'],
      [0, 'known']
    ],
    'nothing written to partition 3 mod 2 = 1'
  )
})
