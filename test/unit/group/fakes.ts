/**
 * A fake clock (timers fire only when the test advances time; a SIGSTOP is a jump that fires
 * nothing) and a scripted group coordinator behind the GroupWire interface: each request takes
 * the next scripted answer for its kind, or the default one, and is recorded with the fake time
 * it was sent at.
 */
import type { Clock, TimerHandle } from '../../../src/group/clock.ts'
import {
  type Coordinator,
  type DescribedGroup,
  type ErrorAnswer,
  type FindCoordinatorAnswer,
  GroupErrorCode,
  type GroupWire,
  type HeartbeatRequest,
  type JoinAnswer,
  type JoinRequest,
  type LeaveRequest,
  type SyncAnswer,
  type SyncRequest
} from '../../../src/kafka/group-wire.ts'

export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise(resolve => setImmediate(resolve))
}

export class FakeClock implements Clock {
  #now = 0n
  #nextId = 0
  readonly #timers = new Map<number, { at: bigint; fn: () => void }>()

  nowNs(): bigint {
    return this.#now
  }
  get nowMs(): number {
    return Number(this.#now / 1_000_000n)
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const id = ++this.#nextId
    this.#timers.set(id, { at: this.#now + BigInt(Math.max(0, Math.round(ms))) * 1_000_000n, fn })
    return { id }
  }

  clearTimer(handle: TimerHandle): void {
    this.#timers.delete(handle.id as number)
  }

  /** Moves time forward by `ms`, firing due timers in order and letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + BigInt(ms) * 1_000_000n
    await settle()
    for (;;) {
      let next: [number, { at: bigint; fn: () => void }] | undefined
      for (const entry of this.#timers)
        if (entry[1].at <= target && (next === undefined || entry[1].at < next[1].at)) next = entry
      if (next === undefined) break
      this.#timers.delete(next[0])
      if (next[1].at > this.#now) this.#now = next[1].at
      next[1].fn()
      await settle()
    }
    this.#now = target
    await settle()
  }

  /** Time passes without any timer firing (the process was stopped). */
  jump(ms: number): void {
    this.#now += BigInt(ms) * 1_000_000n
  }
}

type Answer<Req, Ans> = Ans | Error | ((request: Req) => Ans | Promise<Ans>)

export interface Sent {
  readonly kind: string
  readonly atMs: number
  readonly request: unknown
}

export const COORDINATOR: Coordinator = { nodeId: 1, host: 'broker', port: 9092 }

export class ScriptedCoordinator implements GroupWire {
  readonly sent: Sent[] = []
  closed = false
  readonly find: Array<Answer<string, FindCoordinatorAnswer>> = []
  readonly joins: Array<Answer<JoinRequest, JoinAnswer>> = []
  readonly syncs: Array<Answer<SyncRequest, SyncAnswer>> = []
  readonly heartbeats: Array<Answer<HeartbeatRequest, ErrorAnswer>> = []
  readonly leaves: Array<Answer<LeaveRequest, ErrorAnswer>> = []
  readonly describes: Array<Answer<string, DescribedGroup>> = []
  readonly #clock: FakeClock
  readonly #hanging: Array<(err: Error) => void> = []

  constructor(clock: FakeClock) {
    this.#clock = clock
  }

  /** Requests of one kind, in order. */
  of<T>(kind: string): T[] {
    return this.sent.filter(s => s.kind === kind).map(s => s.request as T)
  }
  kinds(): string[] {
    return this.sent.map(s => s.kind)
  }

  async findCoordinator(groupId: string): Promise<FindCoordinatorAnswer> {
    return await this.#answer('find', groupId, this.find, () => ({
      errorCode: 0,
      errorMessage: null,
      coordinator: COORDINATOR
    }))
  }

  async join(_c: Coordinator, r: JoinRequest): Promise<JoinAnswer> {
    // Default: a group of one where this member leads generation 1 (a new member first gets its id).
    return await this.#answer('join', r, this.joins, req =>
      req.memberId === ''
        ? joinAnswer({ errorCode: GroupErrorCode.MEMBER_ID_REQUIRED, memberId: 'me-1' })
        : joinAnswer({
            memberId: req.memberId,
            leader: req.memberId,
            members: [{ memberId: req.memberId, metadata: req.protocols[0]?.metadata ?? Buffer.alloc(0) }]
          })
    )
  }

  async sync(_c: Coordinator, r: SyncRequest): Promise<SyncAnswer> {
    return await this.#answer('sync', r, this.syncs, req => ({
      errorCode: 0,
      assignment: req.assignments.find(a => a.memberId === req.memberId)?.assignment ?? Buffer.alloc(0)
    }))
  }

  async heartbeat(_c: Coordinator, r: HeartbeatRequest): Promise<ErrorAnswer> {
    return await this.#answer('heartbeat', r, this.heartbeats, () => ({ errorCode: 0 }))
  }

  async leave(_c: Coordinator, r: LeaveRequest): Promise<ErrorAnswer> {
    return await this.#answer('leave', r, this.leaves, () => ({ errorCode: 0 }))
  }

  async describe(_c: Coordinator, groupId: string): Promise<DescribedGroup> {
    return await this.#answer('describe', groupId, this.describes, () => ({
      errorCode: 0,
      groupId,
      state: 'Empty',
      protocolType: '',
      protocolName: '',
      members: []
    }))
  }

  /** An answer that never comes; the request fails when the wire is closed, as a real one does. */
  async hang<T>(): Promise<T> {
    return await new Promise<T>((_resolve, reject) => {
      this.#hanging.push(reject)
    })
  }

  async close(): Promise<void> {
    this.closed = true
    for (const reject of this.#hanging.splice(0)) reject(new Error('client closed'))
  }

  async #answer<Req, Ans>(
    kind: string,
    request: Req,
    queue: Array<Answer<Req, Ans>>,
    fallback: (r: Req) => Ans
  ): Promise<Ans> {
    this.sent.push({ kind, atMs: this.#clock.nowMs, request })
    const next = queue.shift() ?? fallback
    if (next instanceof Error) throw next
    if (typeof next === 'function') return await (next as (r: Req) => Ans | Promise<Ans>)(request)
    return next
  }
}

export function joinAnswer(a: Partial<JoinAnswer>): JoinAnswer {
  return {
    errorCode: 0,
    generationId: 1,
    protocolName: 'kafka-mirror-v1',
    leader: 'leader-x',
    memberId: 'me-1',
    members: [],
    ...a
  }
}
