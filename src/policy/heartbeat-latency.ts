/**
 * Replication latency seen through heartbeats: a heartbeat carries the time it was emitted, so
 * when a replicated copy of it lands on a cluster, "landed at - emitted at" is the replication
 * latency from the cluster it was emitted into (the heartbeat's target alias, the last alias of
 * the topic name) to here, over every hop in between. MM2's own `replication-latency-ms` is the
 * same difference (ack time - record timestamp) for every record.
 *
 * The running mirror feeds `HeartbeatLatencyTracker` with each heartbeat its copier got
 * acknowledged; the flow's status carries its samples to /metrics and /status. The pure functions also
 * serve `topology`, which only has the records (and so reports the age of the newest heartbeat).
 *
 * Invariants: records that do not decode as heartbeats are skipped (as MM2 skips records that
 * fail to deserialize); a negative difference (clock skew) is kept as is, not clamped, so skew is
 * visible; the tracker keeps only the newest sample per (topic, heartbeat key).
 */
import { decodeHeartbeat } from '../formats/heartbeat.ts'
import type { ReplicationPolicy } from './replication-policy.ts'
import { sourceChain } from './topology.ts'

export interface HeartbeatSample {
  /** The heartbeats topic on the cluster it landed on (`A.heartbeats`, `B.A.heartbeats`...). */
  readonly topic: string
  /** Aliases the heartbeat came through, nearest first (`B.A.heartbeats` -> [B, A]); [] for `heartbeats`. */
  readonly chain: readonly string[]
  /** The cluster it was first written to (last alias of the chain), or undefined for a local `heartbeats` topic. */
  readonly origin: string | undefined
  /** Hops from origin to here (chain length). */
  readonly hops: number
  /** The emitting pair from the heartbeat's key, `S->T`. */
  readonly emitter: string
  /** Emission time written in the heartbeat (epoch ms). */
  readonly emittedAt: number
  /** When it landed (epoch ms): acknowledgement time, or the broker's append time. */
  readonly landedAt: number
  /** landedAt - emittedAt. */
  readonly latencyMs: number
}

/** A heartbeat record as read or copied: key, value and the record timestamp. */
export interface HeartbeatRecordLike {
  readonly key: Uint8Array | null
  readonly value: Uint8Array | null
  readonly timestamp: bigint
}

/**
 * One sample from a heartbeat record in `topic`, landed at `landedAt` (epoch ms); undefined when
 * the record is not a heartbeat.
 */
export function heartbeatSample(
  policy: ReplicationPolicy,
  topic: string,
  record: HeartbeatRecordLike,
  landedAt: number
): HeartbeatSample | undefined {
  let hb
  try {
    hb = decodeHeartbeat(record.key, record.value)
  } catch {
    return undefined
  }
  const chain = sourceChain(policy, topic)
  const emittedAt = Number(hb.timestamp)
  return {
    topic,
    chain,
    origin: chain[chain.length - 1],
    hops: chain.length,
    emitter: `${hb.sourceClusterAlias}->${hb.targetClusterAlias}`,
    emittedAt,
    landedAt,
    latencyMs: landedAt - emittedAt
  }
}

/**
 * Newest heartbeat of each emitter in records read back from one heartbeats topic. A copy keeps
 * the heartbeat's timestamp as its record timestamp (CreateTime), so `landedAt` is the record
 * timestamp, which only differs from the emission time when the topic uses LogAppendTime: then
 * latencyMs is the real latency, otherwise 0 and only `now - emittedAt` (the age) says anything.
 */
export function latestHeartbeats(
  policy: ReplicationPolicy,
  topic: string,
  records: readonly HeartbeatRecordLike[]
): HeartbeatSample[] {
  const byEmitter = new Map<string, HeartbeatSample>()
  for (const r of records) {
    const s = heartbeatSample(policy, topic, r, Number(r.timestamp))
    if (s === undefined) continue
    const seen = byEmitter.get(s.emitter)
    if (seen === undefined || s.emittedAt >= seen.emittedAt) byEmitter.set(s.emitter, s)
  }
  return [...byEmitter.values()].sort((a, b) => a.emitter.localeCompare(b.emitter))
}

/** Newest replication latency per heartbeats topic and emitter, as the running flow observes it. */
export class HeartbeatLatencyTracker {
  readonly #policy: ReplicationPolicy
  readonly #latest = new Map<string, HeartbeatSample>()

  constructor(policy: ReplicationPolicy) {
    this.#policy = policy
  }

  /** Heartbeat records of `topic` (the name on the cluster they landed on) acknowledged at `landedAt`. */
  observe(topic: string, records: readonly HeartbeatRecordLike[], landedAt: number): void {
    for (const r of records) {
      const s = heartbeatSample(this.#policy, topic, r, landedAt)
      if (s === undefined) continue
      const k = `${s.topic}\u0000${s.emitter}`
      const seen = this.#latest.get(k)
      if (seen === undefined || s.emittedAt >= seen.emittedAt) this.#latest.set(k, s)
    }
  }

  /** Newest sample of each (topic, emitter), sorted by topic then emitter. */
  samples(): HeartbeatSample[] {
    return [...this.#latest.values()].sort(
      (a, b) => a.topic.localeCompare(b.topic) || a.emitter.localeCompare(b.emitter)
    )
  }

  /** Newest latency per origin cluster (the freshest heartbeat from it, any emitter or path). */
  byOrigin(): Map<string, HeartbeatSample> {
    const out = new Map<string, HeartbeatSample>()
    for (const s of this.#latest.values()) {
      if (s.origin === undefined) continue
      const seen = out.get(s.origin)
      if (seen === undefined || s.landedAt > seen.landedAt || (s.landedAt === seen.landedAt && s.hops < seen.hops))
        out.set(s.origin, s)
    }
    return out
  }
}
