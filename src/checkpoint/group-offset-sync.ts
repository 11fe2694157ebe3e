/**
 * `sync.group.offsets.enabled` (KIP-545): commits each group's checkpointed
 * offsets into the same group on the target, so consumers started there resume where the
 * checkpoints say.
 *
 * Safer than Java: a group with members on the target is never touched (Java leaves that to the
 * broker's rejection and can race a group that just became active), and a partition is only moved
 * forward, never back, for every group (Java skips that check for groups it did not see idle).
 */
import type { Checkpoint } from '../formats/checkpoint.ts'
import type { KafkaAdmin } from '../kafka/admin.ts'
import { tpKey } from '../kafka/types.ts'
import type { Logger } from '../observe/logger.ts'

export interface GroupSyncResult {
  /** Partitions committed. */
  readonly committed: number
  readonly activeSkipped: readonly string[]
}

export interface OffsetToCommit {
  readonly topic: string
  readonly partition: number
  readonly offset: bigint
  readonly current: bigint | undefined
}

/** The offsets that move the target group forward (pure). */
export function forwardOnly(
  checkpoints: readonly Checkpoint[],
  current: ReadonlyMap<string, bigint>
): OffsetToCommit[] {
  const out: OffsetToCommit[] = []
  for (const cp of checkpoints) {
    const now = current.get(tpKey(cp.topic, cp.partition))
    if (now === undefined || now < cp.downstreamOffset)
      out.push({ topic: cp.topic, partition: cp.partition, offset: cp.downstreamOffset, current: now })
  }
  return out
}

export async function syncGroupOffsets(
  targetAdmin: KafkaAdmin,
  byGroup: ReadonlyMap<string, readonly Checkpoint[]>,
  log: Logger
): Promise<GroupSyncResult> {
  let committed = 0
  const activeSkipped: string[] = []
  for (const [group, checkpoints] of byGroup) {
    try {
      const activity = await targetAdmin.groupActivity(group)
      if (activity.active) {
        activeSkipped.push(group)
        log.debug('group has members on the target; not syncing its offsets', { group, state: activity.state })
        continue
      }
      const current = new Map(
        (await targetAdmin.listGroupOffsets(group)).map(o => [tpKey(o.topic, o.partition), o.offset])
      )
      const todo = forwardOnly(checkpoints, current)
      if (todo.length === 0) continue
      await targetAdmin.alterGroupOffsets(group, todo)
      committed += todo.length
      log.debug('synced group offsets to the target', { group, partitions: todo.length })
    } catch (err) {
      // Most likely the group became active between the check and the commit (the broker refuses then).
      log.warn('could not sync group offsets to the target', { group, error: err as Error })
    }
  }
  return { committed, activeSkipped }
}
