/**
 * The check of the exactly-once mode (docs/exactly-once-plan.md §7.1): a source topic whose
 * records say which partition and which per-partition sequence number they are, and a
 * comparison of what the target holds with it, by content. On the target, transaction markers
 * and aborted attempts take offsets, so counting offsets (as crash-loop.ts does for a plain
 * target) says nothing there.
 *
 * The verdict comes from a Java read_committed console consumer (java-tools.ts), so a bug in our
 * own reader cannot hide a duplicate: every source record exactly once, in order, on its own
 * partition, nothing else. The read_uncommitted view (our reader) is reported, never judged: it
 * holds the aborted attempts, as it does for Java MM2 in this mode. The positions the flow
 * stored (positions.ts) must not be ahead of the committed copy, or a restart would skip records.
 */
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import type { ConsumedRecord } from '../../src/kafka/types.ts'
import type { KafkaCluster } from './cluster.ts'
import { HarnessError } from './errors.ts'
import { clientConfig, produce, readAll, waitFor } from './helpers.ts'
import { javaConsume } from './java-tools.ts'
import { type PositionsOf, storedPositions } from './positions.ts'
import { TopicTail } from './topic-tail.ts'

/** How many problems a check describes in words (the counts cover all of them). */
const DESCRIBED = 8

/** The value of source record `seq` of `partition`: `p=3 seq=0000123 ` and padding up to `bytes`. */
export function sequencedValue(partition: number, seq: number, bytes: number): string {
  const head = `p=${partition} seq=${String(seq).padStart(7, '0')} `
  return head + 'x'.repeat(Math.max(0, bytes - head.length))
}

/** The partition and sequence a value of `sequencedValue` names; undefined for anything else. */
export function parseSequenced(value: string | null | undefined): { partition: number; seq: number } | undefined {
  const m = value === null || value === undefined ? null : /^p=(\d+) seq=(\d+) /.exec(value)
  return m === null ? undefined : { partition: Number(m[1]), seq: Number(m[2]) }
}

/**
 * Produces `total` keyed records on `topic` (which must exist with `partitions` partitions and be
 * empty): record i goes to partition i mod P as its next sequence number. Returns the records per
 * partition. Each record's source offset is its sequence number (checked), so a stored position,
 * which is a source offset, names a sequence number.
 */
export async function produceSequenced(
  cluster: KafkaCluster,
  topic: string,
  opts: { partitions: number; total: number; valueBytes?: number }
): Promise<number[]> {
  const perPartition = new Array<number>(opts.partitions).fill(0)
  const records = Array.from({ length: opts.total }, (_, i) => {
    const partition = i % opts.partitions
    const seq = perPartition[partition] ?? 0
    perPartition[partition] = seq + 1
    return { partition, key: `p${partition}-${seq}`, value: sequencedValue(partition, seq, opts.valueBytes ?? 150) }
  })
  const offsets = await produce(cluster, topic, records, { chunk: 20_000 })
  records.forEach((r, i) => {
    const seq = parseSequenced(r.value)?.seq
    if (offsets[i] !== BigInt(seq ?? -1))
      throw new HarnessError(
        `${topic} is not a plain empty topic: ${r.value.slice(0, 20)} landed at offset ${offsets[i]}`
      )
  })
  return perPartition
}

/** What a view of the target holds, compared with the source records (`perPartition` of them per partition). */
export interface SequenceCheck {
  /** Records read (target records with a sequenced value, and anything else). */
  readonly records: number
  /** Source records expected. */
  readonly expected: number
  /** Different source records seen. */
  readonly distinct: number
  /** Records that repeat a source record already seen (on its partition). */
  readonly duplicates: number
  /** Source records never seen. */
  readonly gaps: number
  /** First copies that came after a higher sequence number of their partition. */
  readonly outOfOrder: number
  /** Records on another target partition than their source partition. */
  readonly misplaced: number
  /** Records that are no source record (another value, or a sequence number the source does not have). */
  readonly foreign: number
  /** The first problems, in words, for assertion messages. */
  readonly problems: readonly string[]
  /** Every source record exactly once, in order, on its partition, and nothing else. */
  readonly exact: boolean
}

/** Consecutive problem records (see SequenceView's #note). */
interface Stretch {
  readonly kind: string
  readonly partition: number
  readonly at: string
  readonly first: number
  last: number
}

/**
 * A view of the target fed record by record (a whole read, or a tail as it grows). Per
 * partition: which sequence numbers were seen, the highest so far (for order), and how many
 * from 0 without a hole (the copy's prefix, which a stored position must not pass).
 */
export class SequenceView {
  readonly #expected: readonly number[]
  readonly #seen: Uint8Array[]
  readonly #prefix: number[]
  readonly #max: number[]
  readonly #distinct: number[]
  #records = 0
  #duplicates = 0
  #outOfOrder = 0
  #misplaced = 0
  #foreign = 0
  readonly #problems: string[] = []
  #stretch: Stretch | undefined

  constructor(perPartition: readonly number[]) {
    this.#expected = perPartition
    this.#seen = perPartition.map(n => new Uint8Array(n))
    this.#prefix = perPartition.map(() => 0)
    this.#max = perPartition.map(() => -1)
    this.#distinct = perPartition.map(() => 0)
  }

  /** One record of target partition `partition`; `at` says where it was (an offset), for the descriptions. */
  add(partition: number, value: string | null, at: string): void {
    this.#records++
    const s = parseSequenced(value)
    const seen = s === undefined ? undefined : this.#seen[s.partition]
    if (s === undefined || seen === undefined || s.seq >= seen.length) {
      this.#foreign++
      this.#note(undefined)
      this.#describe(`partition ${partition} ${at}: not a source record (${(value ?? 'null').slice(0, 24)})`)
      return
    }
    const p = s.partition
    if (p !== partition) {
      this.#misplaced++
      this.#note({ kind: `of source partition ${p}`, partition, at, first: s.seq, last: s.seq })
    }
    if (seen[s.seq] !== 0) {
      this.#duplicates++
      this.#note({ kind: 'again', partition, at, first: s.seq, last: s.seq })
      return
    }
    seen[s.seq] = 1
    this.#distinct[p] = (this.#distinct[p] ?? 0) + 1
    if (s.seq < (this.#max[p] ?? -1)) {
      this.#outOfOrder++
      this.#note({ kind: `after seq ${this.#max[p]}`, partition, at, first: s.seq, last: s.seq })
    } else {
      this.#max[p] = s.seq
      if (p === partition) this.#note(undefined)
    }
    let prefix = this.#prefix[p] ?? 0
    while (prefix < seen.length && seen[prefix] !== 0) prefix++
    this.#prefix[p] = prefix
  }

  addAll(records: Iterable<ConsumedRecord>): void {
    for (const r of records) this.add(r.partition, r.value?.toString('utf8') ?? null, `offset ${r.offset}`)
  }

  /** Different source records seen, all partitions. */
  distinct(): number {
    return this.#distinct.reduce((a, b) => a + b, 0)
  }

  /** Sequence numbers of `partition` seen from 0 without a hole. */
  prefix(partition: number): number {
    return this.#prefix[partition] ?? 0
  }

  result(): SequenceCheck {
    this.#endStretch()
    const gapProblems: string[] = []
    let gaps = 0
    this.#seen.forEach((seen, p) => {
      let from = -1
      for (let seq = 0; seq <= seen.length; seq++) {
        const missing = seq < seen.length && seen[seq] === 0
        if (missing) {
          gaps++
          if (from < 0) from = seq
        } else if (from >= 0) {
          const seqs = seq - 1 > from ? `seqs ${from}-${seq - 1} (${seq - from})` : `seq ${from}`
          gapProblems.push(`partition ${p}: ${seqs} missing`)
          from = -1
        }
      }
    })
    const problems = [...this.#problems, ...gapProblems].slice(0, DESCRIBED)
    const expected = this.#expected.reduce((a, b) => a + b, 0)
    return {
      records: this.#records,
      expected,
      distinct: this.distinct(),
      duplicates: this.#duplicates,
      gaps,
      outOfOrder: this.#outOfOrder,
      misplaced: this.#misplaced,
      foreign: this.#foreign,
      problems,
      exact:
        gaps === 0 &&
        this.#duplicates === 0 &&
        this.#outOfOrder === 0 &&
        this.#misplaced === 0 &&
        this.#foreign === 0 &&
        this.#records === expected
    }
  }

  /**
   * A problem record, described with its neighbours: consecutive records of one partition with the
   * same problem and consecutive sequence numbers make one stretch (a re-copied run of records is
   * one line, not thousands). `undefined`: a record without a problem, which ends a stretch.
   */
  #note(problem: Stretch | undefined): void {
    const s = this.#stretch
    if (
      problem !== undefined &&
      s !== undefined &&
      s.kind === problem.kind &&
      s.partition === problem.partition &&
      problem.first === s.last + 1
    ) {
      s.last = problem.first
      return
    }
    this.#endStretch()
    this.#stretch = problem
  }

  #endStretch(): void {
    const s = this.#stretch
    this.#stretch = undefined
    if (s === undefined) return
    const seqs = s.last > s.first ? `seqs ${s.first}-${s.last} (${s.last - s.first + 1})` : `seq ${s.first}`
    this.#describe(`partition ${s.partition} from ${s.at}: ${seqs} ${s.kind}`)
  }

  #describe(text: string): void {
    if (this.#problems.length < DESCRIBED) this.#problems.push(text)
  }
}

/** The counts of a check in one line. */
export function describeCheck(c: SequenceCheck): string {
  return (
    `${c.records} records for ${c.expected} source records: ${c.duplicates} duplicates, ${c.gaps} gaps, ` +
    `${c.outOfOrder} out of order, ${c.misplaced} on another partition, ${c.foreign} foreign` +
    (c.problems.length > 0 ? `; first: ${c.problems.join('; ')}` : '')
  )
}

/**
 * The target topic as a Java read_committed console consumer sees it (the verdict). It reads
 * until no record came for 10 s, not up to a count, so duplicates past the expected number are
 * read too.
 */
export async function javaCommittedView(
  target: KafkaCluster,
  remoteTopic: string,
  perPartition: readonly number[]
): Promise<SequenceView> {
  const expected = perPartition.reduce((a, b) => a + b, 0)
  const lines = await javaConsume(target.bootstrap(), remoteTopic, 4 * expected + 1000, {
    offsets: true,
    isolation: 'read_committed',
    timeoutMs: 10_000,
    // The console consumer prints some 10,000 lines a second on a busy 2-core machine.
    runTimeoutMs: 90_000 + expected / 2
  })
  const view = new SequenceView(perPartition)
  for (const line of lines) {
    const m = /^Partition:(\d+)\tOffset:(\d+)\t(.*)$/.exec(line)
    if (m === null) view.add(-1, line, '(unparsed line)')
    else view.add(Number(m[1]), m[3] ?? null, `offset ${m[2]}`)
  }
  return view
}

/** The read_uncommitted view of the target (our reader): aborted attempts included. Reported, not judged. */
export interface UncommittedView {
  readonly check: SequenceCheck
  /** The sum of the partitions' log end offsets: records, aborted ones included, and transaction markers. */
  readonly logEnd: bigint
}

export async function uncommittedView(
  target: KafkaCluster,
  remoteTopic: string,
  perPartition: readonly number[]
): Promise<UncommittedView> {
  const view = new SequenceView(perPartition)
  view.addAll(await readAll(target, remoteTopic, { readCommitted: false }))
  const admin = new KafkaAdmin(clientConfig(target), 'eos-check-admin')
  try {
    const ends = await admin.listOffsets(
      perPartition.map((_, partition) => ({ topic: remoteTopic, partition })),
      'latest'
    )
    return { check: view.result(), logEnd: [...ends.values()].reduce((a, b) => a + b, 0n) }
  } finally {
    await admin.close()
  }
}

export interface ExactlyOnceReport {
  /** The Java read_committed consumer's view: must be exact. */
  readonly committed: SequenceCheck
  readonly uncommitted: UncommittedView
  /** The positions the flow stored (read read_committed), by source partition. */
  readonly positions: ReadonlyMap<number, bigint>
  /** Partitions whose stored position is past what the committed view holds without a hole. */
  readonly positionsAhead: readonly string[]
}

/**
 * The whole check, once the copy is over and nothing writes any more (no transaction open, so
 * the positions can be read to the end): the committed view by Java, the read_uncommitted view,
 * and the stored positions against the committed view.
 */
export async function checkExactlyOnce(o: {
  readonly target: KafkaCluster
  readonly flow: PositionsOf
  readonly topic: string
  readonly remoteTopic: string
  readonly perPartition: readonly number[]
}): Promise<ExactlyOnceReport> {
  const positions = await storedPositions(o.target, o.flow, o.topic)
  const committed = await javaCommittedView(o.target, o.remoteTopic, o.perPartition)
  return {
    committed: committed.result(),
    uncommitted: await uncommittedView(o.target, o.remoteTopic, o.perPartition),
    positions,
    positionsAhead: positionsAheadOf(positions, committed, o.perPartition.length)
  }
}

/** Partitions whose stored position (the last copied source offset, = sequence number) is past the view's prefix. */
export function positionsAheadOf(
  positions: ReadonlyMap<number, bigint>,
  view: SequenceView,
  partitions: number
): string[] {
  const ahead: string[] = []
  for (let p = 0; p < partitions; p++) {
    const stored = positions.get(p)
    if (stored !== undefined && stored >= BigInt(view.prefix(p)))
      ahead.push(`partition ${p}: stored position ${stored}, committed copy holds seq 0-${view.prefix(p) - 1}`)
  }
  return ahead
}

/** The report in a few lines, for diagnostics and assertion messages. */
export function describeReport(r: ExactlyOnceReport): string {
  const u = r.uncommitted
  return [
    `read_committed (Java): ${describeCheck(r.committed)}`,
    `read_uncommitted: ${u.check.records} records (${u.check.duplicates} duplicate copies), log end offsets sum ${u.logEnd} (${u.logEnd - BigInt(u.check.records)} offsets of markers)`,
    `positions: ${[...r.positions].map(([p, o]) => `${p}:${o}`).join(' ')}${r.positionsAhead.length > 0 ? `; ahead: ${r.positionsAhead.join('; ')}` : ''}`
  ].join('\n')
}

/**
 * Waits until the read_committed view of `remoteTopic` holds every source record (each at least
 * once), reading it as it grows; returns that view.
 */
export async function waitForCommittedCopy(
  target: KafkaCluster,
  remoteTopic: string,
  perPartition: readonly number[],
  opts: { timeoutMs?: number } = {}
): Promise<SequenceView> {
  const admin = new KafkaAdmin(clientConfig(target), 'eos-wait-admin')
  const tail = new TopicTail(target, admin, remoteTopic, 'read_committed')
  const view = new SequenceView(perPartition)
  const expected = perPartition.reduce((a, b) => a + b, 0)
  try {
    await waitFor(
      async () => {
        view.addAll(await tail.advance())
        return view.distinct() >= expected
      },
      { timeoutMs: opts.timeoutMs ?? 120_000, intervalMs: 250, what: `every record of ${remoteTopic} committed` }
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; ${view.distinct()} of ${expected} seen`)
    })
    return view
  } finally {
    await tail.close()
    await admin.close()
  }
}

/** A source written while a test runs (writeSequencedInBackground). */
export interface SequencedWriter {
  /** Records written so far, per partition (a copy). */
  readonly perPartition: () => number[]
  /** Stops after the batch under way; returns the records per partition. Throws what the writing threw. */
  readonly stop: () => Promise<number[]>
}

/**
 * Keeps writing `topic` as produceSequenced does, `batch` records every `everyMs`, round-robin
 * over the partitions, each record the next sequence number of its partition, continuing after
 * `from` (records per partition already written, default none). Each record's source offset is
 * still its sequence number (checked). Stopped by `stop()` or when the test ends.
 */
export function writeSequencedInBackground(
  t: { after: (fn: () => Promise<void>) => void },
  cluster: KafkaCluster,
  topic: string,
  opts: { partitions: number; batch: number; everyMs: number; from?: readonly number[]; valueBytes?: number }
): SequencedWriter {
  const perPartition = Array.from({ length: opts.partitions }, (_, p) => opts.from?.[p] ?? 0)
  let next = perPartition.reduce((a, b) => a + b, 0)
  let writing = true
  const running = (async () => {
    while (writing) {
      const records = Array.from({ length: opts.batch }, (_, k) => {
        const partition = (next + k) % opts.partitions
        const seq = perPartition[partition] ?? 0
        perPartition[partition] = seq + 1
        return { partition, seq, value: sequencedValue(partition, seq, opts.valueBytes ?? 150) }
      })
      next += records.length
      const offsets = await produce(
        cluster,
        topic,
        records.map(r => ({ partition: r.partition, key: `p${r.partition}-${r.seq}`, value: r.value }))
      )
      records.forEach((r, i) => {
        if (offsets[i] !== BigInt(r.seq))
          throw new HarnessError(`${topic}: partition ${r.partition} seq ${r.seq} landed at offset ${offsets[i]}`)
      })
      await new Promise(resolve => setTimeout(resolve, opts.everyMs))
    }
  })()
  // Observed here so a failure is not an unhandled rejection before stop() is called.
  running.catch(() => {})
  const stop = async (): Promise<number[]> => {
    writing = false
    await running
    return [...perPartition]
  }
  t.after(async () => {
    await stop().catch(() => [])
  })
  return { perPartition: () => [...perPartition], stop }
}
