/**
 * The work units a scale-out group deals among its instances (docs/scale-out-plan.md §0.3, §5.2):
 * each flow's source partitions, and the singleton jobs that must run once per group.
 *
 * Unit ids are readable strings, so they can be logged, shown by `status` and carried in the
 * group's metadata and assignment bytes as they are:
 *   copy:<flow>:<topic>:<partition>   one source partition of a flow, e.g. copy:A->B:orders:3
 *   topics:<flow>                     discovery, remote topic create/grow, config and ACL sync
 *   checkpoints:<flow>                checkpoints and group offset sync
 *   heartbeats:<flow>                 the heartbeat emitter of a source->target pair
 *
 * Invariants:
 * - A copy id is parsed from the right: Kafka topic names cannot contain ':' (legal characters are
 *   [a-zA-Z0-9._-], Kafka's `Topic.validate`), so a flow name may contain anything.
 * - The compact form of a set of ids merges the copy ids of one flow and topic into one entry with
 *   partition ranges (`copy:A->B:orders:0-5,7`); singleton ids stay as they are. Expanding the
 *   compact form gives back the same set.
 * - Malformed ids and ranges throw FormatError naming the offending text.
 */
import { FormatError } from '../errors.ts'

export type SingletonKind = 'topics' | 'checkpoints' | 'heartbeats'
export type UnitKind = 'copy' | SingletonKind

export const SINGLETON_KINDS: readonly SingletonKind[] = ['topics', 'checkpoints', 'heartbeats']

export interface CopyUnit {
  readonly kind: 'copy'
  readonly flow: string
  readonly topic: string
  readonly partition: number
}

export interface SingletonUnit {
  readonly kind: SingletonKind
  /** The flow (`S->T`); for heartbeats, the pair whose target receives them. */
  readonly flow: string
}

export type Unit = CopyUnit | SingletonUnit

const INT32_MAX = 0x7fffffff
const TOPIC_NAME = /^[a-zA-Z0-9._-]+$/
const MAX_RANGE = 1_000_000

export function copyUnitId(flow: string, topic: string, partition: number): string {
  return `copy:${flow}:${topic}:${partition}`
}

export function singletonUnitId(kind: SingletonKind, flow: string): string {
  return `${kind}:${flow}`
}

export function unitId(unit: Unit): string {
  return unit.kind === 'copy'
    ? copyUnitId(unit.flow, unit.topic, unit.partition)
    : singletonUnitId(unit.kind, unit.flow)
}

/** Whether a name can be a Kafka topic's (so a copy unit id built from it parses back). */
export function isTopicName(name: string): boolean {
  return TOPIC_NAME.test(name)
}

export function isSingletonKind(kind: string): kind is SingletonKind {
  return (SINGLETON_KINDS as readonly string[]).includes(kind)
}

/** Parses one unit id; `what` names where it came from in error messages. */
export function parseUnitId(id: string, what = 'unit id'): Unit {
  const { kind, flow, topic, partitions } = splitUnitText(id, what)
  if (kind !== 'copy') return { kind, flow }
  const partition = parsePartition(partitions, `${what} ${JSON.stringify(id)}`)
  return { kind, flow, topic, partition }
}

/** The flow a unit id belongs to. */
export function unitFlow(id: string): string {
  return parseUnitId(id).flow
}

/**
 * Unit ids in a stable, readable order: by flow, then singletons before copies (topics,
 * checkpoints, heartbeats), then topic, then partition as a number (so 2 comes before 10).
 */
export function compareUnitIds(a: string, b: string): number {
  return compareUnits(parseUnitId(a), parseUnitId(b))
}

export function compareUnits(a: Unit, b: Unit): number {
  if (a.flow !== b.flow) return a.flow < b.flow ? -1 : 1
  const ka = KIND_ORDER[a.kind]
  const kb = KIND_ORDER[b.kind]
  if (ka !== kb) return ka - kb
  if (a.kind !== 'copy' || b.kind !== 'copy') return 0
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1
  return a.partition - b.partition
}

const KIND_ORDER: Readonly<Record<UnitKind, number>> = { topics: 0, checkpoints: 1, heartbeats: 2, copy: 3 }

/** Sorts unit ids with {@link compareUnitIds}, parsing each id once. */
export function sortUnitIds(ids: Iterable<string>): string[] {
  return [...ids]
    .map(id => ({ id, unit: parseUnitId(id) }))
    .sort((x, y) => compareUnits(x.unit, y.unit))
    .map(x => x.id)
}

/**
 * Partition numbers as ranges: `[0, 1, 2, 3, 7, 9, 10]` -> `0-3,7,9-10`. Duplicates are ignored;
 * the input need not be sorted.
 */
export function formatPartitionRanges(partitions: Iterable<number>): string {
  const sorted = [...new Set(partitions)].sort((a, b) => a - b)
  const parts: string[] = []
  let i = 0
  while (i < sorted.length) {
    const first = sorted[i] as number
    let last = first
    while (i + 1 < sorted.length && sorted[i + 1] === last + 1) last = sorted[++i] as number
    parts.push(first === last ? String(first) : `${first}-${last}`)
    i++
  }
  return parts.join(',')
}

/** The inverse of {@link formatPartitionRanges}; ranges must be ascending (`3-1` is refused). */
export function parsePartitionRanges(text: string, what = 'partition ranges'): number[] {
  if (text === '') throw new FormatError(`${what}: empty`)
  const out: number[] = []
  for (const part of text.split(',')) {
    const dash = part.indexOf('-')
    if (dash < 0) {
      out.push(parsePartition(part, what))
      continue
    }
    const first = parsePartition(part.slice(0, dash), what)
    const last = parsePartition(part.slice(dash + 1), what)
    if (last < first) throw new FormatError(`${what}: range ${JSON.stringify(part)} goes backwards`)
    // Bounds what a damaged or hostile range can make us allocate; no topic comes near it.
    if (last - first >= MAX_RANGE)
      throw new FormatError(`${what}: range ${JSON.stringify(part)} spans more than ${MAX_RANGE} partitions`)
    for (let p = first; p <= last; p++) out.push(p)
  }
  return out
}

/**
 * A set of unit ids in compact form: copy ids of one flow and topic merged into one entry with
 * partition ranges, every entry sorted with {@link compareUnits}. Used in the group's bytes.
 */
export function compactUnitIds(ids: Iterable<string>): string[] {
  const singletons: SingletonUnit[] = []
  const partitionsByTopic = new Map<string, { flow: string; topic: string; partitions: number[] }>()
  for (const id of ids) {
    const unit = parseUnitId(id)
    if (unit.kind !== 'copy') {
      singletons.push(unit)
      continue
    }
    const key = copyUnitId(unit.flow, unit.topic, 0)
    const entry = partitionsByTopic.get(key) ?? { flow: unit.flow, topic: unit.topic, partitions: [] }
    entry.partitions.push(unit.partition)
    partitionsByTopic.set(key, entry)
  }
  const entries: Array<{ unit: Unit; text: string }> = [...new Set(singletons.map(unitId))].map(id => ({
    unit: parseUnitId(id),
    text: id
  }))
  for (const { flow, topic, partitions } of partitionsByTopic.values()) {
    entries.push({
      unit: { kind: 'copy', flow, topic, partition: Math.min(...partitions) },
      text: `copy:${flow}:${topic}:${formatPartitionRanges(partitions)}`
    })
  }
  return entries.sort((a, b) => compareUnits(a.unit, b.unit)).map(e => e.text)
}

/** The unit ids of a compact list (the inverse of {@link compactUnitIds}); `what` names the list in errors. */
export function expandUnitIds(compact: readonly string[], what = 'units'): string[] {
  const out: string[] = []
  compact.forEach((text, i) => {
    const { kind, flow, topic, partitions } = splitUnitText(text, `${what}[${i}]`)
    if (kind !== 'copy') {
      out.push(singletonUnitId(kind, flow))
      return
    }
    for (const p of parsePartitionRanges(partitions, `${what}[${i}] ${JSON.stringify(text)}`))
      out.push(copyUnitId(flow, topic, p))
  })
  return out
}

interface UnitText {
  readonly kind: UnitKind
  readonly flow: string
  /** Copy units only (empty for singletons). */
  readonly topic: string
  /** Copy units only: one partition or ranges, not yet parsed. */
  readonly partitions: string
}

function splitUnitText(text: string, what: string): UnitText {
  const colon = text.indexOf(':')
  const kind = colon < 0 ? text : text.slice(0, colon)
  const expected = 'expected copy:<flow>:<topic>:<partition> or topics|checkpoints|heartbeats:<flow>'
  if (colon < 0 || (kind !== 'copy' && !isSingletonKind(kind))) {
    throw new FormatError(`${what}: ${expected}, got ${JSON.stringify(text)}`)
  }
  const rest = text.slice(colon + 1)
  if (kind !== 'copy') {
    if (rest === '') throw new FormatError(`${what}: ${kind} unit without a flow name in ${JSON.stringify(text)}`)
    return { kind, flow: rest, topic: '', partitions: '' }
  }
  const last = rest.lastIndexOf(':')
  const beforeTopic = last < 0 ? -1 : rest.lastIndexOf(':', last - 1)
  if (beforeTopic <= 0) throw new FormatError(`${what}: ${expected}, got ${JSON.stringify(text)}`)
  const topic = rest.slice(beforeTopic + 1, last)
  if (!TOPIC_NAME.test(topic))
    throw new FormatError(`${what}: ${JSON.stringify(topic)} is not a Kafka topic name in ${JSON.stringify(text)}`)
  return { kind, flow: rest.slice(0, beforeTopic), topic, partitions: rest.slice(last + 1) }
}

function parsePartition(text: string, what: string): number {
  if (!/^\d+$/.test(text))
    throw new FormatError(`${what}: partition must be a number >= 0, got ${JSON.stringify(text)}`)
  const p = Number(text)
  if (p > INT32_MAX) throw new FormatError(`${what}: partition ${text} is larger than a Kafka partition number can be`)
  return p
}
