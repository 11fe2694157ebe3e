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
import { decodeConnectOffsetKey, decodeOffsetValue, encodeSourceOffsetKey, javaPartition } from '../../src/formats/connect-offsets.ts'
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import { buildMirror } from '../../src/mirror.ts'
import { createLogger } from '../../src/observe/logger.ts'
import type { KafkaCluster } from '../harness/cluster.ts'
import { clientConfig, clustersFor, comparable, createTopic, produce, readAll, uniqueName, waitFor, type TestRecord } from '../harness/helpers.ts'
import { startJavaMirrorMaker } from '../harness/java-tools.ts'
import { writeMm2Properties } from '../harness/mirror-config.ts'
import type { TrackedProcess } from '../harness/processes.ts'

const PARTITIONS = 3
const N1 = 300
const N2 = 240
const OFFSETS_TOPIC = 'mm2-offsets.A.internal'
const JAVA_WAIT_MS = 180_000

/** `count` records spread round-robin over the partitions, with keys, headers and fixed timestamps. */
function records (from: number, count: number): TestRecord[] {
  return Array.from({ length: count }, (_, j) => {
    const i = from + j
    return {
      partition: i % PARTITIONS,
      key: i % 7 === 0 ? null : `key-${i}`,
      value: `value-${i}`,
      headers: [['seq', String(i)], ['empty', null]] as Array<[string, string | null]>,
      timestamp: 1_700_000_000_000n + BigInt(i)
    }
  })
}

/** Offset of the last record in each partition after `total` round-robin records. */
function lastOffsets (total: number): Map<number, bigint> {
  const out = new Map<number, bigint>()
  for (let p = 0; p < PARTITIONS; p++) out.set(p, BigInt(Math.ceil((total - p) / PARTITIONS)) - 1n)
  return out
}

function properties (a: KafkaCluster, b: KafkaCluster, topic: string): string {
  return writeMm2Properties({ A: a, B: b }, {
    'A->B.enabled': 'true',
    'A->B.topics': topic,
    'B->A.enabled': 'false',
    'B.offset.flush.interval.ms': '1000',
    'emit.heartbeats.enabled': 'false',
    'emit.checkpoints.enabled': 'false',
    'A->B.sync.group.offsets.enabled': 'false',
    'sync.topic.acls.enabled': 'false',
    'refresh.topics.interval.seconds': '2'
  })
}

/** Sum of the end offsets of a topic (0 while it does not exist). */
async function recordCount (cluster: KafkaCluster, topic: string): Promise<number> {
  const admin = new KafkaAdmin(clientConfig(cluster), 'test-admin')
  try {
    const d = (await admin.describeTopics([topic])).get(topic)
    if (d === undefined) return 0
    const ends = await admin.listOffsets(Array.from({ length: d.partitions }, (_, partition) => ({ topic, partition })), 'latest')
    let sum = 0n
    for (const v of ends.values()) sum += v
    return Number(sum)
  } finally { await admin.close() }
}

interface StoredPosition { readonly offset: bigint | null, readonly keyBytes: Buffer, readonly storedIn: Set<number> }

/**
 * The latest MirrorSourceConnector position per source partition of `topic` in the offsets topic,
 * with the exact key bytes and every offsets-topic partition that key was written to.
 */
async function storedPositions (b: KafkaCluster, topic: string): Promise<Map<number, StoredPosition>> {
  const out = new Map<number, StoredPosition>()
  let all
  try { all = await readAll(b, OFFSETS_TOPIC) } catch { return out }
  for (const r of all) {
    let k
    try { k = decodeConnectOffsetKey(r.key) } catch { continue }
    if (k.connector !== 'MirrorSourceConnector' || k.partition.cluster !== 'A' || k.partition.topic !== topic) continue
    const p = Number(k.partition.partition)
    const storedIn = out.get(p)?.storedIn ?? new Set<number>()
    storedIn.add(r.partition)
    out.set(p, { offset: decodeOffsetValue(r.value), keyBytes: r.key ?? Buffer.alloc(0), storedIn })
  }
  return out
}

function positionsEqual (stored: Map<number, StoredPosition>, expected: Map<number, bigint>): boolean {
  return [...expected].every(([p, o]) => stored.get(p)?.offset === o)
}

function describePositions (stored: Map<number, StoredPosition>): string {
  return [...stored].sort(([x], [y]) => x - y).map(([p, s]) => `${p}=${String(s.offset)}`).join(', ') || '(none)'
}

/** Checks that each stored key is byte-identical to ours and sits in the partition our partitioner picks. */
async function assertKeysCompatible (b: KafkaCluster, stored: Map<number, StoredPosition>, topic: string): Promise<void> {
  const admin = new KafkaAdmin(clientConfig(b), 'test-admin')
  let partitions: number
  try { partitions = (await admin.describeTopics([OFFSETS_TOPIC])).get(OFFSETS_TOPIC)?.partitions ?? 0 } finally { await admin.close() }
  assert.equal(partitions, 25, 'offsets topic has Connect\'s default 25 partitions')
  for (const [p, s] of stored) {
    const ours = encodeSourceOffsetKey({ connector: 'MirrorSourceConnector', cluster: 'A', topic, partition: p })
    assert.equal(s.keyBytes.toString(), ours.toString(), `key bytes for partition ${p}`)
    assert.deepEqual([...s.storedIn], [javaPartition(ours, partitions)], `offsets-topic partition(s) holding the key of partition ${p}`)
  }
}

/** Keeps a log in memory; on failure the whole of it goes to a file and its tail into the message. */
function logKeeper (name: string): { add: (text: string) => void, tail: () => string } {
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
function startJava (t: TestContext, propertiesFile: string): { proc: TrackedProcess, tail: () => string } {
  const proc = startJavaMirrorMaker(propertiesFile)
  const log = logKeeper('java-mm2')
  // Both pipes must be drained, or the JVM blocks once a pipe buffer fills.
  proc.child.stdout?.on('data', (d: Buffer) => { log.add(d.toString()) })
  proc.child.stderr?.on('data', (d: Buffer) => { log.add(d.toString()) })
  t.after(async () => { await proc.stop(30_000) })
  return { proc, tail: log.tail }
}

/** Our logger, kept in memory (and shown when a wait fails). */
function memoryLogger (): { log: ReturnType<typeof createLogger>, tail: () => string } {
  const log = logKeeper('kafka-mirror')
  return { log: createLogger('kafka-mirror', line => { log.add(line + '\n') }), tail: log.tail }
}

async function explained<T> (what: Promise<T>, tail: () => string): Promise<T> {
  try { return await what } catch (err) {
    throw new Error(`${(err as Error).message}${tail()}`, { cause: err })
  }
}

async function assertExactCopy (a: KafkaCluster, b: KafkaCluster, topic: string, total: number, tail: () => string): Promise<void> {
  const source = await readAll(a, topic)
  const remote = await readAll(b, `A.${topic}`)
  assert.equal(source.length, total)
  if (remote.length !== total) assert.fail(`remote topic has ${remote.length} records, source ${total} (gap or duplicates)${tail()}`)
  assert.deepEqual(remote.map(comparable), source.map(comparable))
  assert.deepEqual(remote.map(r => [r.partition, r.offset]), source.map(r => [r.partition, r.offset]), 'same offsets, partition by partition')
}

test('Java MM2 -> kafka-mirror: kafka-mirror resumes after the last record Java copied', { timeout: 600_000 }, async t => {
  const [a, b] = await clustersFor(t, [{ name: 'switch-java-a' }, { name: 'switch-java-b' }])
  assert.ok(a !== undefined && b !== undefined)
  const topic = uniqueName('switch-j2k')
  const remote = `A.${topic}`
  await createTopic(a, topic, { partitions: PARTITIONS })
  await produce(a, topic, records(0, N1))
  const file = properties(a, b, topic)

  // Java copies the first N1 and stores its positions.
  const started = Date.now()
  const java = startJava(t, file)
  await explained(waitFor(async () => await recordCount(b, remote) >= N1, { timeoutMs: JAVA_WAIT_MS, intervalMs: 1000, what: `Java MM2 to copy ${N1} records to ${remote}` }), java.tail)
  t.diagnostic(`Java MM2 copied ${N1} records ${Date.now() - started} ms after start`)
  let seen = new Map<number, StoredPosition>()
  await explained(waitFor(async () => positionsEqual(seen = await storedPositions(b, topic), lastOffsets(N1)), {
    timeoutMs: 60_000, intervalMs: 500, what: `Java MM2 to store positions ${[...lastOffsets(N1)].map(([p, o]) => `${p}=${o}`).join(', ')}`
  }).catch(err => { throw new Error(`${(err as Error).message}; stored: ${describePositions(seen)}`) }), java.tail)
  t.diagnostic(`Java stored positions (last copied offsets): ${describePositions(seen)}`)
  await assertKeysCompatible(b, seen, topic)

  const stopStarted = Date.now()
  await java.proc.stop(60_000)
  t.diagnostic(`Java MM2 exited with ${String(await java.proc.exited)} after ${Date.now() - stopStarted} ms`)
  assert.equal(await recordCount(b, remote), N1, 'Java copied each record once')

  // More records while nobody mirrors; kafka-mirror takes over on the same file.
  await produce(a, topic, records(N1, N2))
  const loaded = await loadConfig(file)
  const ours = memoryLogger()
  const mirror = buildMirror(loaded.config, ours.log)
  t.after(async () => { await mirror.close() })
  mirror.start()
  try {
    await explained(waitFor(async () => await recordCount(b, remote) >= N1 + N2, { timeoutMs: 60_000, intervalMs: 250, what: `kafka-mirror to reach ${N1 + N2} records in ${remote}` }), ours.tail)
  } finally { await mirror.close() }

  await assertExactCopy(a, b, topic, N1 + N2, ours.tail)
  const after = await storedPositions(b, topic)
  assert.ok(positionsEqual(after, lastOffsets(N1 + N2)), `kafka-mirror stored its final positions on close: ${describePositions(after)}`)
  await assertKeysCompatible(b, after, topic)
})

test('kafka-mirror -> Java MM2: Java resumes after the last record kafka-mirror copied', { timeout: 600_000 }, async t => {
  const [a, b] = await clustersFor(t, [{ name: 'switch-ours-a' }, { name: 'switch-ours-b' }])
  assert.ok(a !== undefined && b !== undefined)
  const topic = uniqueName('switch-k2j')
  const remote = `A.${topic}`
  await createTopic(a, topic, { partitions: PARTITIONS })
  await produce(a, topic, records(0, N1))
  const file = properties(a, b, topic)

  // kafka-mirror copies the first N1 and stores its positions on close.
  const loaded = await loadConfig(file)
  const ours = memoryLogger()
  const mirror = buildMirror(loaded.config, ours.log)
  t.after(async () => { await mirror.close() })
  mirror.start()
  try {
    await explained(waitFor(async () => await recordCount(b, remote) >= N1, { timeoutMs: 60_000, intervalMs: 250, what: `kafka-mirror to copy ${N1} records to ${remote}` }), ours.tail)
  } finally { await mirror.close() }
  const copied = await recordCount(b, remote)
  if (copied !== N1) { const rr = await readAll(b, remote, { readCommitted: false }); console.log('DEBUG remote', rr.map(r => `${r.partition}:${r.offset}:${r.value?.toString()}`).join(' ')) }
  if (copied !== N1) assert.fail(`kafka-mirror copied ${copied} records for ${N1}${ours.tail()}`)
  const stored = await storedPositions(b, topic)
  assert.ok(positionsEqual(stored, lastOffsets(N1)), `kafka-mirror stored positions on close: ${describePositions(stored)}`)
  t.diagnostic(`kafka-mirror stored positions (last copied offsets): ${describePositions(stored)}`)

  // More records while nobody mirrors; Java takes over on the same file.
  await produce(a, topic, records(N1, N2))
  const started = Date.now()
  const java = startJava(t, file)
  await explained(waitFor(async () => await recordCount(b, remote) >= N1 + N2, { timeoutMs: JAVA_WAIT_MS, intervalMs: 1000, what: `Java MM2 to reach ${N1 + N2} records in ${remote}` }), java.tail)
  t.diagnostic(`Java MM2 reached ${N1 + N2} records ${Date.now() - started} ms after start`)
  // Java's own positions move on from ours, under the same keys.
  let seen = new Map<number, StoredPosition>()
  await explained(waitFor(async () => positionsEqual(seen = await storedPositions(b, topic), lastOffsets(N1 + N2)), { timeoutMs: 60_000, intervalMs: 500, what: 'Java MM2 to store its final positions' })
    .catch(err => { throw new Error(`${(err as Error).message}; stored: ${describePositions(seen)}`) }), java.tail)
  await assertKeysCompatible(b, seen, topic)
  const stopStarted = Date.now()
  await java.proc.stop(60_000)
  t.diagnostic(`Java MM2 exited with ${String(await java.proc.exited)} after ${Date.now() - stopStarted} ms`)

  await assertExactCopy(a, b, topic, N1 + N2, () => ours.tail() + java.tail())
})
