/**
 * Records of the Kafka Connect offsets topic (`mm2-offsets.<S>.internal` or the Strimzi one) for
 * the three MM2 connectors (Kafka Connect's OffsetStorageWriter with JsonConverter), so we resume where Java MM2
 * stopped and vice versa.
 *
 * Invariants:
 * - Keys are `["<connectorName>",{<source partition>}]`, values `{"offset":N}`, both compact JSON
 *   exactly as JsonConverter (schemas.enable=false) writes them. Connect finds offsets by byte
 *   equality of the key, so encoders emit Java's HashMap key order for each partition map:
 *     source      {"cluster":S,"partition":N,"topic":T}
 *     checkpoint  {"partition":N,"topic":T,"group":G}
 *     heartbeat   {"sourceClusterAlias":S,"targetClusterAlias":T}
 * - Decoders accept any key order and whitespace, ignore extra fields, and throw FormatError for a
 *   wrong shape. A null value is a tombstone (offset reset) and decodes to null.
 * - Offsets are bigint (Java long); partitions are Java ints (0..2^31-1).
 * - Records are placed with Kafka's murmur2 partitioner ({@link javaPartition}).
 */
import { Buffer } from 'node:buffer'
import { FormatError } from '../errors.ts'
import { jacksonString, parseJsonExact } from './java-json.ts'
import type { JsonValue } from './java-json.ts'

export { javaPartition, murmur2 } from './murmur2.ts'

export interface SourceOffsetKey {
  readonly connector: string
  /** Source cluster alias. */
  readonly cluster: string
  /** Topic name on the source. */
  readonly topic: string
  readonly partition: number
}

export interface CheckpointOffsetKey {
  readonly connector: string
  readonly group: string
  /** Renamed (target-side) topic. */
  readonly topic: string
  readonly partition: number
}

export interface HeartbeatOffsetKey {
  readonly connector: string
  readonly sourceClusterAlias: string
  readonly targetClusterAlias: string
}

const INT32_MAX = 0x7fffffff
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

function isJavaLong(v: unknown): v is bigint {
  return typeof v === 'bigint' && v >= INT64_MIN && v <= INT64_MAX
}

function jsonPartition(p: number): string {
  if (!Number.isInteger(p) || p < 0 || p > INT32_MAX) {
    throw new FormatError(`Connect offset key: partition must be an int >= 0, got ${String(p)}`)
  }
  return String(p)
}

function key(connector: string, partitionJson: string): Buffer {
  return Buffer.from(`[${jacksonString(connector)},${partitionJson}]`, 'utf8')
}

/**
 * MirrorSourceConnector key:
 *   ["<connector>",{"cluster":"<S>","partition":<int>,"topic":"<source topic>"}]
 * e.g. ["MirrorSourceConnector",{"cluster":"A","partition":0,"topic":"orders"}]
 */
export function encodeSourceOffsetKey(k: SourceOffsetKey): Buffer {
  return key(
    k.connector,
    `{"cluster":${jacksonString(k.cluster)},"partition":${jsonPartition(k.partition)},"topic":${jacksonString(k.topic)}}`
  )
}

/**
 * MirrorCheckpointConnector key:
 *   ["<connector>",{"partition":<int>,"topic":"<renamed topic>","group":"<group>"}]
 */
export function encodeCheckpointOffsetKey(k: CheckpointOffsetKey): Buffer {
  return key(
    k.connector,
    `{"partition":${jsonPartition(k.partition)},"topic":${jacksonString(k.topic)},"group":${jacksonString(k.group)}}`
  )
}

/**
 * MirrorHeartbeatConnector key:
 *   ["<connector>",{"sourceClusterAlias":"<S>","targetClusterAlias":"<T>"}]
 */
export function encodeHeartbeatOffsetKey(k: HeartbeatOffsetKey): Buffer {
  return key(
    k.connector,
    `{"sourceClusterAlias":${jacksonString(k.sourceClusterAlias)},"targetClusterAlias":${jacksonString(k.targetClusterAlias)}}`
  )
}

/**
 * Value: {"offset":<long>}. For the source connector it is the offset of the last replicated
 * record (resume at +1); the checkpoint and heartbeat connectors always write 0.
 */
export function encodeOffsetValue(offset: bigint): Buffer {
  if (!isJavaLong(offset)) {
    throw new FormatError(`Connect offset value: offset must be a Java long (bigint), got ${String(offset)}`)
  }
  return Buffer.from(`{"offset":${offset}}`, 'utf8')
}

function isObject(v: JsonValue | undefined): v is { readonly [k: string]: JsonValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Any Connect offsets key: the connector name and its source partition map, untyped. */
export function decodeConnectOffsetKey(bytes: Uint8Array | null | undefined): {
  connector: string
  partition: { readonly [k: string]: JsonValue }
} {
  if (bytes === null || bytes === undefined) throw new FormatError('Connect offset key: is null')
  const v = parseJsonExact(bytes, 'Connect offset key')
  if (!Array.isArray(v) || v.length !== 2)
    throw new FormatError('Connect offset key: expected a JSON array [connectorName, partition]')
  const [connector, partition] = v as readonly JsonValue[]
  if (typeof connector !== 'string') throw new FormatError('Connect offset key: connector name is not a string')
  if (!isObject(partition)) throw new FormatError('Connect offset key: source partition is not a JSON object')
  return { connector, partition }
}

function str(p: { readonly [k: string]: JsonValue }, field: string, what: string): string {
  const v = p[field]
  if (typeof v !== 'string') throw new FormatError(`${what}: field ${field} is missing or not a string`)
  return v
}

function int(p: { readonly [k: string]: JsonValue }, field: string, what: string): number {
  const v = p[field]
  if (typeof v !== 'bigint' || v < 0n || v > BigInt(INT32_MAX)) {
    throw new FormatError(`${what}: field ${field} is missing or not an int >= 0`)
  }
  return Number(v)
}

export function decodeSourceOffsetKey(bytes: Uint8Array | null | undefined): SourceOffsetKey {
  const { connector, partition: p } = decodeConnectOffsetKey(bytes)
  const what = 'Connect source offset key'
  return {
    connector,
    cluster: str(p, 'cluster', what),
    topic: str(p, 'topic', what),
    partition: int(p, 'partition', what)
  }
}

export function decodeCheckpointOffsetKey(bytes: Uint8Array | null | undefined): CheckpointOffsetKey {
  const { connector, partition: p } = decodeConnectOffsetKey(bytes)
  const what = 'Connect checkpoint offset key'
  return { connector, group: str(p, 'group', what), topic: str(p, 'topic', what), partition: int(p, 'partition', what) }
}

export function decodeHeartbeatOffsetKey(bytes: Uint8Array | null | undefined): HeartbeatOffsetKey {
  const { connector, partition: p } = decodeConnectOffsetKey(bytes)
  const what = 'Connect heartbeat offset key'
  return {
    connector,
    sourceClusterAlias: str(p, 'sourceClusterAlias', what),
    targetClusterAlias: str(p, 'targetClusterAlias', what)
  }
}

/**
 * The `offset` of a Connect offset value, exact. Returns null for a tombstone (null bytes or JSON
 * null) and for a map without `offset` (Java's unwrapOffset gives null then too). The value may be
 * negative; callers decide what that means (MirrorSourceTask does not seek then).
 */
export function decodeOffsetValue(bytes: Uint8Array | null | undefined): bigint | null {
  if (bytes === null || bytes === undefined) return null
  const v = parseJsonExact(bytes, 'Connect offset value')
  if (v === null) return null
  if (!isObject(v)) throw new FormatError('Connect offset value: expected a JSON object')
  const offset = v.offset
  if (offset === undefined || offset === null) return null
  if (!isJavaLong(offset)) {
    throw new FormatError('Connect offset value: offset is not an integer Java long')
  }
  return offset
}
