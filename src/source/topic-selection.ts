/**
 * Which source topics a flow copies and what they are called on the target: the flow's
 * replication policy and filters (config/flow-rules.ts; MirrorSourceConnector, DefaultTopicFilter). Shared by the
 * running flow and by `validate`, so the plan shown is the plan run.
 */
import { flowRules } from '../config/flow-rules.ts'
import type { FlowConfig } from '../config/model.ts'
import { type ConfigPropertyFilter, shouldReplicateTopic, type TopicSelection as Selection } from '../policy/filters.ts'
import type { ReplicationPolicy } from '../policy/replication-policy.ts'

export class TopicSelection {
  readonly policy: ReplicationPolicy
  readonly configFilter: ConfigPropertyFilter
  readonly #flow: FlowConfig
  readonly #selection: Selection

  constructor(flow: FlowConfig) {
    const { policy, topicFilter, configPropertyFilter } = flowRules(flow)
    this.#flow = flow
    this.policy = policy
    this.configFilter = configPropertyFilter
    this.#selection = {
      filter: topicFilter,
      policy: this.policy,
      targetAlias: flow.target,
      heartbeatsReplicationEnabled: flow.heartbeatsReplicationEnabled
    }
  }

  /** The topics among `all` (source topic names) that the flow copies, sorted. */
  select(all: readonly string[]): string[] {
    return all.filter(t => shouldReplicateTopic(t, this.#selection)).sort()
  }

  remoteName(sourceTopic: string): string {
    return this.policy.formatRemoteTopic(this.#flow.source, sourceTopic)
  }
}
