/**
 * A mirror killed (-9) every few seconds and restarted until the copy is done, at full size:
 * two local clusters, N records of S bytes in P partitions pre-loaded on the source, then the
 * real binary in a crash loop (test/harness/crash-loop.ts). Prints each run (start to first
 * copied record, records on the target, re-copies the kill cost) and the totals. Figures only.
 *
 *   npm run bench:crash-loop -- [--records 1000000] [--size 200] [--partitions 6] [--min 3] [--max 6] [--seed 1]
 */
import { MAX_PARTITION_BATCH_BYTES } from '../src/kafka/producer-settings.ts'
import { DEFAULT_FLUSH_THRESHOLDS } from '../src/source/position-flush-policy.ts'
import { startClusters } from '../test/harness/cluster.ts'
import { runCrashLoop } from '../test/harness/crash-loop.ts'
import { createTopic, produce } from '../test/harness/helpers.ts'
import { writeMm2Properties } from '../test/harness/mirror-config.ts'
import { benchArgs } from './lib/args.ts'

const values = benchArgs(import.meta.url, {
  records: { type: 'string', default: '1000000' },
  size: { type: 'string', default: '200' },
  partitions: { type: 'string', default: '6' },
  min: { type: 'string', default: '3' },
  max: { type: 'string', default: '6' },
  seed: { type: 'string', default: '1' }
})
const total = Number(values.records)
const size = Number(values.size)
const partitions = Number(values.partitions)

const [a, b] = await startClusters([
  { name: 'crash-A', heapMb: 768 },
  { name: 'crash-B', heapMb: 768 }
])
if (a === undefined || b === undefined) throw new Error('clusters did not start')
try {
  await createTopic(a, 'crashloop', { partitions })
  const value = 'x'.repeat(Math.max(0, size - 8))
  await produce(
    a,
    'crashloop',
    Array.from({ length: total }, (_, i) => ({
      partition: i % partitions,
      key: `k${String(i).padStart(7, '0')}`,
      value
    })),
    { chunk: 20_000 }
  )
  console.log(
    `loaded ${total} records of ${size} B into ${partitions} partitions; killing the mirror every ${values.min}-${values.max} s`
  )
  const file = writeMm2Properties({ A: a, B: b }, { 'A->B.enabled': 'true', 'A->B.topics': 'crashloop' })
  const result = await runCrashLoop({
    source: a,
    target: b,
    sourceAlias: 'A',
    topic: 'crashloop',
    remoteTopic: 'A.crashloop',
    partitions,
    total,
    configFile: file,
    killAfterMs: [Number(values.min) * 1000, Number(values.max) * 1000],
    maxKills: 500,
    seed: Number(values.seed),
    onRun: r => {
      console.log(
        `run ${String(r.index).padStart(3)}: first copy after ${String(r.firstCopyMs ?? '-').padStart(5)} ms, ${String(r.copiedSoFar).padStart(8)} on target, re-copied next: ${String(r.recopiedNext).padStart(6)}${r.killed ? '' : ' (finished, stopped cleanly)'}`
      )
    }
  })
  const firsts = result.runs
    .slice(1)
    .map(r => r.firstCopyMs)
    .filter(x => x !== undefined)
    .sort((x, y) => x - y)
  const bound = DEFAULT_FLUSH_THRESHOLDS.maxRecords + (partitions + 1) * Math.ceil(MAX_PARTITION_BATCH_BYTES / size)
  console.log(
    `${result.completed ? 'completed' : 'NOT completed'} after ${result.kills} kills in ${(result.elapsedMs / 1000).toFixed(0)} s`
  )
  console.log(
    `re-copied: ${result.recopied} records in all (${((100 * result.recopied) / total).toFixed(1)} % of the topic), at most ${Math.max(...result.runs.map(r => r.recopiedNext))} per kill (stated bound ${bound})`
  )
  console.log(
    `restart to first copied record: median ${firsts[Math.floor(firsts.length / 2)] ?? '-'} ms, max ${firsts.at(-1) ?? '-'} ms (first run, which creates the topics, left out)`
  )
} finally {
  await Promise.all([a.close(), b.close()])
}
