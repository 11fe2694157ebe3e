/**
 * Instances sharing the work (issue 11): several `kafka-mirror run` processes on one config join
 * the flow's group on the target and split its partitions; a stopped instance hands its
 * partitions over with its positions stored (no duplicate), a killed one loses them to the
 * others after the session timeout (duplicates bounded by what it copied since its last stored
 * position), and no partition is ever written by two instances at once: every stored position
 * names its writer (instance and generation) in a header, and per partition the writers follow
 * one another without interleaving.
 * An instance paused (SIGSTOP) past the session timeout loses its partitions and, once resumed,
 * stores nothing under its old generation: its write lease ended before the others took over.
 * CI copies 60,000 records over a source link throttled to 300 KB/s so the copy spans the
 * hand-overs; KM_SCALE_RECORDS sets another size (`npm run test:scale-out:full`: 300,000), with
 * the throttle scaled alike so the hand-overs still fall mid-copy.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type Checkpoint, decodeCheckpoint } from '../../src/formats/checkpoint.ts'
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import { MAX_PARTITION_BATCH_BYTES } from '../../src/kafka/producer-settings.ts'
import { DEFAULT_FLUSH_THRESHOLDS } from '../../src/source/position-flush-policy.ts'
import { expandUnitIds, parseUnitId } from '../../src/group/units.ts'
import {
  clientConfig,
  clustersForFile,
  commitOffsets,
  createTopic,
  produce,
  readAll,
  uniqueName,
  waitFor
} from '../harness/helpers.ts'
import type { KafkaCluster } from '../harness/cluster.ts'
import { type Instance, startInstance, startInstances } from '../harness/instances.ts'
import { positionRecords, waitForStoredPositions } from '../harness/positions.ts'
import { setClientQuota } from '../harness/java-tools.ts'
import { writeMm2Properties } from '../harness/mirror-config.ts'

let A: KafkaCluster
let B: KafkaCluster
clustersForFile([{ name: 'A' }, { name: 'B' }], ([a, b]) => {
  A = a
  B = b
})

const PARTITIONS = 12
const TOTAL = Number(process.env.KM_SCALE_RECORDS ?? 60_000)
/** The source link's throttle: 300 KB/s for 60,000 records, in proportion for other sizes. */
const QUOTA_BYTES_PER_S = Math.round(300 * 1024 * Math.max(1, TOTAL / 60_000))
const SESSION_TIMEOUT_MS = 10_000
const HEARTBEAT_INTERVAL_MS = 1_000

/** Copy units of the flow an instance runs now (of `topic`, or of every topic), as `topic:partition`. */
async function copyUnits(i: Instance, topic?: string): Promise<string[] | undefined> {
  const st = await i.status()
  const g = st?.groups.find(x => x.groupId === 'A-mm2')
  if (g === undefined || g.state !== 'stable') return undefined
  return expandUnitIds(g.units)
    .map(id => parseUnitId(id))
    .flatMap(u =>
      u.kind === 'copy' && u.flow === 'A->B' && (topic === undefined || u.topic === topic)
        ? [`${u.topic}:${u.partition}`]
        : []
    )
    .sort()
}

async function targetCount(admin: KafkaAdmin, remote: string): Promise<number> {
  if (!(await admin.describeTopics([remote])).has(remote)) return 0
  const ends = await admin.listOffsets(
    Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: remote, partition })),
    'latest'
  )
  return Number([...ends.values()].reduce((a, b) => a + b, 0n))
}

/**
 * Writes the source while the test runs: every `everyMs`, `batch` records numbered on from
 * `from`, round-robin over the partitions, each value starting with its number (then `pad`).
 * `stop()` waits for the batch under way; it also runs when the test ends.
 */
function writeInBackground(
  t: { after: (fn: () => Promise<void>) => void },
  topic: string,
  partitions: number,
  opts: { from?: number; batch: number; everyMs: number; pad?: string }
): { readonly produced: () => number; readonly stop: () => Promise<void> } {
  let produced = opts.from ?? 0
  let producing = true
  const suffix = opts.pad === undefined ? '' : ` ${opts.pad}`
  const running = (async () => {
    while (producing) {
      const batch = Array.from({ length: opts.batch }, (_, k) => ({
        partition: (produced + k) % partitions,
        value: `${produced + k}${suffix}`
      }))
      await produce(A, topic, batch)
      produced += batch.length
      await new Promise(resolve => setTimeout(resolve, opts.everyMs))
    }
  })()
  const stop = async (): Promise<void> => {
    producing = false
    await running
  }
  t.after(stop)
  return { produced: () => produced, stop }
}

/** Per partition of `topic`: the writers of its stored positions, in the order they wrote. */
async function positionWriters(topic: string): Promise<Map<number, string[]>> {
  const writers = new Map<number, string[]>()
  for (const r of await positionRecords(B, { source: 'A' }, topic)) {
    const list = writers.get(r.partition) ?? []
    list.push(r.owners[0] ?? '(none)')
    writers.set(r.partition, list)
  }
  return writers
}

test('three instances share the partitions; SIGTERM hands over without a duplicate, kill -9 within the session timeout; never two writers at once', async t => {
  const topic = uniqueName('scale')
  const remote = `A.${topic}`
  await createTopic(A, topic, { partitions: PARTITIONS })
  const pad = 'x'.repeat(190)
  await produce(
    A,
    topic,
    Array.from({ length: TOTAL }, (_, i) => ({ partition: i % PARTITIONS, value: `${i} ${pad}` })),
    { chunk: 20_000 }
  )
  const file = writeMm2Properties(
    { A, B },
    {
      'A->B.enabled': 'true',
      'A->B.topics': topic,
      'B.offset.flush.interval.ms': '500',
      'B.session.timeout.ms': String(SESSION_TIMEOUT_MS),
      'B.heartbeat.interval.ms': String(HEARTBEAT_INTERVAL_MS)
    }
  )
  // One quota for every instance's source consumer (they share the client id): the copy spans the hand-overs.
  await setClientQuota(A.bootstrap(), 'A->B|MirrorSourceConnector|replication-consumer', {
    consumer_byte_rate: String(QUOTA_BYTES_PER_S)
  })
  const admin = new KafkaAdmin(clientConfig(B), 'scale-test-admin')
  t.after(async () => {
    await admin.close()
  })

  // The source keeps being written during the run (about 500 records/s over every partition), so
  // every owner of a partition copies and stores positions for it, before and after each hand-over.
  const source = writeInBackground(t, topic, PARTITIONS, { from: TOTAL, batch: 100, everyMs: 200, pad })

  const instances = await startInstances(t, 3, file)
  const [i0, i1, i2] = instances
  assert.ok(i0 !== undefined && i1 !== undefined && i2 !== undefined)

  // 1. The group settles with each instance owning 4 of the 12 partitions.
  const dealt = await waitFor(
    async () => {
      const units = await Promise.all(instances.map(async i => await copyUnits(i, topic)))
      if (units.some(u => u === undefined)) return undefined
      const all = units.flatMap(u => u ?? [])
      return all.length === PARTITIONS ? units : undefined
    },
    { timeoutMs: 90_000, what: 'the 12 partitions dealt over the three instances' }
  )
  const counts = dealt.map(u => u?.length ?? 0)
  t.diagnostic(`partitions per instance: ${counts.join(', ')}`)
  assert.deepEqual(counts, [4, 4, 4])
  assert.equal(new Set(dealt.flatMap(u => u ?? [])).size, PARTITIONS, 'no partition dealt twice')

  // Singletons run once: over 5 s the target's heartbeats topic gets about one record per second, not three.
  const heartbeatsBefore = (await readAll(B, 'heartbeats').catch(() => [])).length
  await new Promise(resolve => setTimeout(resolve, 5000))
  const heartbeatsIn5s = (await readAll(B, 'heartbeats').catch(() => [])).length - heartbeatsBefore
  t.diagnostic(`heartbeats written on B in 5 s by three instances: ${heartbeatsIn5s}`)
  assert.ok(heartbeatsIn5s >= 2 && heartbeatsIn5s <= 8, `heartbeats in 5 s: ${heartbeatsIn5s}`)

  // 2. SIGTERM of instance 0 mid-copy: its partitions move to the others.
  const fromStopped = (await copyUnits(i0, topic)) ?? dealt[0] ?? []
  const stoppedAt = Date.now()
  await i0.process.stop()
  const afterStop = await waitFor(
    async () => {
      const u1 = await copyUnits(i1, topic)
      const u2 = await copyUnits(i2, topic)
      if (u1 === undefined || u2 === undefined) return undefined
      return u1.length + u2.length === PARTITIONS ? { u1, u2 } : undefined
    },
    { timeoutMs: 60_000, what: "the stopped instance's partitions taken over" }
  )
  const stopHandOverMs = Date.now() - stoppedAt
  t.diagnostic(`SIGTERM hand-over: ${stopHandOverMs} ms (${fromStopped.length} partitions)`)

  // 3. kill -9 of instance 1 once the others copy again: after the session timeout instance 2 owns everything.
  await new Promise(resolve => setTimeout(resolve, 2000))
  const copiedAtKill = await targetCount(admin, remote)
  t.diagnostic(`copied when instance 1 is killed: ${copiedAtKill} of ${source.produced()}`)
  assert.ok(copiedAtKill < source.produced(), 'the copy was still running when an instance was killed')
  const fromKilled = (await copyUnits(i1, topic)) ?? afterStop.u1
  const killedAt = Date.now()
  await i1.process.kill()
  await waitFor(async () => (await copyUnits(i2, topic))?.length === PARTITIONS, {
    timeoutMs: 60_000,
    what: "the killed instance's partitions taken over"
  })
  const killHandOverMs = Date.now() - killedAt
  t.diagnostic(`kill -9 hand-over: ${killHandOverMs} ms (${fromKilled.length} partitions)`)
  assert.ok(
    killHandOverMs <= SESSION_TIMEOUT_MS + HEARTBEAT_INTERVAL_MS + 3000,
    `kill -9 hand-over took ${killHandOverMs} ms`
  )

  // 4. Every record arrives; duplicates only where an instance was killed.
  await new Promise(resolve => setTimeout(resolve, 2000))
  await source.stop()
  const total = source.produced()
  const copied = await waitFor(
    async () => {
      const records = await readAll(B, remote)
      const distinct = new Set(records.map(r => r.value?.toString().split(' ')[0]))
      return distinct.size >= total ? records : undefined
    },
    { timeoutMs: 240_000 * Math.max(1, TOTAL / 60_000), what: 'every record on the target' }
  )
  const seen = new Map<string, number>()
  const duplicatesByPartition = new Map<number, number>()
  for (const r of copied) {
    const id = r.value?.toString().split(' ')[0] ?? ''
    const n = (seen.get(id) ?? 0) + 1
    seen.set(id, n)
    if (n > 1) duplicatesByPartition.set(r.partition, (duplicatesByPartition.get(r.partition) ?? 0) + 1)
  }
  t.diagnostic(
    `records on the target: ${copied.length} for ${total}; duplicates by partition: ${JSON.stringify([...duplicatesByPartition])}`
  )
  assert.equal(seen.size, total)
  const killedPartitions = new Set(fromKilled.map(p => Number(p.split(':').pop())))
  for (const [partition, n] of duplicatesByPartition)
    assert.ok(
      killedPartitions.has(partition),
      `${n} duplicates in partition ${partition}, never owned by the killed one`
    )
  // The crash bound the README states (as in crash-loop.test.ts): the records acknowledged since the
  // last store (under the flush threshold plus one send) plus the send in flight, per task.
  const recordBytes = 8 + 190 + String(TOTAL).length
  const bound =
    DEFAULT_FLUSH_THRESHOLDS.maxRecords +
    (killedPartitions.size + 1) * Math.ceil(MAX_PARTITION_BATCH_BYTES / recordBytes)
  const duplicates = [...duplicatesByPartition.values()].reduce((a, b) => a + b, 0)
  assert.ok(duplicates <= bound, `${duplicates} duplicates after kill -9 (bound ${bound})`)

  // 5. Writers of each partition's positions follow one another: a writer that was replaced never writes again.
  await waitForStoredPositions(A, [topic], B, { source: 'A' })
  const writers = await positionWriters(topic)
  if (process.env.KM_TEST_LOG !== undefined)
    for (const [p, l] of writers) t.diagnostic(`partition ${p} positions by: ${[...new Set(l)].join(' > ')}`)
  for (const [partition, list] of writers) {
    const done = new Set<string>()
    let current: string | undefined
    for (const w of list) {
      if (w === current) continue
      assert.ok(!done.has(w), `partition ${partition}: ${w} wrote again after being replaced (${list.join(' > ')})`)
      if (current !== undefined) done.add(current)
      current = w
    }
    assert.ok(!list.includes('(none)'), `partition ${partition}: a position without its writer`)
  }
  // The partitions the stopped instance stored positions for were written by another instance after it
  // (the source kept growing). A throttled fetch is large and rare, so it may not have stored them all.
  const processOf = (label: string): string => label.split(' ')[0] ?? label
  let handedOver = 0
  for (const p of fromStopped) {
    const list = (writers.get(Number(p.split(':').pop())) ?? []).map(processOf)
    const last = list.findLastIndex(w => w.endsWith(`:${i0.pid}`))
    if (last < 0) continue
    handedOver++
    assert.ok(
      last < list.length - 1,
      `partition ${p}: written by its next owner after the stopped one (${list.join(' > ')})`
    )
  }
  assert.ok(handedOver > 0, 'the stopped instance had stored positions for a partition it handed over')
  t.diagnostic(`writers per partition: ${[...writers].map(([p, l]) => `${p}: ${[...new Set(l)].length}`).join(', ')}`)
})

test('an instance paused past the session timeout (SIGSTOP) loses its partitions and, resumed, writes nothing under its old generation', async t => {
  const topic = uniqueName('paused')
  const remote = `A.${topic}`
  const partitions = 6
  await createTopic(A, topic, { partitions })
  const file = writeMm2Properties(
    { A, B },
    {
      'A->B.enabled': 'true',
      'A->B.topics': topic,
      'B.offset.flush.interval.ms': '500',
      'B.session.timeout.ms': String(SESSION_TIMEOUT_MS),
      'B.heartbeat.interval.ms': String(HEARTBEAT_INTERVAL_MS)
    }
  )
  // The source is written all along, so both instances copy and store positions the whole time.
  const source = writeInBackground(t, topic, partitions, { batch: 60, everyMs: 100 })
  const [i0, i1] = await startInstances(t, 2, file)
  assert.ok(i0 !== undefined && i1 !== undefined)
  const generationOf = async (i: Instance): Promise<number | undefined> =>
    (await i.status())?.groups.find(g => g.groupId === 'A-mm2')?.generation
  await waitFor(
    async () => {
      const [u0, u1] = [await copyUnits(i0, topic), await copyUnits(i1, topic)]
      return u0?.length === 3 && u1?.length === 3
    },
    { timeoutMs: 90_000, what: 'the partitions dealt three and three' }
  )
  const pausedGeneration = await generationOf(i0)
  assert.ok(pausedGeneration !== undefined)
  await new Promise(resolve => setTimeout(resolve, 2000))
  const pausedAt = Date.now()
  i0.process.child.kill('SIGSTOP')
  await waitFor(async () => (await copyUnits(i1, topic))?.length === partitions, {
    timeoutMs: 60_000,
    what: "the paused instance's partitions taken over"
  })
  const takenOverMs = Date.now() - pausedAt
  t.diagnostic(`paused instance's partitions taken over after ${takenOverMs} ms`)
  assert.ok(takenOverMs <= SESSION_TIMEOUT_MS + HEARTBEAT_INTERVAL_MS + 3000, `hand-over took ${takenOverMs} ms`)
  await new Promise(resolve => setTimeout(resolve, 2000))
  const resumedAt = Date.now()
  i0.process.child.kill('SIGCONT')
  // It learns that its lease ended and that it lost the membership, then joins again.
  await waitFor(async () => i0.log.some(l => l.includes('write lease expired')), {
    timeoutMs: 30_000,
    what: 'the resumed instance to log that its lease expired'
  })
  await waitFor(async () => ((await generationOf(i0)) ?? -1) > pausedGeneration, {
    timeoutMs: 60_000,
    what: 'the resumed instance in a new generation'
  })
  await new Promise(resolve => setTimeout(resolve, 3000))
  await source.stop()
  await waitForStoredPositions(A, [topic], B, { source: 'A' })

  // Every position record the resumed instance wrote after SIGCONT names a newer generation.
  let late = 0
  for (const r of await positionRecords(B, { source: 'A' }, topic)) {
    const [instance, generation] = (r.owners[0] ?? '').split(' ')
    if (!(instance ?? '').endsWith(`:${i0.pid}`) || Number(r.timestamp) < resumedAt) continue
    late++
    assert.ok(
      Number(generation) > pausedGeneration,
      `partition ${r.partition}: the resumed instance stored a position under generation ${generation} (paused in ${pausedGeneration})`
    )
  }
  t.diagnostic(`positions stored by the resumed instance after SIGCONT, all under a newer generation: ${late}`)
  // Every record is on the target; duplicates only where the paused instance had sends on their way.
  const records = await readAll(B, remote)
  const values = new Set(records.map(r => r.value?.toString()))
  assert.equal(values.size, source.produced(), 'every source record on the target')
  t.diagnostic(`records on the target: ${records.length} for ${source.produced()}`)
})

test('a fourth instance joins: only its share of the partitions moves; a topic created during the run and the checkpoints are each handled by one instance; then the first one stops, as in a rolling update', async t => {
  const prefix = uniqueName('grow')
  const topic = `${prefix}-a`
  const remote = `A.${topic}`
  await createTopic(A, topic, { partitions: PARTITIONS })
  const file = writeMm2Properties(
    { A, B },
    {
      'A->B.enabled': 'true',
      'A->B.topics': `${prefix}-.*`,
      'B.offset.flush.interval.ms': '500',
      'B.session.timeout.ms': String(SESSION_TIMEOUT_MS),
      'B.heartbeat.interval.ms': String(HEARTBEAT_INTERVAL_MS),
      'refresh.topics.interval.seconds': '2',
      'refresh.groups.interval.seconds': '1',
      'emit.checkpoints.interval.seconds': '1',
      'emit.heartbeats.enabled': 'false'
    }
  )
  const source = writeInBackground(t, topic, PARTITIONS, { batch: 60, everyMs: 200 })
  const instances = await startInstances(t, 3, file)
  // The leader balances a flow's copy units as one pool (MM2 deals a flow's partitions over its
  // tasks the same way), so evenness is checked over every topic the flow copies: the source may
  // hold a `heartbeats` topic from an earlier test, which MM2's policy always copies.
  let flowUnits: number[] = []
  const dealtOver = async (members: readonly Instance[], name: string, count: number): Promise<string[][]> =>
    await waitFor(
      async () => {
        const all = await Promise.all(members.map(async i => await copyUnits(i)))
        if (all.some(u => u === undefined)) return undefined
        const counts = all.map(u => u?.length ?? 0)
        const units = all.map(u => (u ?? []).filter(p => p.startsWith(`${name}:`)))
        const mine = units.flat()
        const even = Math.max(...counts) - Math.min(...counts) <= 1
        if (mine.length !== count || new Set(mine).size !== count || !even) return undefined
        flowUnits = counts
        return units
      },
      { timeoutMs: 90_000, what: `${name}'s ${count} partitions dealt evenly over ${members.length} instances` }
    )
  const before = await dealtOver(instances, topic, PARTITIONS)
  t.diagnostic(`three instances: ${before.map(u => u.length).join(', ')}`)

  // 1. A fourth instance joins: each of the three gives up one partition and keeps the rest.
  const joinedAt = Date.now()
  instances.push(await startInstance(t, file))
  const after = await dealtOver(instances, topic, PARTITIONS)
  t.diagnostic(`four instances after ${Date.now() - joinedAt} ms: ${after.map(u => u.length).join(', ')}`)
  for (const [i, units] of after.slice(0, 3).entries()) {
    const kept = new Set(before[i])
    assert.ok(
      units.every(u => kept.has(u)),
      `instance ${i} kept only partitions it had (${before[i]?.join(' ')} -> ${units.join(' ')})`
    )
  }
  const flowTotal = flowUnits.reduce((a, b) => a + b, 0)
  t.diagnostic(`copy units of the flow per instance: ${flowUnits.join(', ')}`)
  assert.ok(
    (flowUnits[3] ?? 0) >= Math.floor(flowTotal / 4),
    `the fourth instance took its share of the flow's ${flowTotal} copy units (${flowUnits.join(', ')})`
  )

  // 2. A topic created now is found by discovery and each of its partitions copied by one instance.
  const late = `${prefix}-b`
  await createTopic(A, late, { partitions: 4 })
  const lateUnits = await dealtOver(instances, late, 4)
  t.diagnostic(`the new topic's partitions per instance: ${lateUnits.map(u => u.length).join(', ')}`)
  const lateValues = Array.from({ length: 400 }, (_, i) => `late ${i}`)
  await produce(
    A,
    late,
    lateValues.map((value, i) => ({ partition: i % 4, value }))
  )
  const lateCopied = await waitFor(
    async () => {
      const records = await readAll(B, `A.${late}`).catch(() => [])
      return records.length >= lateValues.length ? records : undefined
    },
    { timeoutMs: 60_000, what: 'the new topic copied' }
  )
  await new Promise(resolve => setTimeout(resolve, 2000))
  assert.equal((await readAll(B, `A.${late}`)).length, lateValues.length, 'each record of the new topic copied once')
  assert.deepEqual(new Set(lateCopied.map(r => r.value?.toString())), new Set(lateValues))

  // 3. Checkpoints run once: a group's commit on the source gives one checkpoint record per
  // partition, not one per instance (every instance would write the same checkpoint).
  const group = `${prefix}-app`
  const committed = Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition, offset: 5n }))
  await commitOffsets(A, group, committed)
  const checkpointsOf = async (): Promise<Checkpoint[]> =>
    (await readAll(B, 'A.checkpoints.internal').catch(() => []))
      .map(r => decodeCheckpoint(r.key, r.value))
      .filter(c => c.group === group)
  await waitFor(async () => new Set((await checkpointsOf()).map(c => c.partition)).size === PARTITIONS, {
    timeoutMs: 60_000,
    what: "the group's checkpoints"
  })
  await new Promise(resolve => setTimeout(resolve, 5000))
  const written = await checkpointsOf()
  const distinct = new Set(written.map(c => `${c.partition} ${c.upstreamOffset} ${c.downstreamOffset}`))
  t.diagnostic(`checkpoint records for the group: ${written.length} (${distinct.size} distinct)`)
  assert.equal(written.length, distinct.size, 'no checkpoint written twice')
  const runningCheckpoints = await Promise.all(instances.map(async i => (await i.status())?.checkpoints.length ?? 0))
  t.diagnostic(`checkpoint jobs per instance: ${runningCheckpoints.join(', ')}`)
  assert.equal(
    runningCheckpoints.reduce((a, b) => a + b, 0),
    1,
    'one instance runs the checkpoints'
  )

  // 4. A rolling update's second half: the oldest instance is stopped (SIGTERM) and its
  // partitions move to the other three.
  const stoppedAt = Date.now()
  await instances[0]?.process.stop()
  const rest = await dealtOver(instances.slice(1), topic, PARTITIONS)
  t.diagnostic(
    `after SIGTERM of the first instance, ${Date.now() - stoppedAt} ms: ${rest.map(u => u.length).join(', ')}`
  )

  // 5. Nothing lost, nothing copied twice (every hand-over here was a clean one).
  await source.stop()
  const total = source.produced()
  const copied = await waitFor(
    async () => {
      const records = await readAll(B, remote)
      return new Set(records.map(r => r.value?.toString())).size >= total ? records : undefined
    },
    { timeoutMs: 120_000, what: 'every record on the target' }
  )
  t.diagnostic(`records on the target: ${copied.length} for ${total}`)
  assert.equal(copied.length, total, 'no duplicate: the partitions moved with their stored positions')
})
