/**
 * Java MirrorMaker 2 and kafka-mirror, both in the exactly-once mode, hand a flow over to each
 * other on one mm2.properties while a producer keeps writing to the source (issue 14;
 * docs/exactly-once-plan.md §5.5 and §7.1 item 4). Java runs in dedicated mode with what Kafka's
 * docs ask for ("Exactly once" in docs/ops.html): `dedicated.mode.enable.internal.rest = true`,
 * `listeners`, the target worker's `exactly.once.source.support = enabled` and the source consumer
 * at read_committed. Both write each copy round and its source positions (Connect offsets records,
 * Java's keys) in one transaction on the transactional id Connect names
 * (`<group.id>-<connector>-<task>`, Worker.taskTransactionalId); the new holder of the id fences
 * the old one (InitProducerId) and resumes from the committed positions.
 *
 * The truth is what Java's own console consumer reads read_committed from the remote topic: every
 * source record exactly once, in source order per partition (each value carries its partition and
 * sequence). Java MM2 and kafka-mirror never share the group (INCONSISTENT_GROUP_PROTOCOL, see
 * scale-out-java.test.ts), so a hand-over is: one stops, then the other starts.
 * 1. Java -> kafka-mirror -> Java, each stopped with SIGTERM (a clean stop commits its last
 *    transaction). Kafka's DumpLogSegments shows every data batch of the remote topic
 *    transactional, kafka-mirror's (its producer id and epoch) between Java's; Kafka's
 *    TransactionsCommand lists the tasks' ids.
 * 2. Java killed with kill -9 inside a transaction (interval boundary, 5 s): kafka-mirror's start
 *    fences the id Java left (plan §5.5), before the coordinator's timeout would have, so Java's
 *    open transaction is aborted and never seen read_committed; kafka-mirror is then killed with
 *    kill -9 inside its own transaction, and Java's start fences it in turn and finishes. Kafka's
 *    TransactionsCommand shows each open transaction at its kill and the epoch moving on.
 * Each case uses its own cluster aliases (so its own group, internal topics and transactional ids)
 * on the file's two brokers.
 */
import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { decodeOffsetValue, decodeSourceOffsetKey } from '../../src/formats/connect-offsets.ts'
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import { KafkaProducer } from '../../src/kafka/producer.ts'
import { readTopic } from '../../src/kafka/read-topic.ts'
import type { KafkaCluster } from '../harness/cluster.ts'
import {
  clientConfig,
  clustersForFile,
  createTopic,
  describeGroup,
  explained,
  logTail,
  readAll,
  uniqueName,
  waitFor
} from '../harness/helpers.ts'
import { startInstance } from '../harness/instances.ts'
import {
  dumpLogBatches,
  javaConsume,
  listTransactions,
  runJava,
  startLoggedJavaMirrorMaker
} from '../harness/java-tools.ts'
import { writeOneFlowProperties } from '../harness/mirror-config.ts'
import { freePort } from '../harness/ports.ts'
import type { TrackedProcess } from '../harness/processes.ts'

let SOURCE: KafkaCluster
let TARGET: KafkaCluster
clustersForFile([{ name: 'eosj-src' }, { name: 'eosj-tgt' }], ([s, t]) => {
  SOURCE = s
  TARGET = t
})

const PARTITIONS = 4
/** Records the background producer writes per round (spread over the partitions) and its pause. */
const PER_ROUND = 20
const ROUND_MS = 100
/** How many more records each runner must have committed (positions) before it is stopped. */
const STEP = 1500
/** Java MM2 starts slowly on a loaded 2-core machine (JVM, herders, connectors, fencing, tasks). */
const JAVA_WAIT_MS = 150_000
const MIRROR_WAIT_MS = 90_000

/** A flow `source->target` copying `topic` only, exactly-once on the target's worker, as Kafka's docs set it up. */
async function properties(source: string, target: string, topic: string, extra: Record<string, string> = {}) {
  return writeOneFlowProperties({ alias: source, cluster: SOURCE }, { alias: target, cluster: TARGET }, topic, {
    [`${target}.exactly.once.source.support`]: 'enabled',
    [`${source}.consumer.isolation.level`]: 'read_committed',
    'dedicated.mode.enable.internal.rest': 'true',
    listeners: `http://127.0.0.1:${await freePort()}`,
    ...extra
  })
}

/**
 * Writes `PER_ROUND` records every `ROUND_MS` until stopped, round-robin over the partitions;
 * each value is `<partition>:<sequence in that partition>`, one send at a time, so each
 * partition holds its sequences in order.
 */
function backgroundProducer(topic: string): { stop: () => Promise<number[]>; produced: () => number } {
  const producer = new KafkaProducer(clientConfig(SOURCE), 'eos-java-test-producer')
  const next = Array.from({ length: PARTITIONS }, () => 0)
  let stopping = false
  let failure: unknown
  const loop = (async () => {
    try {
      while (!stopping) {
        const byPartition = Array.from({ length: PARTITIONS }, (_, p) => ({
          topic,
          partition: p,
          records: [] as Array<{ key: Buffer; value: Buffer; headers: []; timestamp: bigint }>
        }))
        for (let i = 0; i < PER_ROUND; i++) {
          const batch = byPartition[i % PARTITIONS]
          if (batch === undefined) continue
          const seq = (next[batch.partition] ?? 0) + batch.records.length
          batch.records.push({
            key: Buffer.from(`k${seq}`),
            value: Buffer.from(`${batch.partition}:${seq}`),
            headers: [],
            timestamp: BigInt(Date.now())
          })
        }
        await producer.send(byPartition)
        for (const b of byPartition) next[b.partition] = (next[b.partition] ?? 0) + b.records.length
        await new Promise(resolve => setTimeout(resolve, ROUND_MS))
      }
    } catch (err) {
      failure = err
    } finally {
      await producer.close()
    }
  })()
  return {
    produced: () => next.reduce((a, b) => a + b, 0),
    stop: async () => {
      stopping = true
      await loop
      if (failure !== undefined) throw new Error(`the background producer failed: ${String(failure)}`)
      return [...next]
    }
  }
}

/**
 * The latest committed position per source partition (the last copied offset), read
 * read_committed up to the last stable offset: a transaction left open by a killed writer would
 * otherwise hold the read until it is fenced or times out.
 */
async function committedPositions(source: string, topic: string): Promise<Map<number, bigint>> {
  const admin = new KafkaAdmin(clientConfig(TARGET), 'test-admin')
  let records
  try {
    records = await readTopic(
      admin,
      clientConfig(TARGET, { 'isolation.level': 'read_committed' }),
      `mm2-offsets.${source}.internal`,
      'test-positions-reader',
      { committedOnly: true }
    )
  } finally {
    await admin.close()
  }
  const out = new Map<number, bigint>()
  for (const r of records ?? []) {
    let key
    try {
      key = decodeSourceOffsetKey(r.key)
    } catch {
      continue // another connector's key shape
    }
    if (key.connector !== 'MirrorSourceConnector' || key.cluster !== source || key.topic !== topic) continue
    const offset = decodeOffsetValue(r.value)
    if (offset === null) out.delete(key.partition)
    else out.set(key.partition, offset)
  }
  return out
}

/** Records covered by the committed positions (last copied offset + 1, summed). */
async function committedCount(source: string, topic: string): Promise<number> {
  let sum = 0
  for (const o of (await committedPositions(source, topic)).values()) sum += Number(o) + 1
  return sum
}

const describe = (m: Map<number, bigint>): string =>
  [...m]
    .sort(([a], [b]) => a - b)
    .map(([p, o]) => `${p}=${o}`)
    .join(', ') || '(none)'

/** Waits until the committed positions cover at least `count` records. */
async function untilCommitted(
  source: string,
  topic: string,
  count: number,
  timeoutMs: number,
  logs: Record<string, () => string>
): Promise<number> {
  let seen = 0
  await explained(
    waitFor(async () => (seen = await committedCount(source, topic)) >= count, {
      timeoutMs,
      intervalMs: 500,
      what: `committed positions to cover ${count} records`
    }).catch(err => {
      throw new Error(`${(err as Error).message}; they cover ${seen}`)
    }),
    logs
  )
  return seen
}

/** Waits until the committed positions name the last record of every source partition. */
async function untilAllCommitted(
  source: string,
  topic: string,
  ends: readonly number[],
  timeoutMs: number,
  logs: Record<string, () => string>
): Promise<void> {
  let seen = new Map<number, bigint>()
  const done = (): boolean => ends.every((n, p) => seen.get(p) === BigInt(n - 1))
  await explained(
    waitFor(async () => ((seen = await committedPositions(source, topic)), done()), {
      timeoutMs,
      intervalMs: 500,
      what: `committed positions to reach the source ends ${ends.map((n, p) => `${p}=${n - 1}`).join(', ')}`
    }).catch(err => {
      throw new Error(`${(err as Error).message}; committed: ${describe(seen)}`)
    }),
    logs
  )
}

/** `took transactional id` lines of kafka-mirror's log: the producer id and epoch each task took. */
function takenIds(log: readonly string[]): Array<{ id: string; producerId: string; epoch: number }> {
  return log
    .filter(l => l.includes('took transactional id'))
    .map(l => ({
      id: /transactionalId=(\S+)/.exec(l)?.[1] ?? '',
      producerId: /producerId=(\d+)/.exec(l)?.[1] ?? '',
      epoch: Number(/epoch=(\d+)/.exec(l)?.[1] ?? NaN)
    }))
}

interface DumpedBatch {
  readonly partition: number
  readonly baseOffset: number
  readonly lastOffset: number
  readonly producerId: string
  readonly epoch: number
  readonly transactional: boolean
  readonly control: boolean
}

/** Every batch of the topic's log segments on the target, by partition, as Kafka's DumpLogSegments prints them. */
async function dumpedBatches(topic: string): Promise<DumpedBatch[]> {
  const names = Array.from({ length: PARTITIONS }, (_, p) => `${topic}-${p}`)
  const dumped = await dumpLogBatches(TARGET, names)
  const out = names.flatMap((name, partition) =>
    (dumped.get(name) ?? []).map(b => ({
      partition,
      baseOffset: Number(b.baseOffset),
      lastOffset: Number(b.lastOffset),
      producerId: String(b.producerId),
      epoch: b.producerEpoch,
      transactional: b.transactional,
      control: b.control
    }))
  )
  assert.ok(out.length > 0, 'DumpLogSegments printed batches')
  return out
}

/**
 * Both wrote transactionally: every data batch of the remote topic is transactional (Kafka's
 * DumpLogSegments reads the target's segment files), and kafka-mirror's batches (the producer
 * ids and epochs it took) sit between Java's in every partition.
 */
async function assertBothTransactional(
  t: TestContext,
  remote: string,
  taken: ReadonlyArray<{ producerId: string; epoch: number }>
): Promise<void> {
  const batches = await dumpedBatches(remote)
  const data = batches.filter(b => !b.control)
  assert.deepEqual(
    data.filter(b => !b.transactional),
    [],
    'every data batch on the remote topic is transactional'
  )
  const ours = new Set(taken.map(x => `${x.producerId}/${x.epoch}`))
  const isOurs = (b: DumpedBatch): boolean => ours.has(`${b.producerId}/${b.epoch}`)
  for (let p = 0; p < PARTITIONS; p++) {
    const inP = data.filter(b => b.partition === p)
    const mine = inP.filter(isOurs)
    assert.ok(mine.length > 0, `partition ${p}: kafka-mirror wrote transactional batches`)
    const first = Math.min(...mine.map(b => b.baseOffset))
    const last = Math.max(...mine.map(b => b.lastOffset))
    assert.ok(
      inP.some(b => !isOurs(b) && b.lastOffset < first) && inP.some(b => !isOurs(b) && b.baseOffset > last),
      `partition ${p}: Java's transactional batches before and after kafka-mirror's (offsets ${first}..${last})`
    )
  }
  const markers = batches.filter(b => b.control).length
  t.diagnostic(
    `remote topic: ${data.length} data batches, all transactional (${data.filter(isOurs).length} kafka-mirror's), ${markers} transaction markers; producer epochs ${[...new Set(data.map(b => b.epoch))].sort((x, y) => x - y).join(', ')}`
  )
}

/** Kafka's TransactionsCommand (kafka-transactions.sh) against the target. */
async function transactionsCommand(args: readonly string[]): Promise<string> {
  const r = await runJava(
    ['org.apache.kafka.tools.TransactionsCommand', '--bootstrap-server', TARGET.bootstrap(), ...args],
    { label: 'java-transactions' }
  )
  assert.equal(r.code, 0, `kafka-transactions ${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

/** The rows of a TransactionsCommand table (tab-separated, a header line first), keyed by column. */
function tableRows(text: string): Array<Record<string, string>> {
  const [header, ...rows] = text
    .trim()
    .split('\n')
    .map(l => l.split('\t').map(c => c.trim()))
  return rows.map(cells => Object.fromEntries((header ?? []).map((h, i) => [h, cells[i] ?? ''])))
}

/** One transactional id as `kafka-transactions describe` shows it. */
async function describeTransaction(id: string): Promise<{ row: Record<string, string>; text: string }> {
  const text = await transactionsCommand(['describe', '--transactional-id', id])
  const row = tableRows(text)[0]
  assert.ok(row !== undefined && row.TransactionalId === id, `kafka-transactions describe ${id}:\n${text}`)
  return { row, text: text.trim() }
}

/**
 * The check of issue 14: Java's console consumer, read_committed, sees on the remote topic every
 * record of the source exactly once, in order per partition. Also reports what read_uncommitted
 * shows (aborted attempts), which may hold more.
 */
async function assertExactlyOnce(
  t: TestContext,
  topic: string,
  remote: string,
  produced: readonly number[]
): Promise<{ committed: number; uncommitted: number }> {
  const total = produced.reduce((a, b) => a + b, 0)
  // The source itself holds each sequence once, in order: the reference the target is held to.
  const source = await readAll(SOURCE, topic)
  assert.equal(source.length, total, 'the source holds each produced record once')
  for (let p = 0; p < PARTITIONS; p++)
    assert.deepEqual(
      source.filter(r => r.partition === p).map(r => r.value?.toString()),
      Array.from({ length: produced[p] ?? 0 }, (_, i) => `${p}:${i}`),
      `source partition ${p} holds its sequences in order`
    )

  // One more than the total, so that a duplicate is read rather than cut off by --max-messages.
  const lines = await javaConsume(TARGET.bootstrap(), remote, total + 1, {
    isolation: 'read_committed',
    details: true,
    timeoutMs: 10_000
  })
  const seen = Array.from({ length: PARTITIONS }, () => [] as number[])
  let misplaced = 0
  for (const line of lines) {
    const fields = line.split('\t')
    const partition = Number(/Partition:(\d+)/.exec(line)?.[1] ?? -1)
    const [vp, vs] = (fields[fields.length - 1] ?? '').split(':')
    if (Number(vp) !== partition) misplaced++
    seen[partition]?.push(Number(vs))
  }
  let duplicates = 0
  let gaps = 0
  let outOfOrder = 0
  seen.forEach((seqs, p) => {
    const distinct = new Set(seqs)
    duplicates += seqs.length - distinct.size
    for (let i = 0; i < (produced[p] ?? 0); i++) if (!distinct.has(i)) gaps++
    for (let i = 1; i < seqs.length; i++) if ((seqs[i] ?? 0) <= (seqs[i - 1] ?? 0)) outOfOrder++
  })
  const uncommitted = await readAll(TARGET, remote, { readCommitted: false })
  t.diagnostic(
    `Java read_committed consumer: ${lines.length} records for ${total} produced (${produced.join(' + ')}); ` +
      `duplicates ${duplicates}, gaps ${gaps}, out of order ${outOfOrder}, in the wrong partition ${misplaced}; ` +
      `read_uncommitted shows ${uncommitted.length} records (${uncommitted.length - lines.length} from aborted transactions)`
  )
  assert.deepEqual(
    { records: lines.length, duplicates, gaps, outOfOrder, misplaced },
    { records: total, duplicates: 0, gaps: 0, outOfOrder: 0, misplaced: 0 },
    'every source record exactly once, in order, in its partition'
  )
  return { committed: lines.length, uncommitted: uncommitted.length }
}

/** Stops with SIGTERM and expects a clean exit (a clean stop commits the last transaction). */
async function terminate(t: TestContext, name: string, proc: TrackedProcess, graceMs: number): Promise<void> {
  const started = Date.now()
  await proc.stop(graceMs)
  const code = await proc.exited
  t.diagnostic(`${name} exited with ${String(code)} ${Date.now() - started} ms after SIGTERM`)
  // Java's MirrorMaker exits 143 (128 + SIGTERM) from its shutdown hook; kafka-mirror exits 0.
  assert.ok(code === 0 || code === 143 || code === 'SIGTERM', `${name} stopped cleanly on SIGTERM, not killed: ${code}`)
}

test(
  'exactly-once: Java MM2 -> kafka-mirror -> Java MM2, each stopped with SIGTERM while the source is written: a read_committed Java consumer sees every record once, in order',
  { timeout: 360_000 },
  async t => {
    const [S, T] = ['A', 'B']
    const topic = uniqueName('eos-java')
    const remote = `${S}.${topic}`
    await createTopic(SOURCE, topic, { partitions: PARTITIONS })
    const file = await properties(S, T, topic, { [`${S}->${T}.tasks.max`]: '2' })
    const ids = [`${S}-mm2-MirrorSourceConnector-0`, `${S}-mm2-MirrorSourceConnector-1`]
    const producer = backgroundProducer(topic)
    t.after(async () => {
      await producer.stop().catch(() => {})
    })
    const started = Date.now()
    const at = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`

    // 1. Java MM2 copies a part, then stops (SIGTERM).
    const java1 = startLoggedJavaMirrorMaker(t, file)
    const javaCommitted = await untilCommitted(S, topic, STEP, JAVA_WAIT_MS, { 'Java MM2': java1.log })
    t.diagnostic(`${at()}: Java MM2 committed positions covering ${javaCommitted} records; SIGTERM`)
    await terminate(t, 'Java MM2', java1.proc, 60_000)
    const afterJava1 = await committedCount(S, topic)

    // 2. kafka-mirror continues from Java's committed positions, then stops (SIGTERM).
    const mirror = await startInstance(t, file, { ownStateDir: true })
    const mirrorLog = (): string => mirror.log.join('\n')
    const mirrorCommitted = await untilCommitted(S, topic, afterJava1 + STEP, MIRROR_WAIT_MS, {
      'kafka-mirror': mirrorLog
    })
    t.diagnostic(
      `${at()}: kafka-mirror committed positions covering ${mirrorCommitted} records (Java left ${afterJava1}); SIGTERM`
    )
    await terminate(t, 'kafka-mirror', mirror.process, 30_000)
    const afterMirror = await committedCount(S, topic)
    const taken = takenIds(mirror.log)
    t.diagnostic(
      `kafka-mirror took ${taken.map(x => `${x.id} (producer ${x.producerId}, epoch ${x.epoch})`).join(', ')}`
    )
    assert.deepEqual(
      taken.map(x => x.id).sort(),
      ids,
      'kafka-mirror ran a task on each of the ids Java uses (tasks.max 2)'
    )
    assert.ok(
      mirror.log.some(l => l.includes('fenced the transactional ids of the flow before starting its tasks')),
      `kafka-mirror fenced the flow's ids before its tasks started:\n${logTail(mirrorLog())}`
    )

    // 3. Java MM2 again, from kafka-mirror's committed positions; then the producer stops and
    //    Java copies the rest.
    const java2 = startLoggedJavaMirrorMaker(t, file)
    const java2Committed = await untilCommitted(S, topic, afterMirror + STEP, JAVA_WAIT_MS, { 'Java MM2': java2.log })
    const produced = await producer.stop()
    t.diagnostic(
      `${at()}: Java MM2 committed positions covering ${java2Committed} records (kafka-mirror left ${afterMirror}); producer stopped at ${produced.join(' + ')}`
    )
    await untilAllCommitted(S, topic, produced, 60_000, { 'Java MM2': java2.log })
    await terminate(t, 'Java MM2', java2.proc, 60_000)
    t.diagnostic(`${at()}: everything copied`)

    await assertExactlyOnce(t, topic, remote, produced)
    t.diagnostic(`${at()}: checked`)

    await assertBothTransactional(t, remote, takenIds(mirror.log))

    // Kafka's own tool names the ids both used; Java's clean stop committed the last transaction.
    const listed = await listTransactions(TARGET.bootstrap())
    t.diagnostic(`kafka-transactions list: ${listed.map(l => `${l.transactionalId} ${l.state}`).join(', ')}`)
    const states = new Map(listed.map(l => [l.transactionalId, l.state]))
    assert.deepEqual(
      ids.map(id => [id, states.get(id)]),
      ids.map(id => [id, 'CompleteCommit']),
      'kafka-transactions list shows the ids, their last transaction committed'
    )
  }
)

test(
  'exactly-once: Java MM2 killed with kill -9 inside a transaction, kafka-mirror fences it and continues, is killed with kill -9 in turn, Java finishes: a read_committed Java consumer sees every record once, in order',
  { timeout: 360_000 },
  async t => {
    const [S, T] = ['C', 'D']
    const topic = uniqueName('eos-java-kill')
    const remote = `${S}.${topic}`
    await createTopic(SOURCE, topic, { partitions: PARTITIONS })
    // Transactions of 5 s (both honour the connector keys), so that each kill lands inside one.
    const file = await properties(S, T, topic, {
      [`${S}->${T}.transaction.boundary`]: 'interval',
      [`${S}->${T}.transaction.boundary.interval.ms`]: '5000'
    })
    const id = `${S}-mm2-MirrorSourceConnector-0`
    const producer = backgroundProducer(topic)
    t.after(async () => {
      await producer.stop().catch(() => {})
    })
    const started = Date.now()
    const at = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`
    const transactionTime = 2000

    // 1. Java MM2 copies, and is killed inside a transaction.
    const java1 = startLoggedJavaMirrorMaker(t, file)
    const javaCommitted = await untilCommitted(S, topic, STEP, JAVA_WAIT_MS, { 'Java MM2': java1.log })
    await new Promise(resolve => setTimeout(resolve, transactionTime))
    await java1.proc.kill()
    const javaKilledAt = Date.now()
    t.diagnostic(
      `${at()}: Java MM2 had committed positions covering ${javaCommitted} records; killed (-9) with ${producer.produced()} produced`
    )
    const javaOpen = await describeTransaction(id)
    t.diagnostic(`kafka-transactions describe ${id} after the kill:\n${javaOpen.text}`)

    // 2. kafka-mirror fences the id (ending Java's transaction), copies, and is killed inside a transaction.
    const mirror = await startInstance(t, file, { ownStateDir: true })
    const mirrorLog = (): string => mirror.log.join('\n')
    const mirrorCommitted = await untilCommitted(S, topic, javaCommitted + STEP, MIRROR_WAIT_MS, {
      'kafka-mirror': mirrorLog
    })
    await new Promise(resolve => setTimeout(resolve, transactionTime))
    await mirror.process.kill()
    t.diagnostic(
      `${at()}: kafka-mirror had committed positions covering ${mirrorCommitted} records; killed (-9) with ${producer.produced()} produced`
    )
    const mirrorOpen = await describeTransaction(id)
    t.diagnostic(`kafka-transactions describe ${id} after the kill:\n${mirrorOpen.text}`)

    const fenced = mirror.log.find(l =>
      l.includes('fenced the transactional ids of the flow before starting its tasks')
    )
    assert.ok(
      fenced !== undefined,
      `kafka-mirror fenced the flow's id before its task started:\n${logTail(mirrorLog())}`
    )
    assert.match(fenced, new RegExp(`ids=${id}(\\s|$)`), 'the fencing line names the id Java held')
    const fencedAt = Date.parse(fenced.split(' ')[0] ?? '')
    t.diagnostic(`kafka-mirror, ${((fencedAt - javaKilledAt) / 1000).toFixed(1)} s after the kill: ${fenced}`)
    // It was kafka-mirror's fencing that ended Java's open transaction, not the coordinator's
    // timeout (transaction.timeout.ms, 60 s by default, which Connect leaves as it is).
    if (javaOpen.row.TransactionState === 'Ongoing')
      assert.ok(
        fencedAt < Number(javaOpen.row.CurrentTransactionStartTimeMs) + Number(javaOpen.row.TransactionTimeoutMs),
        `kafka-mirror fenced ${id} before Java's open transaction timed out`
      )

    // 3. Java MM2 again, once the group has dropped the killed kafka-mirror (a Connect worker
    //    that meets a member of another protocol type gives up), from kafka-mirror's committed positions.
    const group = `${S}-mm2`
    await waitFor(async () => (await describeGroup(TARGET, group)).members.length === 0, {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: `group ${group} to drop the killed kafka-mirror`
    })
    const java2 = startLoggedJavaMirrorMaker(t, file)
    const java2Committed = await untilCommitted(S, topic, mirrorCommitted + STEP, JAVA_WAIT_MS, {
      'Java MM2': java2.log
    })
    const produced = await producer.stop()
    t.diagnostic(
      `${at()}: Java MM2 committed positions covering ${java2Committed} records; producer stopped at ${produced.join(' + ')}`
    )
    await untilAllCommitted(S, topic, produced, 60_000, { 'Java MM2': java2.log })
    await terminate(t, 'Java MM2', java2.proc, 60_000)
    // Java's producer says when it took the id (TransactionManager: "ProducerId set to ... with epoch ...").
    const javaTook = java2
      .log()
      .split('\n')
      .find(l => l.includes(`transactionalId=${id}`) && l.includes('ProducerId set to'))
    t.diagnostic(`Java MM2 took the id: ${javaTook ?? '(no such log line)'}`)

    const seen = await assertExactlyOnce(t, topic, remote, produced)
    // The open transactions had records in them: aborted by the next holder's fencing, seen only read_uncommitted.
    if (javaOpen.row.TransactionState === 'Ongoing' || mirrorOpen.row.TransactionState === 'Ongoing')
      assert.ok(
        seen.uncommitted > seen.committed,
        `the records of the killed writers' open transactions are on the target, aborted (${seen.uncommitted} read_uncommitted, ${seen.committed} read_committed)`
      )
    t.diagnostic(`${at()}: checked`)

    await assertBothTransactional(t, remote, takenIds(mirror.log))
    // The id is Java's again: a later epoch than kafka-mirror's, its last transaction committed.
    const end = await describeTransaction(id)
    t.diagnostic(`kafka-transactions describe ${id} at the end:\n${end.text}`)
    assert.equal(end.row.TransactionState, 'CompleteCommit')
    assert.ok(
      Number(end.row.ProducerEpoch) > Number(mirrorOpen.row.ProducerEpoch) &&
        Number(mirrorOpen.row.ProducerEpoch) > Number(javaOpen.row.ProducerEpoch),
      `the epoch moved on at each hand-over (${javaOpen.row.ProducerEpoch} -> ${mirrorOpen.row.ProducerEpoch} -> ${end.row.ProducerEpoch})`
    )
  }
)
