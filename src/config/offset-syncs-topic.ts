/**
 * Where a flow's offset syncs live, and so which of the pair's clients reach them. The copier
 * writes them, the checkpoint flow, `verify` and the `offsets` commands read them, so the rule is
 * kept in one place: the topic sits on the cluster `offset-syncs.topic.location` names and is
 * named after the other cluster of the pair (`mm2-offset-syncs.<target>.internal` on the source
 * by default, DefaultReplicationPolicy); it is read with the pair's consumer on that cluster and
 * written with the pair's producer there (config/what-runs.ts offsetSyncsRoles).
 */
import type { FlowConfig } from './model.ts'
import type { ReplicationPolicy } from '../policy/replication-policy.ts'

export interface OffsetSyncsLocation {
  readonly topic: string
  /** Alias of the cluster holding the topic. */
  readonly cluster: string
  readonly side: 'source' | 'target'
}

export function offsetSyncsLocation(flow: FlowConfig, policy: ReplicationPolicy): OffsetSyncsLocation {
  const side = flow.offsetSyncs.location
  return {
    topic: policy.offsetSyncsTopic(side === 'source' ? flow.target : flow.source),
    cluster: side === 'source' ? flow.source : flow.target,
    side
  }
}

/** Of a source/target pair of things (admins, producers), the one on the offset syncs' cluster. */
export function onSyncsSide<T>(location: OffsetSyncsLocation, either: { readonly source: T; readonly target: T }): T {
  return either[location.side]
}
