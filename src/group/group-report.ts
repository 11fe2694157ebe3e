/**
 * Who is in a scale-out group and who runs what, from a DescribeGroups answer alone (what
 * `kafka-mirror status` prints; docs/scale-out-plan.md §5.1). Pure: the described group and its
 * raw member bytes in, a report and its text out. No membership of its own, so looking never
 * causes a rebalance.
 *
 * What DescribeGroups gives and what it does not (Apache Kafka's ClassicGroup.describe):
 * - each member's id, client id, host, JoinGroup metadata and SyncGroup assignment, the bytes
 *   only while the group is Stable (during a rebalance they come back empty);
 * - no generation id and no leader. The generation is taken from the members' decoded
 *   assignments (every assignment carries the generation it was dealt for, group-codec.ts); the
 *   leader stays unknown (`null`), as the coordinator does not say which member dealt.
 *
 * A group whose protocol type is not kafka-mirror's (Kafka Connect's `connect` when Java MM2
 * runs this config, a consumer group) is reported with its members' client ids and hosts; its
 * bytes are never decoded. Bytes of ours that do not decode are reported per member with the
 * codec's message.
 */
import type { DescribedGroup, DescribedMember } from '../kafka/group-wire.ts'
import { GroupErrorCode, groupErrorName } from '../kafka/group-wire.ts'
import { decodeAssignment, decodeMemberMetadata, type MemberAssignment } from './group-codec.ts'
import { PROTOCOL_TYPE } from './membership.ts'
import { compactUnitIds, compareUnits, expandUnitIds, parseUnitId } from './units.ts'

/** Where a group lives, as the config says. */
export interface GroupPlace {
  readonly groupId: string
  /** Alias of the cluster the group's coordinator is on (the pairs' target). */
  readonly cluster: string
  readonly bootstrap: readonly string[]
  /**
   * The singleton units this config's instances should run in the group (`topics:A->B`...),
   * to name the ones nobody runs. Copy units are not listed: their partitions are known only
   * to the owner of the flow's topics unit.
   */
  readonly singletons?: readonly string[]
}

/**
 * - running: kafka-mirror members, described (Stable);
 * - rebalancing: kafka-mirror members between generations (no bytes to read);
 * - empty: nobody in the group (Empty, Dead, or never created);
 * - foreign: another protocol type holds the group id (Kafka Connect, a consumer group);
 * - error: the coordinator answered with an error, or the cluster could not be reached.
 */
export type GroupCondition = 'running' | 'rebalancing' | 'empty' | 'foreign' | 'error'

export interface MemberReport {
  readonly memberId: string
  readonly clientId: string
  readonly clientHost: string
  /** The instance label from the member's metadata (host/pid or pod), null when unread. */
  readonly instance: string | null
  /** The generation of its assignment, null when there is none to read. */
  readonly generation: number | null
  /** Units it runs, compact (copy units merged into partition ranges), quiet ones included. */
  readonly units: readonly string[]
  /** Of those, the units waiting out the quiet period (their last owner was lost), compact. */
  readonly quiet: readonly string[]
  /** Units it must release (stop and store positions) before the next generation, compact. */
  readonly revoked: readonly string[]
  /** Flow -> copier tasks it runs for the flow. */
  readonly tasks: Readonly<Record<string, number>>
  /** Why its metadata or assignment could not be read, or the leader's error for it. */
  readonly error: string | null
}

export interface GroupReport {
  readonly groupId: string
  readonly cluster: string
  readonly bootstrap: string
  readonly condition: GroupCondition
  /** Empty, PreparingRebalance, CompletingRebalance, Stable, Dead; null when not described. */
  readonly state: string | null
  readonly protocolType: string | null
  readonly protocolName: string | null
  /** The newest generation among the members' assignments (DescribeGroups carries none). */
  readonly generation: number | null
  /** Never named by DescribeGroups; kept in the shape for when it can be known. */
  readonly leader: string | null
  readonly members: readonly MemberReport[]
  /** Singleton units of the config that no member runs or releases. */
  readonly unowned: readonly string[]
  /** One sentence for a group that is not `running` (empty, foreign, rebalancing, error); null otherwise. */
  readonly note: string | null
}

/** The report of one described group. */
export function groupReport(place: GroupPlace, group: DescribedGroup): GroupReport {
  const base = {
    groupId: place.groupId,
    cluster: place.cluster,
    bootstrap: place.bootstrap.join(','),
    leader: null
  }
  const where = `group ${place.groupId} on cluster ${place.cluster}`
  const described = {
    ...base,
    state: group.state === '' ? null : group.state,
    protocolType: group.protocolType === '' ? null : group.protocolType,
    protocolName: group.protocolName === '' ? null : group.protocolName
  }
  if (group.errorCode !== GroupErrorCode.NONE && group.errorCode !== GroupErrorCode.GROUP_ID_NOT_FOUND) {
    return {
      ...described,
      condition: 'error',
      generation: null,
      members: [],
      unowned: [],
      note: `${where} could not be described: ${groupErrorName(group.errorCode)}`
    }
  }
  if (group.members.length === 0) {
    return {
      ...described,
      condition: 'empty',
      generation: null,
      members: [],
      unowned: [...(place.singletons ?? [])],
      note: `no instance is running this config's group ${place.groupId} on cluster ${place.cluster} (state ${group.state})`
    }
  }
  if (group.protocolType !== PROTOCOL_TYPE) {
    return {
      ...described,
      condition: 'foreign',
      generation: null,
      members: group.members.map(m => foreignMember(m)),
      unowned: [...(place.singletons ?? [])],
      note: foreignNote(group, where)
    }
  }
  const members = group.members
    .map(m => ourMember(m))
    // By instance label; members whose label cannot be read last.
    .sort(
      (a, b) =>
        Number(a.instance === null) - Number(b.instance === null) ||
        compareText(a.instance ?? '', b.instance ?? '') ||
        compareText(a.memberId, b.memberId)
    )
  const generations = members.map(m => m.generation).filter((g): g is number => g !== null)
  const held = new Set(members.flatMap(m => [...m.held]))
  const stable = group.state === 'Stable'
  return {
    ...described,
    condition: stable ? 'running' : 'rebalancing',
    generation: generations.length === 0 ? null : Math.max(...generations),
    members: members.map(({ held: _held, ...m }) => m),
    // Between generations nobody's units are shown, so none can be called unowned.
    unowned: stable ? (place.singletons ?? []).filter(id => !held.has(id)) : [],
    note: stable
      ? null
      : `${where} is rebalancing (state ${group.state}): the coordinator shows no assignments until it is Stable again`
  }
}

/** The report of a group whose cluster could not be reached (or that could not be described). */
export function unreachableReport(place: GroupPlace, reason: string): GroupReport {
  return {
    groupId: place.groupId,
    cluster: place.cluster,
    bootstrap: place.bootstrap.join(','),
    condition: 'error',
    state: null,
    protocolType: null,
    protocolName: null,
    generation: null,
    leader: null,
    members: [],
    unowned: [],
    note: `cannot describe group ${place.groupId} on cluster ${place.cluster} (bootstrap ${place.bootstrap.join(',')}): ${reason}`
  }
}

const NO_UNITS = {
  generation: null,
  units: [],
  quiet: [],
  revoked: [],
  tasks: {}
} as const

function foreignMember(m: DescribedMember): MemberReport {
  return {
    memberId: m.memberId,
    clientId: m.clientId,
    clientHost: m.clientHost,
    instance: null,
    ...NO_UNITS,
    error: null
  }
}

function foreignNote(group: DescribedGroup, where: string): string {
  const n = group.members.length
  const who = `${n} member${n === 1 ? '' : 's'}: client ids ${listed(group.members.map(m => m.clientId))}; hosts ${listed(group.members.map(m => m.clientHost))}`
  switch (group.protocolType) {
    case 'connect':
      return `${where} is held by Kafka Connect (protocol type "connect", ${who}): Java MirrorMaker 2 is running this config's group, so no kafka-mirror instance can join it`
    case 'consumer':
      return `${where} is a consumer group (protocol type "consumer", ${who}), not kafka-mirror's: no kafka-mirror instance can join it`
    default:
      return `${where} is held by another application (protocol type "${group.protocolType}", ${who}), not kafka-mirror`
  }
}

function listed(values: readonly string[]): string {
  const distinct = [...new Set(values.filter(v => v !== ''))]
  return distinct.length === 0 ? '(none given)' : distinct.join(', ')
}

/** A member of ours, with every unit it holds (running or revoked) for the unowned check. */
function ourMember(m: DescribedMember): MemberReport & { held: ReadonlySet<string> } {
  const errors: string[] = []
  let instance: string | null = null
  // Empty bytes: the group is between generations (or the member has not synced yet).
  if (m.metadata.length > 0) {
    try {
      instance = decodeMemberMetadata(m.metadata).instance
    } catch (err) {
      errors.push((err as Error).message)
    }
  }
  let assignment: MemberAssignment | undefined
  if (m.assignment.length > 0) {
    try {
      assignment = decodeAssignment(m.assignment)
    } catch (err) {
      errors.push((err as Error).message)
    }
  }
  if (assignment?.error !== undefined) errors.push(`the leader could not read its metadata: ${assignment.error}`)
  const common = {
    memberId: m.memberId,
    clientId: m.clientId,
    clientHost: m.clientHost,
    instance,
    error: errors.length === 0 ? null : errors.join('; ')
  }
  if (assignment === undefined) return { ...common, ...NO_UNITS, held: new Set() }
  return {
    ...common,
    generation: assignment.generation,
    units: compactUnitIds(assignment.units),
    quiet: compactUnitIds(assignment.quiet),
    revoked: compactUnitIds(assignment.revoked),
    tasks: Object.fromEntries([...assignment.tasks].sort(([a], [b]) => compareText(a, b))),
    held: new Set([...assignment.units, ...assignment.revoked])
  }
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** A member's units in text: compact, ordered by unit, each marked when quiet or revoked. */
function markedUnits(m: MemberReport): string[] {
  const quiet = new Set(expandUnitIds(m.quiet))
  const running = expandUnitIds(m.units).filter(id => !quiet.has(id))
  const entries = [
    ...compactUnitIds(running).map(text => ({ text, mark: '' })),
    ...m.quiet.map(text => ({ text, mark: ' (quiet)' })),
    ...m.revoked.map(text => ({ text, mark: ' (revoked)' }))
  ]
  return entries
    .map(e => ({ ...e, unit: parseUnitId(expandUnitIds([e.text])[0] ?? e.text) }))
    .sort((a, b) => compareUnits(a.unit, b.unit))
    .map(e => `${e.text}${e.mark}`)
}

/** The report as text lines, one block per group. */
export function renderGroupReport(r: GroupReport): string[] {
  const head = `group ${r.groupId} on cluster ${r.cluster} (${r.bootstrap})`
  if (r.condition === 'error') return [head, `  ${r.note ?? 'could not be described'}`]
  const protocol = r.protocolType === null ? 'no protocol' : `protocol ${r.protocolType}/${r.protocolName ?? '-'}`
  const n = r.members.length
  const lines = [`${head}: ${r.state ?? '?'}, ${protocol}, ${n} member${n === 1 ? '' : 's'}`]
  if (r.note !== null) lines.push(`  ${r.note}`)
  if (r.condition === 'empty') return lines
  if (r.condition === 'foreign') {
    for (const m of r.members) lines.push(`  member ${m.memberId}  client ${m.clientId}  host ${m.clientHost}`)
    return lines
  }
  const generations = [...new Set(r.members.map(m => m.generation).filter((g): g is number => g !== null))]
  const behind =
    generations.length > 1 ? ` (members report generations ${generations.sort((x, y) => x - y).join(', ')})` : ''
  lines.push(
    `  generation ${r.generation ?? 'unknown'}${behind}; leader ${r.leader ?? 'not reported by the coordinator'}`
  )
  for (const m of r.members) {
    lines.push(
      `  ${m.instance ?? '(instance unknown)'}  member ${m.memberId}  client ${m.clientId}  host ${m.clientHost}`
    )
    if (m.error !== null) lines.push(`    cannot read: ${m.error}`)
    const tasks = Object.entries(m.tasks).map(([flow, t]) => `${flow} ${t}`)
    if (tasks.length > 0) lines.push(`    tasks  ${tasks.join(', ')}`)
    const units = markedUnits(m)
    lines.push(`    units  ${units.length === 0 ? '(none)' : units.join(', ')}`)
  }
  if (r.unowned.length > 0) lines.push(`  run by nobody: ${r.unowned.join(', ')}`)
  return lines
}
