/**
 * The one interpreter of MM2 connector keys. Both loaders build a connector-config map per flow
 * (mm2.properties: MM2's connectorBaseConfig; Strimzi: the merged connector `config`s) and this
 * turns it into the FlowConfig settings, with MM2's defaults (the regex lists' come from
 * policy/filters.ts, checked against Java), our interval defaults, validation and warnings. Client
 * keys in the map are left for clients.ts.
 */
import {
  DEFAULT_CONFIG_PROPERTIES_EXCLUDE,
  DEFAULT_GROUPS,
  DEFAULT_GROUPS_EXCLUDE,
  DEFAULT_TOPICS,
  DEFAULT_TOPICS_EXCLUDE,
  compilePatternList
} from '../policy/filters.ts'
import type { ReplicationPolicyConfig } from '../policy/replication-policy.ts'
import type { FlowConfig, GroupTimeouts, Interval } from './model.ts'
import { EXACTLY_ONCE_WORKER_KEY } from './exactly-once.ts'
import { groupTimeoutsProblem } from './run-groups.ts'
import {
  ALL_CONNECTOR_KEYS,
  MODELLED_CONNECTOR_KEYS,
  isClientKey,
  isClientOverrideKey,
  isConnectorKey
} from './keys.ts'
import { didYouMean } from './suggest.ts'
import type { ConfigEntry, IntegerRule } from './values.ts'
import { INT_MAX, parseBoolean, parseChoice, parseInteger, parseList, parseReplicationFactor, text } from './values.ts'
import { configError, located, shown } from './where.ts'

export type ConnectorMap = ReadonlyMap<string, ConfigEntry>

export type FlowSettings = Omit<
  FlowConfig,
  'name' | 'source' | 'target' | 'enabled' | 'clients' | 'naming' | 'offsetFlushIntervalMs' | 'group' | 'exactlyOnce'
> & {
  /** The connector `enabled` key, when set (ConfigDef BOOLEAN). */
  readonly enabledKey: boolean | undefined
}

interface IntervalRule {
  readonly enabledKey: string
  readonly secondsKey: string
  readonly enabled: boolean
  /** Our default when the interval is not set; where it differs from MM2's, say why at the table. */
  readonly defaultMs: number
}

const INTERVALS = {
  // We look for new topics and groups every 5 s instead of MM2's 600 s: discovery is cheap for one
  // process, and a new topic otherwise waits ten minutes before it is copied.
  refreshTopics: {
    enabledKey: 'refresh.topics.enabled',
    secondsKey: 'refresh.topics.interval.seconds',
    enabled: true,
    defaultMs: 5000
  },
  refreshGroups: {
    enabledKey: 'refresh.groups.enabled',
    secondsKey: 'refresh.groups.interval.seconds',
    enabled: true,
    defaultMs: 5000
  },
  syncTopicConfigs: {
    enabledKey: 'sync.topic.configs.enabled',
    secondsKey: 'sync.topic.configs.interval.seconds',
    enabled: true,
    defaultMs: 600_000
  },
  syncTopicAcls: {
    enabledKey: 'sync.topic.acls.enabled',
    secondsKey: 'sync.topic.acls.interval.seconds',
    enabled: true,
    defaultMs: 600_000
  },
  // Checkpoints and group offset sync every 5 s instead of MM2's 60 s: a failover then starts at
  // most a few seconds behind the group, and one pass is a handful of cheap admin calls.
  emitCheckpoints: {
    enabledKey: 'emit.checkpoints.enabled',
    secondsKey: 'emit.checkpoints.interval.seconds',
    enabled: true,
    defaultMs: 5000
  },
  syncGroupOffsets: {
    enabledKey: 'sync.group.offsets.enabled',
    secondsKey: 'sync.group.offsets.interval.seconds',
    enabled: false,
    defaultMs: 5000
  },
  emitHeartbeats: {
    enabledKey: 'emit.heartbeats.enabled',
    secondsKey: 'emit.heartbeats.interval.seconds',
    enabled: true,
    defaultMs: 1000
  }
} as const satisfies Record<string, IntervalRule>

/** We store copied positions every 5 s instead of Connect's 60 s: less re-copying after a crash. */
const DEFAULT_OFFSET_FLUSH_INTERVAL_MS = 5000

const MIRROR_PACKAGE = 'org.apache.kafka.connect.mirror.'
const POLICIES: ReadonlyMap<string, { kind: 'default' | 'identity'; note?: string }> = new Map([
  [`${MIRROR_PACKAGE}DefaultReplicationPolicy`, { kind: 'default' }],
  [`${MIRROR_PACKAGE}IdentityReplicationPolicy`, { kind: 'identity' }],
  [
    'DefaultReplicationPolicy',
    { kind: 'default', note: `Java MM2 needs the full class name ${MIRROR_PACKAGE}DefaultReplicationPolicy` }
  ],
  [
    'IdentityReplicationPolicy',
    { kind: 'identity', note: `Java MM2 needs the full class name ${MIRROR_PACKAGE}IdentityReplicationPolicy` }
  ],
  [
    'io.strimzi.kafka.connect.mirror.IdentityReplicationPolicy',
    { kind: 'identity', note: `Strimzi removed this class in 0.46; use ${MIRROR_PACKAGE}IdentityReplicationPolicy` }
  ]
])

export function interpretConnectorKeys(map: ConnectorMap, warnings: string[]): FlowSettings {
  /** The parsed value of `key`, or `dflt` when it is not set. */
  const read = <T>(key: string, dflt: T, parse: (e: ConfigEntry) => T): T => {
    const e = map.get(key)
    return e === undefined ? dflt : parse(e)
  }
  const bool = (k: string, dflt: boolean): boolean => read(k, dflt, parseBoolean)
  const rf = (k: string, dflt: number, max?: number): number => read(k, dflt, e => parseReplicationFactor(e, max))
  const int = (k: string, dflt: number, rule: IntegerRule): number => read(k, dflt, e => parseInteger(e, rule))
  const interval = (rule: IntervalRule): Interval => readInterval(map, rule)

  return {
    enabledKey: read<boolean | undefined>('enabled', undefined, parseBoolean),
    topics: patternList(map, 'topics', undefined, DEFAULT_TOPICS, warnings),
    topicsExclude: patternList(map, 'topics.exclude', 'topics.blacklist', DEFAULT_TOPICS_EXCLUDE, warnings),
    groups: patternList(map, 'groups', undefined, DEFAULT_GROUPS, warnings),
    groupsExclude: patternList(map, 'groups.exclude', 'groups.blacklist', DEFAULT_GROUPS_EXCLUDE, warnings),
    configPropertiesExclude: patternList(
      map,
      'config.properties.exclude',
      'config.properties.blacklist',
      DEFAULT_CONFIG_PROPERTIES_EXCLUDE,
      warnings
    ),
    replicationPolicy: replicationPolicy(map, warnings),
    replicationFactor: rf('replication.factor', 2, INT_MAX),
    refreshTopics: interval(INTERVALS.refreshTopics),
    refreshGroups: interval(INTERVALS.refreshGroups),
    syncTopicConfigs: interval(INTERVALS.syncTopicConfigs),
    syncTopicAcls: interval(INTERVALS.syncTopicAcls),
    useDefaultsFrom: useDefaultsFrom(map.get('use.defaults.from'), warnings),
    heartbeatsReplicationEnabled: bool('heartbeats.replication.enabled', true),
    offsetSyncs: {
      enabled: bool('emit.offset-syncs.enabled', true),
      location: read('offset-syncs.topic.location', 'source', e => parseChoice(e, ['source', 'target'] as const)),
      replicationFactor: rf('offset-syncs.topic.replication.factor', 3)
    },
    offsetLagMax: int('offset.lag.max', 100, { what: 'an integer number of offsets' }),
    tasksMax: int('tasks.max', 1, { what: 'an integer number of tasks', min: 1, max: INT_MAX }),
    rawBatches: bool('raw.batches.enabled', true),
    emitCheckpoints: interval(INTERVALS.emitCheckpoints),
    checkpointsReplicationFactor: rf('checkpoints.topic.replication.factor', 3),
    syncGroupOffsets: interval(INTERVALS.syncGroupOffsets),
    emitHeartbeats: interval(INTERVALS.emitHeartbeats),
    heartbeatsReplicationFactor: rf('heartbeats.topic.replication.factor', 3),
    adminTimeoutMs: int('admin.timeout.ms', 60_000, { what: 'an integer number of milliseconds', min: 1 }),
    extra: extraKeys(map, warnings)
  }
}

/** The target worker's `offset.flush.interval.ms`: how often copied positions are stored. */
export function offsetFlushIntervalMs(e: ConfigEntry | undefined): number {
  return e === undefined
    ? DEFAULT_OFFSET_FLUSH_INTERVAL_MS
    : parseInteger(e, { what: 'an integer number of milliseconds', min: 1 })
}

/**
 * Connect's defaults for session and rebalance timeouts (10 s, 60 s); our heartbeat interval is
 * 1 s where Connect's is 3 s, because each answered heartbeat renews the write lease
 * (docs/DESIGN.md, "Scale-out").
 */
export const DEFAULT_GROUP_TIMEOUTS: GroupTimeouts = {
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1_000,
  rebalanceTimeoutMs: 60_000
}

/** The worker group's timeouts from the target's worker settings, checked against each other. */
export function groupTimeouts(get: (key: string) => ConfigEntry | undefined): GroupTimeouts {
  const read = (key: string, fallback: number): number => {
    const e = get(key)
    return e === undefined ? fallback : parseInteger(e, { what: 'an integer number of milliseconds', min: 1 })
  }
  const t = {
    sessionTimeoutMs: read('session.timeout.ms', DEFAULT_GROUP_TIMEOUTS.sessionTimeoutMs),
    heartbeatIntervalMs: read('heartbeat.interval.ms', DEFAULT_GROUP_TIMEOUTS.heartbeatIntervalMs),
    rebalanceTimeoutMs: read('rebalance.timeout.ms', DEFAULT_GROUP_TIMEOUTS.rebalanceTimeoutMs)
  }
  const problem = groupTimeoutsProblem(t)
  if (problem !== undefined) {
    // At least one of the two keys is set when they disagree (the defaults agree).
    const e = get(problem.key) ?? get('session.timeout.ms')
    throw configError(e?.where ?? { file: 'defaults' }, problem.message)
  }
  return t
}

function readInterval(map: ConnectorMap, rule: IntervalRule): Interval {
  const en = map.get(rule.enabledKey)
  const enabled = en === undefined ? rule.enabled : parseBoolean(en)
  const sec = map.get(rule.secondsKey)
  if (sec === undefined) return { enabled, intervalMs: rule.defaultMs, explicit: false }
  const seconds = parseInteger(sec, {
    what: 'an integer number of seconds',
    min: Number.MIN_SAFE_INTEGER,
    max: Math.floor(Number.MAX_SAFE_INTEGER / 1000)
  })
  // MM2's scheduler skips a task with a negative interval; zero would make Java's executor throw.
  if (seconds === 0)
    throw configError(sec.where, `expected a positive number of seconds (or -1 to disable), got ${shown(sec.value)}`)
  if (seconds < 0) return { enabled: false, intervalMs: rule.defaultMs, explicit: true }
  return { enabled, intervalMs: seconds * 1000, explicit: true }
}

/** A Java regex list, checked with the filters' own compiler so a bad one fails here, located. */
function patternList(
  map: ConnectorMap,
  key: string,
  deprecated: string | undefined,
  dflt: readonly string[],
  warnings: string[]
): readonly string[] {
  let e = map.get(key)
  const old = deprecated === undefined ? undefined : map.get(deprecated)
  if (old !== undefined) {
    warnings.push(
      located(
        old.where,
        `deprecated and removed in Kafka 4.0; use ${key}${e === undefined ? '' : ` (which is also set and wins)`}`
      )
    )
    if (e === undefined) e = old
  }
  if (e === undefined) return dflt
  const list = parseList(e)
  try {
    compilePatternList(list, 'invalid pattern list')
  } catch (err) {
    throw configError(e.where, (err as Error).message, err)
  }
  return list
}

function replicationPolicy(map: ConnectorMap, warnings: string[]): ReplicationPolicyConfig {
  const cls = map.get('replication.policy.class')
  const className = cls === undefined ? `${MIRROR_PACKAGE}DefaultReplicationPolicy` : text(cls).trim()
  const known = POLICIES.get(className)
  if (cls !== undefined && known === undefined) {
    throw configError(
      cls.where,
      `expected ${MIRROR_PACKAGE}DefaultReplicationPolicy or ${MIRROR_PACKAGE}IdentityReplicationPolicy (kafka-mirror cannot load custom replication policies), got ${shown(cls.value)}`
    )
  }
  if (cls !== undefined && known?.note !== undefined) warnings.push(located(cls.where, known.note))
  const sep = map.get('replication.policy.separator')
  const separator = sep === undefined ? '.' : text(sep) // ConfigDef STRING: not trimmed, as in Java
  if (sep !== undefined && separator === '') throw configError(sep.where, 'expected a non-empty separator, got ""')
  const internal = map.get('replication.policy.internal.topic.separator.enabled')
  return {
    kind: known?.kind ?? 'default',
    className,
    separator,
    internalTopicSeparatorEnabled: internal === undefined ? true : parseBoolean(internal)
  }
}

function useDefaultsFrom(e: ConfigEntry | undefined, warnings: string[]): 'source' | 'target' {
  if (e === undefined) return 'target'
  const v = text(e).trim()
  if (v === 'source') return 'source'
  // DefaultConfigPropertyFilter only compares with "source"; everything else behaves as "target".
  if (v !== 'target')
    warnings.push(located(e.where, `expected source or target, got ${shown(e.value)}; MM2 treats it as target`))
  return 'target'
}

/** Known-but-unmodelled keys are kept quietly; unknown ones are kept too, with a warning. */
function extraKeys(map: ConnectorMap, warnings: string[]): Record<string, string> {
  const extra: Record<string, string> = {}
  for (const [key, e] of map) {
    if (MODELLED_CONNECTOR_KEYS.includes(key)) continue
    if (isClientOverrideKey(key) && !isConnectorKey(key)) continue
    if (isClientKey(key)) {
      // MM2 builds clients from source.cluster.* / target.cluster.*, so a bare ssl.* here does nothing.
      if (e.topLevel !== true)
        warnings.push(
          located(
            e.where,
            'has no effect in a connector config; set it on the cluster (or as source.cluster./target.cluster.)'
          )
        )
      continue
    }
    if (key === EXACTLY_ONCE_WORKER_KEY) {
      // Connect reads it from the worker config only: a connector config never sees it.
      warnings.push(
        located(
          e.where,
          "a Connect worker key, ignored in a connector config; set it on the target cluster (mm2.properties: <target>.exactly.once.source.support; Strimzi: the target cluster's config)"
        )
      )
      continue
    }
    if (!isConnectorKey(key)) warnings.push(located(e.where, `unknown key${didYouMean(key, ALL_CONNECTOR_KEYS)}`))
    extra[key] = String(e.value) // a Secret stays redacted here; extra is for display only
  }
  return extra
}
