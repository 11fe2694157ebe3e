/**
 * The compacted topics the mirror keeps its state in (positions, offset syncs, checkpoints,
 * heartbeats) are created here and only here: `cleanup.policy=compact`, the given partitions and
 * replication factor, created when missing. As MM2 does for its internal topics
 * (MirrorUtils.createCompactedTopic), a create that fails is not fatal when the topic exists
 * anyway (a mirror allowed to write but not to create topics, whose topics were made for it);
 * otherwise its error is thrown.
 */
import type { KafkaAdmin } from './admin.ts'

export interface StateTopic {
  readonly name: string
  readonly partitions: number
  /** -1 = the broker's default. */
  readonly replicationFactor: number
}

/** 'created' when this call created the topic, 'exists' when it was there already. */
export async function ensureCompactedTopic(admin: KafkaAdmin, topic: StateTopic): Promise<'created' | 'exists'> {
  const outcome = await admin.createTopic({ ...topic, configs: { 'cleanup.policy': 'compact' } })
  if (outcome.status !== 'failed') return outcome.status
  if ((await admin.describeTopics([topic.name])).has(topic.name)) return 'exists'
  throw outcome.error
}
