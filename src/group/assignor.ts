/**
 * The group leader's deal (docs/scale-out-plan.md §5.2): which member runs which unit in the
 * next generation. Pure and deterministic: the same members and context give the same deal.
 *
 * Rules:
 * - Universe. The leader's own flows (its config) define what is dealt. A member gets a flow's
 *   units only if its digest for that flow equals the leader's (a rolling config change, or
 *   another config, gets none; the deal warns). Singletons are each flow's jobs; copy units are the partitions
 *   of the topics reported by the owner of the flow's `topics` unit, or, while it has no owner
 *   with a view, the union of the members' start-up views and of the copy units they own.
 * - Conflicts. A unit claimed by two members is revoked from both and dealt to nobody in this
 *   generation; it is dealt after they released it.
 * - Even and sticky. Per pool (each flow's copy units; all singletons of the group together),
 *   P units over M eligible members give each ⌊P/M⌋, and P mod M of them one more; the ones
 *   with one more are those already owning the most (then the least loaded, then by member id),
 *   so nothing moves only because of rounding. Each member keeps its units up to that quota.
 * - Two phases. Owned units beyond the quota are revoked and dealt to nobody in this generation:
 *   the owner stops them, stores their positions and rejoins without them, and the next
 *   generation deals them with the released positions handed over (as Kafka Connect's
 *   IncrementalCooperativeAssignor completes its revocations in a later round). An owned unit
 *   therefore never goes straight from one live member to another.
 * - Unowned units (new partitions, units released or left by departed members) go to members
 *   under their quota, the fewest of the pool first, then the least loaded overall, so new
 *   partitions spread without moving anything. A unit not cleanly released is `quiet` (its last
 *   owner may have been lost: the new owner waits the quiet period of plan §4 first), unless the
 *   leader's previous table shows nobody ran it. The units of a member that left with
 *   LeaveGroup are quiet too: it stored their positions, but LeaveGroup carries no metadata, so
 *   the leader cannot tell its exit from a crash (the cost is the short quiet period, not
 *   duplicates).
 * - Task budget. A flow's `tasks.max` counts tasks across the whole group, as in MM2: split over
 *   the members whose quota of the flow is not zero, at least 1 and at most its quota each.
 *   Computed from the quotas, not the units held now, so it stays the same through both phases
 *   of a hand-over (a change of a member's task count restarts its tasks).
 * - Exactly-once flows go whole to one member (docs/exactly-once-plan.md §5.2, the simplified
 *   form). Such a flow's copier task i writes with transactional id `<group>-<connector>-<i>`,
 *   and a new owner's InitProducerId on that id fences the old one only if task i holds the same
 *   partitions wherever it runs. So the flow's pool is not split: one member's quota is all of
 *   it (the member owning most of it, then the least loaded, then by id; with nobody owning any,
 *   the least loaded), every other member's is 0, and that member's task budget is the whole
 *   `tasks.max`. What others own of the flow is revoked as above, and while any other member
 *   still runs a copy unit of the flow (revoked in this generation: a conflict, a switch of the
 *   mode, another config), nothing new of the flow is given to anyone: the flow's tasks, whose
 *   ids are the same on every member, then never start on one member while another still runs
 *   them. Units of a lost owner go to the chosen member, quiet as usual.
 *
 * When a member's metadata cannot be decoded, nobody can know what it runs, so the deal gives
 * nothing new to anyone in that generation (revocations still happen; they are always safe) and
 * tells that member why.
 */
import type { Buffer } from 'node:buffer'
import { FormatError } from '../errors.ts'
import {
  decodeMemberMetadata,
  encodeAssignment,
  type FlowCapability,
  type MemberAssignment,
  type MemberMetadata
} from './group-codec.ts'
import { compareUnits, copyUnitId, parseUnitId, singletonUnitId, type Unit } from './units.ts'

export interface GroupMember {
  readonly memberId: string
  readonly metadata: MemberMetadata
}

/**
 * A flow as the leader knows it from its own config: what members report of it, plus what only
 * the deal needs. The mode is not carried in member metadata: it is part of the flow digest
 * (src/config/run-groups.ts), so every member the leader deals the flow to runs it in the
 * leader's mode.
 */
export interface LeaderFlow extends FlowCapability {
  /** The flow copies in Kafka transactions (`FlowConfig.exactlyOnce.enabled`): its copy units go to one member. */
  readonly exactlyOnce?: boolean | undefined
}

export interface DealContext {
  /** The generation the assignments are for (the JoinGroup response's generation id). */
  readonly generation: number
  /** The leader's own flows (from its config): what is dealt, with the digests members must match. */
  readonly flows: ReadonlyMap<string, LeaderFlow>
  /**
   * The table of this leader's deal for the generation just before, when it made it. It tells a
   * unit nobody ran (not quiet) from one whose owner was lost; without it every unit given
   * without a clean release is quiet.
   */
  readonly previous?: DealTable | undefined
}

/**
 * running: the owner kept it; starting: given to the owner in this generation; revoking: the
 * owner must release it; unassigned: nobody runs it in this generation.
 */
export type UnitState = 'running' | 'starting' | 'revoking' | 'unassigned'

export interface UnitPlacement {
  /** Member id. */
  readonly owner: string | undefined
  /** The owner's instance label (kept here so a later deal can name an owner that left). */
  readonly instance: string | undefined
  readonly state: UnitState
  /** Why it moves or waits (for logs and status); undefined when it just stays. */
  readonly reason: string | undefined
}

export type DealTable = ReadonlyMap<string, UnitPlacement>

export interface Deal {
  readonly generation: number
  readonly assignments: ReadonlyMap<string, MemberAssignment>
  /** Every unit of the group and every unit a member still runs, sorted by unit. */
  readonly table: DealTable
  /** Member id -> instance label. */
  readonly instances: ReadonlyMap<string, string>
  readonly warnings: readonly string[]
}

export interface GroupAssignments {
  /** Member id -> SyncGroup assignment bytes, one for every member. */
  readonly assignments: Map<string, Buffer>
  readonly deal: Deal
}

export interface LeaderAssignorOptions {
  /** This instance's flows of the group, read at every deal (the config may be reloaded). */
  readonly flows: () => ReadonlyMap<string, LeaderFlow>
  /** Called with every deal this instance makes, for logs and status. */
  readonly onDeal?: (deal: Deal) => void
}

/**
 * What membership calls when this instance leads a rebalance: member id -> JoinGroup metadata
 * in, member id -> SyncGroup assignment out. Remembers its last deal and passes it as the previous
 * table when the next generation follows it directly (the classic protocol numbers generations
 * one by one, Kafka's `ClassicGroup.initNextGeneration`); after a gap another member led, and the
 * table would be stale.
 */
export function createLeaderAssignor(
  options: LeaderAssignorOptions
): (members: ReadonlyMap<string, Uint8Array>, generation: number) => Map<string, Buffer> {
  let last: Deal | undefined
  return (members, generation) => {
    const previous = last !== undefined && last.generation === generation - 1 ? last.table : undefined
    const { assignments, deal } = assignGroup(members, { generation, flows: options.flows(), previous })
    last = deal
    options.onDeal?.(deal)
    return assignments
  }
}

/**
 * The deal from bytes to bytes: member id -> JoinGroup metadata in, member id -> SyncGroup
 * assignment out (one for every member), with the decoded deal for logs and status.
 */
export function assignGroup(members: ReadonlyMap<string, Uint8Array>, context: DealContext): GroupAssignments {
  const decoded: GroupMember[] = []
  const undecodable = new Map<string, string>()
  for (const [memberId, metadata] of members) {
    try {
      decoded.push({ memberId, metadata: decodeMemberMetadata(metadata) })
    } catch (err) {
      if (!(err instanceof FormatError)) throw err
      undecodable.set(memberId, err.message)
    }
  }
  const blocked =
    undecodable.size === 0
      ? undefined
      : `the metadata of member${undecodable.size > 1 ? 's' : ''} ${[...undecodable.keys()].sort().join(', ')} cannot be read, so nothing new is dealt`
  const deal = dealUnits(decoded, context, blocked)
  const assignments = new Map<string, MemberAssignment>(deal.assignments)
  for (const [memberId, error] of undecodable) {
    assignments.set(memberId, {
      generation: context.generation,
      units: new Set(),
      revoked: new Set(),
      handOver: new Map(),
      quiet: new Set(),
      tasks: new Map(),
      error
    })
  }
  const warnings = [...deal.warnings, ...[...undecodable].map(([id, error]) => `member ${id}: ${error}`)]
  const bytes = new Map<string, Buffer>()
  for (const [memberId, a] of assignments) bytes.set(memberId, encodeAssignment(a))
  return { assignments: bytes, deal: { ...deal, assignments, warnings } }
}

/**
 * The deal on decoded metadata. `giveNothing`, when set, is the reason no unit may be given to
 * anyone in this generation (owned units are still kept or revoked as usual).
 */
export function dealUnits(members: readonly GroupMember[], context: DealContext, giveNothing?: string): Deal {
  const sorted = [...members].sort((a, b) => compareText(a.memberId, b.memberId))
  const flows = context.flows
  const instances = new Map(sorted.map(m => [m.memberId, m.metadata.instance]))
  const label = (id: string): string => `${instances.get(id) ?? '?'} (${id})`
  const warnings: string[] = []

  const parsed = new ParsedUnits()
  const eligible = eligibleMembers(sorted, flows, label, warnings)
  const claims = new Map<string, string[]>()
  for (const m of sorted) {
    for (const id of m.metadata.owned) {
      const owners = claims.get(id)
      if (owners === undefined) claims.set(id, [m.memberId])
      else owners.push(m.memberId)
    }
  }
  const pools = buildPools(sorted, flows, eligible, claims, parsed)
  const released = new Map<string, Release>()
  for (const m of sorted) {
    for (const [id, position] of m.metadata.released) {
      // Two releases of one unit follow a conflict: hand over the further position, below which
      // one of them copied everything (the new owner also reads the stored positions).
      const other = released.get(id)
      if (other === undefined || (position !== null && (other.position === null || position > other.position)))
        released.set(id, { by: m.memberId, position })
    }
  }

  const state = new Map(sorted.map(m => [m.memberId, new MemberDeal()]))
  const memberDeal = (id: string): MemberDeal => state.get(id) as MemberDeal
  const table = new Map<string, UnitPlacement>()
  const poolOf = new Map<string, Pool>()
  for (const pool of pools) for (const u of pool.units) poolOf.set(u.id, pool)

  // Owned units: revoke what may not stay, collect the rest as candidates to keep.
  const candidates = new Map<Pool, Map<string, string[]>>()
  for (const m of sorted) {
    for (const id of parsed.sort(m.metadata.owned)) {
      const pool = poolOf.get(id)
      const reason =
        pool === undefined
          ? 'no longer a unit of the group (its topic or flow is gone, or the leader does not run its flow)'
          : mayNotKeep(m.memberId, claims.get(id) as string[], eligible.get(parsed.of(id).flow) ?? [], label)
      if (reason !== undefined) {
        memberDeal(m.memberId).revoked.add(id)
        if (!table.has(id))
          table.set(id, { owner: m.memberId, instance: instances.get(m.memberId), state: 'revoking', reason })
        continue
      }
      let byMember = candidates.get(pool as Pool)
      if (byMember === undefined) candidates.set(pool as Pool, (byMember = new Map()))
      const mine = byMember.get(m.memberId)
      if (mine === undefined) byMember.set(m.memberId, [id])
      else mine.push(id)
    }
  }

  const load = new Map(sorted.map(m => [m.memberId, 0]))
  const copyOwners = copyOwnersByFlow(sorted, parsed)
  for (const pool of pools) {
    const quotas = poolQuotas(pool, candidates.get(pool) ?? new Map(), load)
    // A whole pool has one member with a quota (when it has units): the flow's home.
    const home = pool.whole ? [...quotas].find(([, quota]) => quota > 0)?.[0] : undefined
    const held = new Map<string, number>()
    for (const [memberId, quota] of quotas) {
      if (pool.flow !== undefined) memberDeal(memberId).copyQuota.set(pool.flow, quota)
      const mine = candidates.get(pool)?.get(memberId) ?? []
      mine.forEach((id, i) => {
        if (i < quota) {
          memberDeal(memberId).kept.add(id)
          table.set(id, { owner: memberId, instance: instances.get(memberId), state: 'running', reason: undefined })
        } else {
          memberDeal(memberId).revoked.add(id)
          table.set(id, {
            owner: memberId,
            instance: instances.get(memberId),
            state: 'revoking',
            reason:
              home === undefined
                ? `balance: ${label(memberId)} runs more than its share of ${pool.name} (${quota})`
                : `exactly-once: ${pool.flow} runs whole on one member, ${label(home)}`
          })
        }
      })
      const kept = Math.min(mine.length, quota)
      held.set(memberId, kept)
      load.set(memberId, (load.get(memberId) as number) + kept)
    }
    // Another member still runs copy units of a whole flow (they are revoked above): the flow's
    // task ids are the same on every member, so nothing of it starts until they are released.
    const waitFor = home === undefined ? [] : [...(copyOwners.get(pool.flow as string) ?? [])].filter(id => id !== home)
    for (const u of pool.units) {
      if (claims.has(u.id)) continue
      const members = (eligible.get(u.unit.flow) ?? []).filter(id => quotas.has(id))
      if (giveNothing !== undefined || members.length === 0 || waitFor.length > 0) {
        table.set(u.id, {
          owner: undefined,
          instance: undefined,
          state: 'unassigned',
          reason:
            giveNothing ??
            (members.length === 0
              ? `no member runs flow ${u.unit.flow} with the leader's config`
              : `exactly-once: ${u.unit.flow} goes whole to ${label(home as string)} once ${waitFor.map(label).join(' and ')} released ${waitFor.length > 1 ? 'their' : 'its'} units`)
        })
        continue
      }
      const underQuota = members.filter(id => (held.get(id) as number) < (quotas.get(id) as number))
      const to = leastLoaded(underQuota.length > 0 ? underQuota : members, held, load)
      held.set(to, (held.get(to) as number) + 1)
      load.set(to, (load.get(to) as number) + 1)
      const start = howToStart(u.id, to, released.get(u.id), context.previous, label)
      const d = memberDeal(to)
      d.given.add(u.id)
      if (start.position !== undefined) d.handOver.set(u.id, start.position)
      if (start.quiet) d.quiet.add(u.id)
      table.set(u.id, { owner: to, instance: instances.get(to), state: 'starting', reason: start.reason })
    }
  }

  const tasks = taskBudgets(pools, flows, eligible, memberDeal)
  const assignments = new Map<string, MemberAssignment>()
  for (const m of sorted) {
    const d = memberDeal(m.memberId)
    assignments.set(m.memberId, {
      generation: context.generation,
      units: new Set(parsed.sort([...d.kept, ...d.given])),
      revoked: new Set(parsed.sort(d.revoked)),
      handOver: d.handOver,
      quiet: d.quiet,
      tasks: tasks.get(m.memberId) ?? new Map()
    })
  }
  const sortedTable = new Map(parsed.sort(table.keys()).map(id => [id, table.get(id) as UnitPlacement]))
  return { generation: context.generation, assignments, table: sortedTable, instances, warnings }
}

/** Flow -> the members that run at least one of its copy units now (whether they may keep it or not). */
function copyOwnersByFlow(sorted: readonly GroupMember[], parsed: ParsedUnits): Map<string, Set<string>> {
  const owners = new Map<string, Set<string>>()
  for (const m of sorted) {
    for (const id of m.metadata.owned) {
      const unit = parsed.of(id)
      if (unit.kind !== 'copy') continue
      const set = owners.get(unit.flow)
      if (set === undefined) owners.set(unit.flow, new Set([m.memberId]))
      else set.add(m.memberId)
    }
  }
  return owners
}

/** Why a member may not keep a unit of the group it owns, or undefined when it may. */
function mayNotKeep(
  memberId: string,
  owners: readonly string[],
  eligible: readonly string[],
  label: (id: string) => string
): string | undefined {
  if (owners.length > 1) return `claimed by ${owners.map(label).join(' and ')}; dealt again once released`
  if (!eligible.includes(memberId)) return "this member's config for the flow differs from the leader's"
  return undefined
}

/**
 * How a unit given to a member starts: from the position its last owner released, or, when
 * nobody released it, after the quiet period unless the previous table shows nobody ran it.
 */
function howToStart(
  id: string,
  to: string,
  release: Release | undefined,
  previous: DealTable | undefined,
  label: (id: string) => string
): { position: bigint | undefined; quiet: boolean; reason: string } {
  if (release !== undefined) {
    return {
      position: release.position ?? undefined,
      quiet: false,
      reason: release.by === to ? 'released and dealt back' : `released by ${label(release.by)}`
    }
  }
  const before = previous?.get(id)
  if (previous !== undefined && (before === undefined || before.state === 'unassigned'))
    return { position: undefined, quiet: false, reason: 'new unit' }
  const reason =
    before?.owner === undefined
      ? 'not released by any member (new, or its owner was lost)'
      : `its owner ${before.instance ?? '?'} (${before.owner}) left without releasing it`
  return { position: undefined, quiet: true, reason }
}

interface Release {
  /** The member that released the unit. */
  readonly by: string
  readonly position: bigint | null
}

class MemberDeal {
  readonly kept = new Set<string>()
  readonly given = new Set<string>()
  readonly revoked = new Set<string>()
  readonly handOver = new Map<string, bigint>()
  readonly quiet = new Set<string>()
  /** Flow -> quota of its copy units. */
  readonly copyQuota = new Map<string, number>()
}

interface PoolUnit {
  readonly id: string
  readonly unit: Unit
}

interface Pool {
  /** For messages: `copy units of A->B` or `singletons`. */
  readonly name: string
  /** The flow of a copy pool; undefined for the singletons. */
  readonly flow: string | undefined
  /** Sorted with compareUnits. */
  readonly units: readonly PoolUnit[]
  /** Members eligible for at least one unit of the pool, sorted by member id. */
  readonly members: readonly string[]
  /** The copy units of an exactly-once flow: all dealt to one member. */
  readonly whole: boolean
}

/** Flow -> members (sorted) whose digest for it equals the leader's. */
function eligibleMembers(
  sorted: readonly GroupMember[],
  flows: ReadonlyMap<string, FlowCapability>,
  label: (id: string) => string,
  warnings: string[]
): Map<string, string[]> {
  const eligible = new Map<string, string[]>()
  for (const [flow, mine] of [...flows].sort(([a], [b]) => compareText(a, b))) {
    const ids: string[] = []
    for (const m of sorted) {
      const theirs = m.metadata.flows.get(flow)
      if (theirs === undefined)
        warnings.push(`${label(m.memberId)} does not run flow ${flow}; it gets none of its units`)
      else if (theirs.digest !== mine.digest)
        warnings.push(
          `${label(m.memberId)} runs flow ${flow} with another config (digest ${theirs.digest}, the leader's ${mine.digest}); it gets none of its units until the configs agree`
        )
      else ids.push(m.memberId)
    }
    eligible.set(flow, ids)
  }
  for (const m of sorted) {
    for (const flow of m.metadata.flows.keys()) {
      if (!flows.has(flow))
        warnings.push(`${label(m.memberId)} runs flow ${flow}, which the leader does not; its units are not dealt`)
    }
  }
  return eligible
}

/** One pool of copy units per flow with a topics job, then one pool of every singleton. */
function buildPools(
  sorted: readonly GroupMember[],
  flows: ReadonlyMap<string, LeaderFlow>,
  eligible: ReadonlyMap<string, string[]>,
  claims: ReadonlyMap<string, string[]>,
  parsed: ParsedUnits
): Pool[] {
  const pools: Pool[] = []
  const singletons: PoolUnit[] = []
  const singletonMembers = new Set<string>()
  for (const [flow, members] of eligible) {
    const capability = flows.get(flow)
    if (capability === undefined) continue
    for (const kind of capability.jobs) {
      const id = singletonUnitId(kind, flow)
      singletons.push({ id, unit: parsed.of(id) })
      for (const m of members) singletonMembers.add(m)
    }
    if (!capability.jobs.includes('topics')) continue
    const ids = copyUnitsOf(flow, sorted, members, claims, parsed)
    const units = ids.map(id => ({ id, unit: parsed.of(id) })).sort((a, b) => compareUnits(a.unit, b.unit))
    pools.push({ name: `copy units of ${flow}`, flow, units, members, whole: capability.exactlyOnce === true })
  }
  singletons.sort((a, b) => compareUnits(a.unit, b.unit))
  pools.push({
    name: 'singletons',
    flow: undefined,
    units: singletons,
    members: [...singletonMembers].sort(compareText),
    whole: false
  })
  return pools
}

/**
 * A flow's copy units: the topics view of the member owning its `topics` unit (alone), or while
 * there is none, the union of the eligible members' views and of the copy units they own (so a
 * missing view never revokes anything).
 */
function copyUnitsOf(
  flow: string,
  sorted: readonly GroupMember[],
  members: readonly string[],
  claims: ReadonlyMap<string, string[]>,
  parsed: ParsedUnits
): string[] {
  const byId = new Map(sorted.map(m => [m.memberId, m.metadata]))
  const topicsOwners = claims.get(singletonUnitId('topics', flow)) ?? []
  const ownerView =
    topicsOwners.length === 1 && members.includes(topicsOwners[0] as string)
      ? byId.get(topicsOwners[0] as string)?.topics.get(flow)
      : undefined
  const ids = new Set<string>()
  const addView = (view: ReadonlyMap<string, number>): void => {
    for (const [topic, count] of view) for (let p = 0; p < count; p++) ids.add(copyUnitId(flow, topic, p))
  }
  if (ownerView !== undefined) {
    addView(ownerView)
    return [...ids]
  }
  for (const id of members) {
    const m = byId.get(id) as MemberMetadata
    const view = m.topics.get(flow)
    if (view !== undefined) addView(view)
    for (const owned of m.owned) {
      const unit = parsed.of(owned)
      if (unit.kind === 'copy' && unit.flow === flow) ids.add(owned)
    }
  }
  return [...ids]
}

/**
 * Member id -> how many units of the pool it runs once settled: ⌊P/M⌋, plus one for the
 * P mod M members owning the most of the pool now (then the least loaded, then by id). A whole
 * pool: all P for the first member in that order, 0 for the others.
 */
function poolQuotas(
  pool: Pool,
  candidates: ReadonlyMap<string, readonly string[]>,
  load: ReadonlyMap<string, number>
): Map<string, number> {
  const quotas = new Map<string, number>()
  const m = pool.members.length
  if (m === 0) return quotas
  const base = Math.floor(pool.units.length / m)
  const extra = pool.units.length % m
  const owning = (id: string): number => candidates.get(id)?.length ?? 0
  const order = [...pool.members].sort(
    (a, b) => owning(b) - owning(a) || (load.get(a) as number) - (load.get(b) as number) || compareText(a, b)
  )
  if (pool.whole) order.forEach((id, i) => quotas.set(id, i === 0 ? pool.units.length : 0))
  else order.forEach((id, i) => quotas.set(id, base + (i < extra ? 1 : 0)))
  return quotas
}

function leastLoaded(
  members: readonly string[],
  held: ReadonlyMap<string, number>,
  load: ReadonlyMap<string, number>
): string {
  let best = members[0] as string
  for (const id of members.slice(1)) {
    const d =
      (held.get(id) as number) - (held.get(best) as number) ||
      (load.get(id) as number) - (load.get(best) as number) ||
      compareText(id, best)
    if (d < 0) best = id
  }
  return best
}

/**
 * Member id -> flow -> copier tasks: the flow's `tasks.max` split over the members with a
 * non-zero settled share of its copy units (larger shares get the extra tasks), each between 1
 * and its share. A whole pool's one member gets all of `tasks.max` (its copier runs
 * min(tasks.max, partitions) of them, task indices as MirrorSourceConnector.taskConfigs counts
 * them across the group).
 */
function taskBudgets(
  pools: readonly Pool[],
  flows: ReadonlyMap<string, LeaderFlow>,
  eligible: ReadonlyMap<string, string[]>,
  memberDeal: (id: string) => MemberDeal
): Map<string, Map<string, number>> {
  const budgets = new Map<string, Map<string, number>>()
  for (const pool of pools) {
    if (pool.flow === undefined) continue
    const tasksMax = flows.get(pool.flow)?.tasksMax ?? 1
    const members = eligible.get(pool.flow) ?? []
    const share = (id: string): number => memberDeal(id).copyQuota.get(pool.flow as string) ?? 0
    const order = [...members].sort((a, b) => share(b) - share(a) || compareText(a, b))
    const sharing = order.filter(id => share(id) > 0)
    const taskBase = Math.floor(tasksMax / Math.max(1, sharing.length))
    const taskExtra = tasksMax % Math.max(1, sharing.length)
    sharing.forEach((id, i) => {
      const tasks = pool.whole ? tasksMax : Math.min(share(id), Math.max(1, taskBase + (i < taskExtra ? 1 : 0)))
      const mine = budgets.get(id) ?? new Map<string, number>()
      mine.set(pool.flow as string, tasks)
      budgets.set(id, mine)
    })
  }
  return budgets
}

/**
 * Unit ids parsed once per deal: a deal looks at each id several times (pools, sorting, flows),
 * and a group can have tens of thousands of units.
 */
class ParsedUnits {
  readonly #units = new Map<string, Unit>()

  of(id: string): Unit {
    let unit = this.#units.get(id)
    if (unit === undefined) this.#units.set(id, (unit = parseUnitId(id)))
    return unit
  }

  sort(ids: Iterable<string>): string[] {
    return [...ids].sort((a, b) => compareUnits(this.of(a), this.of(b)))
  }
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
