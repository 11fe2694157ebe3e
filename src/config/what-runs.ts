/**
 * The one rule for what a config runs: which parts of each source->target pair run (copying,
 * checkpoints, heartbeats), which pairs `--clusters` keeps, and which clients those parts
 * connect with. The mirror builds its components from it, the start-up check reads the settings
 * of exactly those clients, `validate` connects with them, and the `offsets` commands accept the
 * pairs it says have offset syncs, so no command can disagree with `run` about a pair.
 *
 * MM2's rules, as the config model encodes them:
 * - records are copied only when the pair is enabled (`A->B.enabled`, or a Strimzi mirror with a
 *   running sourceConnector);
 * - heartbeats follow `emit.heartbeats.enabled` whether or not the pair is enabled (MM2 runs its
 *   heartbeat connector for every pair: the reverse pair's heartbeats are what a one-way mirror
 *   replicates back as `S.heartbeats`);
 * - checkpoints need offset syncs to translate with (Java's checkpoint connector fails
 *   validation without them) and, in mm2.properties, the pair enabled; a Strimzi mirror may run
 *   only its checkpointConnector (the loader already folded that connector's presence into
 *   `emitCheckpoints.enabled`).
 * Pure: no I/O.
 */
import { UsageError } from '../errors.ts'
import type { ClientConfig, FlowConfig, MirrorConfig } from './model.ts'

/** What one source->target pair runs. */
export interface PairParts {
  readonly copy: boolean
  readonly checkpoints: boolean
  readonly heartbeats: boolean
}

/**
 * The copying flow a command's `--flow SOURCE->TARGET` names (`verify`, `bench`): a usage error
 * that lists the copying flows when there is none by that name.
 */
export function copyingFlow(config: MirrorConfig, name: string, command: string): FlowConfig {
  const m = /^(.+)->(.+)$/.exec(name)
  if (m === null) throw new UsageError(`${command}: --flow ${name}: expected SOURCE->TARGET, e.g. --flow A->B`)
  const copying = config.flows.filter(f => pairParts(f).copy)
  const flow = copying.find(f => f.source === m[1] && f.target === m[2])
  if (flow === undefined)
    throw new UsageError(
      `${command}: no enabled flow ${name} in the config (flows: ${copying.map(f => f.name).join(', ') || 'none'})`
    )
  return flow
}

export function pairParts(flow: FlowConfig): PairParts {
  return {
    copy: flow.enabled,
    checkpoints:
      flow.emitCheckpoints.enabled && flow.offsetSyncs.enabled && (flow.enabled || flow.naming.style === 'strimzi'),
    heartbeats: flow.emitHeartbeats.enabled
  }
}

export function runsCheckpoints(flow: FlowConfig): boolean {
  return pairParts(flow).checkpoints
}

/** Whether the pair runs anything at all. */
export function runsAnything(flow: FlowConfig): boolean {
  const parts = pairParts(flow)
  return parts.copy || parts.checkpoints || parts.heartbeats
}

/**
 * Whether the pair has offset syncs that `offsets translate` and `failover` can read: its copy
 * writes them, or its checkpoints read them (written by whichever mirror copies the pair).
 */
export function hasOffsetSyncs(flow: FlowConfig): boolean {
  const parts = pairParts(flow)
  return flow.offsetSyncs.enabled && (parts.copy || parts.checkpoints)
}

/** The pairs whose parts run, by part, in config order. */
export interface RunPlan {
  readonly copy: readonly FlowConfig[]
  readonly checkpoints: readonly FlowConfig[]
  readonly heartbeats: readonly FlowConfig[]
  /** Every pair that runs any part. */
  readonly pairs: readonly FlowConfig[]
}

/**
 * What `run` runs: every pair whose target is one of `targets` (all pairs when none are given,
 * as MM2's `--clusters`), each with the parts pairParts says. An alias that names no cluster is
 * a UsageError.
 */
export function runPlan(config: MirrorConfig, targets: readonly string[] = []): RunPlan {
  for (const t of targets) {
    if (!config.clusters.has(t))
      throw new UsageError(
        `--clusters ${t}: no cluster with that alias (known: ${[...config.clusters.keys()].join(', ')})`
      )
  }
  const targeted = config.flows.filter(f => targets.length === 0 || targets.includes(f.target))
  return {
    copy: targeted.filter(f => pairParts(f).copy),
    checkpoints: targeted.filter(f => pairParts(f).checkpoints),
    heartbeats: targeted.filter(f => pairParts(f).heartbeats),
    pairs: targeted.filter(runsAnything)
  }
}

export type ClientRole = keyof FlowConfig['clients']

/**
 * The roles that reach a pair's offset syncs: its consumer and producer on the cluster
 * `offset-syncs.topic.location` names (config/offset-syncs-topic.ts names the topic).
 */
export function offsetSyncsRoles(flow: FlowConfig): { readonly reader: ClientRole; readonly writer: ClientRole } {
  return flow.offsetSyncs.location === 'source'
    ? { reader: 'sourceConsumer', writer: 'sourceProducer' }
    : { reader: 'targetConsumer', writer: 'targetProducer' }
}

/**
 * The client roles a pair's running parts connect with, as the components build them: the copy
 * reads the source, writes the target, keeps positions on the target and writes offset syncs
 * with the producer of the side they live on; checkpoints read groups on the source, the
 * offset syncs on their side and the checkpoints topic on the target, and write to the target;
 * heartbeats only write to the target.
 */
export function clientRoles(flow: FlowConfig): ReadonlySet<ClientRole> {
  const parts = pairParts(flow)
  const roles = new Set<ClientRole>()
  const syncs = offsetSyncsRoles(flow)
  if (parts.copy) {
    roles.add('sourceAdmin').add('sourceConsumer').add('targetAdmin').add('targetProducer').add('targetConsumer')
    if (flow.offsetSyncs.enabled) roles.add(syncs.writer)
  }
  if (parts.checkpoints)
    roles.add('sourceAdmin').add('targetAdmin').add('targetProducer').add('targetConsumer').add(syncs.reader)
  if (parts.heartbeats) roles.add('targetAdmin').add('targetProducer')
  return roles
}

/** A client a running part connects with, and the pair and role it serves (for messages). */
export interface ClientUse {
  readonly flow: FlowConfig
  readonly role: ClientRole
  readonly config: ClientConfig
}

/** Every client the plan's pairs connect with, pair by pair in config order. */
export function clientsInUse(plan: RunPlan): ClientUse[] {
  return plan.pairs.flatMap(flow => [...clientRoles(flow)].map(role => ({ flow, role, config: flow.clients[role] })))
}

/** The clusters a pair's running parts connect to: `source` only when a part reads or writes it. */
export function sidesInUse(flow: FlowConfig): { readonly source: boolean; readonly target: boolean } {
  const roles = [...clientRoles(flow)]
  return { source: roles.some(r => r.startsWith('source')), target: roles.some(r => r.startsWith('target')) }
}
