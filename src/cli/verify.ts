/**
 * `kafka-mirror verify --config F --flow A->B [--topics REGEX] [--json]`: is the target a faithful
 * copy of the source, before a cutover? Compares every topic partition the flow copies (see
 * src/verify/) and prints one row per partition: source and target offset ranges, records copied,
 * missing, extra, differing, duplicates, pending, and whether the offset syncs agree. Exit 1 on
 * any difference (missing, extra, differing, a contradicted sync), 0 otherwise; duplicates of an
 * at-least-once copy and records not copied yet are shown but are not differences.
 */
import type { LoadedConfig } from '../config/model.ts'
import { copyingFlow } from '../config/what-runs.ts'
import { UsageError } from '../errors.ts'
import { createLogger } from '../observe/logger.ts'
import { differs } from '../verify/partition-alignment.ts'
import { type PartitionReport, verifyFlow } from '../verify/verify-flow.ts'

export interface VerifyArgs {
  readonly flow: string
  readonly topics: string | undefined
  readonly json: boolean
}

export interface Io {
  out: (line: string) => void
  err: (line: string) => void
}

function topicsPattern(value: string | undefined): RegExp | undefined {
  if (value === undefined) return undefined
  try {
    return new RegExp(`^(?:${value})$`)
  } catch (err) {
    throw new UsageError(`verify: --topics ${value}: not a regular expression (${(err as Error).message})`)
  }
}

const range = (r: { start: bigint; end: bigint } | undefined): string =>
  r === undefined ? 'absent' : `${r.start}..${r.end}`

function syncs(r: PartitionReport): string {
  const a = r.alignment
  if (a.syncsContradicted > 0) return `${a.syncsContradicted} WRONG`
  return a.syncsConfirmed > 0 ? `${a.syncsConfirmed} ok` : '-'
}

export async function verifyCommand(loaded: LoadedConfig, args: VerifyArgs, io: Io): Promise<number> {
  const flow = copyingFlow(loaded.config, args.flow, 'verify')
  const reports = await verifyFlow(flow, { topics: topicsPattern(args.topics), log: createLogger('verify', () => {}) })
  const different = reports.filter(
    r => differs(r.alignment) || (r.target === undefined && r.source.end > r.source.start)
  )
  if (args.json) {
    io.out(
      JSON.stringify(
        {
          flow: flow.name,
          identical: different.length === 0,
          partitions: reports.map(r => ({
            topic: r.topic,
            remote: r.remote,
            partition: r.partition,
            source: { start: Number(r.source.start), end: Number(r.source.end) },
            target: r.target === undefined ? null : { start: Number(r.target.start), end: Number(r.target.end) },
            ...Object.fromEntries(Object.entries(r.alignment).filter(([k]) => k !== 'first')),
            first:
              r.alignment.first === undefined
                ? null
                : {
                    kind: r.alignment.first.kind,
                    sourceOffset:
                      r.alignment.first.sourceOffset === undefined ? null : Number(r.alignment.first.sourceOffset),
                    targetOffset:
                      r.alignment.first.targetOffset === undefined ? null : Number(r.alignment.first.targetOffset)
                  },
            differs: different.includes(r)
          }))
        },
        null,
        2
      )
    )
    return different.length === 0 ? 0 : 1
  }
  if (reports.length === 0) {
    io.out(
      `${flow.name}: no source topic matches${args.topics === undefined ? '' : ` --topics ${args.topics}`}; nothing to compare`
    )
    return 0
  }
  const header = [
    'topic',
    'partition',
    'source range',
    'target range',
    'copied',
    'missing',
    'extra',
    'differing',
    'duplicates',
    'pending',
    'syncs',
    'first difference'
  ]
  const rows = reports.map(r => {
    const a = r.alignment
    const first =
      a.first === undefined
        ? ''
        : `${a.first.kind} at source ${a.first.sourceOffset ?? '-'} / target ${a.first.targetOffset ?? '-'}`
    return [
      r.topic,
      String(r.partition),
      range(r.source),
      range(r.target),
      String(a.matched),
      String(a.missing),
      String(a.extra),
      String(a.differing),
      String(a.duplicates),
      String(a.pending),
      syncs(r),
      first
    ]
  })
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  for (const row of [header, ...rows])
    io.out(
      row
        .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd()
    )
  const older = reports.reduce((n, r) => n + r.alignment.olderOnTarget, 0)
  if (older > 0)
    io.out(
      `${older} target records are older than their source partition's first record (expired on the source after they were copied): not compared.`
    )
  if (different.length === 0)
    io.out(
      `${flow.name}: the target matches the source in every partition (${reports.reduce((n, r) => n + r.alignment.matched, 0)} records compared).`
    )
  else io.out(`${flow.name}: ${different.length} of ${reports.length} partitions differ.`)
  return different.length === 0 ? 0 : 1
}
