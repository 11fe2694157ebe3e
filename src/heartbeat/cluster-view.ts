/**
 * What one cluster's heartbeats say about the replication graph, read the way MirrorClient does
 * (MirrorClient): its heartbeats topics, upstream clusters with hops, and the newest heartbeat of
 * each emitter in each heartbeats topic. Used by `kafka-mirror topology`.
 */
import type { ClientConfig, ClusterConfig, MirrorConfig } from '../config/model.ts'
import { KafkaAdmin } from '../kafka/admin.ts'
import { readTopic } from '../kafka/read-topic.ts'
import { createReplicationPolicy, type ReplicationPolicy } from '../policy/replication-policy.ts'
import { type HeartbeatSample, latestHeartbeats } from '../policy/heartbeat-latency.ts'
import { heartbeatTopics, replicationHops, upstreamClusters } from '../policy/topology.ts'

/** Heartbeats per topic we read: enough to see every emitter (one record per emitter per interval). */
const TAIL_RECORDS = 500

export interface ClusterView {
  readonly alias: string
  readonly bootstrapServers: readonly string[]
  /** Why the cluster could not be read; the other fields are then empty. */
  readonly error: string | undefined
  readonly heartbeatTopics: readonly string[]
  readonly upstreams: ReadonlyArray<{ readonly alias: string; readonly hops: number }>
  readonly heartbeats: readonly HeartbeatSample[]
}

/**
 * Admin and reader settings for a cluster, from a flow that uses it (so security settings apply), and that flow's
 * policy.
 */
export function clusterAccess(
  config: MirrorConfig,
  cluster: ClusterConfig
): { admin: ClientConfig; reader: ClientConfig; policy: ReplicationPolicy } {
  const asTarget = config.flows.find(f => f.target === cluster.alias)
  const asSource = config.flows.find(f => f.source === cluster.alias)
  // Like MirrorClient, no source alias: names alone decide where a topic came from.
  if (asTarget !== undefined)
    return {
      admin: asTarget.clients.targetAdmin,
      reader: asTarget.clients.targetConsumer,
      policy: createReplicationPolicy(asTarget.replicationPolicy)
    }
  if (asSource !== undefined)
    return {
      admin: asSource.clients.sourceAdmin,
      reader: asSource.clients.sourceConsumer,
      policy: createReplicationPolicy(asSource.replicationPolicy)
    }
  const plain = { cluster: cluster.alias, bootstrapServers: cluster.bootstrapServers, props: cluster.connection }
  return {
    admin: plain,
    reader: plain,
    policy: createReplicationPolicy({
      kind: 'default',
      className: 'DefaultReplicationPolicy',
      separator: '.',
      internalTopicSeparatorEnabled: true
    })
  }
}

export async function readClusterView(
  config: MirrorConfig,
  cluster: ClusterConfig,
  opts: { timeoutMs?: number } = {}
): Promise<ClusterView> {
  const { admin: adminConfig, reader, policy } = clusterAccess(config, cluster)
  const admin = new KafkaAdmin(adminConfig, `topology|${cluster.alias}`)
  const base = { alias: cluster.alias, bootstrapServers: cluster.bootstrapServers }
  try {
    const topics = await admin.listTopics()
    const hbTopics = heartbeatTopics(policy, topics)
    const upstreams = upstreamClusters(policy, topics).map(alias => ({
      alias,
      hops: replicationHops(policy, topics, alias)
    }))
    const heartbeats: HeartbeatSample[] = []
    for (const topic of hbTopics) {
      const records = await readTopic(admin, reader, topic, `topology|${cluster.alias}|reader`, {
        last: TAIL_RECORDS,
        timeoutMs: opts.timeoutMs ?? 30_000
      })
      heartbeats.push(...latestHeartbeats(policy, topic, records ?? []))
    }
    return { ...base, error: undefined, heartbeatTopics: hbTopics, upstreams, heartbeats }
  } catch (err) {
    return { ...base, error: (err as Error).message, heartbeatTopics: [], upstreams: [], heartbeats: [] }
  } finally {
    await admin.close()
  }
}
