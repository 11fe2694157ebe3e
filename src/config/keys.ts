/**
 * The key names MM2 knows, grouped by who reads them (MirrorMakerConfig). Loaders use these to
 * sort keys into driver / cluster / connector / client settings and to suggest fixes for typos.
 */

/** Connector keys kafka-mirror turns into FlowConfig fields. */
export const MODELLED_CONNECTOR_KEYS: readonly string[] = [
  'enabled',
  'tasks.max',
  'admin.timeout.ms',
  'topics',
  'topics.exclude',
  'topics.blacklist',
  'groups',
  'groups.exclude',
  'groups.blacklist',
  'replication.policy.class',
  'replication.policy.separator',
  'replication.policy.internal.topic.separator.enabled',
  'replication.factor',
  'offset-syncs.topic.location',
  'offset-syncs.topic.replication.factor',
  'emit.offset-syncs.enabled',
  'offset.lag.max',
  'heartbeats.replication.enabled',
  'refresh.topics.enabled',
  'refresh.topics.interval.seconds',
  'refresh.groups.enabled',
  'refresh.groups.interval.seconds',
  'sync.topic.configs.enabled',
  'sync.topic.configs.interval.seconds',
  'sync.topic.acls.enabled',
  'sync.topic.acls.interval.seconds',
  'config.properties.exclude',
  'config.properties.blacklist',
  'use.defaults.from',
  'emit.checkpoints.enabled',
  'emit.checkpoints.interval.seconds',
  'checkpoints.topic.replication.factor',
  'sync.group.offsets.enabled',
  'sync.group.offsets.interval.seconds',
  'emit.heartbeats.enabled',
  'emit.heartbeats.interval.seconds',
  'heartbeats.topic.replication.factor',
  // kafka-mirror's own (no MM2 equivalent): copy record batches as bytes where nothing must change.
  'raw.batches.enabled',
  // SourceConnectorConfig's exactly-once keys (src/config/exactly-once.ts reads them).
  'exactly.once.support',
  'transaction.boundary',
  'transaction.boundary.interval.ms'
]

/** Real MM2 / Connect connector keys that kafka-mirror accepts but does not act on (kept in `extra`). */
const UNMODELLED_CONNECTOR_KEYS: readonly string[] = [
  'name',
  'connector.class',
  'tasks.max.enforce',
  'key.converter',
  'value.converter',
  'header.converter',
  'transforms',
  'predicates',
  'config.action.reload',
  'errors.retry.timeout',
  'errors.retry.delay.max.ms',
  'errors.tolerance',
  'errors.log.enable',
  'errors.log.include.messages',
  'forwarding.admin.class',
  'metric.reporters',
  'topic.filter.class',
  'group.filter.class',
  'config.property.filter.class',
  'consumer.poll.timeout.ms',
  'offsets.storage.topic',
  'use.incremental.alter.configs',
  'add.source.alias.to.metrics',
  'source.cluster.alias',
  'target.cluster.alias',
  'connector.plugin.version',
  'task.index'
]

/** Connector keys whose whole family is free-form (`transforms.x.type`, `errors.deadletterqueue...`). */
const UNMODELLED_CONNECTOR_PREFIXES: readonly string[] = [
  'transforms.',
  'predicates.',
  'errors.',
  'key.converter.',
  'value.converter.',
  'header.converter.'
]

/** Keys of a connector config that configure clients rather than the connector (MirrorMakerConfig). */
const CLIENT_OVERRIDE_PREFIXES: readonly string[] = [
  'source.cluster.',
  'target.cluster.',
  'source.consumer.',
  'source.producer.',
  'source.admin.',
  'target.consumer.',
  'target.producer.',
  'target.admin.',
  'producer.override.',
  'consumer.override.',
  'admin.override.',
  'consumer.',
  'producer.',
  'admin.'
]

/** Keys read by the MM2 driver itself (MirrorMakerConfig), never by connectors. */
export const DRIVER_KEYS: readonly string[] = [
  'clusters',
  'config.providers',
  'dedicated.mode.enable.internal.rest',
  'listeners',
  'rest.advertised.host.name',
  'rest.advertised.port',
  'rest.advertised.listener',
  'access.control.allow.origin',
  'access.control.allow.methods',
  'response.http.headers.config'
]

/** Top-level key prefixes MM2 copies into every herder's worker config (MirrorMakerConfig). */
export const TOP_LEVEL_WORKER_PREFIXES: readonly string[] = [
  'offset.storage',
  'config.storage',
  'status.storage',
  'key.converter',
  'value.converter',
  'header.converter',
  'task',
  'worker',
  'replication.policy'
]

/** Connect worker keys people set for MM2; at cluster level (`B.<key>`) they shape the herder for target B. */
export const WORKER_KEYS: readonly string[] = [
  'offset.flush.interval.ms',
  'offset.flush.timeout.ms',
  'group.id',
  'client.id',
  'offset.storage.topic',
  'offset.storage.replication.factor',
  'offset.storage.partitions',
  'config.storage.topic',
  'config.storage.replication.factor',
  'status.storage.topic',
  'status.storage.replication.factor',
  'status.storage.partitions',
  'exactly.once.source.support',
  'scheduled.rebalance.max.delay.ms',
  'session.timeout.ms',
  'heartbeat.interval.ms',
  'rebalance.timeout.ms',
  'metadata.max.age.ms',
  'request.timeout.ms',
  'connections.max.idle.ms',
  'receive.buffer.bytes',
  'send.buffer.bytes',
  'retry.backoff.ms',
  'reconnect.backoff.ms',
  'reconnect.backoff.max.ms',
  'task.shutdown.graceful.timeout.ms',
  'connector.client.config.override.policy',
  'plugin.discovery',
  'metric.reporters'
]

/**
 * Connector keys that are not names of the mirror connectors' ConfigDefs, so Java MM2 drops them at
 * top level (MirrorMakerConfig.connectorBaseConfig keeps only allConfigNames(), built on
 * ConnectorConfig.configDef(), which lacks SourceConnectorConfig's exactly-once keys).
 */
export const FLOW_ONLY_KEYS: readonly string[] = [
  'use.defaults.from',
  'exactly.once.support',
  'transaction.boundary',
  'transaction.boundary.interval.ms'
]

/** `CLIENT_CONFIG_DEF`: keys that reach every client of a cluster (MirrorMakerConfig). */
export function isClientKey(key: string): boolean {
  return key === 'bootstrap.servers' || key === 'security.protocol' || key.startsWith('ssl.') || key.startsWith('sasl.')
}

export const ALL_CONNECTOR_KEYS: readonly string[] = [...MODELLED_CONNECTOR_KEYS, ...UNMODELLED_CONNECTOR_KEYS]

export function isConnectorKey(key: string): boolean {
  return ALL_CONNECTOR_KEYS.includes(key) || UNMODELLED_CONNECTOR_PREFIXES.some(p => key.startsWith(p))
}

export function isClientOverrideKey(key: string): boolean {
  return CLIENT_OVERRIDE_PREFIXES.some(p => key.startsWith(p))
}
