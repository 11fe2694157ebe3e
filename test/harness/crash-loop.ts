/**
 * A mirror in a crash loop: the real `kafka-mirror run` binary is started, killed with SIGKILL
 * after a random 3-6 s (or whatever range is given), and started again, until the target holds
 * every source record; the last run is stopped cleanly. Used by the crash-loop test (a modest
 * size in CI) and `npm run bench:crash-loop` (1,000,000 records).
 *
 * After every kill the target and the positions the mirror stored are read, which tells exactly
 * how many records the next run will copy again: per partition, the source records already on the
 * target minus those below the stored position. Two ways to count:
 * - by offsets (default): the target's end offsets are the records on it. The source topic must be
 *   plain (offsets 0..n-1 per partition, no transactions, no compaction) and so must the target.
 * - by content (`content`, for the exactly-once mode, docs/exactly-once-plan.md §7.1): the source
 *   records are those of exactly-once-check.ts `produceSequenced`, and the target is read by
 *   content, because transaction markers and aborted attempts take offsets there. Progress is the
 *   read_committed view; what the next run copies again is what the killed run wrote (read
 *   read_uncommitted) past the stored positions (in this mode: the killed run's open transaction,
 *   which the next run's InitProducerId aborts). A stored position past the committed copy is
 *   recorded in the run (`positionsAhead`), for the test to judge.
 */
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import { seededRandom } from '../../src/util/seeded-random.ts'
import type { KafkaCluster } from './cluster.ts'
import { parseSequenced, positionsAheadOf, SequenceView } from './exactly-once-check.ts'
import { clientConfig } from './helpers.ts'
import { newestPositions, positionsIn, storedPositions } from './positions.ts'
import { spawnTracked } from './processes.ts'
import { TopicTail } from './topic-tail.ts'

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
  /** Count by content: the records per source partition that `produceSequenced` wrote. */
  readonly content?: { readonly perPartition: readonly number[] }
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
  /** This run's mirror log (stdout and stderr). */
  readonly logFile: string
  /** By content only: partitions whose stored position was past the committed copy after this run. */
  readonly positionsAhead: readonly string[]
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
  const progress =
    o.content === undefined ? offsetProgress(o, admin) : contentProgress(o, admin, o.content.perPartition)
  const next = seededRandom(o.seed ?? 1)
  const runs: CrashLoopRun[] = []
  const started = Date.now()
  const finish = (completed: boolean, kills: number): CrashLoopResult => ({
    completed,
    kills,
    runs,
    recopied: runs.reduce((sum, r) => sum + r.recopiedNext, 0),
    elapsedMs: Date.now() - started
  })
  // Each run's mirror log, for a failing test to show: KM_CRASH_LOOP_LOGS=<dir>, or a fresh temporary directory.
  const logDir = process.env.KM_CRASH_LOOP_LOGS ?? mkdtempSync(join(tmpdir(), 'km-crash-loop-'))
  try {
    for (let index = 0; ; index++) {
      const before = await progress.copied()
      const runFor = o.killAfterMs[0] + next() * (o.killAfterMs[1] - o.killAfterMs[0])
      const spawnedAt = Date.now()
      const logFile = join(logDir, `run-${index}.log`)
      const out = openSync(logFile, 'w')
      const child = spawnTracked('kafka-mirror', process.execPath, [bin, 'run', '--config', o.configFile], {
        stdio: ['ignore', out, out]
      })
      closeSync(out) // the child has its own copy
      let firstCopyMs: number | undefined
      let done = false
      while (Date.now() - spawnedAt < runFor) {
        const copied = await progress.copied().catch(() => before)
        if (copied > before) firstCopyMs ??= Date.now() - spawnedAt
        if (copied >= o.total && (await progress.finished().catch(() => false))) {
          done = true
          break
        }
        await new Promise(resolve => setTimeout(resolve, 50))
      }
      if (done) {
        await child.stop()
        const copiedSoFar = await progress.copied()
        const run = {
          index,
          firstCopyMs,
          ranMs: Date.now() - spawnedAt,
          copiedSoFar,
          storedSoFar: copiedSoFar,
          recopiedNext: 0,
          killed: false,
          logFile,
          positionsAhead: []
        }
        runs.push(run)
        o.onRun?.(run)
        return finish(true, index)
      }
      await child.kill()
      // A produce request the broker had fully received before the kill is still appended.
      await new Promise(resolve => setTimeout(resolve, 300))
      const after = await progress.afterKill()
      const run = { index, firstCopyMs, ranMs: Date.now() - spawnedAt, ...after, killed: true, logFile }
      runs.push(run)
      o.onRun?.(run)
      if (index + 1 >= o.maxKills) return finish(false, index + 1)
    }
  } finally {
    await progress.close()
    await admin.close()
  }
}

/** How a crash loop sees the target. */
interface Progress {
  /** Distinct source records the target holds (by content: committed). */
  copied(): Promise<number>
  /** Once every record is copied: whether the copy is over (by content: the positions are stored too). */
  finished(): Promise<boolean>
  /** After a kill (nothing runs): where the next run resumes, and what it copies again. */
  afterKill(): Promise<Pick<CrashLoopRun, 'copiedSoFar' | 'storedSoFar' | 'recopiedNext' | 'positionsAhead'>>
  close(): Promise<void>
}

/** A plain target: its end offsets, minus the re-copies counted so far, are the distinct records on it. */
function offsetProgress(o: CrashLoopOptions, admin: KafkaAdmin): Progress {
  const remote = Array.from({ length: o.partitions }, (_, partition) => ({ topic: o.remoteTopic, partition }))
  const duplicates = new Array<bigint>(o.partitions).fill(0n)
  const targetEnds = async (): Promise<bigint[]> => {
    if (!(await admin.describeTopics([o.remoteTopic])).has(o.remoteTopic)) return remote.map(() => 0n)
    const ends = await admin.listOffsets(remote, 'latest')
    return remote.map(tp => ends.get(`${tp.topic}:${tp.partition}`) ?? 0n)
  }
  const distinct = (ends: readonly bigint[]): number =>
    Number(ends.reduce((sum, e, p) => sum + e - (duplicates[p] ?? 0n), 0n))
  return {
    copied: async () => distinct(await targetEnds()),
    finished: async () => true,
    async afterKill() {
      const ends = await targetEnds()
      const copiedSoFar = distinct(ends)
      const stored = await storedPositions(o.target, { source: o.sourceAlias }, o.topic)
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
      return {
        copiedSoFar,
        storedSoFar: copiedSoFar - Number(recopiedNext),
        recopiedNext: Number(recopiedNext),
        positionsAhead: []
      }
    },
    close: async () => {}
  }
}

/**
 * A target read by content (exactly-once-check.ts): the read_committed and read_uncommitted views
 * and the positions are read on from where the last look stopped, each up to where its
 * isolation can reach (topic-tail.ts), so a transaction the kill left open never blocks a look.
 */
function contentProgress(o: CrashLoopOptions, admin: KafkaAdmin, perPartition: readonly number[]): Progress {
  const committedTail = new TopicTail(o.target, admin, o.remoteTopic, 'read_committed')
  const uncommittedTail = new TopicTail(o.target, admin, o.remoteTopic, 'read_uncommitted')
  const flow = { source: o.sourceAlias }
  const offsetsTail = new TopicTail(o.target, admin, `mm2-offsets.${o.sourceAlias}.internal`, 'read_committed')
  const committed = new SequenceView(perPartition)
  const positions = new Map<number, bigint>()
  const copied = async (): Promise<number> => {
    committed.addAll(await committedTail.advance())
    return committed.distinct()
  }
  const readPositions = async (): Promise<void> => {
    newestPositions(positionsIn(await offsetsTail.advance(), flow, o.topic), positions)
  }
  return {
    copied,
    // Every record can be on the target while the positions of the last ones are not stored yet
    // (at-least-once: a kill then leaves them to be copied again): the copy is over once they are.
    async finished() {
      await readPositions()
      return perPartition.every((n, p) => (positions.get(p) ?? -1n) >= BigInt(n - 1))
    },
    async afterKill() {
      // Positions first: the committed copy only grows, so one read after them can only make
      // a position look less ahead, never more.
      await readPositions()
      const copiedSoFar = await copied()
      // What this run wrote (aborted attempts included) past the positions is written again by the next.
      let recopiedNext = 0
      for (const r of await uncommittedTail.advance()) {
        const s = parseSequenced(r.value?.toString('utf8'))
        if (s !== undefined && BigInt(s.seq) > (positions.get(s.partition) ?? -1n)) recopiedNext++
      }
      let positionsAhead = positionsAheadOf(positions, committed, o.partitions)
      if (positionsAhead.length > 0) {
        // A commit's markers are written partition by partition after EndTxn: give the
        // coordinator a moment to finish before calling a position ahead.
        await new Promise(resolve => setTimeout(resolve, 2000))
        await copied()
        positionsAhead = positionsAheadOf(positions, committed, o.partitions)
      }
      let storedSoFar = 0
      for (let p = 0; p < o.partitions; p++) storedSoFar += Number((positions.get(p) ?? -1n) + 1n)
      return { copiedSoFar, storedSoFar, recopiedNext, positionsAhead }
    },
    async close() {
      await Promise.all([committedTail.close(), uncommittedTail.close(), offsetsTail.close()])
    }
  }
}

/** The last lines of a run's mirror log, for an assertion message. */
export function logTail(run: CrashLoopRun, lines = 40): string {
  const text = readFileSync(run.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  return `last lines of ${run.logFile}:\n${text}`
}
