/**
 * Admin operations kafka-mirror needs, with our own types. Batch calls report per-item
 * results so one bad topic never hides the others.
 */
import {
  AclOperations,
  AclPermissionTypes,
  Admin,
  ConfigResourceTypes,
  ConfigSources,
  IncrementalAlterConfigOperationTypes,
  ResourcePatternTypes,
  ResourceTypes,
  protocolErrors,
  protocolErrorsCodesById
} from '@platformatic/kafka'
import type { ClientConfig } from '../config/model.ts'
import { type AclBinding, fromLibrary as aclFromLibrary, toLibrary as aclToLibrary } from './acl.ts'
import { type BaseClientOptions, clientOptions } from './security/client-options.ts'
import { createRequests, isTooLargeForController } from './create-topic-requests.ts'
import { KafkaError } from '../errors.ts'
import { errorTree } from '../util/error-tree.ts'
import { brokerErrorNames, isUnknownTopicError, toKafkaError } from './errors.ts'
import { explainClosedTls } from './security/tls-probe.ts'
import type { TopicPartition } from './types.ts'

export interface TopicDescription {
  readonly name: string
  readonly id: string
  readonly partitions: number
}

export type ConfigSource = 'topic' | 'dynamic-broker' | 'dynamic-default-broker' | 'static-broker' | 'default' | 'other'

export interface TopicConfigEntry {
  readonly name: string
  readonly value: string | null
  readonly source: ConfigSource
  readonly readOnly: boolean
  readonly sensitive: boolean
}

export interface NewTopic {
  readonly name: string
  readonly partitions: number
  /** -1 = broker default */
  readonly replicationFactor: number
  readonly configs: Readonly<Record<string, string>>
}

export type CreateTopicOutcome =
  { readonly status: 'created' } | { readonly status: 'exists' } | { readonly status: 'failed'; readonly error: Error }

export interface CommittedOffset {
  readonly topic: string
  readonly partition: number
  readonly offset: bigint
  readonly metadata: string
}

const sourceNames = new Map<number, ConfigSource>([
  [ConfigSources.DYNAMIC_TOPIC_CONFIG, 'topic'],
  [ConfigSources.DYNAMIC_BROKER_CONFIG, 'dynamic-broker'],
  [ConfigSources.DYNAMIC_DEFAULT_BROKER_CONFIG, 'dynamic-default-broker'],
  [ConfigSources.STATIC_BROKER_CONFIG, 'static-broker'],
  [ConfigSources.DEFAULT_CONFIG, 'default']
])

/**
 * Per-topic results of a CreateTopics response that failed for some topics (the response rides
 * on the library's error); undefined when the error carries no response (nothing was answered).
 */
function topicResults(
  err: unknown
): Map<string, { code: number; name: string; message: string; retriable: boolean }> | undefined {
  let results: Map<string, { code: number; name: string; message: string; retriable: boolean }> | undefined
  // The client's retries each leave a response in the tree, oldest first: a later answer
  // replaces an earlier one (a timeout, then "already exists" from our own first attempt), but
  // a topic created in any attempt stays created.
  for (const { error } of errorTree(err)) {
    const topics = (
      error as { response?: { topics?: Array<{ name?: string; errorCode?: number; errorMessage?: string | null }> } }
    ).response?.topics
    if (!Array.isArray(topics)) continue
    results ??= new Map()
    for (const t of topics) {
      if (typeof t.name !== 'string') continue
      const code = t.errorCode ?? 0
      const name = protocolErrorsCodesById[code] ?? `error code ${code}`
      const before = results.get(t.name)
      if (before?.code === 0) continue
      const timedOutBefore = before?.name === 'REQUEST_TIMED_OUT'
      results.set(
        t.name,
        timedOutBefore && name === 'TOPIC_ALREADY_EXISTS'
          ? { code: 0, name: 'NONE', message: '', retriable: false }
          : { code, name, message: t.errorMessage ?? '', retriable: protocolErrors[name]?.canRetry === true }
      )
    }
  }
  return results
}

function descriptions(
  names: readonly string[],
  md: { topics: ReadonlyMap<string, { id: string; partitionsCount: number }> }
): Map<string, TopicDescription> {
  const wanted = new Set(names)
  const result = new Map<string, TopicDescription>()
  for (const [name, t] of md.topics)
    if (wanted.has(name)) result.set(name, { name, id: t.id, partitions: t.partitionsCount })
  return result
}

export class KafkaAdmin {
  readonly #admin: Admin
  readonly #cluster: string
  readonly #options: BaseClientOptions

  constructor(cfg: ClientConfig, clientId: string) {
    this.#cluster = cfg.cluster
    this.#options = clientOptions(cfg, clientId)
    this.#admin = new Admin(this.#options)
  }

  #doing(what: string): string {
    return `${what} on cluster ${this.#cluster}`
  }

  async clusterId(): Promise<string> {
    try {
      const md = await this.#admin.metadata({ topics: [] })
      return md.id
    } catch (err) {
      throw await explainClosedTls(this.#options, toKafkaError(this.#doing('reading cluster metadata'), err))
    }
  }

  /** Topic names, internal ones (`__consumer_offsets`...) excluded. */
  async listTopics(): Promise<string[]> {
    try {
      return await this.#admin.listTopics({ includeInternals: false })
    } catch (err) {
      throw await explainClosedTls(this.#options, toKafkaError(this.#doing('listing topics'), err))
    }
  }

  /**
   * Describes topics that exist; names that do not exist are absent from the result. First one
   * metadata request without the client's retries; if a name is missing (one missing name fails
   * the whole request, and the client would retry it for about a second, which made every new
   * remote topic cost that much) or the request failed, the topics are listed and only the
   * existing ones described.
   */
  async describeTopics(names: readonly string[]): Promise<Map<string, TopicDescription>> {
    if (names.length === 0) return new Map()
    try {
      return descriptions(names, await this.#admin.metadata({ topics: [...names], forceUpdate: true, retries: 0 }))
    } catch {
      /* a missing name, or a transient failure: the careful way below */
    }
    let existing: Set<string>
    try {
      existing = new Set(await this.#admin.listTopics({ includeInternals: true }))
    } catch (err) {
      throw toKafkaError(this.#doing('listing topics'), err)
    }
    return await this.#describeExisting(names.filter(n => existing.has(n)))
  }

  async #describeExisting(names: readonly string[]): Promise<Map<string, TopicDescription>> {
    const result = new Map<string, TopicDescription>()
    if (names.length === 0) return result
    try {
      return descriptions(names, await this.#admin.metadata({ topics: [...names], forceUpdate: true }))
    } catch (err) {
      if (names.length > 1 && isUnknownTopicError(err)) {
        // Deleted since it was listed: one missing topic fails the whole call, so ask one by one.
        for (const name of names) {
          const one = await this.#describeExisting([name])
          const d = one.get(name)
          if (d !== undefined) result.set(name, d)
        }
        return result
      }
      if (isUnknownTopicError(err)) return result
      throw toKafkaError(this.#doing(`describing topics ${names.slice(0, 5).join(', ')}`), err)
    }
  }

  async createTopic(topic: NewTopic): Promise<CreateTopicOutcome> {
    return (
      (await this.createTopics([topic])).get(topic.name) ?? {
        status: 'failed',
        error: new KafkaError(`${this.#doing(`creating topic ${topic.name}`)}: no answer`, { retriable: true })
      }
    )
  }

  /**
   * Creates topics with one request per distinct set of configs (CreateTopics carries one
   * config list for all its topics in this client), so a hundred new remote topics cost one
   * round trip instead of a hundred; a set too large for the controller goes out in parts
   * (create-topic-requests.ts). Each topic's own outcome is returned, by name.
   */
  async createTopics(topics: readonly NewTopic[]): Promise<Map<string, CreateTopicOutcome>> {
    const outcomes = new Map<string, CreateTopicOutcome>()
    const byConfigs = Map.groupBy(topics, t =>
      JSON.stringify(Object.entries(t.configs).sort(([a], [b]) => a.localeCompare(b)))
    )
    await Promise.all(
      [...byConfigs.values()].map(async group => {
        for (const request of createRequests(group)) await this.#createTogether(request, outcomes)
      })
    )
    return outcomes
  }

  /**
   * One CreateTopics for `group` (topics with the same configs); each topic's outcome goes into
   * `outcomes`. Refused as too large for the controller (its limit is lower than we plan for),
   * it is sent again as two halves.
   */
  async #createTogether(group: readonly NewTopic[], outcomes: Map<string, CreateTopicOutcome>): Promise<void> {
    try {
      await this.#admin.createTopics({
        topics: group.map(t => ({ topic: t.name, partitions: t.partitions, replicas: t.replicationFactor })),
        configs: Object.entries(group[0]?.configs ?? {}).map(([name, value]) => ({ name, value }))
      })
      for (const t of group) outcomes.set(t.name, { status: 'created' })
    } catch (err) {
      const perTopic = topicResults(err)
      const tooLarge = group.every(t => {
        const r = perTopic?.get(t.name)
        return r !== undefined && isTooLargeForController(r.name, r.message)
      })
      if (tooLarge && group.length > 1) {
        const half = Math.ceil(group.length / 2)
        await this.#createTogether(group.slice(0, half), outcomes)
        await this.#createTogether(group.slice(half), outcomes)
        return
      }
      for (const t of group) {
        const result = perTopic?.get(t.name)
        if (result?.code === 0) outcomes.set(t.name, { status: 'created' })
        else if (
          result?.name === 'TOPIC_ALREADY_EXISTS' ||
          (perTopic === undefined && brokerErrorNames(err).includes('TOPIC_ALREADY_EXISTS') && group.length === 1)
        )
          outcomes.set(t.name, { status: 'exists' })
        else if (result !== undefined)
          outcomes.set(t.name, {
            status: 'failed',
            error: new KafkaError(
              `${this.#doing(`creating topic ${t.name}`)}: ${result.name}${result.message === '' ? '' : ` (${result.message})`}`,
              { retriable: result.retriable, kafkaCode: result.name }
            )
          })
        else
          outcomes.set(t.name, {
            status: 'failed',
            error: toKafkaError(this.#doing(`creating topic ${t.name}`), err)
          })
      }
    }
  }

  async createPartitions(topic: string, totalCount: number): Promise<void> {
    try {
      await this.#admin.createPartitions({ topics: [{ name: topic, count: totalCount, assignments: null }] })
    } catch (err) {
      if (brokerErrorNames(err).includes('INVALID_PARTITIONS')) return
      throw toKafkaError(this.#doing(`growing topic ${topic} to ${totalCount} partitions`), err)
    }
  }

  /** `bench` removes its scratch topics with this; the mirror itself never deletes a topic. */
  async deleteTopics(names: readonly string[]): Promise<void> {
    try {
      await this.#admin.deleteTopics({ topics: [...names] })
    } catch (err) {
      throw toKafkaError(this.#doing(`deleting topics ${names.join(', ')}`), err)
    }
  }

  async describeTopicConfigs(names: readonly string[]): Promise<Map<string, TopicConfigEntry[]>> {
    const result = new Map<string, TopicConfigEntry[]>()
    if (names.length === 0) return result
    try {
      const described = await this.#admin.describeConfigs({
        resources: names.map(name => ({
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: name,
          configurationKeys: []
        }))
      })
      for (const d of described) {
        result.set(
          d.resourceName,
          d.configs.map(c => ({
            name: c.name,
            value: c.value ?? null,
            source: sourceNames.get(c.configSource) ?? 'other',
            readOnly: c.readOnly,
            sensitive: c.isSensitive
          }))
        )
      }
      return result
    } catch (err) {
      throw toKafkaError(this.#doing(`describing configs of ${names.slice(0, 5).join(', ')}`), err)
    }
  }

  /** Sets and deletes topic config keys, one topic at a time so a failure names its topic. */
  async alterTopicConfigs(
    topic: string,
    set: Readonly<Record<string, string>>,
    remove: readonly string[]
  ): Promise<void> {
    const configs = [
      ...Object.entries(set).map(([name, value]) => ({
        name,
        value,
        configOperation: IncrementalAlterConfigOperationTypes.SET
      })),
      ...remove.map(name => ({ name, value: null, configOperation: IncrementalAlterConfigOperationTypes.DELETE }))
    ]
    if (configs.length === 0) return
    try {
      await this.#admin.incrementalAlterConfigs({
        resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configs }]
      })
    } catch (err) {
      throw toKafkaError(this.#doing(`altering configs of topic ${topic}`), err)
    }
  }

  /** Earliest or latest offset of each partition. */
  /**
   * `latest` is the high watermark, or with `committedOnly` the last stable offset: the end a
   * read_committed reader can reach while transactions are open below the high watermark.
   */
  async listOffsets(
    partitions: readonly TopicPartition[],
    which: 'earliest' | 'latest',
    opts: { readonly committedOnly?: boolean } = {}
  ): Promise<Map<string, bigint>> {
    const result = new Map<string, bigint>()
    if (partitions.length === 0) return result
    const byTopic = Map.groupBy(partitions, p => p.topic)
    const timestamp = which === 'earliest' ? -2n : -1n
    try {
      const listed = await this.#admin.listOffsets({
        // ListOffsets' isolation level: 1 is READ_COMMITTED (org.apache.kafka.common.IsolationLevel).
        ...(opts.committedOnly === true ? { isolationLevel: 1 } : {}),
        topics: [...byTopic].map(([name, ps]) => ({
          name,
          partitions: ps.map(p => ({ partitionIndex: p.partition, timestamp }))
        }))
      })
      for (const t of listed) for (const p of t.partitions) result.set(`${t.name}:${p.partitionIndex}`, p.offset)
      return result
    } catch (err) {
      throw toKafkaError(this.#doing(`listing ${which} offsets`), err)
    }
  }

  async listGroupOffsets(group: string): Promise<CommittedOffset[]> {
    try {
      const listed = await this.#admin.listConsumerGroupOffsets({ groups: [group] })
      const out: CommittedOffset[] = []
      for (const g of listed) {
        for (const t of g.topics) {
          for (const p of t.partitions) {
            if (p.committedOffset >= 0n)
              out.push({
                topic: t.name,
                partition: p.partitionIndex,
                offset: p.committedOffset,
                metadata: p.metadata ?? ''
              })
          }
        }
      }
      return out
    } catch (err) {
      throw toKafkaError(this.#doing(`reading offsets of group ${group}`), err)
    }
  }

  async alterGroupOffsets(
    group: string,
    offsets: ReadonlyArray<{ topic: string; partition: number; offset: bigint }>
  ): Promise<void> {
    const byTopic = Map.groupBy(offsets, o => o.topic)
    try {
      await this.#admin.alterConsumerGroupOffsets({
        groupId: group,
        topics: [...byTopic].map(([name, os]) => ({
          name,
          partitionOffsets: os.map(({ partition, offset }) => ({ partition, offset }))
        }))
      })
    } catch (err) {
      throw toKafkaError(this.#doing(`committing offsets of group ${group}`), err)
    }
  }

  async close(): Promise<void> {
    await this.#admin.close().catch(() => {})
  }

  /**
   * Every TOPIC ACL binding, whatever its pattern type. `undefined` when the cluster has no
   * authorizer (SECURITY_DISABLED): a normal setup, not a failure.
   */
  async describeTopicAcls(): Promise<AclBinding[] | undefined> {
    try {
      const resources = await this.#admin.describeAcls({
        filter: {
          resourceType: ResourceTypes.TOPIC,
          resourceName: null,
          resourcePatternType: ResourcePatternTypes.ANY,
          principal: null,
          host: null,
          operation: AclOperations.ANY,
          permissionType: AclPermissionTypes.ANY
        }
      })
      return resources.flatMap(r => r.acls.map(a => aclFromLibrary(r, a)))
    } catch (err) {
      if (brokerErrorNames(err).includes('SECURITY_DISABLED')) return undefined
      throw toKafkaError(this.#doing('describing topic ACLs'), err)
    }
  }

  /** Creates ACL bindings (existing ones are left as they are by the broker). */
  async createAcls(bindings: readonly AclBinding[]): Promise<void> {
    if (bindings.length === 0) return
    try {
      await this.#admin.createAcls({ creations: bindings.map(aclToLibrary) })
    } catch (err) {
      throw toKafkaError(this.#doing(`creating ${bindings.length} ACL bindings`), err)
    }
  }

  /** Consumer groups (classic and KIP-848) with their state, as Java's listConsumerGroups sees them. */
  async listConsumerGroups(): Promise<GroupListing[]> {
    try {
      const groups = await this.#admin.listGroups({ types: ['classic', 'consumer'] })
      // Connect workers' groups (protocol type "connect") are not consumer groups; simple groups have "".
      return [...groups.values()]
        .filter(g => g.protocolType === '' || g.protocolType === 'consumer')
        .map(g => ({ group: g.id, state: String(g.state) }))
    } catch (err) {
      throw toKafkaError(this.#doing('listing consumer groups'), err)
    }
  }

  /**
   * Whether a group has members now. `active` is false only for an empty, dead or unknown group
   * (its offsets can be set from outside). Both the listing (which covers KIP-848 groups, that
   * DescribeGroups does not describe) and DescribeGroups (member count of classic groups) must
   * agree that it is idle.
   */
  async groupActivity(group: string): Promise<GroupActivity> {
    const listedState = (await this.listConsumerGroups()).find(g => g.group === group)?.state
    let described: { state: string; members: number } | undefined
    try {
      const d = (await this.#admin.describeGroups({ groups: [group] })).get(group)
      if (d !== undefined) described = { state: String(d.state), members: d.members.size }
    } catch {
      // A group that does not exist, or a KIP-848 group, fails DescribeGroups on new brokers: the listing decides.
    }
    const busy = (state: string | undefined): boolean =>
      state !== undefined && !IDLE_GROUP_STATES.has(state.toUpperCase())
    const members = described?.members ?? 0
    const active = busy(listedState) || members > 0 || busy(described?.state)
    const state = (busy(listedState) ? listedState : (described?.state ?? listedState)) ?? 'Dead'
    return { state, members: members > 0 ? members : active ? -1 : 0, active }
  }

  /**
   * Committed offsets of many groups in one OffsetFetch per coordinator (as Java 4.0 batches it);
   * if the batch fails, group by group, and a group that still fails is left out (and reported).
   */
  async listGroupsOffsets(
    groups: readonly string[]
  ): Promise<{ offsets: Map<string, CommittedOffset[]>; failed: Map<string, Error> }> {
    const offsets = new Map<string, CommittedOffset[]>()
    const failed = new Map<string, Error>()
    if (groups.length === 0) return { offsets, failed }
    try {
      const listed = await this.#admin.listConsumerGroupOffsets({ groups: [...groups] })
      for (const g of listed) {
        const out: CommittedOffset[] = []
        for (const t of g.topics) {
          for (const p of t.partitions) {
            if (p.committedOffset >= 0n)
              out.push({
                topic: t.name,
                partition: p.partitionIndex,
                offset: p.committedOffset,
                metadata: p.metadata ?? ''
              })
          }
        }
        offsets.set(g.groupId, out)
      }
    } catch {
      for (const g of groups) {
        try {
          offsets.set(g, await this.listGroupOffsets(g))
        } catch (err) {
          failed.set(g, err as Error)
        }
      }
    }
    return { offsets, failed }
  }
}

export interface GroupListing {
  readonly group: string
  readonly state: string
}

export interface GroupActivity {
  readonly state: string
  /** Members now; -1 when only the listed state is known. */
  readonly members: number
  readonly active: boolean
}

/** States in which a group has no member (Java's EMPTY and DEAD; "" and UNKNOWN for groups that do not exist). */
const IDLE_GROUP_STATES = new Set(['EMPTY', 'DEAD', '', 'UNKNOWN'])
