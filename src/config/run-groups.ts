/**
 * The groups instances running one config share their work in (docs/DESIGN.md, "Instances
 * sharing the work"): one per (target cluster, worker group id), as Kafka Connect runs one
 * worker group per herder. From mm2.properties that is one group per source->target pair
 * (`<source>-mm2` on the target, or `<target>.group.id`); from a Strimzi resource every pair
 * shares the resource's one Connect group (`target.groupId`, default `mirrormaker2-cluster`).
 * Pure: no I/O.
 */
import { createHash } from 'node:crypto'
import type { ClientConfig, FlowConfig, GroupTimeouts } from './model.ts'
import type { RunPlan } from './what-runs.ts'

/** The singleton jobs of a pair, as the group deals them (src/group/units.ts). */
export type PairJob = 'topics' | 'checkpoints' | 'heartbeats'

export interface RunGroupPair {
  readonly flow: FlowConfig
  /** `topics` for a copying pair (it also carries the pair's partitions), then checkpoints, heartbeats. */
  readonly jobs: readonly PairJob[]
}

export interface RunGroup {
  /** Alias of the cluster the group lives on (every pair's target). */
  readonly cluster: string
  readonly groupId: string
  /** The client the membership talks to the coordinator with (the first pair's target admin settings). */
  readonly clients: ClientConfig
  readonly timeouts: GroupTimeouts
  readonly pairs: readonly RunGroupPair[]
}

/**
 * What the coordinator and the lease argument need of the three timeouts (docs/DESIGN.md,
 * "Scale-out"): the key at fault and why, or undefined when they fit. A heartbeat must come
 * within the session; a member must not be removable (rebalance timeout) before its session
 * timeout, or the write lease could outlive the membership.
 */
export function groupTimeoutsProblem(t: GroupTimeouts): { key: string; message: string } | undefined {
  if (!(t.heartbeatIntervalMs > 0 && t.heartbeatIntervalMs < t.sessionTimeoutMs))
    return {
      key: 'heartbeat.interval.ms',
      message: `heartbeat.interval.ms (${t.heartbeatIntervalMs}) must be above 0 and below session.timeout.ms (${t.sessionTimeoutMs})`
    }
  if (t.rebalanceTimeoutMs < t.sessionTimeoutMs)
    return {
      key: 'rebalance.timeout.ms',
      message: `rebalance.timeout.ms (${t.rebalanceTimeoutMs}) must be at least session.timeout.ms (${t.sessionTimeoutMs}): an instance's write lease relies on it`
    }
  return undefined
}

/** The plan's pairs grouped by (target, worker group id), in config order. */
export function runGroups(plan: RunPlan): RunGroup[] {
  const groups = new Map<string, { cluster: string; groupId: string; flows: FlowConfig[] }>()
  for (const flow of plan.pairs) {
    const key = `${flow.target}\u0000${flow.naming.workerGroupId}`
    const g = groups.get(key) ?? { cluster: flow.target, groupId: flow.naming.workerGroupId, flows: [] }
    g.flows.push(flow)
    groups.set(key, g)
  }
  return [...groups.values()].map(g => {
    const first = g.flows[0] as FlowConfig
    return {
      cluster: g.cluster,
      groupId: g.groupId,
      clients: first.clients.targetAdmin,
      timeouts: first.group,
      pairs: g.flows.map(flow => ({ flow, jobs: pairJobs(plan, flow) }))
    }
  })
}

function pairJobs(plan: RunPlan, flow: FlowConfig): PairJob[] {
  const jobs: PairJob[] = []
  if (plan.copy.includes(flow)) jobs.push('topics')
  if (plan.checkpoints.includes(flow)) jobs.push('checkpoints')
  if (plan.heartbeats.includes(flow)) jobs.push('heartbeats')
  return jobs
}

/**
 * A digest of what a pair does (everything but how its clients connect, which may differ per
 * instance, e.g. a certificate per pod): instances whose digests differ run different configs,
 * and the group deals that pair's units only to members that agree with its leader. Secrets
 * are never part of it (a Secret serialises as [redacted]).
 */
export function flowDigest(flow: FlowConfig): string {
  const { clients: _clients, exactlyOnce, ...rest } = flow
  // With the mode off the exactly-once settings change nothing a pair does, so they are left out:
  // such a flow keeps the digest it had before they were modelled, and a rolling upgrade keeps
  // sharing its units. Turning the mode on changes the digest (docs/exactly-once-plan.md §5.6).
  const semantics = exactlyOnce.enabled ? { ...rest, exactlyOnce } : rest
  const json = JSON.stringify(semantics, (_key, value: unknown) => {
    if (value instanceof Map) return [...(value as Map<unknown, unknown>).entries()]
    if (value instanceof Set) return [...(value as Set<unknown>).values()]
    if (typeof value === 'bigint') return value.toString()
    if (value instanceof RegExp) return value.source
    return value
  })
  return createHash('sha256').update(json).digest('hex').slice(0, 16)
}
