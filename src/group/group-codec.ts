/**
 * The bytes kafka-mirror puts in Kafka's classic group protocol (docs/scale-out-plan.md §0.1,
 * §5.1): each member's JoinGroup protocol metadata, and the assignment the leader hands each
 * member through SyncGroup. The broker stores both as opaque bytes and DescribeGroups returns them
 * as they are, so they are kept readable for `status` and for a person with a hex dump.
 *
 * Layout of both (big-endian):
 *   version  INT16   format version, 1
 *   body     UTF-8 compact JSON, keys in the order below, unit lists in compact form
 *            (src/group/units.ts: copy units merged into partition ranges)
 *
 * Member metadata body, e.g.
 *   {"instance":"host-a/4711",
 *    "flows":{"A->B":{"digest":"9f2c","tasksMax":4,"jobs":["topics","checkpoints","heartbeats"]}},
 *    "owned":["topics:A->B","copy:A->B:orders:0-5"],
 *    "released":{"copy:A->B:orders:6":"1041","copy:A->B:orders:7":null},
 *    "topics":{"A->B":{"orders":12}}}
 * - flows: what this instance can run, with the digest of each flow's config (the leader deals a
 *   flow's units only to members whose digest equals its own) and the flow's `tasks.max`; jobs
 *   lists the flow's singletons (a heartbeat-only pair has just "heartbeats"; copy units exist
 *   for flows with a "topics" job).
 * - owned: the units it runs now, after finishing the releases its last assignment asked for.
 * - released: units it released since its last assignment, each with its stored position (the
 *   offset of the last record copied, a decimal string, as in the Connect offsets topic) or null
 *   when it has none (singletons, or nothing copied).
 * - topics: its view of each flow's ready topics and their partition counts (authoritative from
 *   the owner of `topics:<flow>`, a start-up view from the others); a flow it has no view of is
 *   absent.
 *
 * Assignment body, e.g.
 *   {"generation":7,"units":["topics:A->B","copy:A->B:orders:0-3"],"revoked":["copy:A->B:orders:4-5"],
 *    "handOver":{"copy:A->B:orders:3":"1041"},"quiet":["copy:A->B:orders:2"],"tasks":{"A->B":2}}
 * - units: everything the member runs in this generation; revoked: what it must release (stop,
 *   store positions) and leave out of its next JoinGroup; handOver: positions released by the
 *   previous owner of a unit given to it; quiet: units given to it whose last owner was lost (not
 *   cleanly released), which start only after the quiet period (plan §4); tasks: its copier task
 *   budget per flow; error: set when the leader could not read this member's metadata (units
 *   is then empty: the member releases whatever it runs and reports the error). Otherwise every
 *   unit the member listed as owned is in units or in revoked.
 *
 * Invariants: encoding is deterministic (sorted lists and maps), so equal values give equal
 * bytes (the golden bytes in test/fixtures/group/golden.json pin them). Decoding checks every
 * field and throws FormatError naming the field and what was wrong; unknown fields are ignored.
 * A version other than 1 is refused: a later format goes with a new protocol name (`kafka-mirror-v2`), which the
 * coordinator only selects when every member supports it, as Kafka Connect does with its
 * `default`/`compatible`/`sessioned` protocols (ConnectProtocolCompatibility).
 */
import { Buffer } from 'node:buffer'
import { FormatError } from '../errors.ts'
import {
  compactUnitIds,
  expandUnitIds,
  isSingletonKind,
  isTopicName,
  parseUnitId,
  SINGLETON_KINDS,
  sortUnitIds,
  type SingletonKind
} from './units.ts'

export const GROUP_FORMAT_VERSION = 1

export interface FlowCapability {
  /** Digest of the flow's effective config; members with another digest get none of its units. */
  readonly digest: string
  /** The flow's `tasks.max`: copier tasks across the whole group, as in MM2. */
  readonly tasksMax: number
  /** The flow's singleton jobs. */
  readonly jobs: readonly SingletonKind[]
}

export interface MemberMetadata {
  /** A label for people: host and process id, or the pod name. */
  readonly instance: string
  readonly flows: ReadonlyMap<string, FlowCapability>
  readonly owned: ReadonlySet<string>
  /** Unit id -> stored position (last copied offset), or null when there is none. */
  readonly released: ReadonlyMap<string, bigint | null>
  /** Flow -> ready topic -> partition count. */
  readonly topics: ReadonlyMap<string, ReadonlyMap<string, number>>
}

export interface MemberAssignment {
  readonly generation: number
  readonly units: ReadonlySet<string>
  readonly revoked: ReadonlySet<string>
  /** Unit id -> the position its previous owner stored when it released it. */
  readonly handOver: ReadonlyMap<string, bigint>
  readonly quiet: ReadonlySet<string>
  /** Flow -> copier tasks this member runs for it. */
  readonly tasks: ReadonlyMap<string, number>
  readonly error?: string
}

const METADATA = 'kafka-mirror member metadata'
const ASSIGNMENT = 'kafka-mirror assignment'

export function encodeMemberMetadata(m: MemberMetadata): Buffer {
  const flows: Record<string, unknown> = {}
  for (const name of sortedKeys(m.flows)) {
    const f = m.flows.get(name) as FlowCapability
    flows[name] = { digest: f.digest, tasksMax: f.tasksMax, jobs: SINGLETON_KINDS.filter(k => f.jobs.includes(k)) }
  }
  const released: Record<string, string | null> = {}
  for (const id of sortUnitIds(m.released.keys())) released[id] = positionText(m.released.get(id) ?? null)
  const topics: Record<string, Record<string, number>> = {}
  for (const flow of sortedKeys(m.topics)) {
    const view = m.topics.get(flow) as ReadonlyMap<string, number>
    topics[flow] = Object.fromEntries(sortedKeys(view).map(t => [t, view.get(t) as number]))
  }
  return frame({ instance: m.instance, flows, owned: compactUnitIds(m.owned), released, topics })
}

export function decodeMemberMetadata(bytes: Uint8Array): MemberMetadata {
  const body = unframe(bytes, METADATA)
  const instance = stringField(body, 'instance', METADATA)
  const flows = new Map<string, FlowCapability>()
  for (const [name, value] of objectEntries(body, 'flows', METADATA)) {
    const where = `flows[${JSON.stringify(name)}]`
    if (name === '') throw new FormatError(`${METADATA}: flows: a flow without a name`)
    const f = asObject(value, where, METADATA)
    const jobs = stringArray(f, 'jobs', METADATA, where).map((kind, i) => {
      if (!isSingletonKind(kind))
        throw fieldError(METADATA, `${where}.jobs[${i}]`, `one of ${SINGLETON_KINDS.join(', ')}`, kind)
      return kind
    })
    flows.set(name, {
      digest: stringField(f, 'digest', METADATA, where),
      tasksMax: intField(f, 'tasksMax', METADATA, 1, where),
      jobs
    })
  }
  const owned = new Set(expandUnitIds(stringArray(body, 'owned', METADATA), `${METADATA}: owned`))
  const released = new Map<string, bigint | null>()
  for (const [id, value] of objectEntries(body, 'released', METADATA)) {
    parseUnitId(id, `${METADATA}: released key`)
    released.set(id, value === null ? null : parsePosition(value, `released[${JSON.stringify(id)}]`, METADATA))
  }
  const topics = new Map<string, Map<string, number>>()
  for (const [flow, value] of objectEntries(body, 'topics', METADATA)) {
    const where = `topics[${JSON.stringify(flow)}]`
    const view = new Map<string, number>()
    for (const [topic, count] of Object.entries(asObject(value, where, METADATA))) {
      if (!isTopicName(topic))
        throw new FormatError(`${METADATA}: ${where}: ${JSON.stringify(topic)} is not a Kafka topic name`)
      view.set(topic, asInt(count, `${where}[${JSON.stringify(topic)}]`, METADATA, 0))
    }
    topics.set(flow, view)
  }
  return { instance, flows, owned, released, topics }
}

export function encodeAssignment(a: MemberAssignment): Buffer {
  const handOver: Record<string, string> = {}
  for (const id of sortUnitIds(a.handOver.keys())) handOver[id] = positionText(a.handOver.get(id) as bigint) as string
  const body: Record<string, unknown> = {
    generation: a.generation,
    units: compactUnitIds(a.units),
    revoked: compactUnitIds(a.revoked),
    handOver,
    quiet: compactUnitIds(a.quiet),
    tasks: Object.fromEntries(sortedKeys(a.tasks).map(f => [f, a.tasks.get(f) as number]))
  }
  if (a.error !== undefined) body.error = a.error
  return frame(body)
}

export function decodeAssignment(bytes: Uint8Array): MemberAssignment {
  const body = unframe(bytes, ASSIGNMENT)
  const generation = intField(body, 'generation', ASSIGNMENT, 0)
  const units = new Set(expandUnitIds(stringArray(body, 'units', ASSIGNMENT), `${ASSIGNMENT}: units`))
  const revoked = new Set(expandUnitIds(stringArray(body, 'revoked', ASSIGNMENT), `${ASSIGNMENT}: revoked`))
  for (const id of revoked) {
    if (units.has(id)) throw new FormatError(`${ASSIGNMENT}: ${id} is both in units and in revoked`)
  }
  const handOver = new Map<string, bigint>()
  for (const [id, value] of objectEntries(body, 'handOver', ASSIGNMENT)) {
    if (!units.has(id)) throw new FormatError(`${ASSIGNMENT}: handOver names ${id}, which is not in units`)
    handOver.set(id, parsePosition(value, `handOver[${JSON.stringify(id)}]`, ASSIGNMENT))
  }
  const quiet = new Set(expandUnitIds(stringArray(body, 'quiet', ASSIGNMENT), `${ASSIGNMENT}: quiet`))
  for (const id of quiet) {
    if (!units.has(id)) throw new FormatError(`${ASSIGNMENT}: quiet names ${id}, which is not in units`)
  }
  const tasks = new Map<string, number>()
  for (const [flow, value] of objectEntries(body, 'tasks', ASSIGNMENT))
    tasks.set(flow, asInt(value, `tasks[${JSON.stringify(flow)}]`, ASSIGNMENT, 0))
  const error = body.error === undefined ? undefined : stringField(body, 'error', ASSIGNMENT)
  return error === undefined
    ? { generation, units, revoked, handOver, quiet, tasks }
    : { generation, units, revoked, handOver, quiet, tasks, error }
}

type JsonObject = Readonly<Record<string, unknown>>

function frame(body: JsonObject): Buffer {
  const json = Buffer.from(JSON.stringify(body), 'utf8')
  const out = Buffer.alloc(2 + json.length)
  out.writeInt16BE(GROUP_FORMAT_VERSION, 0)
  json.copy(out, 2)
  return out
}

function unframe(bytes: Uint8Array, what: string): JsonObject {
  if (bytes.length < 2) throw new FormatError(`${what}: ${bytes.length} bytes, too short for the INT16 version`)
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const version = b.readInt16BE(0)
  if (version > GROUP_FORMAT_VERSION) {
    throw new FormatError(
      `${what}: format version ${version} is newer than this kafka-mirror reads (${GROUP_FORMAT_VERSION}); run the same kafka-mirror version on every instance of the group`
    )
  }
  if (version < 1)
    throw new FormatError(
      `${what}: format version ${version} is not a kafka-mirror format (expected ${GROUP_FORMAT_VERSION})`
    )
  let body: unknown
  try {
    body = JSON.parse(b.toString('utf8', 2))
  } catch (err) {
    throw new FormatError(`${what}: the body after the version is not JSON (${(err as Error).message})`)
  }
  return asObject(body, 'body', what)
}

function fieldError(what: string, field: string, expected: string, got: unknown): FormatError {
  return new FormatError(
    `${what}: ${field}: expected ${expected}, got ${got === undefined ? 'nothing' : JSON.stringify(got)}`
  )
}

function path(parent: string | undefined, field: string): string {
  return parent === undefined ? field : `${parent}.${field}`
}

function asObject(value: unknown, field: string, what: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw fieldError(what, field, 'an object', value)
  return value as JsonObject
}

function objectEntries(o: JsonObject, field: string, what: string, parent?: string): Array<[string, unknown]> {
  return Object.entries(asObject(o[field], path(parent, field), what))
}

function stringField(o: JsonObject, field: string, what: string, parent?: string): string {
  const v = o[field]
  if (typeof v !== 'string') throw fieldError(what, path(parent, field), 'a string', v)
  return v
}

function stringArray(o: JsonObject, field: string, what: string, parent?: string): string[] {
  const v = o[field]
  if (!Array.isArray(v)) throw fieldError(what, path(parent, field), 'an array of strings', v)
  return v.map((s: unknown, i) => {
    if (typeof s !== 'string') throw fieldError(what, `${path(parent, field)}[${i}]`, 'a string', s)
    return s
  })
}

function intField(o: JsonObject, field: string, what: string, min: number, parent?: string): number {
  return asInt(o[field], path(parent, field), what, min)
}

function asInt(v: unknown, field: string, what: string, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
    throw fieldError(what, field, `an integer >= ${min}`, v)
  return v
}

function positionText(p: bigint | null): string | null {
  return p === null ? null : p.toString()
}

function parsePosition(v: unknown, field: string, what: string): bigint {
  if (typeof v !== 'string' || !/^(0|[1-9]\d{0,18})$/.test(v) || BigInt(v) > 2n ** 63n - 1n) {
    throw fieldError(what, field, 'an offset >= 0 as a decimal string', v)
  }
  return BigInt(v)
}

function sortedKeys(m: ReadonlyMap<string, unknown>): string[] {
  return [...m.keys()].sort()
}
