/**
 * Raw batches on real brokers: source batches of every codec are copied as bytes (the target's
 * log holds the same codec and about the same size, as Kafka's DumpLogSegments reads it), and
 * Java's console consumer reads the same partition, key, value, headers and timestamp on the
 * target as on the source. With `raw.batches.enabled=false` the same topic goes through the
 * record path (re-encoded uncompressed) and reads the same.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import { KafkaProducer } from '../../src/kafka/producer.ts'
import type { Header } from '../../src/kafka/types.ts'
import type { Mirror } from '../../src/mirror.ts'
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
import { javaConsume, runJava } from '../harness/java-tools.ts'
import { writeCopyOnlyProperties } from '../harness/mirror-config.ts'
import { startMirror } from '../harness/mirror-runner.ts'

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const
const PER_PARTITION = 900
const PARTITIONS = 2

let A: KafkaCluster
let B: KafkaCluster
clustersForFile([{ name: 'A' }, { name: 'B' }], ([a, b]) => {
  A = a
  B = b
})

/** Writes the topic's records with `codec`, 300 records per partition per send (one batch of ~60 KB each). */
async function produceCompressed(topic: string, codec: string): Promise<void> {
  const producer = new KafkaProducer(clientConfig(A, { 'compression.type': codec }), 'test-compressed-producer')
  // Recent timestamps: the brokers' retention would delete segments of records stamped years ago.
  const start = BigInt(Date.now())
  try {
    for (let sent = 0; sent < PER_PARTITION; sent += 300) {
      await producer.send(
        Array.from({ length: PARTITIONS }, (_, partition) => ({
          topic,
          partition,
          records: Array.from({ length: 300 }, (_, j) => {
            const i = sent + j
            const headers: Header[] = [
              [Buffer.from('dup'), Buffer.from(`a${i}`)],
              [Buffer.from('dup'), Buffer.from(`b${i}`)],
              [Buffer.from('nul'), null]
            ]
            return {
              key: i % 13 === 0 ? null : Buffer.from(`k${partition}-${i}`),
              value:
                i % 17 === 0
                  ? null
                  : Buffer.from(
                      JSON.stringify({
                        id: i,
                        partition,
                        kind: 'order',
                        items: [1, 2, 3].map(n => ({ sku: `sku-${n}`, qty: n })),
                        note: 'repeated text '.repeat(8)
                      })
                    ),
              headers,
              timestamp: start + BigInt(i)
            }
          })
        }))
      )
    }
  } finally {
    await producer.close()
  }
}

/** Bytes of the .log segment files of every partition of `topic` on `cluster`. */
function logBytes(cluster: KafkaCluster, topic: string): number {
  let bytes = 0
  for (let p = 0; p < PARTITIONS; p++) {
    const dir = join(cluster.dir, 'data', `${topic}-${p}`)
    for (const f of readdirSync(dir)) if (f.endsWith('.log')) bytes += statSync(join(dir, f)).size
  }
  return bytes
}

/** Codec and producer id of every data batch in partition 0's segments, as Kafka's DumpLogSegments prints them. */
async function dumpedBatches(
  cluster: KafkaCluster,
  topic: string
): Promise<Array<{ codec: string; producerId: string; transactional: string }>> {
  const dir = join(cluster.dir, 'data', `${topic}-0`)
  const segments = readdirSync(dir)
    .filter(f => f.endsWith('.log'))
    .map(f => join(dir, f))
  const dump = await runJava(['org.apache.kafka.tools.DumpLogSegments', '--files', segments.join(',')], {
    label: 'java-dump-log'
  })
  assert.equal(dump.code, 0, dump.stderr)
  // Data batches only: the commit markers of the exactly-once mode are control batches.
  return [
    ...dump.stdout.matchAll(/producerId: (-?\d+).*?isTransactional: (\w+) isControl: (\w+).*?compresscodec: (\w+)/gi)
  ]
    .filter(m => m[3] !== 'true')
    .map(m => ({
      producerId: m[1] ?? '',
      transactional: m[2] ?? '',
      codec: (m[4] ?? '').toLowerCase()
    }))
}

/** The console consumer's lines (partition, headers, key, value, timestamp) grouped by partition, in order. */
async function javaView(
  cluster: KafkaCluster,
  topic: string,
  isolation: 'read_committed' | 'read_uncommitted' = 'read_uncommitted'
): Promise<Map<string, string[]>> {
  const lines = await javaConsume(cluster.bootstrap(), topic, PER_PARTITION * PARTITIONS, {
    details: true,
    timeoutMs: 60_000,
    isolation
  })
  assert.equal(
    lines.length,
    PER_PARTITION * PARTITIONS,
    `every record read from ${topic} on ${cluster.name} (${lines.length} read)`
  )
  const byPartition = new Map<string, string[]>()
  for (const line of lines) {
    const partition = /Partition:(\d+)/.exec(line)?.[1] ?? line.split('\t')[1] ?? '?'
    const list = byPartition.get(partition) ?? []
    list.push(line)
    byPartition.set(partition, list)
  }
  return byPartition
}

async function copied(mirror: Mirror, remote: string): Promise<void> {
  await waitFor(async () => (await readAll(B, remote).catch(() => [])).length === PER_PARTITION * PARTITIONS, {
    timeoutMs: 90_000,
    what: `every record on ${remote}`
  })
  assert.equal(mirror.status()[0]?.state, 'running')
}

test(
  'batches of every codec are copied as bytes: same codec and size on the target, Java reads the same records',
  { timeout: 600_000 },
  async t => {
    const topics = CODECS.map(codec => ({ codec, topic: uniqueName(`raw-${codec}`) }))
    for (const { codec, topic } of topics) {
      await createTopic(A, topic, { partitions: PARTITIONS })
      await produceCompressed(topic, codec)
    }
    const prefix = topics.map(x => x.topic).join('|')
    const mirror = await startMirror(t, writeCopyOnlyProperties({ A, B }, `(${prefix})`))
    for (const { codec, topic } of topics) {
      await copied(mirror, `A.${topic}`)
      assert.deepEqual(
        (await readAll(B, `A.${topic}`)).map(comparable),
        (await readAll(A, topic)).map(comparable),
        `${codec}: records`
      )
      assert.deepEqual(
        await javaView(B, `A.${topic}`),
        await javaView(A, topic),
        `${codec}: what a Java consumer reads`
      )
      const batches = await dumpedBatches(B, `A.${topic}`)
      assert.ok(batches.length >= PER_PARTITION / 300, `${codec}: batches dumped`)
      assert.deepEqual(
        [...new Set(batches.map(b => b.codec))],
        [codec],
        `${codec}: every batch on the target keeps the source's codec`
      )
      assert.deepEqual(
        [...new Set(batches.map(b => `${b.producerId}/${b.transactional}`))],
        ['-1/false'],
        `${codec}: a plain producer's batches`
      )
      const source = logBytes(A, topic)
      const target = logBytes(B, `A.${topic}`)
      assert.ok(
        Math.abs(target - source) <= source * 0.1,
        `${codec}: target log ${target} bytes, source log ${source} bytes (within 10%)`
      )
    }
    assert.ok((mirror.status()[0]?.copier?.rawBytesCopied ?? 0) > 0, 'the raw path carried the copy')
  }
)

/** `count` records of 1 KiB random values per partition, keys `k<partition>-<i>`, sent 100 per partition at a time. */
async function produceRandom(topic: string, partitions: number, count: number): Promise<void> {
  const producer = new KafkaProducer(clientConfig(A), 'test-random-producer')
  try {
    for (let sent = 0; sent < count; sent += 100)
      await producer.send(
        Array.from({ length: partitions }, (_, partition) => ({
          topic,
          partition,
          records: Array.from({ length: Math.min(100, count - sent) }, (_, j) => ({
            key: Buffer.from(`k${partition}-${sent + j}`),
            value: randomBytes(1024),
            headers: [[Buffer.from('n'), Buffer.from(String(sent + j))]] as Header[],
            timestamp: BigInt(Date.now())
          }))
        }))
      )
  } finally {
    await producer.close()
  }
}

test(
  'a paused partition keeps its bytes in the fetch arena while other partitions go through it; its records then land intact',
  { timeout: 300_000 },
  async t => {
    // fetch.max.bytes of 64 KiB gives the task an arena of 1 MiB that may grow to 3 MiB (its
    // floor). The target refuses a record of `held` (max.message.bytes), so that partition pauses
    // with the records after it queued, decoded and narrowed down to one unit each: their keys
    // and values are views of the arena. Meanwhile ~12 MB of `busy` go through the arena: its
    // ring runs out of room (the paused partition's region is the oldest, which must come back
    // first) and grows, leaving the old block to the paused partition. Were the paused
    // partition's bytes given out again, the records sent once the target takes them would be
    // other bytes, with a CRC computed over them: wrong records on the target, not an error.
    const prefix = uniqueName('arena')
    const held = `${prefix}-held`
    const busy = `${prefix}-busy`
    await createTopic(A, held, { partitions: 1, configs: { 'max.message.bytes': '200000' } })
    await createTopic(A, busy, { partitions: 4 })
    await createTopic(B, `A.${held}`, { partitions: 1, configs: { 'max.message.bytes': '4000' } })
    const producer = new KafkaProducer(clientConfig(A), 'test-arena-producer')
    try {
      await producer.send([
        {
          topic: held,
          partition: 0,
          records: [
            { key: Buffer.from('before'), value: randomBytes(1000), headers: [] },
            { key: Buffer.from('large'), value: randomBytes(50_000), headers: [] },
            ...Array.from({ length: 40 }, (_, i) => ({
              key: Buffer.from(`after-${i}`),
              value: randomBytes(1000),
              headers: []
            }))
          ]
        }
      ])
    } finally {
      await producer.close()
    }
    const mirror = await startMirror(
      t,
      writeCopyOnlyProperties({ A, B }, `${prefix}.*`, {
        'A.consumer.fetch.max.bytes': String(64 * 1024),
        'sync.topic.configs.enabled': 'false'
      })
    )
    await waitFor(() => [...(mirror.status()[0]?.copier?.failures.values() ?? [])].find(f => f.topic === held), {
      what: 'the large record refused and its partition paused'
    })
    await produceRandom(busy, 4, 3_000)
    await waitFor(async () => (await readAll(B, `A.${busy}`).catch(() => [])).length === 4 * 3_000, {
      timeoutMs: 120_000,
      what: `every record on A.${busy}`
    })
    assert.deepEqual((await readAll(B, `A.${busy}`)).map(comparable), (await readAll(A, busy)).map(comparable))
    const io = mirror.status()[0]?.copier?.io
    assert.ok((io?.arenaBytes ?? 0) > 4 * 1024 * 1024, `${io?.arenaBytes} bytes went through the arena`)
    assert.ok(
      (io?.arenaSizeBytes ?? 0) > 1024 * 1024,
      `the arena grew past 1 MiB (${io?.arenaSizeBytes}): the paused partition's region was not given out`
    )
    const admin = new KafkaAdmin(clientConfig(B), 'test-admin')
    try {
      await admin.alterTopicConfigs(`A.${held}`, { 'max.message.bytes': '1000000' }, [])
    } finally {
      await admin.close()
    }
    await waitFor(async () => (await readAll(B, `A.${held}`).catch(() => [])).length === 42, {
      timeoutMs: 120_000,
      what: `every record on A.${held} once the target takes the large one`
    })
    assert.deepEqual((await readAll(B, `A.${held}`)).map(comparable), (await readAll(A, held)).map(comparable))
  }
)

test(
  'raw.batches.enabled=false: the same lz4 topic goes through the record path and reads the same',
  { timeout: 300_000 },
  async t => {
    const topic = uniqueName('record-path-lz4')
    await createTopic(A, topic, { partitions: PARTITIONS })
    await produceCompressed(topic, 'lz4')
    const mirror = await startMirror(t, writeCopyOnlyProperties({ A, B }, topic, { 'raw.batches.enabled': 'false' }))
    await copied(mirror, `A.${topic}`)
    assert.deepEqual((await readAll(B, `A.${topic}`)).map(comparable), (await readAll(A, topic)).map(comparable))
    assert.deepEqual(await javaView(B, `A.${topic}`), await javaView(A, topic))
    assert.deepEqual(
      [...new Set((await dumpedBatches(B, `A.${topic}`)).map(b => b.codec))],
      ['none'],
      'the record path writes what the target producer asks: no compression'
    )
    assert.equal(mirror.status()[0]?.copier?.rawBytesCopied, 0, 'nothing copied as bytes')
  }
)

test(
  'exactly-once mode: compressed batches are copied as bytes inside transactions, and a read_committed Java consumer reads the same records',
  { timeout: 300_000 },
  async t => {
    const topics = (['lz4', 'zstd'] as const).map(codec => ({ codec, topic: uniqueName(`eos-raw-${codec}`) }))
    for (const { codec, topic } of topics) {
      await createTopic(A, topic, { partitions: PARTITIONS })
      await produceCompressed(topic, codec)
    }
    const mirror = await startMirror(
      t,
      writeCopyOnlyProperties({ A, B }, `(${topics.map(x => x.topic).join('|')})`, {
        'B.exactly.once.source.support': 'enabled'
      })
    )
    for (const { codec, topic } of topics) {
      await copied(mirror, `A.${topic}`)
      assert.deepEqual(
        await javaView(B, `A.${topic}`, 'read_committed'),
        await javaView(A, topic),
        `${codec}: what a read_committed Java consumer reads`
      )
      const batches = await dumpedBatches(B, `A.${topic}`)
      assert.deepEqual([...new Set(batches.map(b => b.codec))], [codec], `${codec}: the source's codec kept`)
      assert.ok(
        batches.every(b => b.transactional === 'true' && b.producerId !== '-1'),
        `${codec}: every batch written by the transactional producer`
      )
    }
    assert.ok((mirror.status()[0]?.copier?.rawBytesCopied ?? 0) > 0, 'the raw path carried the copy')
    assert.ok((mirror.status()[0]?.copier?.transactions?.committed ?? 0) > 0, 'in transactions')
  }
)

test(
  'small batches coalesced on the record path keep timestamps more than 2^31 ms apart',
  { timeout: 300_000 },
  async t => {
    // Three one-record batches (three sends), each smaller than the raw path's minimum, so the
    // first fetch coalesces them into one re-encoded batch. The client library's batch writer
    // kept only 32 bits of a timestamp delta: the records 60 days apart came out with wrong
    // timestamps. No time retention on the source: the brokers check retention every 2 s, and a
    // segment holding only the old records could be deleted between two sends.
    const topic = uniqueName('far-timestamps')
    await createTopic(A, topic, { partitions: 1, configs: { 'retention.ms': '-1' } })
    const now = Date.now()
    const day = 24 * 3600 * 1000
    const stamps = [now - 60 * day, now - 30 * day, now].map(BigInt)
    // chunk 1: one send, so one batch, per record.
    await produce(
      A,
      topic,
      stamps.map((timestamp, i) => ({ key: `k${i}`, value: `v${i}`, timestamp })),
      { chunk: 1 }
    )
    await startMirror(t, writeCopyOnlyProperties({ A, B }, topic))
    await waitFor(async () => (await readAll(B, `A.${topic}`).catch(() => [])).length === 3, {
      timeoutMs: 120_000,
      what: `the three records on A.${topic}`
    })
    const copied = await readAll(B, `A.${topic}`)
    assert.deepEqual(
      copied.map(r => r.timestamp),
      stamps,
      'the timestamps as written'
    )
    assert.deepEqual(copied.map(comparable), (await readAll(A, topic)).map(comparable))
  }
)
