/**
 * The closed set of errors kafka-mirror raises on purpose. Each has a stable code (listed in
 * docs/errors.md, with their exit codes) so the CLI can map it to an exit code and operators can search for it.
 *
 * Errors never carry config objects or secret values as properties: anything attached to an
 * error can end up serialized in a log line.
 */

export type ErrorCode = 'KM_CONFIG_INVALID' | 'KM_USAGE' | 'KM_KAFKA' | 'KM_FORMAT'

export class KafkaMirrorError extends Error {
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** Where in a config file a problem was found. */
export interface ConfigLocation {
  readonly file: string
  readonly line?: number
  readonly key?: string
}

/**
 * A config file (or an argument) is wrong. The message reads
 * `<file>:<line> <key>: expected <what>, got <what>` so a person can go straight to the spot.
 */
export class ConfigError extends KafkaMirrorError {
  readonly location: ConfigLocation | undefined
  constructor(message: string, location?: ConfigLocation, options?: { cause?: unknown }) {
    super('KM_CONFIG_INVALID', formatLocated(message, location), options)
    this.location = location
  }
}

/** Bad command-line arguments. */
export class UsageError extends KafkaMirrorError {
  constructor(message: string) {
    super('KM_USAGE', message)
  }
}

/**
 * A Kafka operation failed. `retriable` tells callers whether trying again can help (network,
 * leader moves, timeouts) or whether a person must act (authorisation, bad config, too large).
 */
export class KafkaError extends KafkaMirrorError {
  readonly retriable: boolean
  readonly kafkaCode: string | undefined
  constructor(message: string, opts: { retriable: boolean; kafkaCode?: string; cause?: unknown }) {
    super('KM_KAFKA', message, { cause: opts.cause })
    this.retriable = opts.retriable
    this.kafkaCode = opts.kafkaCode
  }
}

/** Bytes that do not decode as the MM2 format they claim to be. */
export class FormatError extends KafkaMirrorError {
  constructor(message: string) {
    super('KM_FORMAT', message)
  }
}

function formatLocated(message: string, location: ConfigLocation | undefined): string {
  if (location === undefined) return message
  const where = location.line === undefined ? location.file : `${location.file}:${location.line}`
  return location.key === undefined ? `${where}: ${message}` : `${where} ${location.key}: ${message}`
}
