/**
 * `kafka-mirror verify` on real brokers, with the mirror running: a clean copy matches (exit 0,
 * every record compared, the offset syncs confirmed); records deleted at the start of a target
 * partition are missing (exit 1); a record written on the target out of band is extra, and the
 * records copied after it still line up (exit 1); records that expired on the source before they
 * were copied leave the two sides identical over what both hold (exit 0).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import { tpKey } from '../../src/kafka/types.ts'
import { runBinary } from '../harness/binary.ts'
import type { KafkaCluster } from '../harness/cluster.ts'
import { clientConfig, clustersForFile, createTopic, produce, uniqueName, waitFor } from '../harness/helpers.ts'
import { deleteRecordsBefore } from '../harness/operator.ts'
import { writeCopyOnlyProperties } from '../harness/mirror-config.ts'
import { startMirror } from '../harness/mirror-runner.ts'

let A: KafkaCluster
let B: KafkaCluster
clustersForFile([{ name: 'A' }, { name: 'B' }], ([a, b]) => {
  A = a
  B = b
})

interface VerifyJson {
  identical: boolean
  partitions: Array<{
    topic: string
    partition: number
    source: { start: number; end: number }
    target: { start: number; end: number } | null
    matched: number
    missing: number
    extra: number
    duplicates: number
    differing: number
    pending: number
    syncsConfirmed: number
    syncsContradicted: number
    first: { kind: string; sourceOffset: number | null; targetOffset: number | null } | null
  }>
}

async function verify(
  file: string,
  topic: string,
  json = true
): Promise<{ code: number | null; out: string; report: VerifyJson | undefined }> {
  const r = await runBinary(
    ['verify', '--config', file, '--flow', 'A->B', '--topics', topic, ...(json ? ['--json'] : [])],
    { timeoutMs: 120_000 }
  )
  assert.doesNotMatch(r.stderr, /error/i, r.stderr)
  return { code: r.status, out: r.stdout, report: json ? (JSON.parse(r.stdout) as VerifyJson) : undefined }
}

const records = (n: number, from = 0): Array<{ partition: number; key: string; value: string }> =>
  Array.from({ length: n }, (_, i) => ({ partition: (from + i) % 2, key: `k${from + i}`, value: `v${from + i}` }))

async function targetEnds(topic: string): Promise<bigint[]> {
  const admin = new KafkaAdmin(clientConfig(B), 'test-admin')
  try {
    const ends = await admin.listOffsets(
      [0, 1].map(partition => ({ topic: `A.${topic}`, partition })),
      'latest'
    )
    return [0, 1].map(p => ends.get(tpKey(`A.${topic}`, p)) ?? -1n)
  } catch {
    return [-1n, -1n]
  } finally {
    await admin.close()
  }
}

test('verify: clean, deleted on the target, written out of band, expired on the source before copy', async t => {
  const prefix = uniqueName('vfy')
  const [clean, deleted, foreign, expired] = ['clean', 'deleted', 'foreign', 'expired'].map(s => `${prefix}-${s}`) as [
    string,
    string,
    string,
    string
  ]
  for (const topic of [clean, deleted, foreign, expired]) await createTopic(A, topic, { partitions: 2 })
  // Expired before any copy: 100 records, the first 20 of partition 0 deleted on the source.
  await produce(A, expired, records(100))
  await deleteRecordsBefore(A, expired, 0, 20n)
  await produce(A, clean, records(500))
  await produce(A, deleted, records(300))
  await produce(A, foreign, records(200))

  const file = writeCopyOnlyProperties({ A, B }, `${prefix}-.*`, { 'refresh.topics.interval.seconds': '1' })
  await startMirror(t, file)
  await waitFor(async () => (await targetEnds(clean)).every(e => e === 250n), {
    timeoutMs: 60_000,
    what: `${clean} copied`
  })
  await waitFor(async () => (await targetEnds(deleted)).every(e => e === 150n), {
    timeoutMs: 60_000,
    what: `${deleted} copied`
  })
  await waitFor(async () => (await targetEnds(foreign)).every(e => e === 100n), {
    timeoutMs: 60_000,
    what: `${foreign} copied`
  })
  await waitFor(
    async () => {
      const [p0, p1] = await targetEnds(expired)
      return p0 === 30n && p1 === 50n
    },
    { timeoutMs: 60_000, what: `${expired} copied from the source's log start` }
  )

  // Clean: every record compared, the offset syncs confirmed.
  const ok = await verify(file, clean)
  assert.equal(ok.code, 0, ok.out)
  assert.equal(ok.report?.identical, true)
  assert.deepEqual(
    ok.report?.partitions.map(p => [p.partition, p.matched, p.missing, p.extra, p.differing]),
    [
      [0, 250, 0, 0, 0],
      [1, 250, 0, 0, 0]
    ]
  )
  assert.ok(
    ok.report?.partitions.every(p => p.syncsConfirmed > 0 && p.syncsContradicted === 0),
    'the offset syncs name pairs the alignment found'
  )

  // Deleted on the target: the first 10 records of partition 0 are gone there.
  await deleteRecordsBefore(B, `A.${deleted}`, 0, 10n)
  const gone = await verify(file, deleted)
  assert.equal(gone.code, 1, gone.out)
  const [d0, d1] = gone.report?.partitions ?? []
  assert.deepEqual(
    [d0?.missing, d0?.matched, d0?.target?.start, d0?.first?.kind, d0?.first?.sourceOffset],
    [10, 140, 10, 'missing', 0]
  )
  assert.deepEqual([d1?.missing, d1?.matched], [0, 150])

  // Out of band: a record written on the target, then more records copied after it.
  await produce(B, `A.${foreign}`, [{ partition: 0, key: 'intruder', value: 'not from the source' }])
  await produce(A, foreign, records(100, 200))
  await waitFor(async () => (await targetEnds(foreign))[0] === 151n, {
    timeoutMs: 60_000,
    what: 'the later records copied after the foreign one'
  })
  const extra = await verify(file, foreign)
  assert.equal(extra.code, 1, extra.out)
  const [f0, f1] = extra.report?.partitions ?? []
  assert.deepEqual(
    [f0?.extra, f0?.matched, f0?.missing, f0?.differing, f0?.first?.kind, f0?.first?.targetOffset],
    [1, 150, 0, 0, 'extra', 100]
  )
  assert.deepEqual([f1?.extra, f1?.matched], [0, 150])
  const text = await verify(file, foreign, false)
  t.diagnostic(`verify's table for a record written on the target out of band:\n${text.out}`)
  assert.equal(text.code, 1)
  assert.match(
    text.out,
    /^topic\s+partition\s+source range\s+target range\s+copied\s+missing\s+extra\s+differing\s+duplicates\s+pending\s+syncs\s+first difference$/m
  )
  assert.match(
    text.out,
    new RegExp(
      `^${foreign}\\s+0\\s+0\\.\\.150\\s+0\\.\\.151\\s+150\\s+0\\s+1\\s+0\\s+0\\s+0\\s+\\d+ ok\\s+extra at source 100 / target 100$`,
      'm'
    )
  )
  assert.match(text.out, /A->B: 1 of 2 partitions differ\./)

  // Expired on the source before the copy: both sides hold the same records from the source's log start.
  const same = await verify(file, expired)
  assert.equal(same.code, 0, same.out)
  assert.deepEqual(
    same.report?.partitions.map(p => [p.source.start, p.matched, p.missing]),
    [
      [20, 30, 0],
      [0, 50, 0]
    ]
  )
})
