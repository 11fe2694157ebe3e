/**
 * `kafka-mirror bench --config F --flow A->B [--records N] [--size BYTES] [--partitions P]
 * [--rate R --duration S] [--compression C] [--json]`: what the mirror can do between the user's
 * own clusters (src/bench/bench-run.ts does the run). Progress goes to stderr (a bar on a
 * terminal, a line a second otherwise); the figures go to stdout, as text or JSON. Ctrl-C stops
 * the run and still deletes the scratch topics.
 */
import type { LoadedConfig } from '../config/model.ts'
import { type BenchOptions, type BenchProgress, type BenchResult, runBench } from '../bench/bench-run.ts'
import { createLogger } from '../observe/logger.ts'

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

export interface Io {
  out: (line: string) => void
  err: (text: string) => void
  tty: boolean
}

function progressText(p: BenchProgress, tty: boolean): string {
  const share = p.total === 0 ? 1 : Math.min(1, p.received / p.total)
  const line = `${p.elapsedS.toFixed(0)} s: sent ${p.sent} of ${p.total}, on the target ${p.received} (${Math.round(share * 100)}%)`
  if (!tty) return line + '\n'
  const width = 30
  const filled = Math.round(share * width)
  return `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${line}   `
}

function summary(r: BenchResult): string[] {
  const q = r.latency
  return [
    `flow ${r.flow}: ${r.received} of ${r.records} records of ${r.size} B (${r.compression}) through ${r.partitions} partitions, ${r.rate === undefined ? 'flat out' : `at ${r.rate} records/s`}`,
    `throughput      ${Math.round(r.recordsPerS)} records/s, ${r.mbPerS.toFixed(1)} MB/s (first to last record on the target, ${r.seconds.toFixed(1)} s)`,
    `latency         ${q === undefined ? 'no records' : `p50 ${q.p50} ms, p95 ${q.p95} ms, p99 ${q.p99} ms, max ${q.max} ms`} (end to end: sent on ${r.flow.split('->')[0] ?? ''} to read on ${r.flow.split('->')[1] ?? ''}${r.rate === undefined ? '; flat out, so it includes the wait behind the backlog: use --rate to measure latency' : ''})`,
    `copy CPU        ${r.copyCpuS.toFixed(1)} CPU-s, ${r.copyCpuSPerGb.toFixed(1)} CPU-s per GB of values`,
    `peak memory     ${Math.round(r.peakRssMb)} MB resident (the copy's process; the load and the reader run apart)`,
    ...(r.duplicates > 0
      ? [
          `duplicates      ${r.duplicates} records arrived twice or more (sends retried after a lost answer, or copied again)`
        ]
      : []),
    `scratch topics  ${r.topic} and ${r.remote}: ${r.scratchLeft.length === 0 ? 'deleted' : `NOT deleted, delete them by hand: ${r.scratchLeft.join(', ')}`}`
  ]
}

export async function benchCommand(
  loaded: LoadedConfig,
  opts: BenchOptions & { json: boolean },
  io: Io
): Promise<number> {
  const abort = new AbortController()
  // Every stop signal is caught for the whole run: a second Ctrl-C must not kill the cleanup.
  const onSignal = (): void => {
    const said = abort.signal.aborted
      ? 'still deleting the scratch topics...'
      : 'stopping: deleting the scratch topics...'
    io.err(io.tty ? `\n${said}\n` : `${said}\n`)
    abort.abort()
  }
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal)
  try {
    const result = await runBench(loaded, opts, {
      log: createLogger(
        'bench',
        line => {
          io.err(line + '\n')
        },
        'warn'
      ),
      progress: p => {
        io.err(progressText(p, io.tty))
      },
      signal: abort.signal
    })
    if (io.tty) io.err('\n')
    if (opts.json) io.out(JSON.stringify(result, null, 2))
    else for (const line of summary(result)) io.out(line)
    return result.received >= result.records && result.scratchLeft.length === 0 ? 0 : 1
  } finally {
    for (const signal of STOP_SIGNALS) process.removeListener(signal, onSignal)
  }
}
