/**
 * The local Kafka harness itself: real clusters start, are independent of each other, carry
 * records our client writes that both our reader and Java's console consumer read back
 * identically, and fail with messages a person can act on.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { ensureKafkaJars } from '../../scripts/kafka-jars.ts'
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import { KafkaCluster } from '../harness/cluster.ts'
import {
  clientConfig,
  clustersFor,
  commitOffsets,
  comparable,
  createTopic,
  produce,
  readAll,
  uniqueName
} from '../harness/helpers.ts'
import { javaConsume, javaProduce } from '../harness/java-tools.ts'
import { runningCount } from '../harness/processes.ts'

test('two independent clusters: records written by us read back by us and by Java', async t => {
  const [a, b] = await clustersFor(t, [{ name: 'harness-a' }, { name: 'harness-b' }])
  assert.ok(a !== undefined && b !== undefined)
  t.diagnostic(`cluster start times: ${a.startMs} ms, ${b.startMs} ms (started in parallel)`)
  const topic = uniqueName('harness')
  await createTopic(a, topic, { partitions: 3 })
  const records = Array.from({ length: 30 }, (_, i) => ({
    partition: i % 3,
    key: i % 10 === 0 ? null : `key-${i}`,
    value: i === 29 ? null : `value-${i}`,
    headers: [
      ['h', `first-${i}`],
      ['h', `second-${i}`],
      ['empty', null]
    ] as Array<[string, string | null]>,
    timestamp: 1_700_000_000_000n + BigInt(i)
  }))
  const offsets = await produce(a, topic, records)
  assert.deepEqual(offsets.slice(0, 6), [0n, 0n, 0n, 1n, 1n, 1n])

  const ours = await readAll(a, topic)
  assert.equal(ours.length, 30)
  const expected = [0, 1, 2]
    .flatMap(p => records.filter(r => r.partition === p))
    .map(r => ({
      partition: r.partition,
      key: r.key === null ? null : Buffer.from(r.key).toString('base64'),
      value: r.value === null ? null : Buffer.from(r.value).toString('base64'),
      headers: r.headers.map(([k, v]) => [k, v === null ? null : Buffer.from(v).toString('base64')]),
      timestamp: r.timestamp.toString()
    }))
  assert.deepEqual(ours.map(comparable), expected)

  const java = await javaConsume(a.bootstrap(), topic, 30, { details: true })
  assert.equal(java.length, 30, java.join('\n'))
  const line = java.find(l => l.includes('value-7'))
  assert.ok(line !== undefined, 'Java consumer saw value-7')
  assert.match(line, /CreateTime:1700000000007/)
  assert.match(line, /h:first-7,h:second-7,empty:null/)
  assert.match(line, /key-7/)

  // A group's offsets can be committed without a running consumer.
  const group = uniqueName('group')
  await commitOffsets(a, group, [
    { topic, partition: 0, offset: 4n },
    { topic, partition: 2, offset: 7n }
  ])
  const adminA = new KafkaAdmin(clientConfig(a), 'test')
  const adminB = new KafkaAdmin(clientConfig(b), 'test')
  try {
    const committed = (await adminA.listGroupOffsets(group)).map(o => [o.topic, o.partition, o.offset]).sort()
    assert.deepEqual(committed, [
      [topic, 0, 4n],
      [topic, 2, 7n]
    ])

    // The other cluster knows nothing of this topic.
    assert.equal((await adminB.describeTopics([topic])).size, 0)
    assert.ok(!(await adminB.listTopics()).includes(topic))
    assert.notEqual(await adminB.clusterId(), await adminA.clusterId())
  } finally {
    await Promise.all([adminA.close(), adminB.close()])
  }
})

test('records written by the Java console producer read back by our reader', async t => {
  const [a] = await clustersFor(t, [{ name: 'harness-java' }])
  assert.ok(a !== undefined)
  const topic = uniqueName('java-in')
  await createTopic(a, topic)
  await javaProduce(a.bootstrap(), topic, ['h1:x,h2:y\tk1\tv1', 'h1:z\tk2\tv2'], { keys: true, headers: true })
  const records = await readAll(a, topic)
  assert.deepEqual(
    records.map(r => [
      r.key?.toString(),
      r.value?.toString(),
      r.headers.map(([k, v]) => `${k.toString()}=${v?.toString()}`)
    ]),
    [
      ['k1', 'v1', ['h1=x', 'h2=y']],
      ['k2', 'v2', ['h1=z']]
    ]
  )
})

test('a broker that cannot start reports why, with the tail of its log', async () => {
  await assert.rejects(
    KafkaCluster.start({ name: 'broken', brokerConfig: { 'num.io.threads': 'many' }, startTimeoutMs: 30_000 }),
    (err: Error) => {
      assert.match(
        err.message,
        /(Kafka cluster broken (exited during start|did not start)|formatting storage for cluster broken failed)/
      )
      assert.match(err.message, /num\.io\.threads/)
      return true
    }
  )
  assert.equal(runningCount(), 0, 'no process left behind')
})

test('missing Java or Maven gives an actionable error', async () => {
  const saved = {
    JAVA_HOME: process.env.JAVA_HOME,
    PATH: process.env.PATH,
    KAFKA_MIRROR_CACHE: process.env.KAFKA_MIRROR_CACHE
  }
  const emptyCache = mkdtempSync(join(tmpdir(), 'km-cache-'))
  try {
    process.env.JAVA_HOME = '/nonexistent/jdk'
    await assert.rejects(KafkaCluster.start({ name: 'nojava' }), /Java 17 or newer is required.*JAVA_HOME/)

    const javaHome = dirname(
      dirname(spawnSync('sh', ['-c', 'readlink -f "$(command -v java)"']).stdout.toString().trim())
    )
    process.env.JAVA_HOME = javaHome
    process.env.KAFKA_MIRROR_CACHE = emptyCache
    process.env.PATH = '/nonexistent-bin'
    assert.throws(() => ensureKafkaJars(), /Apache Maven is required/)
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) Reflect.deleteProperty(process.env, k)
      else process.env[k] = v
    }
    rmSync(emptyCache, { recursive: true, force: true })
  }
})
