/**
 * The six classic-group requests kafka-mirror's membership needs (FindCoordinator, JoinGroup,
 * SyncGroup, Heartbeat, LeaveGroup, DescribeGroups), on a library client of their own.
 *
 * Why a client of its own: a broker handles one request per connection at a time, and the
 * coordinator holds a JoinGroup for up to the rebalance timeout. Sharing a connection with
 * Produce would stall records behind a rebalance, and heartbeats behind large sends. Java keeps
 * the coordinator on a separate connection for the same reason (AbstractCoordinator gives it a
 * node id of its own). So this client is used for the group and nothing else.
 *
 * Answers come back as values: every broker error code is returned in the answer (the library
 * throws a ResponseError for them, which is unwrapped here), because each code is a state
 * transition for the caller, not a failure. Only a failed request (network, timeout, a closed
 * client) throws, as a retriable KafkaError. No state is kept here apart from the client.
 *
 * Versions: the highest both the broker and the library support (the library's own
 * negotiation). JoinGroup must be v4 or newer: v4 added the MEMBER_ID_REQUIRED handshake that
 * the membership relies on (KIP-394).
 */
import { Base, kGetApi, protocolErrorsCodesById } from '@platformatic/kafka'
import type { ClientConfig } from '../config/model.ts'
import { KafkaError } from '../errors.ts'
import { clientOptions } from './security/client-options.ts'
import { answerInError, bootstrapConnection, brokerConnection, type Connection } from './connections.ts'
import { toKafkaError } from './errors.ts'

/** The broker error codes the group protocol answers with (Apache Kafka's Errors enum). */
export const GroupErrorCode = {
  NONE: 0,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  GROUP_AUTHORIZATION_FAILED: 30,
  GROUP_ID_NOT_FOUND: 69,
  MEMBER_ID_REQUIRED: 79,
  GROUP_MAX_SIZE_REACHED: 81,
  FENCED_INSTANCE_ID: 82
} as const

/** `UNKNOWN_MEMBER_ID` for 25; `error code N` for a code the library does not know. */
export function groupErrorName(code: number): string {
  return code === 0 ? 'NONE' : (protocolErrorsCodesById[code] ?? `error code ${code}`)
}

export interface Coordinator {
  readonly nodeId: number
  readonly host: string
  readonly port: number
}

export interface FindCoordinatorAnswer {
  readonly errorCode: number
  readonly errorMessage: string | null
  /** Present when errorCode is NONE. */
  readonly coordinator?: Coordinator
}

export interface JoinRequest {
  readonly groupId: string
  readonly sessionTimeoutMs: number
  readonly rebalanceTimeoutMs: number
  /** "" for a new member. */
  readonly memberId: string
  readonly protocolType: string
  readonly protocols: ReadonlyArray<{ readonly name: string; readonly metadata: Buffer }>
  /** Why this member (re)joins; brokers log it (JoinGroup v8+, KIP-800). */
  readonly reason: string
}

export interface JoinAnswer {
  readonly errorCode: number
  readonly generationId: number
  readonly protocolName: string | null
  readonly leader: string
  /** The member id the coordinator knows this member by (also set with MEMBER_ID_REQUIRED). */
  readonly memberId: string
  /** Every member's metadata; only the leader gets them. */
  readonly members: ReadonlyArray<{ readonly memberId: string; readonly metadata: Buffer }>
}

export interface SyncRequest {
  readonly groupId: string
  readonly generationId: number
  readonly memberId: string
  readonly protocolType: string
  readonly protocolName: string
  /** The leader sends every member's assignment; the others send none. */
  readonly assignments: ReadonlyArray<{ readonly memberId: string; readonly assignment: Buffer }>
}

export interface SyncAnswer {
  readonly errorCode: number
  readonly assignment: Buffer
}

export interface HeartbeatRequest {
  readonly groupId: string
  readonly generationId: number
  readonly memberId: string
}

export interface LeaveRequest {
  readonly groupId: string
  readonly memberId: string
  readonly reason: string
}

export interface ErrorAnswer {
  readonly errorCode: number
}

export interface DescribedMember {
  readonly memberId: string
  readonly clientId: string
  readonly clientHost: string
  /** Raw bytes: only the group's own protocol knows how to read them. */
  readonly metadata: Buffer
  readonly assignment: Buffer
}

export interface DescribedGroup {
  readonly errorCode: number
  readonly groupId: string
  /** Empty, PreparingRebalance, CompletingRebalance, Stable, Dead. */
  readonly state: string
  /** `connect` for Kafka Connect, `consumer` for consumer groups, `kafka-mirror` for ours. */
  readonly protocolType: string
  readonly protocolName: string
  readonly members: readonly DescribedMember[]
}

/**
 * What the membership needs from the wire: an interface, so the state machine is tested against
 * a scripted coordinator and the real one is this file's KafkaGroupWire.
 */
export interface GroupWire {
  findCoordinator(groupId: string): Promise<FindCoordinatorAnswer>
  join(coordinator: Coordinator, request: JoinRequest): Promise<JoinAnswer>
  sync(coordinator: Coordinator, request: SyncRequest): Promise<SyncAnswer>
  heartbeat(coordinator: Coordinator, request: HeartbeatRequest): Promise<ErrorAnswer>
  leave(coordinator: Coordinator, request: LeaveRequest): Promise<ErrorAnswer>
  describe(coordinator: Coordinator, groupId: string): Promise<DescribedGroup>
  close(): Promise<void>
}

/** Lowest versions the membership can work with; higher ones are used when both sides have them. */
const MIN_VERSIONS: Readonly<Record<string, number>> = { JoinGroup: 4 }
/** FindCoordinator's key type for a group (Apache Kafka's CoordinatorType.GROUP). */
const GROUP_KEY_TYPE = 0
/** Java's AbstractCoordinator waits this much longer than the rebalance timeout for a JoinGroup answer. */
const JOIN_TIMEOUT_LAPSE_MS = 5000

interface Api {
  readonly version: number
  readonly async: (connection: unknown, ...args: unknown[]) => Promise<unknown>
}

export class KafkaGroupWire implements GroupWire {
  readonly #client: Base
  readonly #cluster: string
  readonly #shortTimeoutMs: number

  /**
   * `clientId` names this client in broker logs and DescribeGroups.
   *
   * Two timeouts. JoinGroup and SyncGroup are legitimately held by the coordinator for the whole
   * rebalance, so the client's request timeout is at least the rebalance timeout plus 5 s (the
   * library destroys the connection of a request that times out). Every other request gives up
   * after `requestTimeoutMs` (default: the cluster's request.timeout.ms) and drops the
   * connection, so a coordinator that went silent is looked up again instead of holding the
   * next heartbeat back for a minute; pass the session timeout to behave like Java's heartbeat
   * thread, which drops the coordinator once no heartbeat succeeded for a session timeout.
   */
  constructor(
    cfg: ClientConfig,
    clientId: string,
    opts: { readonly rebalanceTimeoutMs: number; readonly requestTimeoutMs?: number }
  ) {
    this.#cluster = cfg.cluster
    const options = clientOptions(cfg, clientId)
    const requestTimeout = Math.max(options.timeout, opts.rebalanceTimeoutMs + JOIN_TIMEOUT_LAPSE_MS)
    this.#shortTimeoutMs = Math.min(opts.requestTimeoutMs ?? options.timeout, requestTimeout)
    this.#client = new Base({ ...options, requestTimeout } as never)
  }

  async findCoordinator(groupId: string): Promise<FindCoordinatorAnswer> {
    const api = await this.#api('FindCoordinator')
    const conn = await bootstrapConnection(this.#client)
    // v4+ takes a list of keys; older versions read the first one only.
    const answer = await this.#call<{
      coordinators: Array<{
        nodeId: number
        host: string
        port: number
        errorCode: number
        errorMessage: string | null
      }>
    }>(`finding the coordinator of group ${groupId}`, this.#shortTimeoutMs, api, conn, GROUP_KEY_TYPE, [groupId])
    const found = answer.coordinators[0]
    if (found === undefined)
      return { errorCode: GroupErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: 'no coordinator in the answer' }
    if (found.errorCode !== GroupErrorCode.NONE) return { errorCode: found.errorCode, errorMessage: found.errorMessage }
    return {
      errorCode: GroupErrorCode.NONE,
      errorMessage: null,
      coordinator: { nodeId: found.nodeId, host: found.host, port: found.port }
    }
  }

  async join(coordinator: Coordinator, r: JoinRequest): Promise<JoinAnswer> {
    const api = await this.#api('JoinGroup')
    const answer = await this.#call<{
      errorCode: number
      generationId?: number
      protocolName?: string | null
      leader?: string
      memberId?: string
      members?: Array<{ memberId: string; metadata: Buffer }>
    }>(
      `joining group ${r.groupId}`,
      undefined,
      api,
      await this.#connection(coordinator),
      r.groupId,
      r.sessionTimeoutMs,
      r.rebalanceTimeoutMs,
      r.memberId,
      null,
      r.protocolType,
      r.protocols.map(p => ({ name: p.name, metadata: p.metadata })),
      r.reason
    )
    return {
      errorCode: answer.errorCode,
      generationId: answer.generationId ?? -1,
      protocolName: answer.protocolName ?? null,
      leader: answer.leader ?? '',
      memberId: answer.memberId ?? '',
      members: (answer.members ?? []).map(m => ({ memberId: m.memberId, metadata: m.metadata }))
    }
  }

  async sync(coordinator: Coordinator, r: SyncRequest): Promise<SyncAnswer> {
    const api = await this.#api('SyncGroup')
    const answer = await this.#call<{ errorCode: number; assignment?: Buffer }>(
      `syncing group ${r.groupId}`,
      undefined,
      api,
      await this.#connection(coordinator),
      r.groupId,
      r.generationId,
      r.memberId,
      null,
      r.protocolType,
      r.protocolName,
      r.assignments.map(a => ({ memberId: a.memberId, assignment: a.assignment }))
    )
    return { errorCode: answer.errorCode, assignment: answer.assignment ?? Buffer.alloc(0) }
  }

  async heartbeat(coordinator: Coordinator, r: HeartbeatRequest): Promise<ErrorAnswer> {
    const api = await this.#api('Heartbeat')
    const answer = await this.#call<{ errorCode: number }>(
      `heartbeat to group ${r.groupId}`,
      this.#shortTimeoutMs,
      api,
      await this.#connection(coordinator),
      r.groupId,
      r.generationId,
      r.memberId,
      null
    )
    return { errorCode: answer.errorCode }
  }

  /** The group's error, or else this member's own (v3+ answers per member). */
  async leave(coordinator: Coordinator, r: LeaveRequest): Promise<ErrorAnswer> {
    const api = await this.#api('LeaveGroup')
    const answer = await this.#call<{ errorCode: number; members?: Array<{ errorCode: number }> }>(
      `leaving group ${r.groupId}`,
      this.#shortTimeoutMs,
      api,
      await this.#connection(coordinator),
      r.groupId,
      [{ memberId: r.memberId, groupInstanceId: null, reason: r.reason }]
    )
    const memberError = answer.members?.find(m => m.errorCode !== GroupErrorCode.NONE)?.errorCode
    return {
      errorCode: answer.errorCode !== GroupErrorCode.NONE ? answer.errorCode : (memberError ?? GroupErrorCode.NONE)
    }
  }

  /**
   * DescribeGroups with every member's metadata and assignment as raw bytes (the library's
   * Admin.describeGroups decodes them as consumer-protocol bytes, which a `connect` or
   * `kafka-mirror` group does not hold).
   */
  async describe(coordinator: Coordinator, groupId: string): Promise<DescribedGroup> {
    const api = await this.#api('DescribeGroups')
    const answer = await this.#call<{
      groups: Array<{
        errorCode: number
        groupId: string
        groupState: string
        protocolType: string
        protocolData: string
        members: Array<{
          memberId: string
          clientId: string
          clientHost: string
          memberMetadata: Buffer
          memberAssignment: Buffer
        }>
      }>
    }>(`describing group ${groupId}`, this.#shortTimeoutMs, api, await this.#connection(coordinator), [groupId], false)
    const g = answer.groups.find(x => x.groupId === groupId) ?? answer.groups[0]
    if (g === undefined)
      return {
        errorCode: GroupErrorCode.GROUP_ID_NOT_FOUND,
        groupId,
        state: 'Dead',
        protocolType: '',
        protocolName: '',
        members: []
      }
    return {
      errorCode: g.errorCode,
      groupId: g.groupId,
      state: g.groupState,
      protocolType: g.protocolType,
      protocolName: g.protocolData,
      members: g.members.map(m => ({
        memberId: m.memberId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: m.memberMetadata,
        assignment: m.memberAssignment
      }))
    }
  }

  /** Closes the connections. No LeaveGroup is sent here: that is the membership's decision. */
  async close(): Promise<void> {
    await this.#client.close()
  }

  async #api(name: string): Promise<Api> {
    const api = await new Promise<Api>((resolve, reject) => {
      this.#client[kGetApi](name as never, (error, found) => {
        if (error != null || found == null) reject(error ?? new Error(`no ${name} API`))
        else resolve(found as unknown as Api)
      })
    }).catch((err: unknown) => {
      throw toKafkaError(`negotiating ${name} with cluster ${this.#cluster}`, err)
    })
    const min = MIN_VERSIONS[name] ?? 0
    if (api.version < min) {
      throw new KafkaError(
        `cluster ${this.#cluster} offers ${name} version ${api.version}; kafka-mirror's group membership needs ${min} or newer (Apache Kafka 2.2 or newer)`,
        { retriable: false, kafkaCode: 'UNSUPPORTED_VERSION' }
      )
    }
    return api
  }

  async #connection(coordinator: Coordinator): Promise<Connection> {
    return await brokerConnection(this.#client, coordinator).catch((err: unknown) => {
      throw toKafkaError(
        `connecting to the group coordinator ${coordinator.host}:${coordinator.port} of cluster ${this.#cluster}`,
        err
      )
    })
  }

  /**
   * Sends one request; a broker error comes back as the parsed answer, a failed request throws.
   * With `timeoutMs`, a request unanswered by then destroys its connection (which fails it, and
   * anything queued behind it) and throws; without, the client's long timeout applies.
   */
  async #call<T>(
    doing: string,
    timeoutMs: number | undefined,
    api: Api,
    conn: unknown,
    ...args: unknown[]
  ): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    let timedOut = false
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        timedOut = true
        ;(conn as { socket?: { destroy(): void } }).socket?.destroy()
      }, timeoutMs)
    }
    try {
      return (await api.async(conn, ...args)) as T
    } catch (err) {
      const answer = answerInError<T>(err)
      if (answer !== undefined) return answer
      if (timedOut)
        throw new KafkaError(
          `${doing} on cluster ${this.#cluster}: no answer within ${timeoutMs} ms; connection dropped`,
          { retriable: true, kafkaCode: 'REQUEST_TIMED_OUT', cause: err }
        )
      throw toKafkaError(`${doing} on cluster ${this.#cluster}`, err)
    } finally {
      clearTimeout(timer)
    }
  }
}
