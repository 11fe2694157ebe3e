/**
 * Where a config value came from, and the one way kafka-mirror prints such a place, so warnings
 * read exactly like ConfigError messages (`file:line key: message`).
 */
import { ConfigError } from '../errors.ts'

export interface Where {
  readonly file: string
  readonly line?: number | undefined
  /** The key as the user wrote it (`A->B.topics`, `spec.mirrors[0].topicsPattern`). */
  readonly key?: string | undefined
}

export function located(where: Where, message: string): string {
  const place = where.line === undefined ? where.file : `${where.file}:${where.line}`
  return where.key === undefined ? `${place}: ${message}` : `${place} ${where.key}: ${message}`
}

export function configError(where: Where, message: string, cause?: unknown): ConfigError {
  // ConfigError wants an exactOptionalPropertyTypes-friendly location: drop undefined members.
  const loc: { file: string; line?: number; key?: string } = { file: where.file }
  if (where.line !== undefined) loc.line = where.line
  if (where.key !== undefined) loc.key = where.key
  return new ConfigError(message, loc, cause === undefined ? undefined : { cause })
}

/** Quotes a value for a message; secrets print as [redacted] through their own toString. */
export function shown(value: unknown): string {
  return JSON.stringify(String(value))
}
