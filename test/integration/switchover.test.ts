/**
 * Switching between Java MirrorMaker 2 (dedicated mode) and kafka-mirror on the same
 * mm2.properties: each one resumes from the positions the other stored in Connect's offsets
 * topic (`mm2-offsets.A.internal` on the target), so the remote topic ends up an exact copy of
 * the source: no gap, no duplicate. Java stores "last copied offset"; the taker-over resumes at +1.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { loadConfig } from '../../src/config/load.ts'
import {
  decodeConnectOffsetKey,
  decodeOffsetValue,
  encodeSourceOffsetKey,
  javaPartition
} from '../../src/formats/connect-offsets.ts'
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import { buildMirror } from '../../src/mirror.ts'
import { createLogger } from '../../src/observe/logger.ts'
import type { KafkaCluster } from '../harness/cluster.ts'
import {
  clientConfig,
  clustersFor,
  comparable,
  createTopic,
  produce,
  readAll,
  uniqueName,
  waitFor,
  type TestRecord
} from '../harness/helpers.ts'
import { startJavaMirrorMaker } from '../harness/java-tools.ts'
import { writeMm2Properties } from '../harness/mirror-config.ts'
import type { TrackedProcess } from '../harness/processes.ts'

const PARTITIONS = 3
const N1 = 300
const N2 = 240
const OFFSETS_TOPIC = 'mm2-offsets.A.internal'
const JAVA_WAIT_MS = 180_000

/**
 * Recent timestamps: the harness brokers check retention every 2 s, and records older than the
 * default 7 days would be deleted from under the test.
 */
const BASE_TIMESTAMP = BigInt(Date.now()) - 3_600_000n

/** `count` records spread round-robin over the partitions, with keys, headers and distinct timestamps. */
function records(from: number, count: number): TestRecord[] {
  return Array.from({ length: count }, (_, j) => {
    const i = from + j
    return {
      partition: i % PARTITIONS,
      key: i % 7 === 0 ? null : `key-${i}`,
      value: `value-${i}`,
      headers: [
        ['seq', String(i)],
        ['empty', null]
      ] as Array<[string, string | null]>,
      timestamp: BASE_TIMESTAMP + BigInt(i)
    }
  })
}

/** End offset per partition. */
async function endOffsets(cluster: KafkaCluster, topic: string): Promise<Map<number, bigint>> {
  const admin = new KafkaAdmin(clientConfig(cluster), 'test-admin')
  try {
    const d = (await admin.describeTopics([topic])).get(topic)
    if (d === undefined) return new Map()
    const ends = await admin.listOffsets(
      Array.from({ length: d.partitions }, (_, partition) => ({ topic, partition })),
      'latest'
    )
    return new Map(Array.from({ length: d.partitions }, (_, p) => [p, ends.get(`${topic}:${p}`) ?? 0n]))
  } finally {
    await admin.close()
  }
}

/** Sum of the end offsets of a topic (0 while it does not exist). */
async function recordCount(cluster: KafkaCluster, topic: string): Promise<number> {
  let sum = 0n
  for (const v of (await endOffsets(cluster, topic)).values()) sum += v
  return Number(sum)
}

/** Produces and returns the offset of the last record per partition and the record count. */
async function produceAndMeasure(
  a: KafkaCluster,
  topic: string,
  batch: TestRecord[],
  before: number
): Promise<{ last: Map<number, bigint>; total: number }> {
  await produce(a, topic, batch)
  const ends = await endOffsets(a, topic)
  const total = await recordCount(a, topic)
  assert.equal(total, before + batch.length, 'the source holds each produced record once')
  return { last: new Map([...ends].map(([p, e]) => [p, e - 1n])), total }
}

function properties(a: KafkaCluster, b: KafkaCluster, topic: string): string {
  return writeMm2Properties(
    { A: a, B: b },
    {
      'A->B.enabled': 'true',
      'A->B.topics': topic,
      'B->A.enabled': 'false',
      'B.offset.flush.interval.ms': '1000',
      'emit.heartbeats.enabled': 'false',
      'emit.checkpoints.enabled': 'false',
      'A->B.sync.group.offsets.enabled': 'false',
      'sync.topic.acls.enabled': 'false',
      'refresh.topics.interval.seconds': '2'
    }
  )
}

interface StoredPosition {
  readonly offset: bigint | null
  readonly keyBytes: Buffer
  readonly storedIn: Set<number>
}

/**
 * The latest MirrorSourceConnector position per source partition of `topic` in the offsets topic,
 * with the exact key bytes and every offsets-topic partition that key was written to.
 */
async function storedPositions(b: KafkaCluster, topic: string): Promise<Map<number, StoredPosition>> {
  const out = new Map<number, StoredPosition>()
  let all
  try {
    all = await readAll(b, OFFSETS_TOPIC)
  } catch {
    return out
  }
  for (const r of all) {
    let k
    try {
      k = decodeConnectOffsetKey(r.key)
    } catch {
      continue
    }
    if (k.connector !== 'MirrorSourceConnector' || k.partition.cluster !== 'A' || k.partition.topic !== topic) continue
    const p = Number(k.partition.partition)
    const storedIn = out.get(p)?.storedIn ?? new Set<number>()
    storedIn.add(r.partition)
    out.set(p, { offset: decodeOffsetValue(r.value), keyBytes: r.key ?? Buffer.alloc(0), storedIn })
  }
  return out
}

function positionsEqual(stored: Map<number, StoredPosition>, expected: Map<number, bigint>): boolean {
  return [...expected].every(([p, o]) => stored.get(p)?.offset === o)
}

function describePositions(stored: Map<number, StoredPosition>): string {
  return (
    [...stored]
      .sort(([x], [y]) => x - y)
      .map(([p, s]) => `${p}=${String(s.offset)}`)
      .join(', ') || '(none)'
  )
}

/** Checks that each stored key is byte-identical to ours and sits in the partition our partitioner picks. */
async function assertKeysCompatible(
  b: KafkaCluster,
  stored: Map<number, StoredPosition>,
  topic: string
): Promise<void> {
  const admin = new KafkaAdmin(clientConfig(b), 'test-admin')
  let partitions: number
  try {
    partitions = (await admin.describeTopics([OFFSETS_TOPIC])).get(OFFSETS_TOPIC)?.partitions ?? 0
  } finally {
    await admin.close()
  }
  assert.equal(partitions, 25, "offsets topic has Connect's default 25 partitions")
  for (const [p, s] of stored) {
    const ours = encodeSourceOffsetKey({ connector: 'MirrorSourceConnector', cluster: 'A', topic, partition: p })
    assert.equal(s.keyBytes.toString(), ours.toString(), `key bytes for partition ${p}`)
    assert.deepEqual(
      [...s.storedIn],
      [javaPartition(ours, partitions)],
      `offsets-topic partition(s) holding the key of partition ${p}`
    )
  }
}

/** Keeps a log in memory; on failure the whole of it goes to a file and its tail into the message. */
function logKeeper(name: string): { add: (text: string) => void; tail: () => string } {
  let text = ''
  return {
    add: (more: string) => {
      text += more
      if (text.length > 4_000_000) text = text.slice(-2_000_000)
    },
    tail: () => {
      const file = join(mkdtempSync(join(tmpdir(), 'km-switchover-')), `${name}.log`)
      writeFileSync(file, text)
      // The periodic topic refresh lines would fill any tail; leave them to the file.
      const lines = text.split('\n').filter(l => !l.includes('refreshing topics took'))
      return `\n--- ${name} log tail (whole log: ${file}) ---\n${lines.slice(-60).join('\n')}`
    }
  }
}

/** Java MM2 with its (INFO) log captured so that a timeout can show what it was doing. */
function startJava(t: TestContext, propertiesFile: string): { proc: TrackedProcess; tail: () => string } {
  const proc = startJavaMirrorMaker(propertiesFile)
  const log = logKeeper('java-mm2')
  // Both pipes must be drained, or the JVM blocks once a pipe buffer fills.
  proc.child.stdout?.on('data', (d: Buffer) => {
    log.add(d.toString())
  })
  proc.child.stderr?.on('data', (d: Buffer) => {
    log.add(d.toString())
  })
  t.after(async () => {
    await proc.stop(30_000)
  })
  return { proc, tail: log.tail }
}

/** Our logger, kept in memory (and shown when a wait fails). */
function memoryLogger(): { log: ReturnType<typeof createLogger>; tail: () => string } {
  const log = logKeeper('kafka-mirror')
  return {
    log: createLogger('kafka-mirror', line => {
      log.add(line + '\n')
    }),
    tail: log.tail
  }
}

async function explained<T>(what: Promise<T>, tail: () => string): Promise<T> {
  try {
    return await what
  } catch (err) {
    throw new Error(`${(err as Error).message}${tail()}`, { cause: err })
  }
}

async function assertExactCopy(
  a: KafkaCluster,
  b: KafkaCluster,
  topic: string,
  total: number,
  tail: () => string
): Promise<void> {
  const source = await readAll(a, topic)
  const remote = await readAll(b, `A.${topic}`)
  assert.equal(source.length, total)
  if (remote.length !== total)
    assert.fail(`remote topic has ${remote.length} records, source ${total} (gap or duplicates)${tail()}`)
  assert.deepEqual(remote.map(comparable), source.map(comparable))
  assert.deepEqual(
    remote.map(r => [r.partition, r.offset]),
    source.map(r => [r.partition, r.offset]),
    'same offsets, partition by partition'
  )
}

const fmt = (m: Map<number, bigint>): string => [...m].map(([p, o]) => `${p}=${o}`).join(', ')

/** A mirror that can be started on a properties file and stopped (storing its positions). */
interface Runner {
  readonly name: string
  /** How long it may take to copy what is there (Java MM2 starts slowly). */
  readonly copyWaitMs: number
  start(t: TestContext, file: string): { stop: () => Promise<void>; tail: () => string }
}

const javaMirrorMaker: Runner = {
  name: 'Java MM2',
  copyWaitMs: JAVA_WAIT_MS,
  start(t, file) {
    const java = startJava(t, file)
    return {
      tail: java.tail,
      stop: async () => {
        const stopStarted = Date.now()
        await java.proc.stop(60_000)
        t.diagnostic(`Java MM2 exited with ${String(await java.proc.exited)} after ${Date.now() - stopStarted} ms`)
      }
    }
  }
}

const kafkaMirror: Runner = {
  name: 'kafka-mirror',
  copyWaitMs: 60_000,
  start(t, file) {
    const ours = memoryLogger()
    const running = loadConfig(file).then(({ config }) => {
      const mirror = buildMirror(config, ours.log)
      t.after(async () => {
        await mirror.close()
      })
      mirror.start()
      return mirror
    })
    return {
      tail: ours.tail,
      stop: async () => {
        await (await running).close()
      }
    }
  }
}

/**
 * `first` copies a batch and is stopped once its positions are stored; more records arrive
 * while nobody mirrors; `second` takes over on the same file and must end with an exact copy,
 * its own final positions stored under the same (Java-identical) keys.
 */
async function switchOver(t: TestContext, first: Runner, second: Runner): Promise<void> {
  const [a, b] = await clustersFor(t, [{ name: 'switch-a' }, { name: 'switch-b' }])
  assert.ok(a !== undefined && b !== undefined)
  const topic = uniqueName('switch')
  const remote = `A.${topic}`
  await createTopic(a, topic, { partitions: PARTITIONS })
  const file = properties(a, b, topic)
  const tails: Array<() => string> = []

  const copyAndStop = async (runner: Runner, expected: { last: Map<number, bigint>; total: number }): Promise<void> => {
    const started = Date.now()
    const run = runner.start(t, file)
    tails.push(run.tail)
    await explained(
      waitFor(async () => (await recordCount(b, remote)) >= expected.total, {
        timeoutMs: runner.copyWaitMs,
        intervalMs: 250,
        what: `${runner.name} to reach ${expected.total} records in ${remote}`
      }),
      run.tail
    )
    t.diagnostic(`${runner.name} reached ${expected.total} records ${Date.now() - started} ms after start`)
    let seen = new Map<number, StoredPosition>()
    await explained(
      waitFor(async () => positionsEqual((seen = await storedPositions(b, topic)), expected.last), {
        timeoutMs: 60_000,
        intervalMs: 500,
        what: `${runner.name} to store positions ${fmt(expected.last)}`
      }).catch(err => {
        throw new Error(`${(err as Error).message}; stored: ${describePositions(seen)}`)
      }),
      run.tail
    )
    t.diagnostic(`${runner.name} stored positions (last copied offsets): ${describePositions(seen)}`)
    await run.stop()
    const after = await storedPositions(b, topic)
    assert.ok(
      positionsEqual(after, expected.last),
      `${runner.name} positions after stop are ${fmt(expected.last)}: ${describePositions(after)}`
    )
    await assertKeysCompatible(b, after, topic)
    const copied = await recordCount(b, remote)
    if (copied !== expected.total)
      assert.fail(`${runner.name}: ${remote} has ${copied} records for ${expected.total} on the source${run.tail()}`)
  }

  const firstBatch = await produceAndMeasure(a, topic, records(0, N1), 0)
  await copyAndStop(first, firstBatch)
  const secondBatch = await produceAndMeasure(a, topic, records(N1, N2), firstBatch.total)
  await copyAndStop(second, secondBatch)
  await assertExactCopy(a, b, topic, secondBatch.total, () => tails.map(tail => tail()).join(''))
}

test(
  'Java MM2 -> kafka-mirror: kafka-mirror resumes after the last record Java copied',
  { timeout: 600_000 },
  async t => {
    await switchOver(t, javaMirrorMaker, kafkaMirror)
  }
)

test(
  'kafka-mirror -> Java MM2: Java resumes after the last record kafka-mirror copied',
  { timeout: 600_000 },
  async t => {
    await switchOver(t, kafkaMirror, javaMirrorMaker)
  }
)
