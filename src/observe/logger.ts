/**
 * Log records on stderr, one per line, in one of two formats:
 * - text: `<time> <LEVEL> [<scope>] <message> key=value ...`
 * - json: `{"level":"info","time":"<ISO time>","scope":"...","fields":{...},"message":"..."}`,
 *   written by pino (one object per line, for log shippers).
 *
 * Redaction holds in both formats because every field value is reduced here, before any
 * formatter sees it: strings, finite numbers, booleans and null are kept, an Error becomes its
 * message, and anything else (a Secret, an object, a bigint) passes through String(), so a Secret
 * prints as [redacted] and no object is ever walked by a serializer. Callers still never pass
 * config objects.
 *
 * The threshold (KAFKA_MIRROR_LOG_LEVEL: debug, info, warn, error) lives in one LogLevel shared
 * by a logger and all its children, so it can change at run time: `run` toggles debug on SIGUSR2
 * (watchLevelSignal).
 */
import { pino, stdTimeFunctions } from 'pino'

export type Level = 'debug' | 'info' | 'warn' | 'error'
export type LogFormat = 'text' | 'json'
export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json']
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
  child(scope: string): Logger
}

type Sink = (line: string) => void

export function isLevel(value: string | undefined): value is Level {
  return value !== undefined && Object.hasOwn(ORDER, value)
}

/** The threshold a logger and its children share; `set` takes effect on the next line. */
export class LogLevel {
  #current: Level
  /** The level set at start (environment or default), the one toggleDebug() returns to. */
  readonly initial: Level

  constructor(initial: Level = fromEnv()) {
    this.#current = initial
    this.initial = initial
  }

  get current(): Level {
    return this.#current
  }
  set(level: Level): void {
    this.#current = level
  }
  enabled(level: Level): boolean {
    return ORDER[level] >= ORDER[this.#current]
  }

  /** debug when not at debug, otherwise back to the start level (or info if that was debug). */
  toggleDebug(): Level {
    this.#current = this.#current !== 'debug' ? 'debug' : this.initial === 'debug' ? 'info' : this.initial
    return this.#current
  }
}

function fromEnv(): Level {
  const env = process.env.KAFKA_MIRROR_LOG_LEVEL
  return isLevel(env) ? env : 'info'
}

/** A field value as it may be written: kept when it cannot hide anything, otherwise its String() form. */
export function safeValue(v: unknown): string | number | boolean | null {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v)
  if (v instanceof Error) return v.message
  return String(v)
}

function safeFields(
  fields: Record<string, unknown> | undefined
): Record<string, string | number | boolean | null> | undefined {
  if (fields === undefined) return undefined
  const out: Record<string, string | number | boolean | null> = {}
  let any = false
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue
    out[k] = safeValue(v)
    any = true
  }
  return any ? out : undefined
}

function textFields(fields: Record<string, string | number | boolean | null> | undefined): string {
  if (fields === undefined) return ''
  const parts: string[] = []
  for (const [k, v] of Object.entries(fields)) {
    const text = String(v)
    parts.push(`${k}=${/[\s"=]/.test(text) ? JSON.stringify(text) : text}`)
  }
  return ' ' + parts.join(' ')
}

export interface LoggerOptions {
  /**
   * A fixed level, or a LogLevel shared with other loggers (and changed at run time). Default: KAFKA_MIRROR_LOG_LEVEL,
   * else info.
   */
  readonly level?: Level | LogLevel | undefined
  readonly format?: LogFormat | undefined
}

type Emit = (
  level: Level,
  scope: string,
  message: string,
  fields: Record<string, string | number | boolean | null> | undefined
) => void

function textEmitter(sink: Sink): Emit {
  return (level, scope, message, fields) => {
    sink(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} [${scope}] ${message}${textFields(fields)}`)
  }
}

function jsonEmitter(sink: Sink | undefined): Emit {
  // pino filters nothing (the LogLevel does); it only writes. To stderr synchronously, so the
  // lines before an exit are not lost; to the sink (tests) through a minimal stream.
  const stream =
    sink === undefined
      ? pino.destination({ dest: 2, sync: true })
      : {
          write: (chunk: string) => {
            sink(chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk)
          }
        }
  const root = pino(
    {
      level: 'debug',
      base: undefined,
      messageKey: 'message',
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: label => ({ level: label }) }
    },
    stream
  )
  const byScope = new Map<string, pino.Logger>()
  return (level, scope, message, fields) => {
    let scoped = byScope.get(scope)
    if (scoped === undefined) {
      scoped = root.child({ scope })
      byScope.set(scope, scoped)
    }
    if (fields === undefined) scoped[level](message)
    else scoped[level]({ fields }, message)
  }
}

export function createLogger(scope = 'kafka-mirror', sink?: Sink, options?: Level | LoggerOptions): Logger {
  const opts: LoggerOptions = typeof options === 'string' ? { level: options } : (options ?? {})
  const level = opts.level instanceof LogLevel ? opts.level : new LogLevel(opts.level ?? fromEnv())
  const emit =
    opts.format === 'json'
      ? jsonEmitter(sink)
      : textEmitter(
          sink ??
            (line => {
              process.stderr.write(line + '\n')
            })
        )
  return scopedLogger(scope, level, emit)
}

function scopedLogger(scope: string, level: LogLevel, emit: Emit): Logger {
  const log = (lvl: Level, message: string, fields?: Record<string, unknown>): void => {
    if (level.enabled(lvl)) emit(lvl, scope, message, safeFields(fields))
  }
  return {
    debug: (m, f) => {
      log('debug', m, f)
    },
    info: (m, f) => {
      log('info', m, f)
    },
    warn: (m, f) => {
      log('warn', m, f)
    },
    error: (m, f) => {
      log('error', m, f)
    },
    child: (s: string) => scopedLogger(`${scope === 'kafka-mirror' ? '' : scope + ' '}${s}`.trim(), level, emit)
  }
}

/**
 * SIGUSR2 toggles debug logging (and back to the start level) while the process runs; the
 * change is logged at warn so it shows at any level. Returns the function that stops listening.
 */
export function watchLevelSignal(level: LogLevel, log: Logger): () => void {
  const onSignal = (): void => {
    const now = level.toggleDebug()
    log.warn('log level changed (SIGUSR2 toggles debug)', { level: now })
  }
  process.on('SIGUSR2', onSignal)
  return () => {
    process.off('SIGUSR2', onSignal)
  }
}
