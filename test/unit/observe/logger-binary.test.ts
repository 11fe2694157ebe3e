/**
 * `kafka-mirror run --log-format json` as an operator runs it (the real binary, no broker
 * needed): every line on stderr is one JSON object, a SASL password from the config never
 * appears, and SIGUSR2 turns debug logging on and off while it runs (that the new level reaches
 * every logger is logger.test.ts's; worker threads' lines in JSON are in the status page test).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { waitFor } from '../../harness/helpers.ts'
import { freePort } from '../../harness/ports.ts'
import { spawnTracked } from '../../harness/processes.ts'

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'kafka-mirror.js')
const PASSWORD = 'pw-that-must-never-print-7f3a'

interface JsonLine {
  level: string
  time: string
  scope: string
  message: string
  fields?: Record<string, unknown>
}

test('run --log-format json: JSON lines only, no secret, SIGUSR2 toggles debug', { timeout: 120_000 }, async t => {
  // Nothing listens on these ports: the flow stays not ready and keeps logging its retries.
  const [a, b] = [await freePort(), await freePort()]
  const dir = mkdtempSync(join(tmpdir(), 'km-logjson-'))
  const file = join(dir, 'mm2.properties')
  writeFileSync(
    file,
    [
      'clusters = A, B',
      `A.bootstrap.servers = 127.0.0.1:${a}`,
      `B.bootstrap.servers = 127.0.0.1:${b}`,
      'A->B.enabled = true',
      'A.security.protocol = SASL_PLAINTEXT',
      'A.sasl.mechanism = PLAIN',
      `A.sasl.jaas.config = org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="${PASSWORD}";`,
      'emit.heartbeats.enabled = false',
      'emit.checkpoints.enabled = false'
    ].join('\n') + '\n'
  )
  const env: NodeJS.ProcessEnv = { ...process.env, KAFKA_MIRROR_LOG_LEVEL: 'info' }
  delete env.KAFKA_MIRROR_LOG_FORMAT
  const proc = spawnTracked(
    'kafka-mirror',
    process.execPath,
    [bin, 'run', '--config', file, '--metrics-port', '0', '--log-format', 'json'],
    { stdio: ['ignore', 'pipe', 'pipe'], env }
  )
  t.after(async () => {
    await proc.kill()
  })
  let stderr = ''
  proc.child.stdout?.resume()
  proc.child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  const lines = (): JsonLine[] =>
    stderr
      .split('\n')
      .filter(l => l !== '')
      .map(l => {
        try {
          return JSON.parse(l) as JsonLine
        } catch {
          assert.fail(`not a JSON line: ${l}`)
        }
      })

  await waitFor(() => lines().some(l => l.message === 'started'), { timeoutMs: 60_000, what: 'the started line' })
  await waitFor(() => lines().some(l => l.level === 'warn' && l.scope.includes('A->B')), {
    timeoutMs: 60_000,
    what: 'a warning of the flow that cannot connect'
  })
  assert.equal(lines().filter(l => l.level === 'debug').length, 0, 'no debug lines at info')

  proc.child.kill('SIGUSR2')
  await waitFor(() => lines().some(l => l.message.startsWith('log level changed') && l.fields?.level === 'debug'), {
    timeoutMs: 10_000,
    what: 'the level change'
  })
  proc.child.kill('SIGUSR2')
  await waitFor(() => lines().some(l => l.message.startsWith('log level changed') && l.fields?.level === 'info'), {
    timeoutMs: 10_000,
    what: 'back to info'
  })

  proc.child.kill('SIGTERM')
  assert.equal(await proc.exited, 0, stderr)
  const all = lines()
  for (const l of all) {
    assert.deepEqual(
      Object.keys(l)
        .filter(k => k !== 'fields')
        .sort(),
      ['level', 'message', 'scope', 'time'],
      JSON.stringify(l)
    )
    assert.ok(['debug', 'info', 'warn', 'error'].includes(l.level))
    assert.ok(!Number.isNaN(Date.parse(l.time)))
  }
  assert.ok(
    all.some(l => l.message === 'stopped' && l.fields?.flow === 'A->B' && l.fields.records === 0),
    'the stopped line carries numbers as numbers'
  )
  assert.ok(!stderr.includes(PASSWORD), 'the password never appears')
  t.diagnostic(`${all.length} JSON lines, e.g. ${JSON.stringify(all.find(l => l.level === 'warn'))}`)
})

test('--log-format json: a command that fails says why in one JSON line too (text: the usual one line)', () => {
  const json = spawnSync(
    process.execPath,
    [bin, 'run', '--config', '/nonexistent/mm2.properties', '--log-format', 'json'],
    { encoding: 'utf8', timeout: 60_000 }
  )
  assert.equal(json.status, 2)
  const lines = json.stderr.split('\n').filter(l => l !== '')
  assert.equal(lines.length, 1, json.stderr)
  const line = JSON.parse(lines[0] ?? '') as JsonLine
  assert.equal(line.level, 'error')
  assert.equal(line.scope, 'kafka-mirror')
  assert.match(line.message, /nonexistent\/mm2\.properties/)
  const text = spawnSync(process.execPath, [bin, 'run', '--config', '/nonexistent/mm2.properties'], {
    encoding: 'utf8',
    timeout: 60_000
  })
  assert.equal(text.status, 2)
  assert.match(text.stderr, /^kafka-mirror: .*nonexistent\/mm2\.properties.*\n$/)
})
