/**
 * The real `kafka-mirror` binary: exit codes, messages, validate's plan, SIGTERM shutdown, a
 * crash (kill -9) in the middle of a large copy, and interop with Java's console tools.
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import type { KafkaCluster } from '../harness/cluster.ts'
import {
  clientConfig,
  clustersForFile,
  createTopic,
  produce,
  readAll,
  uniqueName,
  waitFor
} from '../harness/helpers.ts'
import { javaConsume, javaProduce, runJava } from '../harness/java-tools.ts'
import { writeMm2Properties } from '../harness/mirror-config.ts'
import { spawnTracked } from '../harness/processes.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const bin = join(root, 'bin', 'kafka-mirror.js')

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

test('--help and --version exit 0; bad arguments exit 2 with a pointer to --help', () => {
  const help = cli(['--help'])
  assert.equal(help.code, 0)
  assert.match(help.stdout, /kafka-mirror run --config FILE/)
  const version = cli(['--version'])
  assert.equal(version.code, 0)
  assert.match(version.stdout, /^kafka-mirror \d+\.\d+\.\d+/)
  const bad = cli(['copy'])
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /unknown command "copy".*--help/s)
  const noConfig = cli(['run'])
  assert.equal(noConfig.code, 2)
  assert.match(noConfig.stderr, /--config FILE is required/)
})

test('a broken config exits 2 naming the file, line and key; nothing is started', () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-cli-'))
  /** `run` on a two-cluster file whose last line is `line`: exit 2, the message matching `want`. */
  const refused = (name: string, line: string, want: RegExp): void => {
    const file = join(dir, name)
    const pair = 'clusters = A, B\nA.bootstrap.servers = 127.0.0.1:1\nB.bootstrap.servers = 127.0.0.1:2\n'
    writeFileSync(file, `${pair}A->B.enabled = true\n${line}\n`)
    const r = cli(['run', '--config', file])
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, want)
  }
  refused(
    'mm2.properties',
    'A->B.refresh.topics.interval.seconds = ten',
    /mm2\.properties:5 A->B\.refresh\.topics\.interval\.seconds: .*"ten"/
  )
  const missing = cli(['validate', '--config', join(dir, 'nope.properties')])
  assert.equal(missing.code, 2)
  assert.match(missing.stderr, /nope\.properties/)
  // A client setting is checked before anything connects: the cluster, the key and the value.
  refused(
    'fetch.properties',
    'A.consumer.fetch.max.bytes = 4m',
    /cluster A \(127\.0\.0\.1:1\): consumer fetch\.max\.bytes="4m" is not supported; expected a number of bytes/
  )
})

test('the checked-in examples load (offline validate)', () => {
  for (const example of [
    'examples/mm2.properties',
    'examples/strimzi-v1alpha1.yaml',
    'examples/strimzi-v1beta2.yaml',
    'examples/strimzi-v1.yaml',
    'examples/demo/kafka-mirror-maker-2.yaml'
  ]) {
    const r = cli([
      'validate',
      '--offline',
      '--config',
      join(root, example),
      '--secrets-dir',
      join(root, 'examples', 'secrets')
    ])
    assert.equal(r.code, 0, `${example}: ${r.stderr}`)
    assert.match(r.stdout, /->/)
  }
  const user = cli([
    'validate',
    '--offline',
    '--config',
    join(root, 'examples/strimzi-v1alpha1.yaml'),
    '--secrets-dir',
    join(root, 'examples', 'secrets')
  ])
  assert.match(user.stdout, /my-cluster-source->my-cluster-target/)
  assert.doesNotMatch(user.stdout + user.stderr, /BEGIN CERTIFICATE/)
})

let A: KafkaCluster
let B: KafkaCluster
clustersForFile([{ name: 'cli-A' }, { name: 'cli-B' }], ([a, b]) => {
  A = a
  B = b
})

test('validate lists the matching topics and their remote names', async () => {
  const topic = uniqueName('plan')
  await createTopic(A, topic)
  await createTopic(A, `B.${topic}`)
  const file = writeMm2Properties({ A, B }, { 'A->B.enabled': 'true' })
  const r = cli(['validate', '--config', file])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, new RegExp(`${topic} -> A\\.${topic}`))
  assert.doesNotMatch(r.stdout, new RegExp(`B\\.${topic} ->`), 'a topic from the target is not planned (cycle)')
})

test('Java console producer -> kafka-mirror -> Java console consumer: identical records; SIGTERM exits 0', async t => {
  const topic = uniqueName('java')
  await createTopic(A, topic, { partitions: 3 })
  const lines = Array.from({ length: 20 }, (_, i) => `app:orders,trace:t${i}\tkey-${i}\tvalue-${i}`)
  await javaProduce(A.bootstrap(), topic, lines, { keys: true, headers: true })
  // No heartbeats: copied heartbeats would count in the records the stop line reports.
  const file = writeMm2Properties(
    { A, B },
    { 'A->B.enabled': 'true', 'A->B.topics': topic, 'emit.heartbeats.enabled': 'false' }
  )
  const mirror = spawnTracked('kafka-mirror', process.execPath, [bin, 'run', '--config', file], {
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  mirror.child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  t.after(async () => {
    await mirror.kill()
  })
  await waitFor(async () => (await readAll(B, `A.${topic}`).catch(() => [])).length === 20, {
    timeoutMs: 60_000,
    what: 'records on the target'
  })
  const source = await javaConsume(A.bootstrap(), topic, 20, { details: true })
  const target = await javaConsume(B.bootstrap(), `A.${topic}`, 20, { details: true })
  assert.equal(target.length, 20)
  // The console producer spreads the keys over the partitions; the consumer interleaves
  // partitions as it likes, so compare partition by partition, in order.
  const byPartition = (out: readonly string[]): Map<string, string[]> =>
    Map.groupBy(out, l => /Partition:(\d+)/.exec(l)?.[1] ?? '?')
  const sourceParts = byPartition(source)
  assert.ok(sourceParts.size > 1, `records on several partitions: ${[...sourceParts.keys()].join(',')}`)
  assert.equal(sourceParts.has('?'), false)
  assert.deepEqual(byPartition(target), sourceParts)
  assert.ok(target.some(l => /app:orders,trace:t3\tkey-3\tvalue-3$/.test(l)))

  const stoppedAt = Date.now()
  mirror.child.kill('SIGTERM')
  const code = await mirror.exited
  assert.equal(code, 0, stderr)
  assert.ok(Date.now() - stoppedAt < 30_000)
  assert.match(stderr, /stopped flow=A->B records=20/)
})

test('kill -9 in the middle of a 100,000-record copy, restart: every source record is on the target', async t => {
  const topic = uniqueName('crash')
  const total = 100_000
  await createTopic(A, topic, { partitions: 4 })
  await produce(
    A,
    topic,
    Array.from({ length: total }, (_, i) => ({
      partition: i % 4,
      key: `k${i}`,
      value: `record-${i}-${'p'.repeat(100)}`
    })),
    { chunk: 10_000 }
  )
  const flushMs = 1000
  const file = writeMm2Properties(
    { A, B },
    { 'A->B.enabled': 'true', 'A->B.topics': topic, 'B.offset.flush.interval.ms': String(flushMs) }
  )
  // This machine copies 100,000 records in a few seconds, too fast to see flush intervals pass.
  // A broker quota on A for the mirror's replication consumer (1 MB/s, a slow link) spreads the
  // first run over ~15 s; it is removed before the restart.
  const consumerId = 'A->B|MirrorSourceConnector|replication-consumer'
  const quota = async (op: string[]): Promise<void> => {
    const r = await runJava(
      [
        'kafka.admin.ConfigCommand',
        '--bootstrap-server',
        A.bootstrap(),
        '--alter',
        ...op,
        '--entity-type',
        'clients',
        '--entity-name',
        consumerId
      ],
      { label: 'java-config-command' }
    )
    assert.equal(r.code, 0, r.stderr)
  }
  await quota(['--add-config', 'consumer_byte_rate=1048576'])
  t.after(async () => {
    await quota(['--delete-config', 'consumer_byte_rate']).catch(() => {})
  })
  const first = spawnTracked('kafka-mirror', process.execPath, [bin, 'run', '--config', file], {
    stdio: ['ignore', 'ignore', 'ignore']
  })
  t.after(async () => {
    await first.kill()
  })
  const count = async (): Promise<number> => (await readAll(B, `A.${topic}`).catch(() => [])).length
  // The copy's timeline on the target (end offsets, cheap to poll), to know how many records
  // were copied in the last few seconds before the crash.
  const admin = new KafkaAdmin(clientConfig(B), 'test-admin')
  t.after(async () => {
    await admin.close()
  })
  const remotePartitions = [0, 1, 2, 3].map(partition => ({ topic: `A.${topic}`, partition }))
  const onTarget = async (): Promise<number> => {
    const ends = await admin.listOffsets(remotePartitions, 'latest').catch(() => new Map<string, bigint>())
    return Number([...ends.values()].reduce((a, b) => a + b, 0n))
  }
  const timeline: Array<{ at: number; copied: number }> = []
  let firstCopiedAt: number | undefined
  // Kill once a good part is copied and the copy has run for a few flush intervals (so the
  // bound below is tighter than "everything copied so far").
  await waitFor(
    async () => {
      const copied = await onTarget()
      const at = Date.now()
      timeline.push({ at, copied })
      if (copied > 0) firstCopiedAt ??= at
      return copied >= 20_000 && firstCopiedAt !== undefined && at - firstCopiedAt >= 4 * flushMs
    },
    { timeoutMs: 120_000, intervalMs: 100, what: 'a part of the copy done' }
  )
  const killedAt = Date.now()
  await first.kill()
  const atCrash = await count()
  t.diagnostic(`killed with ${atCrash} of ${total} records copied`)
  assert.ok(atCrash < total, 'the crash happened during the copy')
  // Positions are stored every flush interval, after the round that crossed it; a crash while a
  // store is in flight falls back to the previous one. So re-copied records are at most those
  // copied in the last 2 flush intervals plus one fetch round (500 ms fetch wait + its send;
  // counted as 1000 ms). The cap is what the timeline shows was copied in that window.
  const windowMs = 2 * flushMs + 1000
  const before = timeline.filter(s => s.at <= killedAt - windowMs).at(-1)?.copied ?? 0
  const cap = atCrash - before
  t.diagnostic(
    `timeline (ms since first copy: records on target): ${timeline
      .filter(x => x.copied > 0)
      .map(x => `${x.at - (firstCopiedAt ?? 0)}:${x.copied}`)
      .join(' ')}`
  )
  await quota(['--delete-config', 'consumer_byte_rate'])

  const second = spawn(process.execPath, [bin, 'run', '--config', file], { stdio: 'ignore' })
  const secondExit = new Promise(resolve => second.once('exit', resolve))
  t.after(async () => {
    second.kill('SIGKILL')
    await secondExit
  })
  await waitFor(async () => (await count()) >= total, {
    timeoutMs: 180_000,
    intervalMs: 1000,
    what: 'the whole topic on the target'
  })
  second.kill('SIGTERM')
  await secondExit
  const copied = await readAll(B, `A.${topic}`)
  const values = new Set(copied.map(r => r.value?.toString()))
  for (let i = 0; i < total; i++)
    assert.ok(values.has(`record-${i}-${'p'.repeat(100)}`), `record ${i} is on the target`)
  const duplicates = copied.length - values.size
  t.diagnostic(
    `re-copied after the crash: ${duplicates} records (cap ${cap}: copied in the last ${windowMs} ms before the kill, of ${atCrash})`
  )
  assert.ok(
    duplicates <= cap,
    `re-copied records (${duplicates}) are at most those copied in the last 2 × offset.flush.interval.ms (${flushMs} ms) + one fetch round before the crash (${cap})`
  )
  // Per partition, the target holds the source's sequence, possibly with a re-copied stretch; never a gap.
  for (let p = 0; p < 4; p++) {
    const seq = copied
      .filter(r => r.partition === p)
      .map(r => Number(/record-(\d+)-/.exec(r.value?.toString() ?? '')?.[1]))
    for (let i = 1; i < seq.length; i++) {
      const prev = seq[i - 1] ?? 0
      const cur = seq[i] ?? 0
      assert.ok(cur === prev + 4 || cur <= prev, `partition ${p}: no gap between ${prev} and ${cur}`)
    }
  }
})
