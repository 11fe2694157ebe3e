/**
 * A pair's replication policy and filters, built from its FlowConfig in one place for every
 * part that needs them: the copy (topic selection, config sync), checkpoints (group and topic
 * filters), heartbeats (the heartbeats topic name), the `offsets` commands and the copier
 * worker threads. Built once per FlowConfig object (the config is frozen, the filters are pure),
 * so two parts of one pair can never hold different rules.
 */
import { type ConfigPropertyFilter, createFilters, type GroupFilter, type TopicFilter } from '../policy/filters.ts'
import { createReplicationPolicy, type ReplicationPolicy } from '../policy/replication-policy.ts'
import type { FlowConfig } from './model.ts'

export interface FlowRules {
  /** The pair's policy, with its source alias (IdentityReplicationPolicy attributes topics to it). */
  readonly policy: ReplicationPolicy
  readonly topicFilter: TopicFilter
  readonly groupFilter: GroupFilter
  readonly configPropertyFilter: ConfigPropertyFilter
}

const built = new WeakMap<FlowConfig, FlowRules>()

export function flowRules(flow: FlowConfig): FlowRules {
  let rules = built.get(flow)
  if (rules === undefined) {
    rules = { policy: createReplicationPolicy(flow.replicationPolicy, flow.source), ...createFilters(flow) }
    built.set(flow, rules)
  }
  return rules
}
