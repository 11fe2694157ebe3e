/**
 * A mirror killed (-9) every 3-6 s and restarted until the copy is done (issue: under frequent
 * crashes the copy never finished, re-copying the same first records over and over, because no
 * position was stored before the next kill). Every run must move the stored positions forward,
 * each kill may cost at most the stated re-copy bound, and the target ends with every record.
 * CI runs 300,000 records over a source link throttled to 4 MB/s (a broker quota on the
 * mirror's consumer), so the copy spans many kills; `npm run bench:crash-loop` runs the full
 * 1,000,000 unthrottled.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MAX_PARTITION_BATCH_BYTES } from '../../src/kafka/producer-settings.ts'
import { DEFAULT_FLUSH_THRESHOLDS } from '../../src/source/position-flush-policy.ts'
import { logTail, runCrashLoop } from '../harness/crash-loop.ts'
import { clustersFor, createTopic, produce, readAll, uniqueName } from '../harness/helpers.ts'
import { setClientQuota } from '../harness/java-tools.ts'
import { writeMm2Properties } from '../harness/mirror-config.ts'

test('killed every 3-6 s, the mirror still finishes a 300,000-record copy; each kill re-copies at most the stated bound', async t => {
  // The source link is throttled by a broker quota (below). With the broker's default quota window
  // (11 samples of 1 s) a run could burst some 40 MB before being throttled and leave the next run
  // several seconds of throttle debt, in which a run killed after 3 s fetched nothing at all. Two
  // samples of 1 s make the link a steady 4 MB/s, so what is measured is the mirror, not the debt.
  const quotaWindow = { 'quota.window.num': '2', 'quota.window.size.seconds': '1' }
  const [A, B] = await clustersFor(t, [{ name: 'A', brokerConfig: quotaWindow }, { name: 'B' }])
  assert.ok(A !== undefined && B !== undefined)
  const topic = uniqueName('crashloop')
  const partitions = 6
  const total = 300_000
  await createTopic(A, topic, { partitions })
  const value = 'v'.repeat(190)
  await produce(
    A,
    topic,
    Array.from({ length: total }, (_, i) => ({
      partition: i % partitions,
      key: `k${String(i).padStart(7, '0')}`,
      value
    })),
    { chunk: 20_000 }
  )
  const file = writeMm2Properties({ A, B }, { 'A->B.enabled': 'true', 'A->B.topics': topic })
  await setClientQuota(A.bootstrap(), 'A->B|MirrorSourceConnector|replication-consumer', {
    consumer_byte_rate: String(4 * 1024 * 1024)
  })

  const result = await runCrashLoop({
    source: A,
    target: B,
    sourceAlias: 'A',
    topic,
    remoteTopic: `A.${topic}`,
    partitions,
    total,
    configFile: file,
    killAfterMs: [3000, 6000],
    maxKills: 40,
    seed: 9,
    onRun: r => {
      t.diagnostic(
        `run ${r.index}: first copy after ${r.firstCopyMs ?? '-'} ms, ${r.copiedSoFar} on target, next run re-copies ${r.recopiedNext}${r.killed ? ' (killed)' : ' (done, stopped)'}`
      )
    }
  })
  t.diagnostic(
    `${result.kills} kills, ${result.recopied} records re-copied in all, ${Math.round(result.elapsedMs / 1000)} s`
  )
  assert.ok(
    result.completed,
    `the copy finished within 40 kills (${result.runs.at(-1)?.copiedSoFar} of ${total} copied)`
  )

  // The bound the README states: per copier task, the records acknowledged since the last store
  // (a store after the run's first acknowledged send, then after the send that reaches 10,000
  // records or 8 MiB: under the threshold plus one send) plus the send in flight. A send holds at
  // most MAX_PARTITION_BATCH_BYTES per partition: the topic's 6 and the heartbeats topic's 1.
  const recordBytes = 8 + value.length
  const bound =
    DEFAULT_FLUSH_THRESHOLDS.maxRecords + (partitions + 1) * Math.ceil(MAX_PARTITION_BATCH_BYTES / recordBytes)
  for (const r of result.runs)
    assert.ok(r.recopiedNext <= bound, `run ${r.index} left ${r.recopiedNext} records to copy again (bound ${bound})`)
  // Every restart moves forward. The very first run also creates the state and remote topics,
  // which may take it past its kill on a busy machine; from then on each run must store progress.
  let storedBefore = 0
  for (const r of result.runs.filter(x => x.killed && x.index > 0)) {
    const stored = r.storedSoFar
    assert.ok(
      stored > storedBefore,
      `run ${r.index} moved the stored positions forward (${storedBefore} -> ${stored}); first copy after ${r.firstCopyMs ?? '-'} ms\n${logTail(r)}`
    )
    storedBefore = stored
  }

  const copied = await readAll(B, `A.${topic}`)
  assert.equal(
    copied.length,
    total + result.recopied,
    'the target holds every record, plus exactly the re-copies counted at each kill'
  )
  const keys = new Set(copied.map(r => r.key?.toString()))
  assert.equal(keys.size, total, 'every source record is on the target')
  // Per partition the target is the source sequence with re-copied stretches: never a gap.
  for (let p = 0; p < partitions; p++) {
    const seq = copied.filter(r => r.partition === p).map(r => Number(r.key?.toString().slice(1)))
    for (let i = 1; i < seq.length; i++) {
      const prev = seq[i - 1] ?? 0
      const cur = seq[i] ?? 0
      assert.ok(cur === prev + partitions || cur <= prev, `partition ${p}: no gap between ${prev} and ${cur}`)
    }
  }
})
