/**
 * The group-less reader on a real broker: when a fetch answer is capped by maxBytes, every
 * partition still gets its turn. The broker fills an answer in the order the request lists its
 * partitions, so with a fixed order the last partitions got nothing for as long as the first ones
 * had data (a 6-partition copy had one partition wait until the five others were done).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { copierReaderOptions } from '../../src/kafka/fetch-settings.ts'
import { PartitionReader } from '../../src/kafka/partition-reader.ts'
import { clientConfig, clustersFor, createTopic, produce, uniqueName } from '../harness/helpers.ts'

const PARTITIONS = 3
const RECORDS_PER_PARTITION = 1500
const VALUE = 'x'.repeat(1000)

test('a fetch capped by maxBytes: every partition gets records within a few rounds', async t => {
  const [A] = await clustersFor(t, [{ name: 'A' }])
  assert.ok(A !== undefined)
  const topic = uniqueName('fair')
  await createTopic(A, topic, { partitions: PARTITIONS })
  // About 1.5 MB per partition in batches of about 20 KB.
  const records = Array.from({ length: PARTITIONS * RECORDS_PER_PARTITION }, (_, i) => ({
    partition: i % PARTITIONS,
    key: `k${i}`,
    value: VALUE
  }))
  await produce(A, topic, records, { chunk: 60 })

  // An answer holds a full share for one partition and a sliver of the next: about six rounds
  // for one partition's data, so a partition listed last would wait that long.
  const reader = new PartitionReader(clientConfig(A), 'test-fair-reader', {
    maxWaitMs: 100,
    partitionMaxBytes: 256 * 1024,
    maxBytes: 300 * 1024
  })
  t.after(async () => {
    await reader.close()
  })
  for (let p = 0; p < PARTITIONS; p++) reader.seek(topic, p, 0n)

  const advancedIn: Array<Set<number>> = []
  for (let round = 0; round < 5; round++) {
    const fetched = (await reader.pollBatches()).fetched
    advancedIn.push(new Set([...fetched.values()].map(f => f.partition)))
  }
  // The first round asks for little per partition (slow start) and fits whole; from the second
  // on the cap bites.
  const capped = advancedIn.slice(1, 4)
  for (let p = 0; p < PARTITIONS; p++)
    assert.ok(
      capped.some(s => s.has(p)),
      `partition ${p} got records in rounds 2-4 (partitions per round: ${advancedIn.map(s => [...s].join('+') || 'none').join(', ')})`
    )
  for (let p = 0; p < PARTITIONS; p++) {
    const position = reader.position(topic, p) ?? 0n
    assert.ok(position > 0n && position < BigInt(RECORDS_PER_PARTITION), `partition ${p} read part of its records`)
  }
})

test("a copier's reader fetches no more than the source consumer's fetch.max.bytes and max.partition.fetch.bytes", async t => {
  const [A] = await clustersFor(t, [{ name: 'A' }])
  assert.ok(A !== undefined)
  const topic = uniqueName('fetch-settings')
  await createTopic(A, topic, { partitions: PARTITIONS })
  await produce(
    A,
    topic,
    Array.from({ length: PARTITIONS * RECORDS_PER_PARTITION }, (_, i) => ({
      partition: i % PARTITIONS,
      key: `k${i}`,
      value: VALUE
    })),
    { chunk: 60 }
  )
  const source = clientConfig(A, {
    'fetch.max.bytes': String(100 * 1024),
    'max.partition.fetch.bytes': String(40 * 1024),
    'fetch.max.wait.ms': '100'
  })
  // The producer's batch size (900 KB) would be the per-partition default; the user's key wins.
  const reader = new PartitionReader(source, 'test-fetch-settings', copierReaderOptions(source, 900 * 1024))
  t.after(async () => {
    await reader.close()
  })
  assert.equal(reader.fetchMaxBytes, 100 * 1024)
  for (let p = 0; p < PARTITIONS; p++) reader.seek(topic, p, 0n)

  // Brokers may exceed either limit by one batch (KIP-74), here batches of about 60 KB.
  const batchAllowance = 70 * 1024
  let rounds = 0
  let total = 0
  while (total < 1_000_000 && rounds < 200) {
    const fetched = (await reader.pollBatches()).fetched
    rounds++
    let roundBytes = 0
    for (const f of fetched.values()) {
      const bytes = f.batches.reduce((n, b) => n + b.batch.size, 0)
      assert.ok(bytes <= 40 * 1024 + batchAllowance, `partition ${f.partition} brought ${bytes} bytes in one fetch`)
      roundBytes += bytes
    }
    assert.ok(roundBytes <= 100 * 1024 + batchAllowance, `one fetch brought ${roundBytes} bytes`)
    total += roundBytes
  }
  assert.ok(total >= 1_000_000, `read ${total} bytes in ${rounds} rounds`)
  // The default (900 KB per partition, 4 MiB per answer) would have read all of that in a handful of rounds.
  assert.ok(rounds >= 10, `${rounds} rounds for ${total} bytes`)
})
