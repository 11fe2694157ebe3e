/**
 * Members, contexts and readable summaries for the assignor's table tests (assignor.test.ts,
 * assignor-exactly-once.test.ts): decoded metadata built from plain objects, copy unit ids by
 * range, and a deal reduced to each member's compact unit lists.
 */
import type { Deal, DealContext, GroupMember, LeaderFlow } from '../../../src/group/assignor.ts'
import type { FlowCapability } from '../../../src/group/group-codec.ts'
import { compactUnitIds, copyUnitId } from '../../../src/group/units.ts'

export const FLOW = 'A->B'
export const ALL_JOBS: FlowCapability = { digest: 'd1', tasksMax: 4, jobs: ['topics', 'checkpoints', 'heartbeats'] }
/** A flow whose only singleton is its topics job (copy units exist only for flows with one). */
export const COPY_FLOW = { [FLOW]: { ...ALL_JOBS, jobs: ['topics' as const] } }

export interface MemberSpec {
  owned?: string[]
  released?: Record<string, string | null>
  /** Flow -> topic -> partitions; defaults to no view. */
  topics?: Record<string, Record<string, number>>
  flows?: Record<string, FlowCapability>
}

export function member(memberId: string, spec: MemberSpec = {}): GroupMember {
  return {
    memberId,
    metadata: {
      instance: `host-${memberId}`,
      flows: new Map(Object.entries(spec.flows ?? { [FLOW]: ALL_JOBS })),
      owned: new Set(spec.owned ?? []),
      released: new Map(Object.entries(spec.released ?? {}).map(([id, p]) => [id, p === null ? null : BigInt(p)])),
      topics: new Map(Object.entries(spec.topics ?? {}).map(([flow, view]) => [flow, new Map(Object.entries(view))]))
    }
  }
}

export const copies = (topic: string, from: number, to: number, flow = FLOW): string[] =>
  Array.from({ length: to - from + 1 }, (_, i) => copyUnitId(flow, topic, from + i))

/** The leader's context; its flows default to A->B with every job. */
export const ctx = (
  extra: { flows?: Record<string, LeaderFlow>; generation?: number; previous?: DealContext['previous'] } = {}
): DealContext => ({
  generation: extra.generation ?? 5,
  flows: new Map(Object.entries(extra.flows ?? { [FLOW]: ALL_JOBS })),
  previous: extra.previous
})

/** Member id -> its units, revoked units and quiet units in compact form, for readable asserts. */
export function summary(deal: Deal): Record<string, { units: string[]; revoked: string[]; quiet: string[] }> {
  return Object.fromEntries(
    [...deal.assignments].map(([id, a]) => [
      id,
      { units: compactUnitIds(a.units), revoked: compactUnitIds(a.revoked), quiet: compactUnitIds(a.quiet) }
    ])
  )
}

export function units(deal: Deal, memberId: string): string[] {
  return compactUnitIds(deal.assignments.get(memberId)?.units ?? [])
}
