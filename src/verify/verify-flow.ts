/**
 * `verify` for one flow: reads every copied topic partition on both clusters (the target up to
 * its end when verify starts, the source up to its end a moment later, so a running mirror only
 * adds pending records), digests each record, lines the two up (partition-alignment.ts) and checks
 * the flow's offset syncs against that alignment. Reads only; writes nothing anywhere.
 */
import { followOffsetSyncs } from '../checkpoint/offset-sync-follower.ts'
import { OffsetSyncStore } from '../checkpoint/offset-translation.ts'
import { pairClientId } from '../config/client-ids.ts'
import type { ClientConfig, FlowConfig } from '../config/model.ts'
import { KafkaError } from '../errors.ts'
import { KafkaAdmin } from '../kafka/admin.ts'
import { PartitionReader } from '../kafka/partition-reader.ts'
import { type TopicPartition, tpKey } from '../kafka/types.ts'
import type { Logger } from '../observe/logger.ts'
import { TopicSelection } from '../source/topic-selection.ts'
import { alignPartition, type Digested, type PartitionAlignment } from './partition-alignment.ts'
import { recordDigest } from './record-digest.ts'

export interface OffsetRange {
  /** The log start offset (the first offset still held). */
  readonly start: bigint
  /** The end offset (next offset to be written) when read. */
  readonly end: bigint
}

export interface PartitionReport {
  readonly topic: string
  readonly remote: string
  readonly partition: number
  readonly source: OffsetRange
  /** Undefined when the remote topic or partition does not exist on the target. */
  readonly target: OffsetRange | undefined
  readonly alignment: PartitionAlignment
}

/** A read that makes no progress for this long fails (a partition whose leader is gone). */
const STALL_MS = 30_000

export async function verifyFlow(flow: FlowConfig, opts: { topics?: RegExp; log: Logger }): Promise<PartitionReport[]> {
  const selection = new TopicSelection(flow)
  const id = (role: string): string => pairClientId(flow, `verify-${role}`)
  const sourceAdmin = new KafkaAdmin(flow.clients.sourceAdmin, id('source-admin'))
  const targetAdmin = new KafkaAdmin(flow.clients.targetAdmin, id('target-admin'))
  const syncs = new OffsetSyncStore()
  const follower = followOffsetSyncs(
    flow,
    selection.policy,
    { source: sourceAdmin, target: targetAdmin },
    syncs,
    id('syncs-reader'),
    opts.log
  )
  try {
    const topics = selection
      .select(await sourceAdmin.listTopics())
      .filter(t => opts.topics === undefined || opts.topics.test(t))
    if (topics.length === 0) return []
    const described = await sourceAdmin.describeTopics(topics)
    const remotes = await targetAdmin.describeTopics(topics.map(t => selection.remoteName(t)))
    const sourceTps: TopicPartition[] = []
    const targetTps: TopicPartition[] = []
    for (const topic of topics) {
      const partitions = described.get(topic)?.partitions ?? 0
      const remote = selection.remoteName(topic)
      const remotePartitions = remotes.get(remote)?.partitions ?? 0
      for (let partition = 0; partition < partitions; partition++) {
        sourceTps.push({ topic, partition })
        if (partition < remotePartitions) targetTps.push({ topic: remote, partition })
      }
    }
    // The target's ends first: what was copied when verify started. The source's after it, so a
    // record copied in between is on both sides or only pending, never missing.
    const targetRanges = await ranges(targetAdmin, targetTps)
    const sourceRanges = await ranges(sourceAdmin, sourceTps)
    const targetDigests = await readDigests(
      {
        ...flow.clients.targetConsumer,
        props: { ...flow.clients.targetConsumer.props, 'isolation.level': 'read_uncommitted' }
      },
      id('target-reader'),
      targetTps,
      targetRanges
    )
    const sourceDigests = await readDigests(flow.clients.sourceConsumer, id('source-reader'), sourceTps, sourceRanges)
    await follower.catchUp()
    return sourceTps.map(({ topic, partition }) => {
      const remote = selection.remoteName(topic)
      const source = sourceRanges.get(tpKey(topic, partition)) as OffsetRange
      const target = targetRanges.get(tpKey(remote, partition))
      const pairs = (syncs.partition(topic, partition)?.all() ?? []).map(s => ({
        upstream: s.upstream,
        downstream: s.downstream
      }))
      const alignment = alignPartition(
        sourceDigests.get(tpKey(topic, partition)) ?? [],
        targetDigests.get(tpKey(remote, partition)) ?? [],
        pairs
      )
      return { topic, remote, partition, source, target, alignment }
    })
  } finally {
    await Promise.all([follower.close(), sourceAdmin.close(), targetAdmin.close()])
  }
}

async function ranges(admin: KafkaAdmin, tps: readonly TopicPartition[]): Promise<Map<string, OffsetRange>> {
  if (tps.length === 0) return new Map()
  const [starts, ends] = await Promise.all([admin.listOffsets(tps, 'earliest'), admin.listOffsets(tps, 'latest')])
  const out = new Map<string, OffsetRange>()
  for (const { topic, partition } of tps) {
    const k = tpKey(topic, partition)
    const start = starts.get(k)
    const end = ends.get(k)
    if (start === undefined || end === undefined)
      throw new KafkaError(`verify: no offsets for ${topic}-${partition} (leader not available?)`, { retriable: true })
    out.set(k, { start, end })
  }
  return out
}

/** Every record of each partition from its range's start to its end, as offset and digest. */
async function readDigests(
  cfg: ClientConfig,
  clientId: string,
  tps: readonly TopicPartition[],
  within: ReadonlyMap<string, OffsetRange>
): Promise<Map<string, Digested[]>> {
  const out = new Map<string, Digested[]>()
  const reader = new PartitionReader(cfg, clientId, { maxWaitMs: 200 })
  try {
    /** Partitions still short of their end. */
    const open = new Map<string, TopicPartition>()
    for (const tp of tps) {
      const k = tpKey(tp.topic, tp.partition)
      out.set(k, [])
      const r = within.get(k) as OffsetRange
      if (r.end > r.start) {
        reader.seek(tp.topic, tp.partition, r.start)
        open.set(k, tp)
      }
    }
    let progressAt = Date.now()
    while (open.size > 0) {
      const round = await reader.poll()
      for (const e of round.events) {
        if (e.kind === 'error' && !e.error.retriable) throw e.error
        if (e.kind === 'out-of-range' || e.kind === 'topic-gone' || e.kind === 'recreated') {
          throw new KafkaError(
            `verify: ${e.topic}-${e.partition} changed while it was read (${e.kind}: retention, truncation or a re-created topic); run verify again`,
            { retriable: true }
          )
        }
      }
      for (const [k, records] of round.records) {
        const r = within.get(k) as OffsetRange
        const list = out.get(k) as Digested[]
        for (const rec of records) if (rec.offset < r.end) list.push({ offset: rec.offset, digest: recordDigest(rec) })
        progressAt = Date.now()
      }
      for (const [k, { topic, partition }] of open) {
        if ((reader.position(topic, partition) ?? 0n) >= (within.get(k) as OffsetRange).end) {
          open.delete(k)
          reader.remove(topic, partition)
        }
      }
      if (Date.now() - progressAt > STALL_MS)
        throw new KafkaError(
          `verify: reading ${[...open.keys()].slice(0, 3).join(', ')} made no progress for ${STALL_MS / 1000} s`,
          { retriable: true }
        )
    }
    return out
  } finally {
    await reader.close()
  }
}
