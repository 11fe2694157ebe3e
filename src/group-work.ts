/**
 * One group's work on this instance (docs/DESIGN.md, "Scale-out"): joins the
 * group (src/group/membership.ts), deals the units when it leads (src/group/assignor.ts), and
 * applies each assignment to the running parts:
 * - copy units (one source partition of a flow) go to that flow's SourceFlow with `own()`;
 * - `topics:<flow>` makes that SourceFlow create, grow and sync the remote topics;
 * - `checkpoints:<flow>` and `heartbeats:<flow>` run a CheckpointFlow / HeartbeatEmitter, created
 *   when the unit arrives and closed when it leaves.
 *
 * Order of a hand-over (plan §5.3): a revoked unit is stopped at once (a copy unit is released
 * by the copier task that copies it, which stores its position and keeps copying the others),
 * then the member rejoins with the unit absent and its position in `released`, so the leader
 * deals it to another member in the next generation. Units new to this member start
 * only after the generation's first answered heartbeat (the lease then has a basis inside the
 * generation), and units whose last owner may have been lost (`quiet`) wait the lease margin
 * more, so a late write of the lost owner lands before this member's first one.
 * When the membership is lost, every unit stops without storing (the write gate refuses what
 * the stop would store): the new owners resume from what was stored while the lease held.
 */
import { hostname } from 'node:os'
import { CheckpointFlow } from './checkpoint/checkpoint-flow.ts'
import type { FlowConfig } from './config/model.ts'
import { flowDigest, type RunGroup } from './config/run-groups.ts'
import { createLeaderAssignor, type Deal, type LeaderFlow } from './group/assignor.ts'
import type { Clock } from './group/clock.ts'
import { decodeAssignment, encodeMemberMetadata, type MemberAssignment } from './group/group-codec.ts'
import { defaultLeaseMarginMs } from './group/lease.ts'
import { type MemberSlot, takeMemberSlot } from './group/member-slot.ts'
import { Membership, type MembershipState } from './group/membership.ts'
import { compactUnitIds, copyUnitId, parseUnitId, singletonUnitId } from './group/units.ts'
import { HeartbeatEmitter } from './heartbeat/emitter.ts'
import { type GroupWire, KafkaGroupWire } from './kafka/group-wire.ts'
import { tpKey } from './kafka/types.ts'
import type { Logger } from './observe/logger.ts'
import type { Position } from './source/copier-protocol.ts'
import type { SourceFlow } from './source/source-flow.ts'
import { sleep } from './util/abortable.ts'

/** The label other instances and `status` show for this one: the host (a pod's name) and process id. */
export function instanceLabel(): string {
  return `${hostname()}:${process.pid}`
}

export interface GroupWorkStatus {
  readonly groupId: string
  readonly cluster: string
  readonly state: MembershipState
  readonly memberId: string
  readonly generation: number
  readonly leader: boolean
  /** Units this instance runs, compact (`copy:A->B:orders:0-5`). */
  readonly units: readonly string[]
  /** Why the group cannot be joined, while it cannot. */
  readonly refusal: string | undefined
}

interface Pending {
  readonly generation: number
  readonly units: ReadonlySet<string>
  readonly assignment: MemberAssignment
}

export class GroupWork {
  readonly group: RunGroup
  readonly membership: Membership
  /** The group's copying flows by name (added by the mirror before start()). */
  readonly #flows = new Map<string, SourceFlow>()
  readonly #log: Logger
  /** The mirror's logger: checkpoint flows and emitters scope their lines by flow, as without a group. */
  readonly #baseLog: Logger
  /** This instance's label (members' metadata, `status`, the owner header of stored positions). */
  readonly instance: string
  /** This instance's flows: its metadata carries what members share; the deal also reads the mode. */
  readonly #capabilities: ReadonlyMap<string, LeaderFlow>
  readonly #marginMs: number
  /** Units running (or being started) here. */
  readonly #owned = new Set<string>()
  /** Whether copy units ever started in this process (the predecessor's quiet rule applies only before). */
  #startedCopying = false
  /** Copy units waiting out the quiet period before they start. */
  #waiting: ReadonlySet<string> = new Set()
  /** Units given in the last assignment that start once its generation is confirmed. */
  #pending: Pending | undefined
  /** Units released since the last assignment, with the position stored for each copy unit. */
  readonly #released = new Map<string, bigint | null>()
  /** The units this member claimed in its last JoinGroup metadata: the leader deals from them. */
  #claimed: ReadonlySet<string> = new Set()
  /** Per flow: the ready-topics view this member last reported in its metadata. */
  readonly #sentTopics = new Map<string, string>()
  /** Per flow: the tasks the group gives this instance. */
  readonly #tasks = new Map<string, number>()
  /**
   * One checkpoint flow / heartbeat emitter per pair that runs them: started when its unit
   * arrives; when the unit leaves it is closed and replaced by a fresh, idle one.
   */
  readonly #checkpoints = new Map<string, CheckpointFlow>()
  readonly #heartbeats = new Map<string, HeartbeatEmitter>()
  /** Whether any assignment arrived yet: until then every part this instance may run is listed as starting. */
  #assignedOnce = false
  /** Assignment changes one at a time, in the order they arrive. */
  #serial: Promise<void> = Promise.resolve()
  readonly #slot: MemberSlot
  readonly #closing = new AbortController()

  /** `deps`: the coordinator's wire and the clock, given by tests (a real client and the system clock otherwise). */
  constructor(
    group: RunGroup,
    log: Logger,
    instance = instanceLabel(),
    deps: { readonly wire?: GroupWire; readonly clock?: Clock } = {}
  ) {
    this.group = group
    this.#log = log.child(`group ${group.groupId}`)
    this.#baseLog = log
    this.instance = instance
    this.#capabilities = new Map(
      group.pairs.map(p => [
        p.flow.name,
        {
          digest: flowDigest(p.flow),
          tasksMax: p.flow.tasksMax,
          jobs: p.jobs,
          exactlyOnce: p.flow.exactlyOnce.enabled
        }
      ])
    )
    for (const p of group.pairs) {
      if (p.jobs.includes('checkpoints')) this.#checkpoints.set(p.flow.name, this.#newCheckpoints(p.flow))
      if (p.jobs.includes('heartbeats')) this.#heartbeats.set(p.flow.name, this.#newHeartbeats(p.flow))
    }
    const t = group.timeouts
    this.#marginMs = defaultLeaseMarginMs(t.sessionTimeoutMs)
    const first = group.pairs[0]?.flow.name ?? group.groupId
    const wire =
      deps.wire ??
      new KafkaGroupWire(group.clients, `${first}|kafka-mirror|group`, {
        rebalanceTimeoutMs: t.rebalanceTimeoutMs,
        requestTimeoutMs: t.sessionTimeoutMs
      })
    // One slot per running process and group: a restart after a crash rejoins as the member it was.
    this.#slot = takeMemberSlot(`${group.clients.bootstrapServers.join(',')}|${group.groupId}`)
    const slot = this.#slot
    this.membership = new Membership({
      memberId: slot.memberId,
      onMemberId: id => {
        slot.remember(id)
      },
      wire,
      groupId: group.groupId,
      cluster: group.cluster,
      sessionTimeoutMs: t.sessionTimeoutMs,
      rebalanceTimeoutMs: t.rebalanceTimeoutMs,
      heartbeatIntervalMs: t.heartbeatIntervalMs,
      leaseMarginMs: this.#marginMs,
      metadata: () => this.#metadata(),
      assign: createLeaderAssignor({
        flows: () => this.#capabilities,
        onDeal: deal => {
          this.#logDeal(deal)
        }
      }),
      log: this.#log,
      clock: deps.clock
    })
    const m = this.membership
    m.on('assigned', a => {
      this.#queue(async () => {
        await this.#onAssigned(a.generation, a.assignment)
      })
    })
    m.on('confirmed', generation => {
      this.#queue(async () => {
        await this.#onConfirmed(generation)
      })
    })
    m.on('lost', reason => {
      this.#log.warn('membership lost: stopping every unit without storing; the group deals them again', { reason })
      this.#queue(async () => {
        this.#pending = undefined
        this.#released.clear()
        await this.#stopUnits([...this.#owned])
      })
    })
    m.on('fenced', reason => {
      this.#log.warn('write lease expired: writes stop until the group confirms this instance again', { reason })
    })
    m.on('resumed', () => {
      this.#log.info('write lease renewed: writes resume')
    })
    // A refusal is logged by the membership, once per reason (it is retried every 5 s).
  }

  /**
   * The checkpoint flows and heartbeat emitters this instance runs now (another instance of the
   * group runs the others); before the first assignment, all it may run.
   */
  get checkpoints(): CheckpointFlow[] {
    return [...this.#checkpoints].filter(([name]) => this.#runs('checkpoints', name)).map(([, c]) => c)
  }
  get heartbeats(): HeartbeatEmitter[] {
    return [...this.#heartbeats].filter(([name]) => this.#runs('heartbeats', name)).map(([, h]) => h)
  }

  #runs(kind: 'checkpoints' | 'heartbeats', name: string): boolean {
    return !this.#assignedOnce || this.#owned.has(singletonUnitId(kind, name))
  }

  /** A copying flow of this group: it copies the partitions and runs the topics job this instance is dealt. */
  addFlow(flow: SourceFlow): void {
    this.#flows.set(flow.flow.name, flow)
  }

  /**
   * A discovery pass saw the flow's ready topics change. The leader deals the partitions the
   * topics job's owner reports (anyone's view before it has an owner), so the owner (or a member
   * before its first generation) rejoins to report the new view.
   */
  topicsChanged(flow: string): void {
    const id = singletonUnitId('topics', flow)
    const mine = this.#owned.has(id) || this.#pending?.units.has(id) === true || this.membership.generation < 0
    if (mine && this.#topicsView(flow) !== this.#sentTopics.get(flow))
      this.membership.requestRejoin(`ready topics of ${flow} changed`)
  }

  #topicsView(flow: string): string {
    const ready = this.#flows.get(flow)?.readyTopics ?? new Map()
    return JSON.stringify([...ready.values()].map(t => [t.source, t.partitions]).sort())
  }

  /**
   * Joins once the group's flows have looked at their topics (at most `viewWaitMs`), so the
   * first deal already has the partitions to deal instead of needing a second rebalance.
   */
  start(viewWaitMs = 5000): void {
    const seen = Promise.all([...this.#flows.values()].map(async f => await f.firstDiscovery))
    void Promise.race([seen, sleep(viewWaitMs, this.#closing.signal)])
      .catch(() => {})
      .then(() => {
        if (!this.#closing.signal.aborted) this.membership.start()
      })
  }

  status(): GroupWorkStatus {
    const m = this.membership
    return {
      groupId: this.group.groupId,
      cluster: this.group.cluster,
      state: m.state,
      memberId: m.memberId,
      generation: m.generation,
      leader: m.isLeader,
      units: compactUnitIds(this.#owned),
      refusal: m.refusal
    }
  }

  /** Stops every unit (copy positions stored while the lease holds), then leaves the group. */
  async close(): Promise<void> {
    this.#closing.abort()
    const done = this.#serial.then(async () => {
      this.#pending = undefined
      await this.#stopUnits([...this.#owned])
    })
    this.#serial = done.catch(() => {})
    await done.catch((err: unknown) => {
      this.#log.warn('stopping the units', { error: err as Error })
    })
    await this.membership.close('shutting down')
    // It left the group: its id is of no use to a later process.
    this.#slot.release()
  }

  #queue(fn: () => Promise<void>): void {
    const next = this.#serial.then(fn).catch((err: unknown) => {
      this.#log.error('applying the assignment failed; rejoining', { error: err as Error })
      this.membership.requestRejoin('applying the assignment failed')
    })
    this.#serial = next
  }

  #metadata(): Buffer {
    const topics = new Map<string, ReadonlyMap<string, number>>()
    for (const [name, flow] of this.#flows) {
      topics.set(name, new Map([...flow.readyTopics.values()].map(t => [t.source, t.partitions])))
      this.#sentTopics.set(name, this.#topicsView(name))
    }
    this.#claimed = new Set([...this.#owned, ...this.#waiting, ...(this.#pending?.units ?? [])])
    return encodeMemberMetadata({
      instance: this.instance,
      flows: this.#capabilities,
      owned: this.#claimed,
      released: new Map(this.#released),
      topics
    })
  }

  async #onAssigned(generation: number, bytes: Buffer): Promise<void> {
    // Shutting down: every unit is stopped or stopping; one dealt now would start after the stop.
    if (this.#closing.signal.aborted) return
    const a = bytes.length === 0 ? emptyAssignment(generation) : decodeAssignment(bytes)
    this.#assignedOnce = true
    if (a.error !== undefined) this.#log.warn('the leader gave this instance nothing', { reason: a.error })
    // The units just released were in the metadata this generation was dealt from.
    this.#released.clear()
    const revoked = [...this.#owned].filter(u => a.revoked.has(u) || !a.units.has(u))
    // Units claimed in the join but not started yet (given by a generation that was never
    // confirmed, or waiting out the quiet period when this one began): the leader counts them
    // as ours, so taking them away is a revocation too, and the rejoin lets the leader deal
    // them to someone else (without it they would stay with nobody until the next rebalance).
    // Nothing of them ran here: one given cleanly is released with the position it was handed
    // (if any); one given quiet is left out of the release, so its next owner waits the quiet
    // period in our place.
    const unstarted = [...this.#claimed].filter(u => !this.#owned.has(u) && !a.units.has(u))
    const given = this.#pending?.assignment
    for (const u of unstarted)
      if (given?.units.has(u) === true && !given.quiet.has(u)) this.#released.set(u, given.handOver.get(u) ?? null)
    const fresh = [...a.units].filter(u => !this.#owned.has(u))
    if (revoked.length > 0 || unstarted.length > 0 || fresh.length > 0)
      this.#log.info('units assigned', {
        generation,
        keep: a.units.size - fresh.length,
        start: fresh.length,
        release: revoked.length + unstarted.length,
        quiet: fresh.filter(u => a.quiet.has(u)).length
      })
    this.#pending = { generation, units: new Set(fresh), assignment: a }
    if (revoked.length === 0 && unstarted.length === 0) return
    await this.#stopUnits(revoked, true)
    this.membership.requestRejoin(`released ${revoked.length + unstarted.length} units`)
  }

  async #onConfirmed(generation: number): Promise<void> {
    const pending = this.#pending
    if (pending === undefined || pending.generation !== generation || this.#closing.signal.aborted) return
    this.#pending = undefined
    const a = pending.assignment
    // Singletons first: their writes are idempotent or harmless to repeat (topic creation,
    // checkpoints, heartbeats), so a late write of their last owner needs no wait.
    const copies: string[] = []
    for (const id of pending.units) {
      const unit = parseUnitId(id)
      if (unit.kind === 'copy') {
        copies.push(id)
        continue
      }
      this.#owned.add(id)
      this.#startSingleton(unit.kind, unit.flow)
      // What this member sees now may be newer than what the deal was made from.
      if (unit.kind === 'topics') this.topicsChanged(unit.flow)
    }
    if (copies.some(u => a.quiet.has(u))) {
      // Their last owner may have been lost with a write still on its way (plan §4). A join
      // meanwhile still claims them, so they stay this member's.
      this.#waiting = new Set(copies)
      await sleep(this.#quietMs(), this.#closing.signal).catch(() => {})
      this.#waiting = new Set()
      if (this.#closing.signal.aborted || this.membership.generation !== generation) return
    }
    for (const u of copies) this.#owned.add(u)
    if (copies.length > 0) this.#startedCopying = true
    const tasksChanged = [...a.tasks].some(([flow, n]) => this.#tasks.get(flow) !== n)
    for (const [flow, n] of a.tasks) this.#tasks.set(flow, n)
    const copyFlows = new Set<string>()
    for (const id of copies) copyFlows.add(parseUnitId(id).flow)
    // Units nobody ran before (new topics and partitions) need no second read of the stored positions.
    const fresh = copies.every(u => !a.quiet.has(u) && !a.handOver.has(u))
    if (tasksChanged) for (const flow of a.tasks.keys()) copyFlows.add(flow)
    await Promise.all(
      [...copyFlows].map(async name => {
        const handOver: Position[] = []
        for (const [id, offset] of a.handOver) {
          const unit = parseUnitId(id)
          if (unit.kind === 'copy' && unit.flow === name) handOver.push([unit.topic, unit.partition, offset])
        }
        await this.#ownPartitions(name, handOver, fresh && !tasksChanged)
      })
    )
  }

  /**
   * How long quiet units wait before their first write. The lease margin, except before the
   * first copy of a process that rejoined as its crashed predecessor: the units were that
   * process's, which died before this one started, so the margin counts from this process's
   * start (a restart then copies again at once; other owners lost earlier were dropped by the
   * coordinator at least a margin after their lease ended).
   */
  #quietMs(): number {
    const takenOverAt = this.#slot.takenOverAt
    if (takenOverAt === undefined || this.#startedCopying) return this.#marginMs
    return Math.max(0, takenOverAt + this.#marginMs - Date.now())
  }

  /** Gives a flow's SourceFlow exactly the copy units owned now; returns what its stopped tasks stored. */
  async #ownPartitions(name: string, handOver: Position[], fresh = false): Promise<readonly Position[]> {
    const flow = this.#flows.get(name)
    if (flow === undefined) return []
    const partitions = new Set<string>()
    for (const id of this.#owned) {
      const unit = parseUnitId(id)
      if (unit.kind === 'copy' && unit.flow === name) partitions.add(tpKey(unit.topic, unit.partition))
    }
    return await flow.own(partitions, this.#tasks.get(name), handOver, { fresh })
  }

  /** Stops units; `release`: they were revoked, so their positions go into the next join. */
  async #stopUnits(ids: readonly string[], release = false): Promise<void> {
    const copyFlows = new Set<string>()
    const closing: Array<Promise<void>> = []
    for (const id of ids) {
      this.#owned.delete(id)
      const unit = parseUnitId(id)
      // A copy unit's position is filled in once its flow's tasks stored it.
      if (release) this.#released.set(id, null)
      if (unit.kind === 'copy') copyFlows.add(unit.flow)
      else closing.push(this.#stopSingleton(unit.kind, unit.flow))
    }
    await Promise.all([
      ...closing,
      ...[...copyFlows].map(async name => {
        const stored = await this.#ownPartitions(name, [])
        if (!release) return
        for (const [topic, partition, offset] of stored) {
          const id = copyUnitId(name, topic, partition)
          if (this.#released.has(id)) this.#released.set(id, offset)
        }
      })
    ])
  }

  #newCheckpoints(flow: FlowConfig): CheckpointFlow {
    return new CheckpointFlow(flow, this.#baseLog, { waitingFor: () => this.#waitingFor() })
  }

  #newHeartbeats(flow: FlowConfig): HeartbeatEmitter {
    return new HeartbeatEmitter(flow, this.#baseLog, { waitingFor: () => this.#waitingFor() })
  }

  /** Why a part that only the group can start has not: the group cannot be joined or reached. */
  #waitingFor(): string | undefined {
    if (this.#assignedOnce) return undefined
    const m = this.membership
    const why = m.refusal ?? m.lastError
    return why === undefined
      ? undefined
      : `waiting to join group ${this.group.groupId} on cluster ${this.group.cluster}: ${why}`
  }

  #pair(name: string): FlowConfig | undefined {
    return this.group.pairs.find(p => p.flow.name === name)?.flow
  }

  #startSingleton(kind: 'topics' | 'checkpoints' | 'heartbeats', name: string): void {
    if (kind === 'topics') this.#flows.get(name)?.setTopicsJob(true)
    else if (kind === 'checkpoints') this.#checkpoints.get(name)?.start()
    else this.#heartbeats.get(name)?.start()
  }

  async #stopSingleton(kind: 'topics' | 'checkpoints' | 'heartbeats', name: string): Promise<void> {
    if (kind === 'topics') {
      this.#flows.get(name)?.setTopicsJob(false)
      return
    }
    const flow = this.#pair(name)
    if (flow === undefined) return
    if (kind === 'checkpoints') {
      const part = this.#checkpoints.get(name)
      this.#checkpoints.set(name, this.#newCheckpoints(flow))
      await part?.close()
    } else {
      const part = this.#heartbeats.get(name)
      this.#heartbeats.set(name, this.#newHeartbeats(flow))
      await part?.close()
    }
  }

  #logDeal(deal: Deal): void {
    for (const w of deal.warnings) this.#log.warn('deal', { generation: deal.generation, warning: w })
    const moving = [...deal.table].filter(([, p]) => p.reason !== undefined)
    if (moving.length === 0) return
    const reasons = new Map<string, number>()
    for (const [, p] of moving)
      reasons.set(`${p.state}: ${p.reason}`, (reasons.get(`${p.state}: ${p.reason}`) ?? 0) + 1)
    this.#log.info('dealt units', {
      generation: deal.generation,
      members: deal.instances.size,
      moves: [...reasons].map(([r, n]) => `${n} ${r}`).join('; ')
    })
  }
}

function emptyAssignment(generation: number): MemberAssignment {
  return { generation, units: new Set(), revoked: new Set(), handOver: new Map(), quiet: new Set(), tasks: new Map() }
}
