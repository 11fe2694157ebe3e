/**
 * Replication policies: how remote topics are named and how a name is traced back to the cluster
 * and topic it came from (DefaultReplicationPolicy), matching Java MM2 4.3.1's DefaultReplicationPolicy,
 * IdentityReplicationPolicy and the ReplicationPolicy interface defaults.
 *
 * Invariants:
 * - `topicSource` splits on the literal separator with Java `String.split` semantics (trailing
 *   empty parts dropped, leading ones kept); fewer than 2 parts means "not a remote topic" (null).
 * - Internal topic names use `isep` = the separator when the internal-separator flag is on,
 *   otherwise "."; `heartbeats` never uses a separator.
 * - isMM2InternalTopic(t) = (t starts with "mm2" and ends with isep + "internal") or
 *   isCheckpointsTopic(t); isInternalTopic(t) = t starts with "__" or "." or isMM2InternalTopic(t).
 *   (Java 4.3.1 behaviour, checked against golden output; Connect's own `-internal` topics are not
 *   "internal" here, the default topics.exclude keeps `mm2*.internal` out instead.)
 * - Identity: topics ending in "heartbeats" behave as in the default policy; every other topic
 *   keeps its name and is attributed to the flow's source alias (null when no alias was given).
 * - Pure functions of the name; no I/O.
 */
import { ConfigError } from '../errors.ts'

/**
 * A flow's `replication.policy.*` settings as the config resolved them. Declared here rather than
 * in config/, which imports this module (the policies are below the config in docs/DESIGN.md's
 * layers).
 */
export interface ReplicationPolicyConfig {
  readonly kind: 'default' | 'identity'
  /** The Java class name as written, for messages. */
  readonly className: string
  readonly separator: string
  readonly internalTopicSeparatorEnabled: boolean
}

export interface ReplicationPolicy {
  /** Name of `topic` from cluster `sourceAlias` once replicated (e.g. `A.orders`). */
  formatRemoteTopic(sourceAlias: string, topic: string): string
  /** Alias of the cluster a remote topic came from, or null if the name is not a remote topic. */
  topicSource(topic: string): string | null
  /** The topic's name one hop upstream, or null if not a remote topic. */
  upstreamTopic(topic: string): string | null
  /** The name at the first cluster of the chain (`B.A.x` -> `x`). */
  originalTopic(topic: string): string
  heartbeatsTopic(): string
  offsetSyncsTopic(clusterAlias: string): string
  checkpointsTopic(clusterAlias: string): string
  isHeartbeatsTopic(topic: string): boolean
  isCheckpointsTopic(topic: string): boolean
  isMM2InternalTopic(topic: string): boolean
  isInternalTopic(topic: string): boolean
}

const HEARTBEATS_TOPIC = 'heartbeats'
const OFFSET_SYNCS_TOPIC_PREFIX = 'mm2-offset-syncs'

/** Java `String.split(Pattern.quote(sep))` with limit 0, for a non-empty literal separator. */
export function javaSplit(s: string, sep: string): string[] {
  const parts = s.split(sep)
  if (parts.length === 1) return parts
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop()
  return parts
}

export interface DefaultReplicationPolicyOptions {
  /** `replication.policy.separator`; default ".". Must not be empty. */
  readonly separator?: string
  /** `replication.policy.internal.topic.separator.enabled`; default true. */
  readonly internalTopicSeparatorEnabled?: boolean
}

export class DefaultReplicationPolicy implements ReplicationPolicy {
  readonly separator: string
  readonly internalTopicSeparatorEnabled: boolean

  constructor(opts: DefaultReplicationPolicyOptions = {}) {
    const separator = opts.separator ?? '.'
    if (separator === '') throw new ConfigError('replication.policy.separator must not be empty')
    this.separator = separator
    this.internalTopicSeparatorEnabled = opts.internalTopicSeparatorEnabled ?? true
  }

  formatRemoteTopic(sourceAlias: string, topic: string): string {
    return sourceAlias + this.separator + topic
  }

  topicSource(topic: string): string | null {
    const parts = javaSplit(topic, this.separator)
    return parts.length < 2 ? null : parts[0]!
  }

  upstreamTopic(topic: string): string | null {
    const source = this.topicSource(topic)
    return source === null ? null : topic.substring(source.length + this.separator.length)
  }

  originalTopic(topic: string): string {
    let t = topic
    for (;;) {
      const up = this.upstreamTopic(t)
      if (up === null || up === t) return t
      t = up
    }
  }

  heartbeatsTopic(): string {
    return HEARTBEATS_TOPIC
  }

  /** The separator used inside internal topic names. */
  get internalSeparator(): string {
    return this.internalTopicSeparatorEnabled ? this.separator : '.'
  }

  offsetSyncsTopic(clusterAlias: string): string {
    const isep = this.internalSeparator
    return OFFSET_SYNCS_TOPIC_PREFIX + isep + clusterAlias + isep + 'internal'
  }

  checkpointsTopic(clusterAlias: string): string {
    return clusterAlias + this.#checkpointsSuffix()
  }

  isHeartbeatsTopic(topic: string): boolean {
    return this.originalTopic(topic) === this.heartbeatsTopic()
  }

  isCheckpointsTopic(topic: string): boolean {
    return topic.endsWith(this.#checkpointsSuffix())
  }

  isMM2InternalTopic(topic: string): boolean {
    return (
      (topic.startsWith('mm2') && topic.endsWith(this.internalSeparator + 'internal')) || this.isCheckpointsTopic(topic)
    )
  }

  isInternalTopic(topic: string): boolean {
    return topic.startsWith('__') || topic.startsWith('.') || this.isMM2InternalTopic(topic)
  }

  #checkpointsSuffix(): string {
    const isep = this.internalSeparator
    return isep + 'checkpoints' + isep + 'internal'
  }
}

export interface IdentityReplicationPolicyOptions extends DefaultReplicationPolicyOptions {
  /** The flow's source alias (`source.cluster.alias`); without it non-heartbeat topics have no source. */
  readonly sourceClusterAlias?: string
}

export class IdentityReplicationPolicy extends DefaultReplicationPolicy {
  readonly sourceClusterAlias: string | null

  constructor(opts: IdentityReplicationPolicyOptions = {}) {
    super(opts)
    this.sourceClusterAlias = opts.sourceClusterAlias ?? null
  }

  override formatRemoteTopic(sourceAlias: string, topic: string): string {
    return this.#looksLikeHeartbeat(topic) ? super.formatRemoteTopic(sourceAlias, topic) : topic
  }

  override topicSource(topic: string): string | null {
    return this.#looksLikeHeartbeat(topic) ? super.topicSource(topic) : this.sourceClusterAlias
  }

  override upstreamTopic(topic: string): string | null {
    return this.#looksLikeHeartbeat(topic) ? super.upstreamTopic(topic) : topic
  }

  /** A plain suffix test, as in Java: `myheartbeats` qualifies too. */
  #looksLikeHeartbeat(topic: string): boolean {
    return topic.endsWith(this.heartbeatsTopic())
  }
}

/** The policy a flow uses. `sourceAlias` is the flow's source (needed by the identity policy). */
export function createReplicationPolicy(cfg: ReplicationPolicyConfig, sourceAlias?: string): ReplicationPolicy {
  const opts = { separator: cfg.separator, internalTopicSeparatorEnabled: cfg.internalTopicSeparatorEnabled }
  switch (cfg.kind) {
    case 'default':
      return new DefaultReplicationPolicy(opts)
    case 'identity':
      return new IdentityReplicationPolicy(
        sourceAlias === undefined ? opts : { ...opts, sourceClusterAlias: sourceAlias }
      )
  }
}

/**
 * MirrorSourceConnector.isCycle: true when walking topicSource/upstreamTopic from `topic` meets
 * `targetAlias`, i.e. replicating it from S to T would send T's own data back to T. The walk stops
 * when the source is null or the upstream name is null or unchanged (identity policy).
 */
export function isCycle(policy: ReplicationPolicy, topic: string, targetAlias: string): boolean {
  let t = topic
  for (;;) {
    const source = policy.topicSource(t)
    if (source === null) return false
    if (source === targetAlias) return true
    const up = policy.upstreamTopic(t)
    if (up === null || up === t) return false
    t = up
  }
}
