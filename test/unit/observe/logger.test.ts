/**
 * The logger: text and JSON lines, the same redaction in both (a Secret prints as [redacted]
 * wherever it sits in the fields), one level shared by a logger and its children that can change
 * at run time, and SIGUSR2 toggling debug.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createLogger, LogLevel, watchLevelSignal } from '../../../src/observe/logger.ts'
import { Secret } from '../../../src/util/secret.ts'

const SECRET = 'hunter2-do-not-print'

function collect(options: Parameters<typeof createLogger>[2]): {
  lines: string[]
  log: ReturnType<typeof createLogger>
} {
  const lines: string[] = []
  return {
    lines,
    log: createLogger(
      'kafka-mirror',
      line => {
        lines.push(line)
      },
      options
    )
  }
}

/** Every way a caller could hand a secret to the logger by mistake. */
function leakyFields(): Record<string, unknown> {
  const secret = new Secret(SECRET)
  return {
    password: secret,
    nested: { password: secret, deeper: { value: secret } },
    list: [secret, secret],
    error: new Error('could not log in as alice'),
    count: 3,
    big: 12345678901234567890n,
    ok: true,
    missing: undefined,
    nothing: null
  }
}

test('text: `<time> <LEVEL> [<scope>] <message> key=value`, quoted when needed, Secret as [redacted]', () => {
  const { lines, log } = collect('debug')
  log.child('A->B').info('copied', { records: 10, topic: 'orders', why: 'two words', password: new Secret(SECRET) })
  assert.equal(lines.length, 1)
  assert.match(
    lines[0] ?? '',
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO {2}\[A->B\] copied records=10 topic=orders why="two words" password=\[redacted\]$/
  )
})

test('json: one object per line with level, time, scope, message and fields', () => {
  const { lines, log } = collect({ level: 'debug', format: 'json' })
  log
    .child('A->B')
    .child('task 1')
    .warn('partition refused', { topic: 'odd "name"\n<b>', partition: 2, retryInMs: 500 })
  log.debug('no fields')
  assert.equal(lines.length, 2)
  const first = JSON.parse(lines[0] ?? '') as Record<string, unknown>
  assert.deepEqual(Object.keys(first).sort(), ['fields', 'level', 'message', 'scope', 'time'])
  assert.equal(first.level, 'warn')
  assert.equal(first.scope, 'A->B task 1')
  assert.equal(first.message, 'partition refused')
  assert.deepEqual(first.fields, { topic: 'odd "name"\n<b>', partition: 2, retryInMs: 500 })
  assert.ok(Math.abs(Date.parse(String(first.time)) - Date.now()) < 5000, 'time is an ISO timestamp of now')
  assert.ok(!lines[0]?.includes('\n'), 'one line')
  const second = JSON.parse(lines[1] ?? '') as Record<string, unknown>
  assert.deepEqual(
    { level: second.level, scope: second.scope, message: second.message, fields: second.fields },
    { level: 'debug', scope: 'kafka-mirror', message: 'no fields', fields: undefined }
  )
})

test('redaction holds in both formats: a Secret never prints, at the top of the fields, nested in an object or in an array', () => {
  for (const format of ['text', 'json'] as const) {
    const { lines, log } = collect({ level: 'debug', format })
    log.error('login failed', leakyFields())
    log
      .child('x')
      .warn(`message ${String(new Secret(SECRET))}`, { e: new Error(`cause: ${String(new Secret(SECRET))}`) })
    const all = lines.join('\n')
    assert.ok(!all.includes(SECRET), `${format}: the secret is not in ${all}`)
    assert.match(all, /\[redacted\]/, format)
    if (format === 'json') {
      const fields = (JSON.parse(lines[0] ?? '') as { fields: Record<string, unknown> }).fields
      assert.deepEqual(fields, {
        password: '[redacted]',
        nested: '[object Object]',
        list: '[redacted],[redacted]',
        error: 'could not log in as alice',
        count: 3,
        big: '12345678901234567890',
        ok: true,
        nothing: null
      })
    }
  }
})

test('the level is shared by a logger and its children and can change while they exist', () => {
  const level = new LogLevel('info')
  const { lines, log } = collect({ level, format: 'json' })
  const child = log.child('A->B')
  child.debug('hidden')
  level.set('debug')
  child.debug('shown')
  log.child('later').debug('shown too')
  level.set('error')
  child.warn('hidden')
  child.error('shown')
  assert.deepEqual(
    lines.map(l => (JSON.parse(l) as { message: string }).message),
    ['shown', 'shown too', 'shown']
  )
})

test('toggleDebug goes to debug and back to the start level', () => {
  const level = new LogLevel('warn')
  assert.equal(level.toggleDebug(), 'debug')
  assert.equal(level.toggleDebug(), 'warn')
  const fromDebug = new LogLevel('debug')
  assert.equal(fromDebug.toggleDebug(), 'info')
  assert.equal(fromDebug.toggleDebug(), 'debug')
})

test('SIGUSR2 toggles debug logging at run time and says so', async () => {
  const level = new LogLevel('info')
  const { lines, log } = collect({ level, format: 'json' })
  const stop = watchLevelSignal(level, log)
  // node --test starts test files with --report-signal=SIGUSR2 and reports on it; a mirror does not.
  const reportOnSignal = process.report.reportOnSignal
  process.report.reportOnSignal = false
  try {
    log.debug('before')
    process.kill(process.pid, 'SIGUSR2')
    await new Promise(resolve => setTimeout(resolve, 200))
    assert.equal(level.current, 'debug')
    log.debug('after')
    process.kill(process.pid, 'SIGUSR2')
    await new Promise(resolve => setTimeout(resolve, 200))
    assert.equal(level.current, 'info')
    log.debug('hidden again')
  } finally {
    stop()
    process.report.reportOnSignal = reportOnSignal
  }
  const seen = lines.map(l => JSON.parse(l) as { level: string; message: string; fields?: { level: string } })
  assert.deepEqual(
    seen.map(s => [s.level, s.message, s.fields?.level]),
    [
      ['warn', 'log level changed (SIGUSR2 toggles debug)', 'debug'],
      ['debug', 'after', undefined],
      ['warn', 'log level changed (SIGUSR2 toggles debug)', 'info']
    ]
  )
})

test('KAFKA_MIRROR_LOG_LEVEL sets the start level; an unknown value means info', () => {
  const saved = process.env.KAFKA_MIRROR_LOG_LEVEL
  try {
    process.env.KAFKA_MIRROR_LOG_LEVEL = 'warn'
    assert.equal(new LogLevel().current, 'warn')
    process.env.KAFKA_MIRROR_LOG_LEVEL = 'loud'
    assert.equal(new LogLevel().current, 'info')
  } finally {
    if (saved === undefined) delete process.env.KAFKA_MIRROR_LOG_LEVEL
    else process.env.KAFKA_MIRROR_LOG_LEVEL = saved
  }
})
