/**
 * Builds the running mirror from a frozen config: one replication flow per enabled
 * source->target pair (restricted to the targets given with --clusters, as MM2 does).
 * Building opens no connection; `start()` does; `close()` stops every flow in parallel and is
 * idempotent.
 */
import type { MirrorConfig } from './config/model.ts'
import { UsageError } from './errors.ts'
import type { Logger } from './observe/logger.ts'
import { SourceFlow, type SourceFlowStatus } from './source/source-flow.ts'

export interface Mirror {
  readonly flows: readonly SourceFlow[]
  start (): void
  status (): SourceFlowStatus[]
  close (): Promise<void>
}

export function buildMirror (config: MirrorConfig, log: Logger, opts: { targets?: readonly string[] } = {}): Mirror {
  for (const t of opts.targets ?? []) {
    if (!config.clusters.has(t)) throw new UsageError(`--clusters ${t}: no cluster with that alias (known: ${[...config.clusters.keys()].join(', ')})`)
  }
  const selected = config.flows.filter(f => f.enabled && (opts.targets === undefined || opts.targets.length === 0 || opts.targets.includes(f.target)))
  if (selected.length === 0) throw new UsageError('No source->target replication flows: enable one (e.g. `A->B.enabled = true`, or a mirror with a sourceConnector) or check --clusters.')
  const flows = selected.map(f => new SourceFlow(f, log))
  let closing: Promise<void> | undefined
  return {
    flows,
    start () { for (const f of flows) f.start() },
    status () { return flows.map(f => f.status()) },
    async close () {
      closing ??= Promise.all(flows.map(async f => { await f.close() })).then(() => {})
      await closing
    }
  }
}
