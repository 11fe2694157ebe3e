/**
 * Builds the running mirror from a frozen config: one replication flow, checkpoint flow and
 * heartbeat emitter per pair that runs that part, as config/what-runs.ts decides (restricted to
 * the targets given with --clusters, as MM2 does).
 * Building opens no connection; `start()` does; `close()` stops every flow in parallel and is
 * idempotent.
 */
import { CheckpointFlow, type CheckpointFlowStatus } from './checkpoint/checkpoint-flow.ts'
import type { MirrorConfig } from './config/model.ts'
import { runPlan } from './config/what-runs.ts'
import { UsageError } from './errors.ts'
import { HeartbeatEmitter, type HeartbeatEmitterStatus } from './heartbeat/emitter.ts'
import type { Logger } from './observe/logger.ts'
import { SourceFlow, type SourceFlowStatus } from './source/source-flow.ts'

export interface Mirror {
  /** Where the config came from (a Strimzi resource's name labels the metrics as Strimzi's pods would be). */
  readonly origin: MirrorConfig['origin']
  readonly flows: readonly SourceFlow[]
  readonly heartbeats: readonly HeartbeatEmitter[]
  /** One per flow that emits checkpoints (a Strimzi mirror may have only a checkpointConnector). */
  readonly checkpoints: readonly CheckpointFlow[]
  start(): void
  status(): SourceFlowStatus[]
  heartbeatStatus(): HeartbeatEmitterStatus[]
  checkpointStatus(): CheckpointFlowStatus[]
  close(): Promise<void>
}

export function buildMirror(config: MirrorConfig, log: Logger, opts: { targets?: readonly string[] } = {}): Mirror {
  // Like MM2, `--clusters A` on a config that only enables A->B still runs B->A's heartbeats.
  const plan = runPlan(config, opts.targets)
  const checkpoints = plan.checkpoints.map(f => new CheckpointFlow(f, log))
  const flows = plan.copy.map(f => new SourceFlow(f, log, { configSource: config.loadedFrom }))
  const heartbeats = plan.heartbeats.map(f => new HeartbeatEmitter(f, log))
  if (plan.pairs.length === 0)
    throw new UsageError(
      'No source->target replication flows: enable one (e.g. `A->B.enabled = true`, or a mirror with a sourceConnector) or check --clusters.'
    )
  let closing: Promise<void> | undefined
  return {
    origin: config.origin,
    flows,
    heartbeats,
    checkpoints,
    start() {
      for (const f of flows) f.start()
      for (const h of heartbeats) h.start()
      for (const c of checkpoints) c.start()
    },
    status() {
      return flows.map(f => f.status())
    },
    heartbeatStatus() {
      return heartbeats.map(h => h.status())
    },
    checkpointStatus() {
      return checkpoints.map(c => c.status())
    },
    async close() {
      closing ??= Promise.all(
        [...flows, ...heartbeats, ...checkpoints].map(async f => {
          await f.close()
        })
      ).then(() => {})
      await closing
    }
  }
}
