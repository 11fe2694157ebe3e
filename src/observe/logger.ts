/**
 * One-line log records on stderr: `<time> <LEVEL> [<scope>] <message> key=value ...`.
 * Values pass through String(), so a Secret prints as [redacted]; callers still never pass
 * config objects. KAFKA_MIRROR_LOG_LEVEL (debug, info, warn, error) sets the threshold.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error'
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface Logger {
  debug (message: string, fields?: Record<string, unknown>): void
  info (message: string, fields?: Record<string, unknown>): void
  warn (message: string, fields?: Record<string, unknown>): void
  error (message: string, fields?: Record<string, unknown>): void
  child (scope: string): Logger
}

type Sink = (line: string) => void

function format (fields: Record<string, unknown> | undefined): string {
  if (fields === undefined) return ''
  const parts: string[] = []
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue
    const text = v instanceof Error ? v.message : String(v)
    parts.push(`${k}=${/[\s"=]/.test(text) ? JSON.stringify(text) : text}`)
  }
  return parts.length === 0 ? '' : ' ' + parts.join(' ')
}

export function createLogger (scope = 'kafka-mirror', sink: Sink = line => { process.stderr.write(line + '\n') }, level?: Level): Logger {
  const threshold = ORDER[level ?? (process.env.KAFKA_MIRROR_LOG_LEVEL as Level | undefined) ?? 'info'] ?? ORDER.info
  const emit = (lvl: Level, message: string, fields?: Record<string, unknown>): void => {
    if (ORDER[lvl] < threshold) return
    sink(`${new Date().toISOString()} ${lvl.toUpperCase().padEnd(5)} [${scope}] ${message}${format(fields)}`)
  }
  return {
    debug: (m, f) => { emit('debug', m, f) },
    info: (m, f) => { emit('info', m, f) },
    warn: (m, f) => { emit('warn', m, f) },
    error: (m, f) => { emit('error', m, f) },
    child: (s: string) => createLogger(`${scope === 'kafka-mirror' ? '' : scope + ' '}${s}`.trim(), sink, level)
  }
}
