/**
 * The replication graph as MirrorClient sees it from one cluster's topic names:
 * which topics are heartbeats topics, which clusters are upstream, and how many hops away each is.
 *
 * Invariants: pure functions of the topic names and the policy (no I/O). Only heartbeats topics
 * count, because every replicated pair carries them whatever the topic filter says, and their
 * names keep the cluster prefixes even under the identity policy.
 */
import type { ReplicationPolicy } from './replication-policy.ts'

/** MirrorClient.heartbeatTopics: `heartbeats`, `A.heartbeats`, `B.A.heartbeats`... sorted. */
export function heartbeatTopics(policy: ReplicationPolicy, topics: readonly string[]): string[] {
  return topics.filter(t => policy.isHeartbeatsTopic(t)).sort()
}

/**
 * The aliases a topic passed through, nearest first: `B.A.heartbeats` -> [B, A]. Stops when the
 * name has no source, the upstream name does not change (identity policy), or an alias repeats.
 */
export function sourceChain(policy: ReplicationPolicy, topic: string): string[] {
  const chain: string[] = []
  let t = topic
  for (;;) {
    const source = policy.topicSource(t)
    if (source === null || chain.includes(source)) return chain
    chain.push(source)
    const up = policy.upstreamTopic(t)
    if (up === null || up === t) return chain
    t = up
  }
}

/**
 * Hops from `upstream` to this cluster through one topic (1 = immediate source), or -1 when the
 * topic did not come from there (MirrorClient.countHopsForTopic, with its visited-set guard).
 */
export function hopsForTopic(policy: ReplicationPolicy, topic: string, upstream: string): number {
  const i = sourceChain(policy, topic).indexOf(upstream)
  return i < 0 ? -1 : i + 1
}

/** MirrorClient.replicationHops: the fewest hops over all heartbeats topics; -1 if unreachable. */
export function replicationHops(policy: ReplicationPolicy, topics: readonly string[], upstream: string): number {
  let best = -1
  for (const t of heartbeatTopics(policy, topics)) {
    const hops = hopsForTopic(policy, t, upstream)
    if (hops > 0 && (best < 0 || hops < best)) best = hops
  }
  return best
}

/** MirrorClient.upstreamClusters: every alias on the source chain of any heartbeats topic, sorted. */
export function upstreamClusters(policy: ReplicationPolicy, topics: readonly string[]): string[] {
  const all = new Set<string>()
  for (const t of heartbeatTopics(policy, topics)) for (const a of sourceChain(policy, t)) all.add(a)
  return [...all].sort()
}

/** The clusters that replicate directly into this one (first alias of each heartbeats topic). */
export function immediateUpstreams(policy: ReplicationPolicy, topics: readonly string[]): string[] {
  const all = new Set<string>()
  for (const t of heartbeatTopics(policy, topics)) {
    const first = sourceChain(policy, t)[0]
    if (first !== undefined) all.add(first)
  }
  return [...all].sort()
}
