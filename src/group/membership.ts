/**
 * One instance's membership in one classic group on the target cluster: join, sync, heartbeat,
 * rejoin and leave, with our own protocol type so Java tools do not take the group for a
 * consumer group (docs/scale-out-plan.md §1.4, §2). It owns the write lease (lease.ts).
 *
 * The protocol, as Apache Kafka's AbstractCoordinator runs it and as this class follows it:
 * - A new member joins with member id "" and is answered MEMBER_ID_REQUIRED with an id it must
 *   join again with at once (KIP-394; that second join is not a retry).
 * - The leader (named in every JoinGroup answer) gets every member's metadata, deals, and sends
 *   all assignments in its SyncGroup; the others send none and receive their own.
 * - While stable, a Heartbeat every heartbeat interval keeps the session (KIP-62 split the
 *   session timeout from the processing time, which is why the rebalance timeout is separate).
 *   REBALANCE_IN_PROGRESS means rejoin; UNKNOWN_MEMBER_ID and ILLEGAL_GENERATION mean this member
 *   is no longer part of the generation; NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE mean find
 *   the coordinator again and keep going.
 * - Close sends LeaveGroup so the others rebalance at once instead of after the session timeout.
 * - No static membership (KIP-345's group.instance.id): a second process with the same instance
 *   id would take over this member's session at once, and the old one would learn it only at
 *   its next request, so two writers could overlap; Connect refuses it for the same reason.
 *
 * What the owner of the units hears (events):
 * - `assigned`: a generation's assignment bytes for this member (decoding is the codec's job);
 * - `confirmed`: the first Heartbeat of that generation was answered NONE (units new to this
 *   member start only then, so their first write has a lease basis inside the generation);
 * - `fenced`: the lease ran out (no answered heartbeat for S - m): every write is refused from
 *   now on; units keep their state, suspended;
 * - `resumed`: a NONE answer in the same membership made the lease valid again;
 * - `lost`: the membership is gone (the coordinator no longer knows this member or generation):
 *   drop every unit WITHOUT storing positions (a late store could move a position back);
 * - `refused`: the group cannot be joined (another application holds it, authorisation, bad
 *   timeouts); retried every `refusedRetryMs`, emitted at every attempt, logged once per reason.
 *
 * Joins renew the lease too: a JoinGroup answered NONE means the join phase completed with this
 * member in it, after the request was sent, and the coordinator restarts every member's session
 * timer when the join phase completes; the units it lists in its metadata stay its own in that
 * generation (the assignor never moves an owned unit to another member in one step).
 */
import { EventEmitter } from 'node:events'
import type { GroupTimeouts } from '../config/model.ts'
import { groupTimeoutsProblem } from '../config/run-groups.ts'
import type { Logger } from '../observe/logger.ts'
import {
  type Coordinator,
  GroupErrorCode as E,
  groupErrorName,
  type GroupWire,
  type JoinAnswer
} from '../kafka/group-wire.ts'
import { type Clock, msToNs, NS_PER_MS, systemClock, type TimerHandle } from './clock.ts'
import { explainRefusal } from './java-member.ts'
import { Lease } from './lease.ts'

export const PROTOCOL_TYPE = 'kafka-mirror'
export const PROTOCOL_NAME = 'kafka-mirror-v1'

export type MembershipState = 'unjoined' | 'joining' | 'syncing' | 'stable' | 'refused' | 'closed'

export interface Assignment {
  readonly generation: number
  readonly memberId: string
  readonly leaderId: string
  /** This member's assignment bytes, as the leader's deal produced them (empty: nothing). */
  readonly assignment: Buffer
}

/** The leader's deal: every member's metadata in, every member's assignment out. */
export type Assignor = (members: ReadonlyMap<string, Buffer>, generation: number) => Map<string, Buffer>

export interface MembershipOptions {
  readonly wire: GroupWire
  readonly groupId: string
  /** Cluster alias of the coordinator, for messages. */
  readonly cluster: string
  readonly sessionTimeoutMs: number
  readonly rebalanceTimeoutMs: number
  readonly heartbeatIntervalMs: number
  /** This member's JoinGroup metadata, rebuilt for every join (what it owns right now). */
  readonly metadata: () => Buffer
  readonly assign: Assignor
  /**
   * The member id to join with first: the id this instance's previous process had, when that
   * process is gone (member-slot.ts), so the coordinator takes the join as its rejoin instead of
   * waiting for its session to time out. An id the coordinator no longer knows is answered
   * UNKNOWN_MEMBER_ID and the member joins as a new one.
   */
  readonly memberId?: string
  /** Told every member id the coordinator gives this member. */
  readonly onMemberId?: (memberId: string) => void
  readonly leaseMarginMs?: number
  readonly protocolType?: string
  readonly protocolName?: string
  /** First backoff after a failed request (doubled up to maxRetryBackoffMs). Default 100 ms. */
  readonly retryBackoffMs?: number
  readonly maxRetryBackoffMs?: number
  /**
   * Wait between attempts to join a group that refused us. Default 5 s: a refused JoinGroup is answered at once and
   * starts no rebalance of the holders' group, so asking often costs them nothing, and a migration from Java MM2
   * (stop it, and kafka-mirror takes over) waits seconds, not half a minute.
   */
  readonly refusedRetryMs?: number
  readonly clock?: Clock
  readonly log?: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>
}

interface MembershipEvents {
  assigned: [Assignment]
  confirmed: [number]
  fenced: [string]
  resumed: []
  lost: [string]
  refused: [string]
}

const quiet: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'> = { debug() {}, info() {}, warn() {}, error() {} }

/** Refuses timeouts the coordinator or the lease argument cannot work with (config/run-groups.ts). */
export function checkGroupTimeouts(t: GroupTimeouts): void {
  const problem = groupTimeoutsProblem(t)
  if (problem !== undefined) throw new RangeError(problem.message)
}

export class Membership extends EventEmitter<MembershipEvents> {
  readonly lease: Lease
  readonly #o: MembershipOptions
  readonly #clock: Clock
  readonly #log: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>
  readonly #protocolType: string
  readonly #protocolName: string
  #state: MembershipState = 'unjoined'
  #coordinator: Coordinator | undefined
  #memberId = ''
  #generation = -1
  #leaderId = ''
  /** An assignment is in force (units may be running): losing the membership must be reported. */
  #holding = false
  #confirmed = false
  /** Set while a JoinGroup is due: the reason it carries (brokers log it). */
  #joinReason: string | undefined = 'starting'
  #failures = 0
  #nextHeartbeatNs = 0n
  #refusal: string | undefined
  /** The last failed request's error while the group cannot be reached; cleared by an answer. */
  #lastError: string | undefined
  #closing = false
  #running: Promise<void> | undefined
  #wake: (() => void) | undefined

  constructor(options: MembershipOptions) {
    super()
    checkGroupTimeouts(options)
    this.#o = options
    this.#memberId = options.memberId ?? ''
    this.#clock = options.clock ?? systemClock
    this.#log = options.log ?? quiet
    this.#protocolType = options.protocolType ?? PROTOCOL_TYPE
    this.#protocolName = options.protocolName ?? PROTOCOL_NAME
    this.lease = new Lease({
      groupId: options.groupId,
      sessionTimeoutMs: options.sessionTimeoutMs,
      marginMs: options.leaseMarginMs,
      clock: this.#clock,
      onExpire: () => {
        this.#onLeaseExpired()
      }
    })
  }

  get state(): MembershipState {
    return this.#state
  }
  get memberId(): string {
    return this.#memberId
  }
  get generation(): number {
    return this.#generation
  }
  get leaderId(): string {
    return this.#leaderId
  }
  get isLeader(): boolean {
    return this.#leaderId !== '' && this.#leaderId === this.#memberId
  }
  /** Why the group cannot be joined, while it cannot. */
  get refusal(): string | undefined {
    return this.#refusal
  }
  /** Why the coordinator cannot be reached, while it cannot (a refusal is in `refusal`). */
  get lastError(): string | undefined {
    return this.#lastError
  }

  /** Starts joining; the membership then runs until close(). */
  start(): void {
    if (this.#running !== undefined || this.#closing) return
    this.#running = this.#run()
  }

  /**
   * Asks for a new generation (a release finished, the config changed, new partitions were
   * found): the next JoinGroup carries fresh metadata. Units keep running meanwhile.
   */
  requestRejoin(reason: string): void {
    if (this.#closing) return
    this.#joinReason ??= reason
    this.#wake?.()
  }

  /**
   * Leaves the group. The caller releases its units (positions stored) first. The lease ends
   * before the LeaveGroup is sent: once the coordinator has it, another member may be handed
   * the units right away. A join in progress is waited for at most `waitMs`.
   */
  async close(reason = 'shutting down', waitMs = 5000): Promise<void> {
    if (this.#closing) {
      await this.#running
      return
    }
    this.#closing = true
    this.lease.fence()
    this.#wake?.()
    const running = this.#running ?? Promise.resolve()
    let timer: TimerHandle | undefined
    await Promise.race([
      running,
      new Promise<void>(resolve => {
        timer = this.#clock.setTimer(waitMs, resolve)
      })
    ])
    if (timer !== undefined) this.#clock.clearTimer(timer)
    const coordinator = this.#coordinator
    if (coordinator !== undefined && this.#memberId !== '') {
      try {
        const answer = await this.#o.wire.leave(coordinator, {
          groupId: this.#o.groupId,
          memberId: this.#memberId,
          reason
        })
        if (answer.errorCode !== E.NONE)
          this.#log.warn('leaving the group', { group: this.#o.groupId, error: groupErrorName(answer.errorCode) })
        else this.#log.info('left the group', { group: this.#o.groupId, member: this.#memberId, reason })
      } catch (err) {
        this.#log.warn('leaving the group failed; the coordinator drops this member after the session timeout', {
          group: this.#o.groupId,
          error: err as Error
        })
      }
    }
    this.#holding = false
    this.#state = 'closed'
    this.lease.close()
    await this.#o.wire.close()
    await running.catch(() => {})
  }

  async #run(): Promise<void> {
    while (!this.#closing) {
      try {
        if (this.#coordinator === undefined) await this.#findCoordinator()
        else if (this.#joinReason !== undefined) await this.#joinAndSync()
        else await this.#heartbeat()
      } catch (err) {
        if (this.#closing) break
        // A failed request (network cut, timeout, broker gone): find the coordinator again. The
        // lease keeps running down meanwhile; membership state is kept (a heartbeat after the
        // reconnect tells whether it still holds).
        this.#coordinator = undefined
        this.#lastError = (err as Error).message
        this.#log.warn('group request failed', { group: this.#o.groupId, error: err as Error })
        await this.#pause(this.#backoff())
      }
    }
  }

  async #findCoordinator(): Promise<void> {
    const answer = await this.#o.wire.findCoordinator(this.#o.groupId)
    this.#lastError = undefined
    if (answer.errorCode === E.NONE && answer.coordinator !== undefined) {
      this.#coordinator = answer.coordinator
      this.#log.debug('group coordinator found', {
        group: this.#o.groupId,
        host: answer.coordinator.host,
        port: answer.coordinator.port
      })
      return
    }
    if (answer.errorCode === E.GROUP_AUTHORIZATION_FAILED) {
      await this.#refuse(
        `not authorised to use group ${this.#o.groupId} on cluster ${this.#o.cluster} (GROUP_AUTHORIZATION_FAILED)`
      )
      return
    }
    // COORDINATOR_NOT_AVAILABLE while the offsets topic is being created or moved: wait and ask again.
    this.#log.debug('no group coordinator yet', { group: this.#o.groupId, error: groupErrorName(answer.errorCode) })
    await this.#pause(this.#backoff())
  }

  async #joinAndSync(): Promise<void> {
    const coordinator = this.#coordinator
    if (coordinator === undefined) return
    const reason = this.#joinReason ?? 'rejoin'
    this.#joinReason = undefined
    this.#state = 'joining'
    const sentAt = this.#clock.nowNs()
    const join = await this.#o.wire.join(coordinator, {
      groupId: this.#o.groupId,
      sessionTimeoutMs: this.#o.sessionTimeoutMs,
      rebalanceTimeoutMs: this.#o.rebalanceTimeoutMs,
      memberId: this.#memberId,
      protocolType: this.#protocolType,
      protocols: [{ name: this.#protocolName, metadata: this.#o.metadata() }],
      reason
    })
    if (this.#closing) return
    switch (join.errorCode) {
      case E.NONE:
        this.#failures = 0
        this.#setMemberId(join.memberId)
        this.#generation = join.generationId
        // Before the renewal below: writes the renewed lease allows are this generation's.
        this.lease.setGeneration(join.generationId)
        this.#leaderId = join.leader
        this.#refusal = undefined
        // Units kept suspended through an expired lease run again: this generation lists them as ours.
        if (this.lease.renew(sentAt) && this.#holding) this.emit('resumed')
        await this.#sync(coordinator, join)
        return
      case E.MEMBER_ID_REQUIRED:
        // KIP-394: the coordinator named us and waits for a join with that id, at once.
        this.#setMemberId(join.memberId)
        this.#joinReason = reason
        return
      case E.UNKNOWN_MEMBER_ID:
      case E.FENCED_INSTANCE_ID:
        this.#lose(
          `the coordinator does not know member ${this.#memberId} any more (${groupErrorName(join.errorCode)})`,
          true
        )
        return
      case E.ILLEGAL_GENERATION:
        this.#lose(`generation ${this.#generation} is over (ILLEGAL_GENERATION)`, false)
        return
      case E.REBALANCE_IN_PROGRESS:
      case E.COORDINATOR_LOAD_IN_PROGRESS:
        this.#joinReason = reason
        await this.#pause(this.#backoff())
        return
      case E.NOT_COORDINATOR:
      case E.COORDINATOR_NOT_AVAILABLE:
        this.#coordinator = undefined
        this.#joinReason = reason
        await this.#pause(this.#backoff())
        return
      case E.INCONSISTENT_GROUP_PROTOCOL:
        this.#joinReason = reason
        await this.#refuse(await this.#whoHoldsTheGroup(coordinator))
        return
      default:
        // INVALID_SESSION_TIMEOUT, GROUP_AUTHORIZATION_FAILED, GROUP_MAX_SIZE_REACHED, INVALID_GROUP_ID:
        // a person must act; keep trying slowly so the group is joined once they did.
        this.#joinReason = reason
        await this.#refuse(
          `joining group ${this.#o.groupId} on cluster ${this.#o.cluster} was refused: ${groupErrorName(join.errorCode)}`
        )
    }
  }

  async #sync(coordinator: Coordinator, join: JoinAnswer): Promise<void> {
    this.#state = 'syncing'
    let assignments: Array<{ memberId: string; assignment: Buffer }> = []
    if (join.leader === join.memberId) {
      try {
        const dealt = this.#o.assign(new Map(join.members.map(m => [m.memberId, m.metadata])), join.generationId)
        assignments = join.members.map(m => ({
          memberId: m.memberId,
          assignment: dealt.get(m.memberId) ?? Buffer.alloc(0)
        }))
      } catch (err) {
        // A join from the leader sends the others' pending SyncGroups back with REBALANCE_IN_PROGRESS.
        this.#log.error('the deal failed; rejoining to try again', {
          group: this.#o.groupId,
          generation: join.generationId,
          error: err as Error
        })
        this.#joinReason = 'the leader could not deal'
        await this.#pause(this.#backoff())
        return
      }
    }
    const sync = await this.#o.wire.sync(coordinator, {
      groupId: this.#o.groupId,
      generationId: join.generationId,
      memberId: join.memberId,
      protocolType: this.#protocolType,
      protocolName: join.protocolName ?? this.#protocolName,
      assignments
    })
    if (this.#closing) return
    switch (sync.errorCode) {
      case E.NONE:
        this.#state = 'stable'
        this.#holding = true
        this.#confirmed = false
        // The first heartbeat goes out at once: it confirms the generation (and the lease) for new units.
        this.#nextHeartbeatNs = this.#clock.nowNs()
        this.#log.info('group generation joined', {
          group: this.#o.groupId,
          generation: join.generationId,
          member: join.memberId,
          leader: join.leader === join.memberId,
          members: join.members.length
        })
        this.emit('assigned', {
          generation: join.generationId,
          memberId: join.memberId,
          leaderId: join.leader,
          assignment: sync.assignment
        })
        return
      case E.REBALANCE_IN_PROGRESS:
        this.#joinReason = 'the group rebalanced again during sync'
        return
      case E.UNKNOWN_MEMBER_ID:
      case E.FENCED_INSTANCE_ID:
        this.#lose(
          `the coordinator does not know member ${join.memberId} any more (${groupErrorName(sync.errorCode)})`,
          true
        )
        return
      case E.ILLEGAL_GENERATION:
        this.#lose(`generation ${join.generationId} is over (ILLEGAL_GENERATION)`, false)
        return
      case E.NOT_COORDINATOR:
      case E.COORDINATOR_NOT_AVAILABLE:
        this.#coordinator = undefined
        this.#joinReason = 'the coordinator moved'
        return
      default:
        this.#joinReason = `sync failed: ${groupErrorName(sync.errorCode)}`
        this.#log.warn('group sync failed', { group: this.#o.groupId, error: groupErrorName(sync.errorCode) })
        await this.#pause(this.#backoff())
    }
  }

  async #heartbeat(): Promise<void> {
    const waitNs = this.#nextHeartbeatNs - this.#clock.nowNs()
    if (waitNs > 0n) {
      await this.#pause(Number((waitNs + NS_PER_MS - 1n) / NS_PER_MS))
      return // woken or due: the loop decides again (a rejoin may have been asked meanwhile)
    }
    const coordinator = this.#coordinator
    if (coordinator === undefined) return
    const sentAt = this.#clock.nowNs()
    this.#nextHeartbeatNs = sentAt + msToNs(this.#o.heartbeatIntervalMs)
    const answer = await this.#o.wire.heartbeat(coordinator, {
      groupId: this.#o.groupId,
      generationId: this.#generation,
      memberId: this.#memberId
    })
    if (this.#closing) return
    switch (answer.errorCode) {
      case E.NONE: {
        this.#failures = 0
        const resumed = this.lease.renew(sentAt) && this.#holding
        if (!this.#confirmed) {
          this.#confirmed = true
          this.emit('confirmed', this.#generation)
        }
        if (resumed) {
          this.#log.info('lease renewed after it had run out; writes resume', {
            group: this.#o.groupId,
            generation: this.#generation
          })
          this.emit('resumed')
        }
        return
      }
      case E.REBALANCE_IN_PROGRESS:
        // Keep the units (the next join lists them) but renew nothing: that rebalance may complete without us.
        this.#joinReason = 'the group is rebalancing'
        return
      case E.UNKNOWN_MEMBER_ID:
      case E.FENCED_INSTANCE_ID:
        this.#lose(
          `the coordinator does not know member ${this.#memberId} any more (${groupErrorName(answer.errorCode)})`,
          true
        )
        return
      case E.ILLEGAL_GENERATION:
        this.#lose(`generation ${this.#generation} is over (ILLEGAL_GENERATION)`, false)
        return
      case E.NOT_COORDINATOR:
      case E.COORDINATOR_NOT_AVAILABLE:
        // Find the coordinator again and keep heartbeating the same generation.
        this.#coordinator = undefined
        this.#nextHeartbeatNs = this.#clock.nowNs()
        await this.#pause(this.#backoff())
        return
      default:
        this.#log.warn('heartbeat failed', { group: this.#o.groupId, error: groupErrorName(answer.errorCode) })
        this.#nextHeartbeatNs = this.#clock.nowNs() + msToNs(this.#backoff())
    }
  }

  /** The membership is gone: writes end now, units are dropped without storing, then join afresh. */
  #setMemberId(id: string): void {
    if (id === this.#memberId) return
    this.#memberId = id
    this.#o.onMemberId?.(id)
  }

  #lose(reason: string, resetMemberId: boolean): void {
    this.lease.fence()
    if (resetMemberId) this.#memberId = ''
    this.#generation = -1
    this.lease.setGeneration(-1)
    this.#leaderId = ''
    this.#state = 'unjoined'
    this.#joinReason = 'membership lost'
    if (!this.#holding) return
    this.#holding = false
    this.#log.warn('group membership lost; units stop without storing positions', { group: this.#o.groupId, reason })
    this.emit('lost', reason)
  }

  #onLeaseExpired(): void {
    if (this.#closing) return
    const reason = `no heartbeat of group ${this.#o.groupId} answered for ${this.#o.sessionTimeoutMs} ms less the margin; writes stop`
    this.#log.warn('write lease expired', { group: this.#o.groupId, generation: this.#generation })
    this.emit('fenced', reason)
  }

  async #whoHoldsTheGroup(coordinator: Coordinator): Promise<string> {
    const place = { groupId: this.#o.groupId, cluster: this.#o.cluster, protocolType: this.#protocolType }
    try {
      return explainRefusal(await this.#o.wire.describe(coordinator, this.#o.groupId), place)
    } catch (err) {
      return `group ${place.groupId} on cluster ${place.cluster} is held by members of another protocol (INCONSISTENT_GROUP_PROTOCOL); describing it failed: ${(err as Error).message}`
    }
  }

  async #refuse(reason: string): Promise<void> {
    const retryMs = this.#o.refusedRetryMs ?? 5_000
    // Logged once per reason: a Java MM2 left running for days would otherwise repeat it at every attempt.
    // A changed reason (another member count, the group emptied) is news and is logged.
    const first = this.#refusal !== reason
    this.#refusal = reason
    this.#state = 'refused'
    if (first)
      this.#log.error(`${reason}; nothing of this group runs here until it can be joined`, {
        group: this.#o.groupId,
        retryEveryMs: retryMs
      })
    this.emit('refused', reason)
    await this.#pause(retryMs)
  }

  #backoff(): number {
    this.#failures++
    const first = this.#o.retryBackoffMs ?? 100
    return Math.min(this.#o.maxRetryBackoffMs ?? 1000, first * 2 ** (this.#failures - 1))
  }

  /** Waits `ms`, or less when requestRejoin/close wakes the loop. */
  async #pause(ms: number): Promise<void> {
    if (this.#closing) return
    await new Promise<void>(resolve => {
      const done = (): void => {
        this.#wake = undefined
        this.#clock.clearTimer(timer)
        resolve()
      }
      const timer = this.#clock.setTimer(ms, done)
      this.#wake = done
    })
  }
}
