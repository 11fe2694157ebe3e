/**
 * A consumer group's committed source offsets, translated to the target (MirrorCheckpointTask): which
 * partitions count (topic filter on the upstream name), what they are called on the target, and
 * their translated offsets. Shared by the checkpoint flow and the `offsets translate` / `failover`
 * commands, so both give the same answer. Pure.
 */
import type { Checkpoint } from '../formats/checkpoint.ts'
import type { CommittedOffset } from '../kafka/admin.ts'
import type { TopicFilter } from '../policy/filters.ts'
import type { ReplicationPolicy } from '../policy/replication-policy.ts'
import type { OffsetSyncStore, Translation } from './offset-translation.ts'

export interface TranslatedOffset {
  readonly group: string
  /** Topic name on the source. */
  readonly sourceTopic: string
  /** Topic name on the target (renamed by the policy). */
  readonly topic: string
  readonly partition: number
  readonly upstreamOffset: bigint
  readonly metadata: string
  /** Undefined when no offset sync is at or below the committed offset (nothing known yet). */
  readonly translation: Translation | undefined
}

export interface NamingContext {
  readonly source: string
  readonly target: string
  readonly policy: ReplicationPolicy
  readonly topicFilter: TopicFilter
}

/** Java's renameTopicPartition: a topic that came from the target gets its original name back. */
export function remoteTopicName(ctx: NamingContext, sourceTopic: string): string {
  return ctx.policy.topicSource(sourceTopic) === ctx.target
    ? ctx.policy.originalTopic(sourceTopic)
    : ctx.policy.formatRemoteTopic(ctx.source, sourceTopic)
}

/** Every committed offset of the group whose topic passes the filter, sorted by topic and partition. */
export function translateGroup(
  group: string,
  committed: readonly CommittedOffset[],
  store: OffsetSyncStore,
  ctx: NamingContext
): TranslatedOffset[] {
  return committed
    .filter(c => ctx.topicFilter.shouldReplicateTopic(c.topic))
    .map(c => ({
      group,
      sourceTopic: c.topic,
      topic: remoteTopicName(ctx, c.topic),
      partition: c.partition,
      upstreamOffset: c.offset,
      metadata: c.metadata,
      translation: store.translate(c.topic, c.partition, c.offset)
    }))
    .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
}

export function toCheckpoint(t: TranslatedOffset & { translation: Translation }): Checkpoint {
  return {
    group: t.group,
    topic: t.topic,
    partition: t.partition,
    upstreamOffset: t.upstreamOffset,
    downstreamOffset: t.translation.offset,
    metadata: t.metadata
  }
}

/**
 * Java's checkpointIsMoreRecent: emit when there is no previous checkpoint, when the source group
 * itself went back (upstream below the previous one), or when the target offset moves forward.
 * A repeat or an unintended rewind is dropped.
 */
export function isMoreRecent(next: Checkpoint, previous: Checkpoint | undefined): boolean {
  return (
    previous === undefined ||
    next.upstreamOffset < previous.upstreamOffset ||
    next.downstreamOffset > previous.downstreamOffset
  )
}
