/**
 * Where a flow's offset syncs live. The copier writes them, the checkpoint flow and the
 * `offsets` commands read them, so the rule is kept in one place: the topic sits on the cluster
 * `offset-syncs.topic.location` names and is named after the other cluster of the pair
 * (`mm2-offset-syncs.<target>.internal` on the source by default, DefaultReplicationPolicy).
 */
import type { FlowConfig } from './model.ts'
import type { ReplicationPolicy } from '../policy/replication-policy.ts'

export interface OffsetSyncsLocation {
  readonly topic: string
  /** Alias of the cluster holding the topic. */
  readonly cluster: string
  readonly onSource: boolean
}

export function offsetSyncsLocation (flow: FlowConfig, policy: ReplicationPolicy): OffsetSyncsLocation {
  const onSource = flow.offsetSyncs.location === 'source'
  return { topic: policy.offsetSyncsTopic(onSource ? flow.target : flow.source), cluster: onSource ? flow.source : flow.target, onSource }
}
