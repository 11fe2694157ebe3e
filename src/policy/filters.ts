/**
 * Topic, group and topic-config-property filters (DefaultTopicFilter, DefaultGroupFilter, MirrorSourceConnector,
 * DefaultConfigPropertyFilter), with Java MM2
 * 4.3.1's default lists, and the source connector's topic selection rule.
 *
 * Invariants:
 * - A regex list matches a name when some entry matches the WHOLE name. Like Java's
 *   MirrorUtils.compilePatternList, the entries are joined with `|` and compiled as one Java regex
 *   (so an inline `(?i)` in one entry reaches the entries after it, as in Java), translated to JS by
 *   java-regex.ts, and used as `^(?:...)$`. An empty list matches nothing.
 * - A pattern that cannot be translated faithfully throws ConfigError quoting the entry.
 * - Exclusion wins over inclusion. Filters are pure and hold no I/O.
 */
import { ConfigError } from '../errors.ts'
import { translateJavaRegex } from './java-regex.ts'
import { isCycle } from './replication-policy.ts'
import type { ReplicationPolicy } from './replication-policy.ts'

/** `topics` default (DefaultTopicFilter.TOPICS_INCLUDE_DEFAULT). */
export const DEFAULT_TOPICS: readonly string[] = Object.freeze(['.*'])
/** `topics.exclude` default in Java 4.3.1 (DefaultTopicFilter.TOPICS_EXCLUDE_DEFAULT). */
export const DEFAULT_TOPICS_EXCLUDE: readonly string[] = Object.freeze(['mm2.*\\.internal', '.*\\.replica', '__.*'])
/** `groups` default. */
export const DEFAULT_GROUPS: readonly string[] = Object.freeze(['.*'])
/** `groups.exclude` default. */
export const DEFAULT_GROUPS_EXCLUDE: readonly string[] = Object.freeze(['console-consumer-.*', 'connect-.*', '__.*'])
/**
 * `config.properties.exclude` default in Java 4.3.1. The dots are not escaped in Java either, so
 * they match any character (`minXinsyncXreplicas` is excluded too).
 */
export const DEFAULT_CONFIG_PROPERTIES_EXCLUDE: readonly string[] = Object.freeze([
  'follower.replication.throttled.replicas',
  'leader.replication.throttled.replicas',
  'message.timestamp.difference.max.ms',
  'log.message.timestamp.before.max.ms',
  'log.message.timestamp.after.max.ms',
  'message.timestamp.type',
  'unclean.leader.election.enable',
  'min.insync.replicas'
])

/** A compiled Java regex list. */
export interface PatternList {
  readonly patterns: readonly string[]
  /** The anchored JS regex, or null for an empty list (which matches nothing). */
  readonly regex: RegExp | null
  matches(name: string): boolean
}

/**
 * Compiles a Java regex list (`topics`, `groups.exclude`, ...). `what` names the list in errors.
 */
export function compilePatternList(patterns: readonly string[], what = 'pattern list'): PatternList {
  const frozen = Object.freeze([...patterns])
  if (frozen.length === 0) return { patterns: frozen, regex: null, matches: () => false }
  let regex: RegExp
  try {
    regex = new RegExp(`^(?:${translateJavaRegex(frozen.join('|'))})$`, 'u')
  } catch (err) {
    // Name the entry at fault when one is bad on its own; otherwise the joined list is.
    for (const p of frozen) {
      try {
        void new RegExp(`^(?:${translateJavaRegex(p)})$`, 'u')
      } catch (entryErr) {
        throw new ConfigError(`${what}: ${describe(entryErr, p)}`)
      }
    }
    throw new ConfigError(`${what}: ${describe(err, frozen.join('|'))}`)
  }
  return { patterns: frozen, regex, matches: name => regex.test(name) }
}

function describe(err: unknown, pattern: string): string {
  if (err instanceof ConfigError) return err.message
  return `regular expression "${pattern}" is not valid: ${(err as Error).message}`
}

export interface TopicFilter {
  shouldReplicateTopic(topic: string): boolean
}

export interface GroupFilter {
  shouldReplicateGroup(group: string): boolean
}

export interface ConfigPropertyFilter {
  /** False for topic config properties that are never synced. */
  shouldReplicateConfigProperty(name: string): boolean
  /** Whether a property that is a default on the source is copied (true only with use.defaults.from=source). */
  shouldReplicateSourceDefault(name: string): boolean
}

/** A name passes when some entry of the include list matches it and no entry of the exclude list does. */
class IncludeExcludeFilter {
  readonly include: PatternList
  readonly exclude: PatternList

  /** `key` names the include list (`topics`); the exclude list is `<key>.exclude`. */
  constructor(key: string, include: readonly string[], exclude: readonly string[]) {
    this.include = compilePatternList(include, key)
    this.exclude = compilePatternList(exclude, `${key}.exclude`)
  }

  protected passes(name: string): boolean {
    return this.include.matches(name) && !this.exclude.matches(name)
  }
}

export class DefaultTopicFilter extends IncludeExcludeFilter implements TopicFilter {
  constructor(opts: { topics?: readonly string[]; topicsExclude?: readonly string[] } = {}) {
    super('topics', opts.topics ?? DEFAULT_TOPICS, opts.topicsExclude ?? DEFAULT_TOPICS_EXCLUDE)
  }

  shouldReplicateTopic(topic: string): boolean {
    return this.passes(topic)
  }
}

export class DefaultGroupFilter extends IncludeExcludeFilter implements GroupFilter {
  constructor(opts: { groups?: readonly string[]; groupsExclude?: readonly string[] } = {}) {
    super('groups', opts.groups ?? DEFAULT_GROUPS, opts.groupsExclude ?? DEFAULT_GROUPS_EXCLUDE)
  }

  shouldReplicateGroup(group: string): boolean {
    return this.passes(group)
  }
}

export class DefaultConfigPropertyFilter implements ConfigPropertyFilter {
  readonly exclude: PatternList
  readonly useDefaultsFrom: 'source' | 'target'

  constructor(opts: { configPropertiesExclude?: readonly string[]; useDefaultsFrom?: 'source' | 'target' } = {}) {
    this.exclude = compilePatternList(
      opts.configPropertiesExclude ?? DEFAULT_CONFIG_PROPERTIES_EXCLUDE,
      'config.properties.exclude'
    )
    this.useDefaultsFrom = opts.useDefaultsFrom ?? 'target'
  }

  shouldReplicateConfigProperty(name: string): boolean {
    return !this.exclude.matches(name)
  }

  shouldReplicateSourceDefault(_name: string): boolean {
    return this.useDefaultsFrom === 'source'
  }
}

/**
 * The filter settings of a flow, named as its config names them (FlowConfig has these fields,
 * already defaulted). Declared here rather than taken from config/, which imports this module.
 */
export interface FilterSettings {
  readonly topics: readonly string[]
  readonly topicsExclude: readonly string[]
  readonly groups: readonly string[]
  readonly groupsExclude: readonly string[]
  readonly configPropertiesExclude: readonly string[]
  readonly useDefaultsFrom: 'source' | 'target'
}

/** The three filters of a flow, from its (already defaulted) config. */
export function createFilters(flow: FilterSettings): {
  topicFilter: DefaultTopicFilter
  groupFilter: DefaultGroupFilter
  configPropertyFilter: DefaultConfigPropertyFilter
} {
  // The filters' options are named like the flow's fields.
  return {
    topicFilter: new DefaultTopicFilter(flow),
    groupFilter: new DefaultGroupFilter(flow),
    configPropertyFilter: new DefaultConfigPropertyFilter(flow)
  }
}

export interface TopicSelection {
  readonly filter: TopicFilter
  readonly policy: ReplicationPolicy
  /** Alias of the flow's target cluster (for cycle detection). */
  readonly targetAlias: string
  readonly heartbeatsReplicationEnabled: boolean
}

/**
 * MirrorSourceConnector.shouldReplicateTopic (DefaultTopicFilter):
 * (filter OR (heartbeats replication on AND a heartbeats topic)) AND NOT internal AND NOT a cycle.
 */
export function shouldReplicateTopic(topic: string, sel: TopicSelection): boolean {
  return (
    (sel.filter.shouldReplicateTopic(topic) ||
      (sel.heartbeatsReplicationEnabled && sel.policy.isHeartbeatsTopic(topic))) &&
    !sel.policy.isInternalTopic(topic) &&
    !isCycle(sel.policy, topic, sel.targetAlias)
  )
}
