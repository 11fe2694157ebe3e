/**
 * Copies topic ACLs from the source to the remote topics on the target, as MirrorSourceConnector
 * does (MirrorSourceConnector ACL sync): literal TOPIC bindings of replicated topics only, ALLOW WRITE dropped
 * (only the mirror writes remote topics), ALLOW ALL narrowed to READ, everything else (DENY
 * entries, ALLOW DESCRIBE/ALTER/...) copied as is with its principal and host. Additive: ACLs
 * removed on the source are never removed on the target.
 *
 * Unlike MM2, which re-creates the whole list every interval (KAFKA-15119), we describe the
 * target first and create only the bindings it lacks, so a steady state writes nothing.
 */
import type { FlowConfig } from '../config/model.ts'
import { type AclBinding, aclKey } from '../kafka/acl.ts'
import type { KafkaAdmin } from '../kafka/admin.ts'
import type { Logger } from '../observe/logger.ts'

/** What the mapping needs to know about the flow's topics. */
export interface AclTopicNaming {
  /** The flow's topic selection (filters, default excludes, no cycles). */
  accepts(sourceTopic: string): boolean
  remoteName(sourceTopic: string): string
}

/** Source bindings → the bindings the target should have (deduplicated, input order kept). */
export function mapTopicAcls(source: readonly AclBinding[], naming: AclTopicNaming): AclBinding[] {
  const out = new Map<string, AclBinding>()
  for (const b of source) {
    // Prefixed and match patterns would name other topics on the target: never copied.
    if (b.resourceType !== 'TOPIC' || b.patternType !== 'LITERAL') continue
    if (b.permission === 'ALLOW' && b.operation === 'WRITE') continue
    if (!naming.accepts(b.resourceName)) continue
    const mapped: AclBinding = {
      ...b,
      resourceName: naming.remoteName(b.resourceName),
      operation: b.permission === 'ALLOW' && b.operation === 'ALL' ? 'READ' : b.operation
    }
    out.set(aclKey(mapped), mapped)
  }
  return [...out.values()]
}

export type AclSyncOutcome =
  | { readonly status: 'synced'; readonly wanted: number; readonly created: number }
  | { readonly status: 'no-authorizer'; readonly cluster: 'source' | 'target' }

export class AclSync {
  readonly #flow: FlowConfig
  readonly #naming: AclTopicNaming
  readonly #source: KafkaAdmin
  readonly #target: KafkaAdmin
  readonly #log: Logger
  /** Clusters already reported without an authorizer: said once at info (warn for the target), then at debug. */
  readonly #toldNoAuthorizer = new Set<'source' | 'target'>()

  constructor(flow: FlowConfig, naming: AclTopicNaming, sourceAdmin: KafkaAdmin, targetAdmin: KafkaAdmin, log: Logger) {
    this.#flow = flow
    this.#naming = naming
    this.#source = sourceAdmin
    this.#target = targetAdmin
    this.#log = log
  }

  /** One pass. Throws on Kafka errors (the caller logs them and tries again next interval). */
  async syncOnce(): Promise<AclSyncOutcome> {
    const source = await this.#source.describeTopicAcls()
    if (source === undefined) return this.#noAuthorizer('source')
    const wanted = mapTopicAcls(source, this.#naming)
    if (wanted.length === 0) return { status: 'synced', wanted: 0, created: 0 }
    const existing = await this.#target.describeTopicAcls()
    if (existing === undefined) return this.#noAuthorizer('target')
    const have = new Set(existing.map(aclKey))
    const missing = wanted.filter(b => !have.has(aclKey(b)))
    if (missing.length > 0) {
      await this.#target.createAcls(missing)
      this.#log.info('synced topic ACLs', {
        created: missing.length,
        topics: [...new Set(missing.map(b => b.resourceName))].slice(0, 10).join(',')
      })
    }
    return { status: 'synced', wanted: wanted.length, created: missing.length }
  }

  #noAuthorizer(cluster: 'source' | 'target'): AclSyncOutcome {
    const name = cluster === 'source' ? this.#flow.source : this.#flow.target
    if (this.#toldNoAuthorizer.has(cluster)) {
      this.#log.debug(`topic ACL sync skipped: ${cluster} cluster has no authorizer`, { cluster: name })
    } else if (cluster === 'source') {
      this.#toldNoAuthorizer.add(cluster)
      this.#log.info('topic ACLs are not synced: the source cluster has no authorizer (SECURITY_DISABLED)', {
        cluster: name
      })
    } else {
      // The source has ACLs that the target cannot enforce: worth a warning, once.
      this.#toldNoAuthorizer.add(cluster)
      this.#log.warn(
        'topic ACLs are not synced: the target cluster has no authorizer (SECURITY_DISABLED) to hold them',
        { cluster: name }
      )
    }
    return { status: 'no-authorizer', cluster }
  }
}
