/**
 * KafkaProducer.send on a real broker: what the internal records (offset syncs, checkpoints,
 * heartbeats, positions) and a mirror's records sent through it come back as. It encodes its
 * own batches (src/kafka/record-batch.ts encodeBatch); the client library's writer, used before,
 * kept only 32 bits of a timestamp delta, so records more than 2^31 ms apart in one batch got
 * wrong timestamps.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { KafkaProducer } from '../../src/kafka/producer.ts'
import type { OutgoingRecord } from '../../src/kafka/types.ts'
import { clientConfig, clustersFor, createTopic, readAll, uniqueName } from '../harness/helpers.ts'

const DAY_MS = 86_400_000n

test('send: base offsets as written; headers, nulls and timestamps kept, 60 days apart in one batch too; an unset timestamp is the send time', async t => {
  const [A] = await clustersFor(t, [{ name: 'A' }])
  assert.ok(A !== undefined)
  const topic = uniqueName('producer')
  // No time retention: the broker would delete the 60-day-old record between send and read.
  await createTopic(A, topic, { partitions: 2, configs: { 'retention.ms': '-1' } })
  const producer = new KafkaProducer(clientConfig(A, { 'compression.type': 'gzip' }), 'test-producer')
  t.after(async () => {
    await producer.close()
  })
  const now = BigInt(Date.now())
  const old: OutgoingRecord[] = [
    {
      key: Buffer.from('old'),
      value: Buffer.from('sixty days ago'),
      headers: [
        [Buffer.from('h'), Buffer.from('1')],
        [Buffer.from('h'), null],
        [Buffer.from('h'), Buffer.from('3')]
      ],
      timestamp: now - 60n * DAY_MS
    },
    { key: null, value: null, headers: [], timestamp: now },
    { key: Buffer.alloc(0), value: Buffer.alloc(0), headers: [[Buffer.from(''), Buffer.alloc(0)]], timestamp: now - 1n }
  ]
  const before = Date.now()
  const bases = await producer.send([
    { topic, partition: 1, records: old },
    { topic, partition: 0, records: [{ key: Buffer.from('unset'), value: Buffer.from('now'), headers: [] }] }
  ])
  const after = Date.now()
  const bases2 = await producer.send([
    { topic, partition: 1, records: [{ key: null, value: Buffer.from('next'), headers: [], timestamp: now }] }
  ])
  assert.deepEqual([...bases, ...bases2], [0n, 0n, 3n], 'each batch reported at its first offset')

  const read = await readAll(A, topic)
  const p1 = read.filter(r => r.partition === 1)
  assert.deepEqual(
    p1.map(r => [r.offset, r.timestamp, r.key?.toString() ?? null, r.value?.toString() ?? null]),
    [
      [0n, now - 60n * DAY_MS, 'old', 'sixty days ago'],
      [1n, now, null, null],
      [2n, now - 1n, '', ''],
      [3n, now, null, 'next']
    ]
  )
  assert.deepEqual(
    p1[0]?.headers.map(([k, v]) => [k.toString(), v?.toString() ?? null]),
    [
      ['h', '1'],
      ['h', null],
      ['h', '3']
    ]
  )
  assert.deepEqual(
    p1[2]?.headers.map(([k, v]) => [k.toString(), v?.length]),
    [['', 0]]
  )
  const [unset] = read.filter(r => r.partition === 0)
  assert.equal(unset?.value?.toString(), 'now')
  const stamped = Number(unset?.timestamp)
  assert.ok(stamped >= before && stamped <= after, `stamped ${stamped}, sent between ${before} and ${after}`)
})
