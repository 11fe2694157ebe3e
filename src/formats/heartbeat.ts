/**
 * Heartbeat records of the `heartbeats` topic (Heartbeat): "cluster S could write to cluster
 * T at time t". The record timestamp is the same millisecond value; records go to partition 0.
 *
 * Invariants: the value starts with an INT16 version header, always 0 on write; any version is
 * read as v0; trailing bytes are ignored; truncated or null input throws FormatError.
 */
import type { Buffer } from 'node:buffer'
import { StructReader, StructWriter } from './struct.ts'

export const HEARTBEAT_VERSION = 0

export interface Heartbeat {
  readonly sourceClusterAlias: string
  readonly targetClusterAlias: string
  /** Epoch milliseconds at emission. */
  readonly timestamp: bigint
}

/**
 * Key layout:
 *   sourceClusterAlias  STRING
 *   targetClusterAlias  STRING
 * e.g. A/B -> 00 01 41 | 00 01 42
 */
export function encodeHeartbeatKey(hb: Pick<Heartbeat, 'sourceClusterAlias' | 'targetClusterAlias'>): Buffer {
  return new StructWriter('Heartbeat key')
    .string('sourceClusterAlias', hb.sourceClusterAlias)
    .string('targetClusterAlias', hb.targetClusterAlias)
    .toBuffer()
}

/**
 * Value layout (10 bytes):
 *   version    INT16  (always 0)
 *   timestamp  INT64
 * e.g. 1700000000000 -> 00 00 | 00 00 01 8b cf e5 68 00
 */
export function encodeHeartbeatValue(hb: Pick<Heartbeat, 'timestamp'>): Buffer {
  return new StructWriter('Heartbeat value')
    .int16('version', HEARTBEAT_VERSION)
    .int64('timestamp', hb.timestamp)
    .toBuffer()
}

export function encodeHeartbeat(hb: Heartbeat): { key: Buffer; value: Buffer } {
  return { key: encodeHeartbeatKey(hb), value: encodeHeartbeatValue(hb) }
}

export function decodeHeartbeat(key: Uint8Array | null | undefined, value: Uint8Array | null | undefined): Heartbeat {
  const k = new StructReader('Heartbeat key', key)
  const sourceClusterAlias = k.string('sourceClusterAlias')
  const targetClusterAlias = k.string('targetClusterAlias')
  const v = new StructReader('Heartbeat value', value)
  v.int16('version')
  const timestamp = v.int64('timestamp')
  return { sourceClusterAlias, targetClusterAlias, timestamp }
}

/** Java's `Heartbeat.toString()` (what the console HeartbeatFormatter prints). */
export function formatHeartbeat(h: Heartbeat): string {
  return `Heartbeat{sourceClusterAlias=${h.sourceClusterAlias}, targetClusterAlias=${h.targetClusterAlias}, timestamp=${h.timestamp}}`
}
