/**
 * Builds the running mirror from a frozen config: one replication flow per pair that copies, as
 * config/what-runs.ts decides (restricted to the targets given with --clusters, as MM2 does),
 * and one GroupWork per group the pairs' work is shared in (config/run-groups.ts). The group
 * decides which partitions each flow copies here and whether this instance runs a pair's topic
 * sync, checkpoints and heartbeats: alone, an instance gets them all.
 * Building opens no connection; `start()` does; `close()` releases the units (positions
 * stored), leaves the groups, then stops every flow; it is idempotent.
 */
import type { CheckpointFlow, CheckpointFlowStatus } from './checkpoint/checkpoint-flow.ts'
import type { MirrorConfig } from './config/model.ts'
import { runGroups } from './config/run-groups.ts'
import { runPlan } from './config/what-runs.ts'
import { UsageError } from './errors.ts'
import { GroupWork, type GroupWorkStatus } from './group-work.ts'
import type { HeartbeatEmitter, HeartbeatEmitterStatus } from './heartbeat/emitter.ts'
import type { Logger } from './observe/logger.ts'
import { SourceFlow, type SourceFlowStatus } from './source/source-flow.ts'

export interface Mirror {
  /** Where the config came from (a Strimzi resource's name labels the metrics as Strimzi's pods would be). */
  readonly origin: MirrorConfig['origin']
  readonly flows: readonly SourceFlow[]
  /** The heartbeat emitters this instance runs now (its groups deal them). */
  readonly heartbeats: readonly HeartbeatEmitter[]
  /** The checkpoint flows this instance runs now (a Strimzi mirror may have only a checkpointConnector). */
  readonly checkpoints: readonly CheckpointFlow[]
  readonly groups: readonly GroupWork[]
  start(): void
  status(): SourceFlowStatus[]
  groupStatus(): GroupWorkStatus[]
  heartbeatStatus(): HeartbeatEmitterStatus[]
  checkpointStatus(): CheckpointFlowStatus[]
  close(): Promise<void>
}

export function buildMirror(config: MirrorConfig, log: Logger, opts: { targets?: readonly string[] } = {}): Mirror {
  // Like MM2, `--clusters A` on a config that only enables A->B still runs B->A's heartbeats.
  const plan = runPlan(config, opts.targets)
  if (plan.pairs.length === 0)
    throw new UsageError(
      'No source->target replication flows: enable one (e.g. `A->B.enabled = true`, or a mirror with a sourceConnector) or check --clusters.'
    )
  // A group's lease gates the writes of its flows, so the groups exist before the flows.
  const groupOf = new Map<string, GroupWork>()
  const groups = runGroups(plan).map(g => {
    const work = new GroupWork(g, log)
    for (const p of g.pairs) groupOf.set(p.flow.name, work)
    return work
  })
  const flows = plan.copy.map(f => {
    const work = groupOf.get(f.name)
    const flow = new SourceFlow(f, log, {
      configSource: config.loadedFrom,
      gate: work?.membership.lease,
      owner: work?.instance,
      shared: {
        onTopicsChanged: () => {
          work?.topicsChanged(f.name)
        }
      }
    })
    work?.addFlow(flow)
    return flow
  })
  let closing: Promise<void> | undefined
  return {
    origin: config.origin,
    flows,
    get heartbeats() {
      return groups.flatMap(g => g.heartbeats)
    },
    get checkpoints() {
      return groups.flatMap(g => g.checkpoints)
    },
    groups,
    start() {
      for (const f of flows) f.start()
      for (const g of groups) g.start()
    },
    status() {
      return flows.map(f => {
        const st = f.status()
        // A group that cannot be joined (Java MM2 holds it, authorisation): nothing of the flow runs here.
        const refusal = groupOf.get(f.flow.name)?.status().refusal
        return refusal === undefined ? st : { ...st, state: 'not-ready', reason: refusal }
      })
    },
    groupStatus() {
      return groups.map(g => g.status())
    },
    heartbeatStatus() {
      return groups.flatMap(g => g.heartbeats).map(h => h.status())
    },
    checkpointStatus() {
      return groups.flatMap(g => g.checkpoints).map(c => c.status())
    },
    async close() {
      closing ??= (async () => {
        await Promise.all(groups.map(async g => await g.close()))
        await Promise.all(flows.map(async f => await f.close()))
      })()
      await closing
    }
  }
}
