/**
 * Lifecycle.every for a side task (the copy's topic ACL sync): its failures are warnings, the
 * next pass comes one interval later, and neither failing nor succeeding changes the state.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Logger } from '../../../src/observe/logger.ts'
import { Lifecycle } from '../../../src/util/lifecycle.ts'

interface Line {
  level: string
  message: string
}

function lifecycle(lines: Line[]): Lifecycle {
  const at =
    (level: string) =>
    (message: string): void => {
      lines.push({ level, message })
    }
  const log: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => log }
  // A backoff far longer than the interval: a side task must not use it.
  return new Lifecycle({ log, what: 'flow', logRetryIn: true, backoffMs: () => 60_000 })
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 2))
  }
}

test("side task: a failing pass is a warning, the next comes one interval later, the state stays what the component's own tasks made it", async () => {
  const lines: Line[] = []
  const life = lifecycle(lines)
  let passes = 0
  const loop = life.every(
    'topic ACL sync',
    5,
    async () => {
      passes++
      if (passes <= 2) throw new Error('not authorised')
    },
    { firstPassAtOnce: true, sideTask: true }
  )
  await until('four passes (the interval, not the 60 s backoff, after each failure)', () => passes >= 4)
  assert.equal(life.state, 'starting', 'neither the failures nor the successes moved the state')
  assert.deepEqual(
    lines.filter(l => l.level === 'warn').map(l => l.message),
    ['topic ACL sync failed; retrying next interval', 'topic ACL sync failed; retrying next interval']
  )
  life.running()
  await until('another pass', () => passes >= 6)
  assert.equal(life.state, 'running')
  await life.close()
  await loop
})

test('side task: a component made not ready by its own task stays not ready while the side task succeeds', async () => {
  const lines: Line[] = []
  const life = lifecycle(lines)
  life.notReady(new Error('target unreachable'), 1)
  let passes = 0
  const loop = life.every(
    'topic ACL sync',
    5,
    async () => {
      passes++
    },
    { firstPassAtOnce: true, sideTask: true }
  )
  await until('three passes', () => passes >= 3)
  assert.equal(life.state, 'not-ready')
  assert.equal(life.reason, 'target unreachable')
  await life.close()
  await loop
})
