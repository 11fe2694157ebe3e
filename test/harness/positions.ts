/**
 * The source positions a flow stored in its Kafka Connect offsets topic on the target, and a wait
 * until they cover the source. The copier stores a position only after the target acknowledged
 * every record up to it (src/source/position-store.ts), so once each partition's stored position
 * reaches the offset of its last source record, everything the copy wrote for those records,
 * duplicates included, is on the target: a read then shows what a fixed sleep could only hope to.
 * Connect's own MirrorSourceTask stores the same offsets (the last copied record's), so the wait
 * also serves a Java Connect worker copying the same flow.
 */
import { decodeOffsetValue, decodeSourceOffsetKey } from '../../src/formats/connect-offsets.ts'
import { OWNER_HEADER } from '../../src/source/position-store.ts'
import type { ConsumedRecord } from '../../src/kafka/types.ts'
import type { KafkaCluster } from './cluster.ts'
import { readAll, waitFor } from './helpers.ts'

/** Where a flow keeps its positions: MM2's defaults for source alias `source` unless named. */
export interface PositionsOf {
  /** The source cluster alias (the `cluster` field of each key). */
  readonly source: string
  /** Default `mm2-offsets.<source>.internal`. */
  readonly offsetsTopic?: string
  /** Default `MirrorSourceConnector`. */
  readonly connector?: string
}

/** One record of a flow's offsets topic for a partition of `topic`, in the order it was written. */
export interface PositionRecord {
  readonly partition: number
  /** The last copied offset stored; null for a tombstone. */
  readonly offset: bigint | null
  /** The `kafka-mirror-owner` headers (`<instance> <generation>`): one per record kafka-mirror wrote. */
  readonly owners: readonly string[]
  /** When the writer produced it (the record's CreateTime). */
  readonly timestamp: bigint
}

/** Every position record the flow stored for `topic`, per offsets-topic partition in write order. */
export async function positionRecords(
  target: KafkaCluster,
  flow: PositionsOf,
  topic: string
): Promise<PositionRecord[]> {
  return positionsIn(
    await readAll(target, flow.offsetsTopic ?? `mm2-offsets.${flow.source}.internal`).catch(() => []),
    flow,
    topic
  )
}

/** The flow's position records for `topic` among records of its offsets topic (read by the caller), in their order. */
export function positionsIn(records: Iterable<ConsumedRecord>, flow: PositionsOf, topic: string): PositionRecord[] {
  const connector = flow.connector ?? 'MirrorSourceConnector'
  const out: PositionRecord[] = []
  for (const r of records) {
    let key
    try {
      key = decodeSourceOffsetKey(r.key)
    } catch {
      continue
    } // another connector's key shape
    if (key.connector !== connector || key.cluster !== flow.source || key.topic !== topic) continue
    out.push({
      partition: key.partition,
      offset: decodeOffsetValue(r.value),
      owners: r.headers.filter(([k]) => k.toString() === OWNER_HEADER).map(([, v]) => v?.toString('utf8') ?? ''),
      timestamp: r.timestamp
    })
  }
  return out
}

/** The newest stored position (last copied offset) of each partition of `topic`. */
export async function storedPositions(
  target: KafkaCluster,
  flow: PositionsOf,
  topic: string
): Promise<Map<number, bigint>> {
  return newestPositions(await positionRecords(target, flow, topic))
}

/**
 * `positions` (a new map by default) moved on by position records in write order: the last per
 * partition wins, a tombstone removes.
 */
export function newestPositions(
  records: Iterable<PositionRecord>,
  positions = new Map<number, bigint>()
): Map<number, bigint> {
  for (const r of records) {
    if (r.offset === null) positions.delete(r.partition)
    else positions.set(r.partition, r.offset)
  }
  return positions
}

/** The offset of the last committed record of each non-empty partition of `topic` on `source`. */
export async function lastRecordOffsets(source: KafkaCluster, topic: string): Promise<Map<number, bigint>> {
  const last = new Map<number, bigint>()
  for (const r of await readAll(source, topic)) last.set(r.partition, r.offset)
  return last
}

/**
 * Waits until the flow stored, for every partition of each of `topics` on `source`, a position
 * at or past its last record as it is now (records produced later are not waited for).
 */
export async function waitForStoredPositions(
  source: KafkaCluster,
  topics: readonly string[],
  target: KafkaCluster,
  flow: PositionsOf,
  opts: { timeoutMs?: number } = {}
): Promise<void> {
  for (const topic of topics) {
    const want = await lastRecordOffsets(source, topic)
    let behind = ''
    try {
      await waitFor(
        async () => {
          const stored = await storedPositions(target, flow, topic)
          behind = [...want]
            .filter(([p, last]) => (stored.get(p) ?? -1n) < last)
            .map(([p, last]) => `partition ${p} at ${String(stored.get(p) ?? 'none')} of ${last}`)
            .join(', ')
          return behind === ''
        },
        {
          timeoutMs: opts.timeoutMs ?? 60_000,
          intervalMs: 250,
          what: `positions of ${topic} stored up to its last record on ${source.name}`
        }
      )
    } catch (err) {
      throw new Error(`${(err as Error).message}; still behind: ${behind}`)
    }
  }
}
