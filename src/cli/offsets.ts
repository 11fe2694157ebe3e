/**
 * `kafka-mirror offsets translate` and `kafka-mirror failover`: where a consumer group of the
 * source must resume on the target, and committing it there.
 *
 * Both translate LIVE: the offset syncs (read to their end) and the group's committed offsets
 * on the source now, with the same exact translation the checkpoint flow uses. So the answer is
 * exact even when no checkpointer runs and is never older than the last checkpoint interval. The
 * latest checkpoint (from `<S>.checkpoints.internal`) is shown next to it for comparison. When
 * the source cluster is gone (the real disaster), use the checkpoints: consumers can read them
 * with Java's RemoteClusterUtils, or sync.group.offsets.enabled has already committed them.
 */
import { CheckpointStore } from '../checkpoint/checkpoint-store.ts'
import { forwardOnly } from '../checkpoint/group-offset-sync.ts'
import { translateGroup, type TranslatedOffset } from '../checkpoint/group-translation.ts'
import { followOffsetSyncs } from '../checkpoint/offset-sync-follower.ts'
import { OffsetSyncStore } from '../checkpoint/offset-translation.ts'
import { pairClientId } from '../config/client-ids.ts'
import { flowRules } from '../config/flow-rules.ts'
import type { FlowConfig, LoadedConfig } from '../config/model.ts'
import { hasOffsetSyncs } from '../config/what-runs.ts'
import { UsageError } from '../errors.ts'
import { KafkaAdmin } from '../kafka/admin.ts'
import { tpKey } from '../kafka/types.ts'
import { createLogger } from '../observe/logger.ts'
import { offsetSyncsLocation } from '../config/offset-syncs-topic.ts'

export interface OffsetsArgs {
  readonly group: string
  readonly from: string
  readonly to: string
  readonly json: boolean
  readonly dryRun: boolean
}

interface Io {
  readonly out: (line: string) => void
  readonly err: (line: string) => void
}

interface Row extends TranslatedOffset {
  readonly checkpoint: bigint | undefined
}

/** The pair from->to with offset syncs to translate with (a heartbeats-only pair has none). */
function findFlow(loaded: LoadedConfig, from: string, to: string): FlowConfig {
  const flows = loaded.config.flows.filter(hasOffsetSyncs)
  const flow = flows.find(f => f.source === from && f.target === to)
  if (flow !== undefined) return flow
  throw new UsageError(`no flow ${from}->${to} in the config (flows: ${flows.map(f => f.name).join(', ') || 'none'})`)
}

/** The group's offsets translated now, with the latest checkpoint of each partition. */
async function translateNow(flow: FlowConfig, group: string): Promise<Row[]> {
  const { policy, topicFilter } = flowRules(flow)
  const { topic: syncsTopic, cluster: syncsCluster } = offsetSyncsLocation(flow, policy)
  const id = (role: string): string => pairClientId(flow, `offsets-${role}`)
  const sourceAdmin = new KafkaAdmin(flow.clients.sourceAdmin, id('source-admin'))
  const targetAdmin = new KafkaAdmin(flow.clients.targetAdmin, id('target-admin'))
  const store = new OffsetSyncStore()
  const follower = followOffsetSyncs(
    flow,
    policy,
    { source: sourceAdmin, target: targetAdmin },
    store,
    id('syncs-reader'),
    createLogger('offsets', () => {})
  )
  try {
    const [committed, found] = await Promise.all([sourceAdmin.listGroupOffsets(group), follower.catchUp()])
    if (!found)
      throw new UsageError(
        `offset syncs topic ${syncsTopic} does not exist on ${syncsCluster}: has ${flow.name} replicated anything yet?`
      )
    const checkpoints = new CheckpointStore()
    await checkpoints.load(
      targetAdmin,
      flow.clients.targetConsumer,
      policy.checkpointsTopic(flow.source),
      id('checkpoints-reader'),
      g => g === group
    )
    return translateGroup(group, committed, store, {
      source: flow.source,
      target: flow.target,
      policy,
      topicFilter
    }).map(t => ({ ...t, checkpoint: checkpoints.get(group, t.topic, t.partition)?.downstreamOffset }))
  } finally {
    await Promise.all([follower.close(), sourceAdmin.close(), targetAdmin.close()])
  }
}

function how(r: Row): string {
  if (r.translation === undefined) return `no offset sync at or below ${r.upstreamOffset} yet`
  return r.translation.exact ? 'exact' : 'safe (+1 rule: may re-read records after the last sync)'
}

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')
  return [line(header), ...rows.map(line)]
}

const num = (v: bigint | undefined): number | null => (v === undefined ? null : Number(v))
const show = (v: bigint | undefined): string => (v === undefined ? '-' : String(v))

function noOffsets(flow: FlowConfig, group: string, io: Io): number {
  io.err(
    `kafka-mirror: group ${group} has no committed offsets on ${flow.source} for topics that ${flow.name} replicates`
  )
  return 1
}

export async function translateCommand(loaded: LoadedConfig, args: OffsetsArgs, io: Io): Promise<number> {
  const flow = findFlow(loaded, args.from, args.to)
  const rows = await translateNow(flow, args.group)
  if (args.json) {
    io.out(
      JSON.stringify(
        {
          group: args.group,
          from: flow.source,
          to: flow.target,
          partitions: rows.map(r => ({
            topic: r.topic,
            sourceTopic: r.sourceTopic,
            partition: r.partition,
            sourceOffset: num(r.upstreamOffset),
            targetOffset: num(r.translation?.offset),
            exact: r.translation?.exact ?? false,
            checkpoint: num(r.checkpoint)
          }))
        },
        null,
        2
      )
    )
    return rows.length === 0 ? 1 : 0
  }
  if (rows.length === 0) return noOffsets(flow, args.group, io)
  io.out(
    `group ${args.group}, ${flow.source} -> ${flow.target} (translated now from the offset syncs and the group's offsets on ${flow.source})`
  )
  for (const l of table(
    ['TOPIC', 'PARTITION', 'SOURCE-OFFSET', 'TARGET-OFFSET', 'CHECKPOINT', 'TRANSLATION'],
    rows.map(r => [
      r.topic,
      String(r.partition),
      String(r.upstreamOffset),
      show(r.translation?.offset),
      show(r.checkpoint),
      how(r)
    ])
  ))
    io.out(l)
  return 0
}

export async function failoverCommand(loaded: LoadedConfig, args: OffsetsArgs, io: Io): Promise<number> {
  const flow = findFlow(loaded, args.from, args.to)
  const targetAdmin = new KafkaAdmin(flow.clients.targetAdmin, pairClientId(flow, 'failover-target-admin'))
  try {
    const activity = await targetAdmin.groupActivity(args.group)
    if (activity.active) {
      const members = activity.members >= 0 ? `${activity.members} active member(s)` : 'active members'
      io.err(
        `kafka-mirror: group ${args.group} has ${members} on ${flow.target} (state ${activity.state}); stop its consumers on ${flow.target} first, nothing was committed`
      )
      return 1
    }
    const rows = await translateNow(flow, args.group)
    if (rows.length === 0) return noOffsets(flow, args.group, io)
    const current = new Map(
      (await targetAdmin.listGroupOffsets(args.group)).map(o => [tpKey(o.topic, o.partition), o.offset])
    )
    const known = rows.filter(r => r.translation !== undefined)
    const todo = forwardOnly(
      known.map(r => ({
        group: r.group,
        topic: r.topic,
        partition: r.partition,
        upstreamOffset: r.upstreamOffset,
        downstreamOffset: r.translation?.offset ?? 0n,
        metadata: r.metadata
      })),
      current
    )
    const commits = new Set(todo.map(t => tpKey(t.topic, t.partition)))
    const action = (r: Row): string => {
      if (r.translation === undefined) return `skip: ${how(r)}`
      const k = tpKey(r.topic, r.partition)
      if (commits.has(k))
        return `${args.dryRun ? 'would commit' : 'commit'} (${r.translation.exact ? 'exact' : 'safe +1 rule'})`
      return `keep: the target group is already at ${show(current.get(k))}`
    }
    io.out(
      `group ${args.group}, ${flow.source} -> ${flow.target}${args.dryRun ? ' (dry run: nothing is written)' : ''}`
    )
    for (const l of table(
      ['TOPIC', 'PARTITION', 'SOURCE-OFFSET', 'TARGET-OFFSET', 'TARGET-NOW', 'ACTION'],
      rows.map(r => [
        r.topic,
        String(r.partition),
        String(r.upstreamOffset),
        show(r.translation?.offset),
        show(current.get(tpKey(r.topic, r.partition))),
        action(r)
      ])
    ))
      io.out(l)
    if (args.dryRun) return 0
    if (todo.length > 0) {
      // Re-check right before writing: the broker refuses a commit for an active group anyway,
      // but a clear message beats its UNKNOWN_MEMBER_ID.
      if ((await targetAdmin.groupActivity(args.group)).active) {
        io.err(`kafka-mirror: group ${args.group} became active on ${flow.target}; nothing was committed`)
        return 1
      }
      await targetAdmin.alterGroupOffsets(args.group, todo)
    }
    io.out(`committed ${todo.length} partition(s) of group ${args.group} on ${flow.target}`)
    return 0
  } finally {
    await targetAdmin.close()
  }
}
