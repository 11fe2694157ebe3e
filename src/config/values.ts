/**
 * Typed reading of single config values with Kafka ConfigDef's rules (trimmed booleans, integers
 * and lists; strings as written) and located error messages. Secret values are parsed through
 * reveal() but only ever printed through their redacting toString.
 */
import { reveal } from '../util/secret.ts'
import type { MaybeSecret } from '../util/secret.ts'
import type { Where } from './where.ts'
import { configError, shown } from './where.ts'

export interface ConfigEntry {
  readonly value: MaybeSecret
  readonly where: Where
  /** True for a key written at top level of mm2.properties (inherited defaults, not a flow setting). */
  readonly topLevel?: boolean
}

export const INT_MAX = 2147483647
const SHORT_MAX = 32767

export function text(e: ConfigEntry): string {
  return reveal(e.value)
}

/** ConfigDef BOOLEAN: `true`/`false` in any case, surrounding blanks ignored; anything else is an error. */
export function parseBoolean(e: ConfigEntry): boolean {
  const v = text(e).trim().toLowerCase()
  if (v === 'true') return true
  if (v === 'false') return false
  throw configError(e.where, `expected true or false, got ${shown(e.value)}`)
}

/** `Boolean.parseBoolean`: only a case-insensitive "true" is true. Used where Java uses it (`A->B.enabled`). */
export function parseLenientBoolean(e: ConfigEntry): boolean {
  return text(e).trim().toLowerCase() === 'true'
}

export interface IntegerRule {
  /** Noun for the message: "an integer number of seconds". */
  readonly what: string
  readonly min?: number
  readonly max?: number
}

/** Java's parseInt/parseLong syntax (optional sign, decimal digits), with a range check. */
export function parseInteger(e: ConfigEntry, rule: IntegerRule): number {
  const raw = text(e).trim()
  const { what } = rule
  if (!/^[+-]?\d+$/.test(raw)) throw configError(e.where, `expected ${what}, got ${shown(e.value)}`)
  const n = Number(raw)
  const min = rule.min ?? Number.MIN_SAFE_INTEGER
  const max = rule.max ?? Number.MAX_SAFE_INTEGER
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw configError(e.where, `expected ${what} between ${min} and ${max}, got ${shown(e.value)}`)
  }
  return n
}

/** A replication factor: -1 (broker default) or 1..32767. */
export function parseReplicationFactor(e: ConfigEntry, max = SHORT_MAX): number {
  const n = parseInteger(e, { what: 'a replication factor (-1 for the broker default, or at least 1)', min: -1, max })
  if (n === 0)
    throw configError(
      e.where,
      `expected a replication factor (-1 for the broker default, or at least 1), got ${shown(e.value)}`
    )
  return n
}

/** ConfigDef LIST: trim, then split on commas with any surrounding blanks; "" is the empty list. */
export function parseList(e: ConfigEntry): string[] {
  return splitList(text(e))
}

export function splitList(value: string): string[] {
  const t = value.trim()
  return t === '' ? [] : t.split(/\s*,\s*/)
}

/** One of a few words, case-insensitively; returns the canonical spelling. */
export function parseChoice<T extends string>(e: ConfigEntry, choices: readonly T[]): T {
  const v = text(e).trim().toLowerCase()
  const hit = choices.find(c => c.toLowerCase() === v)
  if (hit === undefined) throw configError(e.where, `expected one of ${choices.join(', ')}, got ${shown(e.value)}`)
  return hit
}

/** One `bootstrap.servers` entry: `host:port`, an IPv6 host in brackets. */
export function isHostPort(s: string): boolean {
  return /^(?:\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/.test(s)
}

/** `bootstrap.servers`: a list of `host:port`. */
export function parseBootstrapServers(e: ConfigEntry): string[] {
  const list = parseList(e)
  if (list.length === 0 || !list.every(isHostPort)) {
    throw configError(e.where, `expected host:port entries separated by commas, got ${shown(e.value)}`)
  }
  return list
}
