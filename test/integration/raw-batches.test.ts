/**
 * Raw batches on real brokers: source batches of every codec are copied as bytes (the target's
 * log holds the same codec and about the same size, as Kafka's DumpLogSegments reads it), and
 * Java's console consumer reads the same partition, key, value, headers and timestamp on the
 * target as on the source. With `raw.batches.enabled=false` the same topic goes through the
 * record path (re-encoded uncompressed) and reads the same.
 */
import assert from 'node:assert/strict'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { KafkaProducer } from '../../src/kafka/producer.ts'
import type { Header } from '../../src/kafka/types.ts'
import type { Mirror } from '../../src/mirror.ts'
import type { KafkaCluster } from '../harness/cluster.ts'
import {
  clientConfig,
  clustersForFile,
  comparable,
  createTopic,
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
