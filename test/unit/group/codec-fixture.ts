/**
 * Loads test/fixtures/group/golden.json: member metadata and assignments written as plain JSON
 * values (maps as objects, sets as arrays, positions as decimal strings) next to the exact bytes
 * kafka-mirror's format version 1 gives them. The bytes were produced once by the encoder and
 * checked by reading their JSON body; they pin the format so a change to it cannot go unnoticed
 * (instances of one group may run different builds during a rolling upgrade).
 */
import { readFileSync } from 'node:fs'
import type { FlowCapability, MemberAssignment, MemberMetadata } from '../../../src/group/group-codec.ts'
import type { SingletonKind } from '../../../src/group/units.ts'

export interface PlainMetadata {
  instance: string
  flows: Record<string, { digest: string; tasksMax: number; jobs: SingletonKind[] }>
  owned: string[]
  released: Record<string, string | null>
  topics: Record<string, Record<string, number>>
}

export interface PlainAssignment {
  generation: number
  units: string[]
  revoked: string[]
  handOver: Record<string, string>
  quiet: string[]
  tasks: Record<string, number>
  error?: string
}

export interface GroupGolden {
  metadata: Array<{ name: string; value: PlainMetadata; hex: string }>
  assignment: Array<{ name: string; value: PlainAssignment; hex: string }>
}

export const groupGolden: GroupGolden = JSON.parse(
  readFileSync(new URL('../../fixtures/group/golden.json', import.meta.url), 'utf8')
) as GroupGolden

export function fixtureMetadata(p: PlainMetadata): MemberMetadata {
  return {
    instance: p.instance,
    flows: new Map(
      Object.entries(p.flows).map(([name, f]): [string, FlowCapability] => [
        name,
        { digest: f.digest, tasksMax: f.tasksMax, jobs: f.jobs }
      ])
    ),
    owned: new Set(p.owned),
    released: new Map(Object.entries(p.released).map(([id, pos]) => [id, pos === null ? null : BigInt(pos)])),
    topics: new Map(Object.entries(p.topics).map(([flow, view]) => [flow, new Map(Object.entries(view))]))
  }
}

export function fixtureAssignment(p: PlainAssignment): MemberAssignment {
  const a = {
    generation: p.generation,
    units: new Set(p.units),
    revoked: new Set(p.revoked),
    handOver: new Map(Object.entries(p.handOver).map(([id, pos]) => [id, BigInt(pos)])),
    quiet: new Set(p.quiet),
    tasks: new Map(Object.entries(p.tasks))
  }
  return p.error === undefined ? a : { ...a, error: p.error }
}
