/**
 * A mirror in a crash loop: the real `kafka-mirror run` binary is started, killed with SIGKILL
 * after a random 3-6 s (or whatever range is given), and started again, until the target holds
 * every source record; the last run is stopped cleanly. Used by the crash-loop test (a modest
 * size in CI) and `npm run bench:crash-loop` (1,000,000 records).
 *
 * After every kill the target's end offsets and the positions the mirror stored are read, which
 * tells exactly how many records the next run will copy again: per partition, the source records
 * already on the target minus those below the stored position. The source topic must be plain
 * (offsets 0..n-1 per partition, no transactions, no compaction) so that counts are offsets.
 */
import { openSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { decodeOffsetValue, decodeSourceOffsetKey } from '../../src/formats/connect-offsets.ts'
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import type { KafkaCluster } from './cluster.ts'
import { clientConfig, readAll } from './helpers.ts'
import { spawnTracked } from './processes.ts'
import { seededRandom } from '../../src/util/seeded-random.ts'

const bin = join(fileURLToPath(new URL('../..', import.meta.url)), 'bin', 'kafka-mirror.js')

export interface CrashLoopOptions {
  readonly source: KafkaCluster
  readonly target: KafkaCluster
  /** Source alias in the config (positions are keyed by it). */
  readonly sourceAlias: string
  readonly topic: string
  readonly remoteTopic: string
  readonly partitions: number
  /** Records on the source topic, all produced before the loop starts. */
  readonly total: number
  readonly configFile: string
  /** A run is killed after a random time in [min, max] ms. */
  readonly killAfterMs: readonly [number, number]
  /** Give up (result.completed false) after this many kills. */
  readonly maxKills: number
  /** Seed for the kill times, so a failing run can be repeated. */
  readonly seed?: number
  readonly onRun?: (run: CrashLoopRun) => void
}

export interface CrashLoopRun {
  readonly index: number
  /** From spawn to the first new record on the target (undefined: none in this run). */
  readonly firstCopyMs: number | undefined
  readonly ranMs: number
  /** Distinct source records on the target after this run. */
  readonly copiedSoFar: number
  /** Records below the stored positions after this run (where the next run resumes). */
  readonly storedSoFar: number
  /** Records this run put on the target that the next run copies again (its positions were not stored yet). */
  readonly recopiedNext: number
  readonly killed: boolean
}

export interface CrashLoopResult {
  readonly completed: boolean
  readonly kills: number
  readonly runs: readonly CrashLoopRun[]
  /** Records on the target more than once (sum of recopiedNext). */
  readonly recopied: number
  readonly elapsedMs: number
}

export async function runCrashLoop(o: CrashLoopOptions): Promise<CrashLoopResult> {
  const admin = new KafkaAdmin(clientConfig(o.target), 'crash-loop-admin')
  const next = seededRandom(o.seed ?? 1)
  const remote = Array.from({ length: o.partitions }, (_, partition) => ({ topic: o.remoteTopic, partition }))
  const duplicates = new Array<bigint>(o.partitions).fill(0n)
  const runs: CrashLoopRun[] = []
  const started = Date.now()
  const targetEnds = async (): Promise<bigint[]> => {
    if (!(await admin.describeTopics([o.remoteTopic])).has(o.remoteTopic)) return remote.map(() => 0n)
    const ends = await admin.listOffsets(remote, 'latest')
    return remote.map(tp => ends.get(`${tp.topic}:${tp.partition}`) ?? 0n)
  }
  const distinct = (ends: readonly bigint[]): number =>
    Number(ends.reduce((sum, e, p) => sum + e - (duplicates[p] ?? 0n), 0n))
  try {
    for (let index = 0; ; index++) {
      const before = distinct(await targetEnds())
      const runFor = o.killAfterMs[0] + next() * (o.killAfterMs[1] - o.killAfterMs[0])
      const spawnedAt = Date.now()
      // KM_CRASH_LOOP_LOGS=<dir>: each run's mirror log goes to <dir>/run-<index>.log (debugging).
      const logDir = process.env.KM_CRASH_LOOP_LOGS
      const out = logDir === undefined ? 'ignore' : openSync(join(logDir, `run-${index}.log`), 'w')
      const child = spawnTracked('kafka-mirror', process.execPath, [bin, 'run', '--config', o.configFile], {
        stdio: ['ignore', out, out]
      })
      let firstCopyMs: number | undefined
      let done = false
      while (Date.now() - spawnedAt < runFor) {
        const copied = distinct(await targetEnds().catch(() => remote.map(() => 0n)))
        if (copied > before) firstCopyMs ??= Date.now() - spawnedAt
        if (copied >= o.total) {
          done = true
          break
        }
        await new Promise(resolve => setTimeout(resolve, 50))
      }
      if (done) {
        await child.stop()
        const copiedSoFar = distinct(await targetEnds())
        const run = {
          index,
          firstCopyMs,
          ranMs: Date.now() - spawnedAt,
          copiedSoFar,
          storedSoFar: copiedSoFar,
          recopiedNext: 0,
          killed: false
        }
        runs.push(run)
        o.onRun?.(run)
        return {
          completed: true,
          kills: index,
          runs,
          recopied: Number(duplicates.reduce((a, b) => a + b, 0n)),
          elapsedMs: Date.now() - started
        }
      }
      await child.kill()
      // A produce request the broker had fully received before the kill is still appended.
      await new Promise(resolve => setTimeout(resolve, 300))
      const ends = await targetEnds()
      const copiedSoFar = distinct(ends)
      const stored = await storedPositions(o)
      let recopiedNext = 0n
      for (let p = 0; p < o.partitions; p++) {
        const onTarget = (ends[p] ?? 0n) - (duplicates[p] ?? 0n)
        const resumeAt = (stored.get(p) ?? -1n) + 1n
        if (resumeAt > onTarget)
          throw new Error(
            `partition ${p}: stored position ${resumeAt - 1n} is past the ${onTarget} source records on the target`
          )
        duplicates[p] = (duplicates[p] ?? 0n) + onTarget - resumeAt
        recopiedNext += onTarget - resumeAt
      }
      const run = {
        index,
        firstCopyMs,
        ranMs: Date.now() - spawnedAt,
        copiedSoFar,
        storedSoFar: copiedSoFar - Number(recopiedNext),
        recopiedNext: Number(recopiedNext),
        killed: true
      }
      runs.push(run)
      o.onRun?.(run)
      if (index + 1 >= o.maxKills)
        return {
          completed: false,
          kills: index + 1,
          runs,
          recopied: Number(duplicates.reduce((a, b) => a + b, 0n)),
          elapsedMs: Date.now() - started
        }
    }
  } finally {
    await admin.close()
  }
}

/** The last stored position (offset of the last copied record) per partition of the topic. */
async function storedPositions(o: CrashLoopOptions): Promise<Map<number, bigint>> {
  const positions = new Map<number, bigint>()
  for (const r of await readAll(o.target, `mm2-offsets.${o.sourceAlias}.internal`).catch(() => [])) {
    try {
      const key = decodeSourceOffsetKey(r.key)
      if (key.topic !== o.topic || key.cluster !== o.sourceAlias) continue
      const offset = decodeOffsetValue(r.value)
      if (offset === null) positions.delete(key.partition)
      else positions.set(key.partition, offset)
    } catch {
      /* another connector's record */
    }
  }
  return positions
}
