/**
 * The one frozen configuration model that both input formats (Java `mm2.properties` and the
 * Strimzi `KafkaMirrorMaker2` custom resource) are turned into. Everything after config loading
 * reads only this model; nothing downstream knows which file format it came from, except for
 * `naming`, which decides the names of the state the mirror keeps on Kafka (so Java MM2 in
 * dedicated mode, or a Strimzi-run MM2, finds the same positions we wrote).
 *
 * Durations are in milliseconds. A disabled periodic task has `enabled: false`.
 */
import type { ReplicationPolicyConfig } from '../policy/replication-policy.ts'
import type { MaybeSecret } from '../util/secret.ts'

/** Kafka client properties by their Java names (`security.protocol`, `ssl.truststore.location`...). */
export type ClientProps = Readonly<Record<string, MaybeSecret>>

export interface ClusterConfig {
  readonly alias: string
  /** `host:port` entries, in the order given. */
  readonly bootstrapServers: readonly string[]
  /** Connection keys shared by every client of this cluster (security.protocol, ssl.*, sasl.*). */
  readonly connection: ClientProps
}

/** Settings for one client role, already resolved with MM2's precedence rules (MirrorMakerConfig). */
export interface ClientConfig {
  readonly cluster: string
  readonly bootstrapServers: readonly string[]
  /** Every key the Java client would receive for this role, connection keys included. */
  readonly props: ClientProps
}

export interface Interval {
  readonly enabled: boolean
  readonly intervalMs: number
  /** True when the user set the interval; false when it is our default (which may differ from MM2's). */
  readonly explicit: boolean
}

/** Names of the state kept on Kafka, chosen so Java MM2 and kafka-mirror can take over from each other. */
export interface StateNaming {
  /** `dedicated` = Java `connect-mirror-maker.sh` names; `strimzi` = names a Strimzi-run Connect cluster uses. */
  readonly style: 'dedicated' | 'strimzi'
  /** Kafka Connect offsets topic on the target (`mm2-offsets.<S>.internal` or the CR's offsetStorageTopic). */
  readonly offsetsTopic: string
  /** Connect worker group id (`<S>-mm2` or the CR's groupId); used as the base of our own group ids. */
  readonly workerGroupId: string
  /** Connector names used as the first element of Connect offset keys. */
  readonly sourceConnectorName: string
  readonly checkpointConnectorName: string
  readonly heartbeatConnectorName: string
}

/**
 * Kafka Connect's group timeouts (DistributedConfig: session.timeout.ms, heartbeat.interval.ms,
 * rebalance.timeout.ms).
 */
export interface GroupTimeouts {
  readonly sessionTimeoutMs: number
  readonly heartbeatIntervalMs: number
  readonly rebalanceTimeoutMs: number
}

/**
 * Kafka Connect's exactly-once source settings for a flow (KIP-618; docs/exactly-once-plan.md
 * §5.6). With `enabled`, the flow's copier tasks copy in Kafka transactions on the target.
 */
export interface ExactlyOnceConfig {
  /** The target worker's `exactly.once.source.support` is `enabled` (`preparing` counts as disabled here). */
  readonly enabled: boolean
  /** The source connector's `exactly.once.support` is `required` (default `requested`). */
  readonly required: boolean
  /** `transaction.boundary`: commit when nothing more is ready to send (`poll`) or every `intervalMs` (`interval`). */
  readonly boundary: 'poll' | 'interval'
  /** `transaction.boundary.interval.ms`, default the target worker's `offset.flush.interval.ms`. */
  readonly intervalMs: number
  /** The target producer's `transaction.timeout.ms` (Java's default 60 000). */
  readonly transactionTimeoutMs: number
}

export interface FlowConfig {
  /** `S->T` */
  readonly name: string
  readonly source: string
  readonly target: string
  /** Records and checkpoints flow only when enabled; heartbeats follow `emitHeartbeats`. */
  readonly enabled: boolean
  /** Regex list entries as written (each must match the whole topic name; the list is OR-ed). */
  readonly topics: readonly string[]
  readonly topicsExclude: readonly string[]
  readonly groups: readonly string[]
  readonly groupsExclude: readonly string[]
  readonly replicationPolicy: ReplicationPolicyConfig
  /** RF of created remote topics; -1 = broker default. */
  readonly replicationFactor: number
  readonly refreshTopics: Interval
  readonly refreshGroups: Interval
  readonly syncTopicConfigs: Interval
  readonly syncTopicAcls: Interval
  readonly configPropertiesExclude: readonly string[]
  readonly useDefaultsFrom: 'source' | 'target'
  readonly heartbeatsReplicationEnabled: boolean
  readonly offsetSyncs: {
    readonly enabled: boolean
    readonly location: 'source' | 'target'
    readonly replicationFactor: number
  }
  readonly offsetLagMax: number
  readonly tasksMax: number
  /** Copy record batches as bytes where nothing must change (`raw.batches.enabled`, default true). */
  readonly rawBatches: boolean
  /** How often copied positions are stored (MM2: target's `offset.flush.interval.ms`). */
  readonly offsetFlushIntervalMs: number
  /**
   * The worker group's timeouts (Connect's DistributedConfig keys, read from the target's worker
   * settings as Connect reads them): how instances sharing this config keep their membership.
   */
  readonly group: GroupTimeouts
  readonly emitCheckpoints: Interval
  readonly checkpointsReplicationFactor: number
  readonly syncGroupOffsets: Interval
  readonly emitHeartbeats: Interval
  readonly heartbeatsReplicationFactor: number
  readonly adminTimeoutMs: number
  readonly clients: {
    readonly sourceConsumer: ClientConfig
    readonly sourceAdmin: ClientConfig
    readonly sourceProducer: ClientConfig
    readonly targetProducer: ClientConfig
    readonly targetAdmin: ClientConfig
    readonly targetConsumer: ClientConfig
  }
  readonly naming: StateNaming
  readonly exactlyOnce: ExactlyOnceConfig
  /**
   * Connector-level keys that were set for this flow but that kafka-mirror does not model
   * (kept so `validate` can show them and later issues can pick them up).
   */
  readonly extra: Readonly<Record<string, string>>
}

export interface MirrorConfig {
  readonly origin: {
    readonly file: string
    readonly format: 'properties' | 'strimzi'
    /** Strimzi apiVersion / metadata.name when the source was a custom resource. */
    readonly apiVersion?: string
    readonly name?: string
  }
  readonly clusters: ReadonlyMap<string, ClusterConfig>
  /** Every source->target pair that runs anything (replication, checkpoints or heartbeats). */
  readonly flows: readonly FlowConfig[]
  /**
   * How loadConfig read this config, so a copier task's worker thread can load the same config
   * again (secrets hold reload closures and cannot be sent to another thread). Absent when the
   * config was built in code: such a config runs its copier tasks on the main thread.
   */
  readonly loadedFrom?: ConfigSource
}

/** A config file and the options it was loaded with; plain data (sent to worker threads). */
export interface ConfigSource {
  readonly path: string
  readonly secretsDir?: string | undefined
  /** The environment for `${env:...}` when one was given instead of process.env (which a worker shares). */
  readonly env?: Readonly<Record<string, string>> | undefined
}

/** What loading a config returns besides the model: warnings to print once (unknown keys etc.). */
export interface LoadedConfig {
  readonly config: MirrorConfig
  readonly warnings: readonly string[]
  readonly infos: readonly string[]
}
