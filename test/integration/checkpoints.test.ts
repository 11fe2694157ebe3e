/**
 * Consumer-group failover on real brokers: a group consumed part of a topic on A; kafka-mirror
 * replicates A->B and writes checkpoints; the group moves to B with the translated offsets (our
 * `failover` command, or sync.group.offsets) and a real Java consumer of that group on B reads
 * exactly the records it had not read yet: no duplicate, no gap. On a plain topic, a compacted
 * topic with holes in its offsets, and a topic with aborted transactions. Java's own code checks
 * compatibility: RemoteClusterUtils.translateOffsets reads our checkpoints, and Java MM2's
 * checkpoint connector translates with the offset syncs our copier wrote.
 */
import assert from 'node:assert/strict'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { type Checkpoint, decodeCheckpoint } from '../../src/formats/checkpoint.ts'
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import { type BinaryResult, runBinary } from '../harness/binary.ts'
import type { KafkaCluster } from '../harness/cluster.ts'
import {
  clientConfig,
  clustersForFile,
  commitOffsets,
  createTopic,
  groupOffsets,
  numberedRecords,
  produce,
  readAll,
  uniqueName,
  waitFor
} from '../harness/helpers.ts'
import { runJavaProgram, startJavaMirrorMaker } from '../harness/java-tools.ts'
import { writeCheckpointFlowProperties } from '../harness/mirror-config.ts'
import { startMirror } from '../harness/mirror-runner.ts'

/** `offsets translate` or `failover` for a group, from A to B, run as the real CLI. */
async function groupCommand(command: string, file: string, group: string, ...extra: string[]): Promise<BinaryResult> {
  return await runBinary([
    ...command.split(' '),
    '--config',
    file,
    '--group',
    group,
    '--from',
    'A',
    '--to',
    'B',
    ...extra
  ])
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const java = (name: string): string => join(root, 'test', 'java', name)
const CHECKPOINTS = 'A.checkpoints.internal'
const WAIT = { timeoutMs: 90_000, intervalMs: 250 }

let A: KafkaCluster
let B: KafkaCluster
// A fast log cleaner, so the compaction test does not wait 15 s per pass.
const brokerConfig = { 'log.cleaner.backoff.ms': '300' }
clustersForFile(
  [
    { name: 'ckpt-A', brokerConfig },
    { name: 'ckpt-B', brokerConfig }
  ],
  ([a, b]) => {
    A = a
    B = b
  }
)

function properties(topic: string, extra: Record<string, string> = {}): string {
  return writeCheckpointFlowProperties({ A, B }, topic, extra)
}

/** The last checkpoint per group/topic/partition in A.checkpoints.internal on B. */
async function checkpoints(): Promise<Map<string, Checkpoint>> {
  const out = new Map<string, Checkpoint>()
  for (const r of await readAll(B, CHECKPOINTS).catch(() => [])) {
    const cp = decodeCheckpoint(r.key, r.value)
    out.set(`${cp.group}|${cp.topic}|${cp.partition}`, cp)
  }
  return out
}

/** Waits until the group's checkpoints are exactly `expected` (partition -> target offset). */
async function waitForCheckpoints(
  group: string,
  topic: string,
  expected: ReadonlyMap<number, bigint>
): Promise<Map<string, Checkpoint>> {
  let last = new Map<string, Checkpoint>()
  try {
    await waitFor(
      async () => {
        last = await checkpoints()
        return [...expected].every(([p, o]) => last.get(`${group}|${topic}|${p}`)?.downstreamOffset === o)
      },
      { ...WAIT, what: `checkpoints of ${group}` }
    )
  } catch (err) {
    const seen = [...last.values()]
      .filter(c => c.group === group)
      .map(c => `${c.partition}:${c.upstreamOffset}->${c.downstreamOffset}`)
      .join(' ')
    throw new Error(
      `${(err as Error).message}; expected ${[...expected].map(([p, o]) => `${p}->${o}`).join(' ')}, seen ${seen || 'none'}`
    )
  }
  return last
}

/**
 * A real Java consumer of `group` on `cluster`: the records it reads (partition, value), then it commits and leaves.
 */
async function consumeAsGroup(
  cluster: KafkaCluster,
  topic: string,
  group: string,
  idleMs = 4000,
  protocol: 'classic' | 'consumer' = 'classic'
): Promise<string[]> {
  const r = await runJavaProgram(
    java('GroupConsumer.java'),
    [cluster.bootstrap(), topic, group, String(idleMs), protocol],
    { timeoutMs: 150_000 }
  )
  return r.stdout
    .split('\n')
    .filter(l => l !== '')
    .map(l => {
      const [p, , v] = l.split('\t')
      return `${p}:${v}`
    })
}

/**
 * What the group has not read yet on the source: `partition:value` of every record at or after its committed offset.
 */
async function unread(topic: string, committed: ReadonlyMap<number, bigint>): Promise<string[]> {
  return (await readAll(A, topic))
    .filter(r => r.offset >= (committed.get(r.partition) ?? 0n))
    .map(r => `${r.partition}:${r.value?.toString() ?? ''}`)
}

function assertExactlyUnread(got: readonly string[], want: readonly string[], what: string): void {
  const dupes = got.length - new Set(got).size
  assert.equal(dupes, 0, `${what}: ${dupes} record(s) read twice`)
  assert.deepEqual(
    [...got].sort(),
    [...want].sort(),
    `${what}: the records read on B are exactly the ones not read on A`
  )
}

test(
  'plain topic: exact checkpoints, Java RemoteClusterUtils agrees, failover command, a real consumer reads exactly the rest; latency measured',
  { timeout: 600_000 },
  async t => {
    const topic = uniqueName('plain')
    const remote = `A.${topic}`
    const group = uniqueName('app')
    await createTopic(A, topic, { partitions: 3 })
    await produce(
      A,
      topic,
      Array.from({ length: 300 }, (_, i) => ({ partition: i % 3, key: `k${i}`, value: `v${i}` }))
    )
    const committed = new Map([
      [0, 37n],
      [1, 100n],
      [2, 0n]
    ])
    await commitOffsets(
      A,
      group,
      [...committed].map(([partition, offset]) => ({ topic, partition, offset }))
    )
    const file = properties(topic)
    const mirror = await startMirror(t, file)

    // The remote topic starts empty, so a record's target offset is its source offset.
    await waitForCheckpoints(group, remote, committed)

    // Checkpoint latency: commit on A -> checkpoint record on B (emit interval 1 s here).
    const latencies: number[] = []
    for (const offset of [50n, 61n, 72n, 80n]) {
      const started = Date.now()
      await commitOffsets(A, group, [{ topic, partition: 0, offset }])
      committed.set(0, offset)
      await waitForCheckpoints(group, remote, committed)
      latencies.push(Date.now() - started)
    }
    const sorted = [...latencies].sort((x, y) => x - y)
    t.diagnostic(
      `checkpoint latency (commit on source -> checkpoint on target, emit.checkpoints.interval.seconds=1): ${latencies.join(', ')} ms; median ${sorted[sorted.length >> 1]} ms`
    )
    const status = mirror.checkpointStatus()[0]
    assert.equal(status?.state, 'running')
    assert.ok((status?.stats.checkpointsWritten ?? 0) >= 7)

    // Java's own reader of our checkpoints topic.
    const javaView = (await runJavaProgram(java('TranslateOffsets.java'), [B.bootstrap(), 'A', group])).stdout
      .trim()
      .split('\n')
    assert.deepEqual(
      javaView,
      [...committed].map(([p, o]) => `${remote}\t${p}\t${o}`)
    )

    const translated = await groupCommand('offsets translate', file, group, '--json')
    assert.equal(translated.status, 0, translated.stderr)
    const json = JSON.parse(translated.stdout) as {
      partitions: Array<{
        topic: string
        partition: number
        sourceOffset: number
        targetOffset: number
        checkpoint: number
      }>
    }
    assert.deepEqual(
      json.partitions.map(p => [p.topic, p.partition, p.targetOffset, p.checkpoint]),
      [...committed].map(([p, o]) => [remote, p, Number(o), Number(o)])
    )
    const table = await groupCommand('offsets translate', file, group)
    assert.equal(table.status, 0, table.stderr)
    assert.match(table.stdout, new RegExp(`${remote.replace(/\./g, '\\.')}\\s+0\\s+80\\s+80\\s+80\\s+exact`))

    const dry = await groupCommand('failover', file, group, '--dry-run')
    assert.equal(dry.status, 0, dry.stderr)
    assert.match(dry.stdout, /dry run/)
    assert.match(dry.stdout, /would commit/)
    assert.equal((await groupOffsets(B, group)).size, 0, '--dry-run wrote nothing')

    const done = await groupCommand('failover', file, group)
    assert.equal(done.status, 0, done.stderr)
    assert.match(done.stdout, /committed 3 partition\(s\)/)
    assert.deepEqual(await groupOffsets(B, group), committed)

    const read = await consumeAsGroup(B, remote, group)
    assertExactlyUnread(read, await unread(topic, committed), 'plain topic')
    assert.equal(read.length, 20 + 0 + 100)

    // While a member of the group is active on B, failover refuses and writes nothing.
    const member = consumeAsGroup(B, remote, group, 20_000)
    const admin = new KafkaAdmin(clientConfig(B), 'test-admin')
    try {
      await waitFor(async () => (await admin.groupActivity(group)).active, {
        ...WAIT,
        what: 'the Java consumer to join'
      })
    } finally {
      await admin.close()
    }
    const refused = await groupCommand('failover', file, group)
    assert.equal(refused.status, 1)
    assert.match(refused.stderr, new RegExp(`group ${group} has 1 active member\\(s\\) on B .*stop its consumers`))
    assert.deepEqual(await member, [], 'nothing left to read')
  }
)

test(
  'compacted topic with holes in its offsets: exact checkpoints, sync.group.offsets commits them (forward only), a real consumer reads exactly the rest',
  { timeout: 600_000 },
  async t => {
    const topic = uniqueName('compacted')
    const remote = `A.${topic}`
    await createTopic(A, topic, {
      configs: {
        'cleanup.policy': 'compact',
        'segment.ms': '100',
        'min.cleanable.dirty.ratio': '0.01',
        'min.compaction.lag.ms': '0'
      }
    })
    // Every third record has a key of its own (it survives); the others share 5 keys (only the last of each survives).
    const total = 200
    for (let i = 0; i < total; i += 20) {
      await produce(
        A,
        topic,
        Array.from({ length: 20 }, (_, j) => i + j).map(n => ({
          key: n % 3 === 0 ? `own-${n}` : `shared-${n % 5}`,
          value: `v${n}`
        }))
      )
      await new Promise(resolve => setTimeout(resolve, 150)) // roll segments (segment.ms 100)
    }
    await produce(A, topic, [{ key: 'last', value: 'v-last' }]) // a new active segment: everything before can be cleaned
    const survivorsWanted = 67 + 5 + 1
    await waitFor(async () => (await readAll(A, topic)).length === survivorsWanted, {
      ...WAIT,
      what: `compaction to leave ${survivorsWanted} records`
    })
    const survivors = (await readAll(A, topic)).map(r => r.offset)
    const holes = Array.from({ length: total }, (_, i) => BigInt(i)).filter(o => !survivors.includes(o))
    assert.ok(holes.length > 100, 'compaction left holes')

    // Where each committed offset must land on B: the index of the first survivor at or after it.
    const targetOf = (u: bigint): bigint => BigInt(survivors.findIndex(o => o >= u))
    const cases = [
      { group: uniqueName('c-hole'), u: holes[10] as bigint },
      { group: uniqueName('c-record'), u: survivors[20] as bigint },
      { group: uniqueName('c-late-hole'), u: holes[holes.length - 3] as bigint }
    ]
    for (const c of cases) await commitOffsets(A, c.group, [{ topic, partition: 0, offset: c.u }])
    const file = properties(topic, { 'sync.group.offsets.enabled': 'true', 'sync.group.offsets.interval.seconds': '1' })
    await startMirror(t, file)
    for (const c of cases) await waitForCheckpoints(c.group, remote, new Map([[0, targetOf(c.u)]]))
    // sync.group.offsets: the groups (no members on B) get the translated offsets.
    for (const c of cases) {
      await waitFor(async () => (await groupOffsets(B, c.group)).get(0) === targetOf(c.u), {
        ...WAIT,
        what: `${c.group} synced on B`
      })
    }

    // The source group goes back: the checkpoint follows (allowed), but the group on B is never rewound.
    const [rewound, moved] = cases as [(typeof cases)[0], (typeof cases)[0]]
    const ahead = targetOf(rewound.u)
    await commitOffsets(A, rewound.group, [{ topic, partition: 0, offset: survivors[1] as bigint }])
    await waitForCheckpoints(rewound.group, remote, new Map([[0, 1n]]))
    const forward = survivors[40] as bigint
    await commitOffsets(A, moved.group, [{ topic, partition: 0, offset: forward }])
    await waitFor(async () => (await groupOffsets(B, moved.group)).get(0) === targetOf(forward), {
      ...WAIT,
      what: `${moved.group} moved forward on B`
    })
    assert.equal((await groupOffsets(B, rewound.group)).get(0), ahead, 'the group on B was not rewound')

    const last = cases[2] as (typeof cases)[0]
    const read = await consumeAsGroup(B, remote, last.group)
    assertExactlyUnread(read, await unread(topic, new Map([[0, last.u]])), 'compacted topic')
    const readMoved = await consumeAsGroup(B, remote, moved.group)
    assertExactlyUnread(readMoved, await unread(topic, new Map([[0, forward]])), 'compacted topic, second group')
  }
)

test(
  'aborted transactions: exact checkpoints across markers and aborted records; failover; Java MM2 translates with our offset syncs',
  { timeout: 900_000 },
  async t => {
    const topic = uniqueName('txn')
    const remote = `A.${topic}`
    await createTopic(A, topic)
    await produce(
      A,
      topic,
      Array.from({ length: 5 }, (_, i) => ({ value: `plain-${i}` }))
    )
    // c1, c2 committed; a1..a3 aborted; c3 committed: offsets 5, 6, marker 7, 8..10, marker 11, 12, marker 13.
    await runJavaProgram(join(root, 'test', 'java', 'TransactionalProducer.java'), [A.bootstrap(), topic])
    await produce(
      A,
      topic,
      Array.from({ length: 5 }, (_, i) => ({ value: `after-${i}` }))
    )
    const visible = (await readAll(A, topic)).map(r => r.offset)
    assert.deepEqual(visible.map(Number), [0, 1, 2, 3, 4, 5, 6, 12, 14, 15, 16, 17, 18])
    const targetOf = (u: bigint): bigint => {
      const i = visible.findIndex(o => o >= u)
      return BigInt(i < 0 ? visible.length : i)
    }
    const cases = [7n, 9n, 6n, 13n, 19n].map(u => ({ group: uniqueName(`t${u}`), u }))
    for (const c of cases) await commitOffsets(A, c.group, [{ topic, partition: 0, offset: c.u }])
    const file = properties(topic)
    const mirror = await startMirror(t, file)
    for (const c of cases) await waitForCheckpoints(c.group, remote, new Map([[0, targetOf(c.u)]]))

    const inAborted = cases[1] as (typeof cases)[0]
    const done = await groupCommand('failover', file, inAborted.group)
    assert.equal(done.status, 0, done.stderr)
    const read = await consumeAsGroup(B, remote, inAborted.group)
    assertExactlyUnread(read, await unread(topic, new Map([[0, inAborted.u]])), 'aborted transactions')
    assert.deepEqual(
      read.map(r => r.split(':')[1]),
      ['c3', 'after-0', 'after-1', 'after-2', 'after-3', 'after-4']
    )

    // Java MM2's checkpoint connector on the same config, reading the offset syncs our copier wrote.
    await mirror.close()
    const javaCases = [9n, 3n, 16n].map(u => ({ group: uniqueName(`j${u}`), u }))
    for (const c of javaCases) await commitOffsets(A, c.group, [{ topic, partition: 0, offset: c.u }])
    const ours = new Map<string, bigint>()
    for (const c of javaCases) {
      const r = await groupCommand('offsets translate', file, c.group, '--json')
      assert.equal(r.status, 0, r.stderr)
      const p = (JSON.parse(r.stdout) as { partitions: Array<{ targetOffset: number; exact: boolean }> }).partitions[0]
      assert.equal(p?.exact, true)
      assert.equal(BigInt(p?.targetOffset ?? -1), targetOf(c.u), `our translation of ${c.u}`)
      ours.set(c.group, BigInt(p?.targetOffset ?? -1))
    }
    const mm2 = startJavaMirrorMaker(file)
    mm2.child.stdout?.resume()
    let javaLog = ''
    mm2.child.stderr?.on('data', (d: Buffer) => {
      javaLog = (javaLog + d.toString()).slice(-20_000)
    })
    t.after(async () => {
      await mm2.stop(30_000)
    })
    let seen = new Map<string, Checkpoint>()
    try {
      await waitFor(
        async () => {
          seen = await checkpoints()
          return javaCases.every(c => seen.has(`${c.group}|${remote}|0`))
        },
        { timeoutMs: 240_000, intervalMs: 1000, what: 'Java MM2 checkpoints for the new groups' }
      )
    } catch (err) {
      throw new Error(
        `${(err as Error).message}\n--- Java MM2 log tail ---\n${javaLog.split('\n').slice(-40).join('\n')}`
      )
    }
    for (const c of javaCases) {
      const cp = seen.get(`${c.group}|${remote}|0`) as Checkpoint
      const exact = ours.get(c.group) as bigint
      t.diagnostic(
        `group at ${c.u} on A: Java MM2 checkpoint ${cp.downstreamOffset}, ours ${exact} (re-read by Java's: ${exact - cp.downstreamOffset})`
      )
      assert.equal(cp.upstreamOffset, c.u)
      assert.ok(
        cp.downstreamOffset >= 0n && cp.downstreamOffset <= exact,
        `Java's ${cp.downstreamOffset} is valid: never past our exact ${exact}`
      )
    }
  }
)

test(
  'restart: the checkpoints already written are loaded, nothing is repeated, groups continue',
  { timeout: 600_000 },
  async t => {
    const topic = uniqueName('restart')
    const remote = `A.${topic}`
    const [group, other] = [uniqueName('r1'), uniqueName('r2')]
    await createTopic(A, topic)
    await produce(
      A,
      topic,
      Array.from({ length: 50 }, (_, i) => ({ value: `v${i}` }))
    )
    await commitOffsets(A, group, [{ topic, partition: 0, offset: 20n }])
    const file = properties(topic)
    const first = await startMirror(t, file)
    await waitForCheckpoints(group, remote, new Map([[0, 20n]]))
    await first.close()
    const count = async (g: string): Promise<number> =>
      (await readAll(B, CHECKPOINTS)).filter(r => decodeCheckpoint(r.key, r.value).group === g).length
    const before = await count(group)

    const second = await startMirror(t, file)
    // A checkpoint for another group proves the restarted flow has read the syncs and emits.
    await commitOffsets(A, other, [{ topic, partition: 0, offset: 30n }])
    await waitForCheckpoints(other, remote, new Map([[0, 30n]]))
    await waitFor(() => (second.checkpointStatus()[0]?.stats.checkpointsWritten ?? 0) >= 1, {
      ...WAIT,
      what: 'an emission after the restart'
    })
    assert.equal(await count(group), before, 'the unchanged group got no repeated checkpoint after the restart')
    await commitOffsets(A, group, [{ topic, partition: 0, offset: 45n }])
    await waitForCheckpoints(group, remote, new Map([[0, 45n]]))
    assert.equal(await count(group), before + 1)
  }
)

test(
  'failover refuses a group that is active on the target with the new consumer protocol (KIP-848)',
  { timeout: 300_000 },
  async t => {
    const topic = uniqueName('kip848')
    const group = uniqueName('g848')
    await createTopic(A, topic)
    await produce(A, topic, [{ value: 'one' }, { value: 'two' }])
    await commitOffsets(A, group, [{ topic, partition: 0, offset: 1n }])
    const file = properties(topic)
    await startMirror(t, file)
    await waitForCheckpoints(group, `A.${topic}`, new Map([[0, 1n]]))
    await commitOffsets(B, group, [{ topic: `A.${topic}`, partition: 0, offset: 0n }])
    const member = consumeAsGroup(B, `A.${topic}`, group, 15_000, 'consumer')
    const admin = new KafkaAdmin(clientConfig(B), 'test-admin')
    try {
      await waitFor(
        async () =>
          (await admin.listConsumerGroups()).some(g => g.group === group && g.state.toUpperCase() === 'STABLE'),
        { ...WAIT, what: 'the KIP-848 member to join' }
      )
      assert.equal((await admin.groupActivity(group)).active, true)
    } finally {
      await admin.close()
    }
    const refused = await groupCommand('failover', file, group)
    assert.equal(refused.status, 1, refused.stdout + refused.stderr)
    assert.match(refused.stderr, /active member/)
    assert.deepEqual(
      await member,
      ['0:one', '0:two'],
      'the member read from the offset it had; failover changed nothing'
    )
  }
)

test(
  'exactly-once mode: the commit markers shift target offsets, checkpoints still name the exact record, failover reads exactly the rest',
  { timeout: 600_000 },
  async t => {
    const topic = uniqueName('eos-ckpt')
    const remote = `A.${topic}`
    const group = uniqueName('eos-app')
    await createTopic(A, topic, { partitions: 3 })
    const file = properties(topic, { 'B.exactly.once.source.support': 'enabled' })
    const mirror = await startMirror(t, file)
    // Written in stages while the mirror runs: each stage is copied in transactions of its own,
    // whose commit markers take offsets on the target between the stages' records.
    const records = numberedRecords(3)
    for (let stage = 0; stage < 3; stage++) {
      await produce(A, topic, records.take(90))
      await waitFor(async () => (await readAll(B, remote).catch(() => [])).length === records.made, {
        ...WAIT,
        what: `stage ${stage} copied`
      })
    }
    assert.ok((mirror.status()[0]?.copier?.transactions?.committed ?? 0) >= 3, 'copied in transactions')
    const committed = new Map([
      [0, 75n],
      [1, 31n],
      [2, 2n]
    ])
    await commitOffsets(
      A,
      group,
      [...committed].map(([partition, offset]) => ({ topic, partition, offset }))
    )
    // Where each next record sits on the target, found by its content.
    const source = await readAll(A, topic)
    const target = await readAll(B, remote)
    const expected = new Map(
      [...committed].map(([p, o]) => {
        const value = source.find(r => r.partition === p && r.offset === o)?.value?.toString()
        const at = target.find(r => r.partition === p && r.value?.toString() === value)
        assert.ok(at !== undefined, `the record at ${p}:${o} is on the target`)
        return [p, at.offset] as const
      })
    )
    assert.notEqual(expected.get(0), committed.get(0), 'the markers moved the target offsets')
    await waitForCheckpoints(group, remote, expected)
    const done = await groupCommand('failover', file, group)
    assert.equal(done.status, 0, done.stderr)
    const read = await consumeAsGroup(B, remote, group)
    assertExactlyUnread(read, await unread(topic, committed), 'exactly-once mode')
  }
)
