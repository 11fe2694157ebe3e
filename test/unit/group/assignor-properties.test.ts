/**
 * Randomized sequences of joins, clean leaves, crashes, new partitions and topics, and deleted
 * topics, each followed by the group's rebalances as the members would run them: every member
 * releases what its last assignment revoked (storing a position) and rejoins with what it still
 * owns; the leader deals from the metadata bytes. Checked at every generation and after the
 * group settled (docs/scale-out-plan.md §5.2, property tests). Some flows are in exactly-once mode,
 * whose copy units must run whole on one member (docs/exactly-once-plan.md §5.2). A failure prints
 * its seed; rerun one sequence with DEAL_SEED=<seed>.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { assignGroup, type DealTable, type LeaderFlow } from '../../../src/group/assignor.ts'
import { decodeAssignment, encodeMemberMetadata, type MemberAssignment } from '../../../src/group/group-codec.ts'
import { copyUnitId, parseUnitId, singletonUnitId } from '../../../src/group/units.ts'
import { seededRandom } from '../../../src/util/seeded-random.ts'

const SEQUENCES = 1000
const EVENTS_PER_SEQUENCE = 12
const MAX_MEMBERS = 6

interface SimMember {
  readonly id: string
  /** Units it runs: those assigned plus those revoked and not yet released. */
  owned: Set<string>
  /** Revoked by its last assignment: released (position stored) before its next JoinGroup. */
  toRelease: Set<string>
  /** What it reports as released in its next JoinGroup. */
  released: Map<string, bigint | null>
  /** Its view of each flow's topics (the truth one generation late, unless it runs the topics unit). */
  view: Map<string, Map<string, number>>
}

type Event = 'join' | 'leave' | 'crash' | 'grow' | 'topic' | 'delete' | 'conflict' | 'mode' | 'rebalance'

class Group {
  readonly rnd: () => number
  readonly flows = new Map<string, LeaderFlow>()
  /** Flow -> topic -> partitions: what the source has now. */
  readonly truth = new Map<string, Map<string, number>>()
  members: SimMember[] = []
  leaderId: string | undefined
  generation = 0
  previous: { leaderId: string; table: DealTable } | undefined
  nextId = 0
  nextTopic = 0
  lastDeal: ReadonlyMap<string, MemberAssignment> = new Map()
  /** The unit the last 'conflict' event made two members claim. */
  conflicted: string | undefined

  constructor(seed: number) {
    this.rnd = seededRandom(seed)
    const tasksMax = 1 + Math.floor(this.rnd() * 6)
    this.flows.set('A->B', { digest: 'ab', tasksMax, jobs: ['topics', 'checkpoints', 'heartbeats'] })
    if (this.rnd() < 0.5)
      this.flows.set('C->B', { digest: 'cb', tasksMax: 2, jobs: ['topics', 'checkpoints', 'heartbeats'] })
    if (this.rnd() < 0.5) this.flows.set('B->A', { digest: 'ba', tasksMax: 1, jobs: ['heartbeats'] })
    for (const [flow, f] of this.flows) {
      if (!f.jobs.includes('topics')) continue
      const topics = new Map<string, number>()
      const n = 1 + Math.floor(this.rnd() * 3)
      for (let i = 0; i < n; i++) topics.set(`t${this.nextTopic++}`, 1 + Math.floor(this.rnd() * 8))
      this.truth.set(flow, topics)
    }
    // The modes come from a generator of their own, so the event sequences stay those of the seed.
    const modes = seededRandom(seed + 0x5eed)
    for (const [flow, f] of this.flows) if (modes() < 0.4) this.flows.set(flow, { ...f, exactlyOnce: true })
  }

  /** Whether a flow's copy units run whole on one member. */
  whole(flow: string): boolean {
    return this.flows.get(flow)?.exactlyOnce === true
  }

  /** The flow of a copy unit id, undefined for a singleton. */
  copyFlow(id: string): string | undefined {
    const u = parseUnitId(id)
    return u.kind === 'copy' ? u.flow : undefined
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rnd() * items.length)] as T
  }

  /** Every unit the group should run, from the truth. */
  universe(): Set<string> {
    const out = new Set<string>()
    for (const [flow, f] of this.flows) {
      for (const kind of f.jobs) out.add(singletonUnitId(kind, flow))
      for (const [topic, count] of this.truth.get(flow) ?? [])
        for (let p = 0; p < count; p++) out.add(copyUnitId(flow, topic, p))
    }
    return out
  }

  copyTruth(): Map<string, Map<string, number>> {
    return new Map([...this.truth].map(([flow, topics]) => [flow, new Map(topics)]))
  }

  join(): SimMember {
    // Member ids sort in no particular order of joining, as the coordinator's `<client id>-<UUID>` ids do.
    const id = `m-${Math.floor(this.rnd() * 0xffffff)
      .toString(16)
      .padStart(6, '0')}-${this.nextId++}`
    const m: SimMember = { id, owned: new Set(), toRelease: new Set(), released: new Map(), view: this.copyTruth() }
    this.members.push(m)
    return m
  }

  /** Removes a member; a clean leave stores its positions first, which no other member hears of. */
  remove(m: SimMember): void {
    this.members = this.members.filter(x => x !== m)
    if (this.leaderId === m.id) this.leaderId = undefined
  }

  apply(event: Event): void {
    switch (event) {
      case 'join':
        this.join()
        break
      case 'leave':
      case 'crash':
        if (this.members.length > 1) this.remove(this.pick(this.members))
        break
      case 'grow': {
        const flow = this.pick([...this.truth.keys()])
        const topics = this.truth.get(flow) as Map<string, number>
        if (topics.size === 0) break
        const topic = this.pick([...topics.keys()])
        topics.set(topic, (topics.get(topic) as number) + 1 + Math.floor(this.rnd() * 3))
        break
      }
      case 'topic':
        this.truth.get(this.pick([...this.truth.keys()]))?.set(`t${this.nextTopic++}`, 1 + Math.floor(this.rnd() * 4))
        break
      case 'delete': {
        const topics = this.truth.get(this.pick([...this.truth.keys()])) as Map<string, number>
        if (topics.size > 1) topics.delete(this.pick([...topics.keys()]))
        break
      }
      case 'conflict': {
        // Two members claim one unit (a bug, or a fenced member that raced): both must release it.
        const owner = this.pick(this.members)
        const other = this.pick(this.members)
        const unit = [...owner.owned][0]
        if (other !== owner && unit !== undefined) {
          other.owned.add(unit)
          this.conflicted = unit
        }
        break
      }
      case 'mode': {
        // Exactly-once turned on or off for a flow on every member at once (a config reload): a
        // flow spread over members must then gather on one, or may spread again.
        const flow = this.pick([...this.truth.keys()])
        const f = this.flows.get(flow) as LeaderFlow
        this.flows.set(flow, { ...f, digest: `${f.digest}'`, exactlyOnce: f.exactlyOnce !== true })
        break
      }
      case 'rebalance':
        break
    }
  }

  /** One generation: releases, JoinGroup metadata, the leader's deal, SyncGroup; checks every step. */
  rebalance(): { revoked: number; unassigned: number } {
    for (const m of this.members) {
      for (const id of m.toRelease) {
        m.owned.delete(id)
        m.released.set(
          id,
          parseUnitId(id).kind === 'copy' && this.rnd() < 0.8 ? BigInt(Math.floor(this.rnd() * 1e6)) : null
        )
      }
      m.toRelease = new Set()
      // The topics owner sees the truth; the others' views lag one generation.
      const ownsTopics = (flow: string): boolean => m.owned.has(singletonUnitId('topics', flow))
      for (const flow of this.truth.keys()) if (ownsTopics(flow)) m.view.set(flow, new Map(this.truth.get(flow)))
    }
    this.leaderId ??= this.members.map(m => m.id).sort()[0] as string
    this.generation++
    const previous = this.previous?.leaderId === this.leaderId ? this.previous.table : undefined
    const encoded = new Map(
      this.members.map(m => [
        m.id,
        encodeMemberMetadata({
          instance: `host-${m.id}`,
          flows: this.flows,
          owned: m.owned,
          released: m.released,
          topics: m.view
        })
      ])
    )
    const { assignments, deal } = assignGroup(encoded, { generation: this.generation, flows: this.flows, previous })
    const decoded = new Map([...assignments].map(([id, bytes]) => [id, decodeAssignment(bytes)]))
    this.check(decoded)
    this.previous = { leaderId: this.leaderId, table: deal.table }
    this.lastDeal = decoded
    let revoked = 0
    for (const m of this.members) {
      const a = decoded.get(m.id) as MemberAssignment
      m.owned = new Set([...a.units, ...a.revoked])
      m.toRelease = new Set(a.revoked)
      m.released = new Map()
      revoked += a.revoked.size
      for (const flow of this.truth.keys()) m.view.set(flow, new Map(this.truth.get(flow)))
    }
    const unassigned = [...deal.table.values()].filter(p => p.state === 'unassigned').length
    return { revoked, unassigned }
  }

  check(decoded: ReadonlyMap<string, MemberAssignment>): void {
    assert.deepEqual([...decoded.keys()].sort(), this.members.map(m => m.id).sort(), 'one assignment per member')
    const runner = new Map<string, string>()
    const revokedFrom = new Map<string, string[]>()
    for (const [id, a] of decoded) for (const u of a.revoked) revokedFrom.set(u, [...(revokedFrom.get(u) ?? []), id])
    const ownedBefore = new Map<string, string[]>()
    for (const m of this.members) for (const id of m.owned) ownedBefore.set(id, [...(ownedBefore.get(id) ?? []), m.id])
    for (const [id, owners] of ownedBefore) {
      if (owners.length > 1)
        assert.deepEqual(
          revokedFrom.get(id)?.sort(),
          [...owners].sort(),
          `${id}, claimed by ${owners.join(' and ')}, is revoked from all of them`
        )
    }
    const releasedBy = new Map<string, { by: string; position: bigint | null }>()
    for (const m of this.members) {
      for (const [id, position] of m.released) {
        const other = releasedBy.get(id)
        if (other === undefined || (position !== null && (other.position === null || position > other.position)))
          releasedBy.set(id, { by: m.id, position })
      }
    }
    for (const m of this.members) {
      const a = decoded.get(m.id) as MemberAssignment
      assert.equal(a.generation, this.generation)
      for (const id of a.revoked) assert.ok(m.owned.has(id), `${m.id} is asked to revoke ${id}, which it does not run`)
      for (const id of m.owned)
        assert.ok(
          a.units.has(id) || a.revoked.has(id),
          `${m.id} runs ${id} but is neither told to keep nor to revoke it`
        )
      for (const id of a.units) {
        const other = runner.get(id) ?? revokedFrom.get(id)?.find(x => x !== m.id)
        assert.equal(other, undefined, `${id} is run by ${other} and ${m.id} in generation ${this.generation}`)
        runner.set(id, m.id)
      }
      for (const id of a.units) {
        if (m.owned.has(id)) continue
        const from = ownedBefore.get(id)
        assert.equal(
          from,
          undefined,
          `${id} moves straight from ${from?.join(' and ')} to ${m.id} without being released`
        )
        const release = releasedBy.get(id)
        if (release === undefined) {
          if (
            this.lastDeal.size > 0 &&
            this.previous !== undefined &&
            this.previous.table.get(id)?.owner !== undefined
          ) {
            assert.ok(a.quiet.has(id), `${id}, not released by its owner, is given to ${m.id} without the quiet period`)
          }
        } else {
          assert.ok(!a.quiet.has(id), `${id} was released by ${release.by} but is quiet`)
          assert.equal(
            a.handOver.get(id),
            release.position ?? undefined,
            `${id}: the position released by ${release.by} is handed over`
          )
        }
      }
      for (const [flow, tasks] of a.tasks) {
        assert.ok(tasks >= 1, `${m.id} has ${tasks} tasks for ${flow}`)
        assert.ok(
          tasks <= (this.flows.get(flow)?.tasksMax ?? 0) || tasks === 1,
          `${m.id} has ${tasks} tasks for ${flow}, more than tasks.max`
        )
      }
    }
    for (const flow of [...this.flows.keys()].filter(f => this.whole(f))) {
      const running = [...decoded].filter(([, a]) => [...a.units].some(id => this.copyFlow(id) === flow))
      assert.ok(running.length <= 1, `${flow} runs on ${running.map(([id]) => id).join(' and ')}`)
      for (const [id, a] of decoded) {
        const tasks = a.tasks.get(flow)
        if (running[0]?.[0] === id) assert.equal(tasks, this.flows.get(flow)?.tasksMax, `${id}'s tasks for ${flow}`)
        else assert.equal(tasks, undefined, `${id} runs none of ${flow} but has ${tasks} tasks for it`)
      }
      for (const m of this.members) {
        const given = [...(decoded.get(m.id)?.units ?? [])].filter(u => this.copyFlow(u) === flow && !m.owned.has(u))
        const others = this.members.filter(x => x !== m && [...x.owned].some(u => this.copyFlow(u) === flow))
        assert.ok(
          given.length === 0 || others.length === 0,
          `${m.id} is given ${given[0]} while ${others.map(x => x.id).join(' and ')} still run ${flow}`
        )
      }
    }
    for (const flow of this.flows.keys()) {
      const total = [...decoded.values()].reduce((n, a) => n + (a.tasks.get(flow) ?? 0), 0)
      const sharing = [...decoded.values()].filter(a => a.tasks.has(flow)).length
      assert.ok(
        total <= Math.max(this.flows.get(flow)?.tasksMax ?? 0, sharing),
        `${total} tasks for ${flow} across the group`
      )
    }
  }

  /** Rebalances until nothing is revoked or waiting; returns how many generations it took. */
  settle(): number {
    for (let round = 1; round <= 4; round++) {
      const { revoked, unassigned } = this.rebalance()
      if (revoked === 0 && unassigned === 0) return round
    }
    assert.fail(`the group did not settle in 4 generations (generation ${this.generation})`)
  }

  /** Unit -> member, from the last deal. */
  owners(): Map<string, string> {
    const out = new Map<string, string>()
    for (const [id, a] of this.lastDeal) for (const u of a.units) out.set(u, id)
    return out
  }

  checkSettled(): void {
    const owners = this.owners()
    assert.deepEqual(
      new Set(owners.keys()),
      this.universe(),
      'after settling, every unit of the group runs exactly once'
    )
    const counts = (pick: (id: string) => boolean): number[] =>
      this.members.map(m => [...(this.lastDeal.get(m.id)?.units ?? [])].filter(pick).length)
    for (const flow of this.truth.keys()) {
      const c = counts(id => this.copyFlow(id) === flow)
      if (this.whole(flow))
        assert.ok(c.filter(n => n > 0).length <= 1, `copy units of ${flow} per member: ${c.join(', ')}`)
      else assert.ok(Math.max(...c) - Math.min(...c) <= 1, `copy units of ${flow} per member: ${c.join(', ')}`)
    }
    const s = counts(id => parseUnitId(id).kind !== 'copy')
    assert.ok(Math.max(...s) - Math.min(...s) <= 1, `singletons per member: ${s.join(', ')}`)
  }
}

const EVENTS: ReadonlyArray<[Event, number]> = [
  ['join', 0.26],
  ['leave', 0.12],
  ['crash', 0.12],
  ['grow', 0.14],
  ['topic', 0.11],
  ['delete', 0.06],
  ['conflict', 0.04],
  ['mode', 0.04],
  ['rebalance', 0.11]
]

function pickEvent(g: Group): Event {
  let r = g.rnd()
  for (const [event, weight] of EVENTS) {
    if (r < weight) return event === 'join' && g.members.length >= MAX_MEMBERS ? 'rebalance' : event
    r -= weight
  }
  return 'rebalance'
}

function runSequence(seed: number): void {
  const g = new Group(seed)
  g.join()
  g.settle()
  g.checkSettled()
  for (let i = 0; i < EVENTS_PER_SEQUENCE; i++) {
    const settledBefore = g.rnd() < 0.5
    if (settledBefore) {
      g.settle()
      g.checkSettled()
    }
    const before = g.owners()
    const membersBefore = new Set(g.members.map(m => m.id))
    const event = pickEvent(g)
    g.apply(event)
    if (!settledBefore) {
      g.rebalance()
      continue
    }
    g.settle()
    g.checkSettled()
    const after = g.owners()
    const moved = [...after].filter(([id, owner]) => before.has(id) && before.get(id) !== owner)
    if (event === 'join') {
      const newcomer = g.members.find(m => !membersBefore.has(m.id))?.id
      for (const [id, owner] of moved)
        assert.equal(owner, newcomer, `${id} moved from ${before.get(id)} to ${owner}, not to the member that joined`)
      const m = g.members.length
      for (const flow of g.truth.keys()) {
        const p = [...after.keys()].filter(id => {
          const u = parseUnitId(id)
          return u.kind === 'copy' && u.flow === flow
        }).length
        const n = moved.filter(([id]) => parseUnitId(id).flow === flow && parseUnitId(id).kind === 'copy').length
        // The plan asks for at most ⌈P/M⌉; from a settled group the old members can always keep
        // the P mod M extra units, so the newcomer gets ⌊P/M⌋. A whole flow stays where it runs.
        const share = g.whole(flow) ? 0 : Math.floor(p / m)
        assert.ok(n <= share, `a join moved ${n} copy units of ${flow}; its fair share is ${share}`)
      }
      const singletons = [...after.keys()].filter(id => parseUnitId(id).kind !== 'copy').length
      const n = moved.filter(([id]) => parseUnitId(id).kind !== 'copy').length
      assert.ok(
        n <= Math.floor(singletons / m),
        `a join moved ${n} singletons; its fair share is ${Math.floor(singletons / m)}`
      )
    }
    if (event === 'leave' || event === 'crash') {
      for (const [id, owner] of moved)
        assert.ok(
          !g.members.some(x => x.id === before.get(id)),
          `${id} moved from ${before.get(id)}, which is still a member, to ${owner}`
        )
    }
    if (event === 'conflict') {
      for (const [id, owner] of moved)
        assert.equal(id, g.conflicted, `a conflict over ${g.conflicted} moved ${id} from ${before.get(id)} to ${owner}`)
    }
    if (event === 'rebalance') assert.deepEqual(moved, [], 'a rebalance with no change moves nothing')
  }
  g.settle()
  g.checkSettled()
}

test(`${SEQUENCES} random sequences of joins, leaves, crashes and new or deleted partitions`, () => {
  const only = process.env.DEAL_SEED
  const seeds = only === undefined ? Array.from({ length: SEQUENCES }, (_, i) => i + 1) : [Number(only)]
  for (const seed of seeds) {
    try {
      runSequence(seed)
    } catch (err) {
      throw new Error(`sequence with seed ${seed} failed (rerun with DEAL_SEED=${seed}): ${(err as Error).message}`, {
        cause: err
      })
    }
  }
})
