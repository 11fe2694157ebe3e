/** The lifecycle SourceFlow, CheckpointFlow and HeartbeatEmitter share, driven by fake tasks (no Kafka). */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Logger } from '../../../src/observe/logger.ts'
import { Lifecycle, type LifecycleOptions, PassTrigger } from '../../../src/util/lifecycle.ts'

interface Line {
  level: string
  message: string
  fields: Record<string, unknown> | undefined
}

function recordingLogger(lines: Line[]): Logger {
  const at =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, message, fields })
    }
  const log: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => log }
  return log
}

function lifecycle(lines: Line[], more: Partial<LifecycleOptions> = {}): Lifecycle {
  return new Lifecycle({
    log: recordingLogger(lines),
    what: 'flow',
    logRetryIn: true,
    backoffMs: attempt => attempt * 5,
    ...more
  })
}

class FakeClient {
  closed = 0
  async close(): Promise<void> {
    this.closed++
  }
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 2))
  }
}

/** 'closed', or 'still sleeping' when close() waits out a sleep it should have cut short. */
async function closesWithin(life: Lifecycle, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<string>(resolve => {
    timer = setTimeout(resolve, ms, 'still sleeping')
  })
  try {
    return await Promise.race([life.close().then(() => 'closed'), late])
  } finally {
    clearTimeout(timer)
  }
}

test('retry: failed builds close their clients, report not-ready with the reason, and back off until one succeeds', async () => {
  const lines: Line[] = []
  const life = lifecycle(lines)
  const clients: FakeClient[] = []
  let calls = 0
  const built = await life.retry(async () => {
    const client = life.own(new FakeClient())
    clients.push(client)
    if (++calls < 3) throw new Error(`unreachable ${calls}`)
    return 'ready'
  })
  assert.equal(built, 'ready')
  assert.deepEqual(
    clients.map(c => c.closed),
    [1, 1, 0]
  )
  assert.equal(life.state, 'not-ready')
  assert.equal(life.reason, 'unreachable 2')
  const warnings = lines.filter(l => l.level === 'warn')
  assert.deepEqual(
    warnings.map(l => [l.message, l.fields]),
    [
      ['flow not ready; retrying', { attempt: 1, retryInMs: 5, reason: 'unreachable 1' }],
      ['flow not ready; retrying', { attempt: 2, retryInMs: 10, reason: 'unreachable 2' }]
    ]
  )
  life.running()
  assert.equal(life.state, 'running')
  assert.equal(life.reason, undefined)
  await life.close()
  assert.equal(clients[2]?.closed, 1)
  assert.equal(life.state, 'stopped')
})

test('the not-ready warning leaves out retryInMs when asked to', async () => {
  const lines: Line[] = []
  const life = lifecycle(lines, { what: 'checkpoints', logRetryIn: false })
  life.notReady(new Error('down'), 3)
  assert.deepEqual(lines, [
    { level: 'warn', message: 'checkpoints not ready; retrying', fields: { attempt: 3, reason: 'down' } }
  ])
})

test('every: a failing pass makes the component not-ready; the next success brings it back to running and logs the recovery', async () => {
  const lines: Line[] = []
  const life = lifecycle(lines)
  let passes = 0
  life.start(async () => {
    life.running()
    await life.every(
      'topic discovery',
      1,
      async () => {
        passes++
        if (passes === 2 || passes === 3) throw new Error('lost the cluster')
      },
      { logPasses: true }
    )
  })
  await until('the recovery', () => passes >= 4 && life.state === 'running')
  await life.close()
  assert.equal(life.state, 'stopped')
  assert.equal(life.reason, undefined)
  const warnings = lines.filter(l => l.level === 'warn').map(l => l.fields?.attempt)
  assert.deepEqual(warnings, [1, 2])
  assert.equal(lines.filter(l => l.message === 'topic discovery recovered').length, 1)
  assert.ok(lines.some(l => l.level === 'debug' && l.message === 'topic discovery pass'))
})

test('every: the first pass waits one interval unless firstPassAtOnce; -1 runs no pass', async () => {
  const lines: Line[] = []
  const life = lifecycle(lines)
  let waited = 0
  let atOnce = 0
  let never = 0
  const loops = Promise.all([
    life.every('waits', 3_600_000, async () => {
      waited++
    }),
    life.every(
      'at once',
      3_600_000,
      async () => {
        atOnce++
      },
      { firstPassAtOnce: true }
    ),
    life.every(
      'never',
      -1,
      async () => {
        never++
      },
      { firstPassAtOnce: true }
    )
  ])
  await until('the immediate pass', () => atOnce === 1)
  await life.close()
  await loops
  assert.deepEqual([waited, atOnce, never], [0, 1, 0])
})

test('every with announce and closeClientsOnFailure: fresh clients after a failure, the announcement on each (re)start', async () => {
  const lines: Line[] = []
  const life = lifecycle(lines, { what: 'heartbeats' })
  const clients: FakeClient[] = []
  let current: FakeClient | undefined
  let passes = 0
  life.start(async () => {
    await life.every(
      'heartbeat emission',
      1,
      async () => {
        current ??= life.own(new FakeClient())
        if (!clients.includes(current)) clients.push(current)
        passes++
        if (passes === 2) {
          current = undefined
          throw new Error('broker gone')
        }
      },
      {
        firstPassAtOnce: true,
        closeClientsOnFailure: true,
        announce: { message: 'emitting heartbeats', fields: { everyMs: 1 } }
      }
    )
  })
  assert.equal(life.state, 'starting')
  await until('the recovery', () => passes >= 4)
  await life.close()
  assert.equal(clients.length, 2, 'a new client after the failure')
  assert.deepEqual(
    clients.map(c => c.closed),
    [1, 1]
  )
  const infos = lines.filter(l => l.level === 'info')
  assert.deepEqual(
    infos.map(l => [l.message, l.fields]),
    [
      ['emitting heartbeats', { everyMs: 1 }],
      ['emitting heartbeats', { everyMs: 1 }]
    ]
  )
  assert.ok(!lines.some(l => l.message.endsWith('recovered')))
})

test('close during a backoff sleep stops promptly and closes the clients; a second close is harmless', async () => {
  const lines: Line[] = []
  const life = lifecycle(lines, { backoffMs: () => 3_600_000 })
  const client = new FakeClient()
  let attempts = 0
  life.start(async () => {
    life.own(client)
    await life.retry(async () => {
      attempts++
      throw new Error('never reachable')
    })
  })
  await until('the first failure', () => life.state === 'not-ready')
  assert.equal(await closesWithin(life, 30_000), 'closed')
  assert.equal(attempts, 1)
  assert.equal(life.state, 'stopped')
  assert.equal(life.signal.aborted, true)
  await life.close()
  assert.equal(client.closed, 1)
})

test('close during an interval sleep of every stops promptly', async () => {
  const life = lifecycle([])
  let passes = 0
  life.start(async () => {
    life.running()
    await life.every(
      'emission',
      3_600_000,
      async () => {
        passes++
      },
      { firstPassAtOnce: true }
    )
  })
  await until('the first pass', () => passes === 1)
  assert.equal(await closesWithin(life, 30_000), 'closed')
  assert.equal(passes, 1)
})

test('an unexpected error from the run ends in stopped with the reason and an error log; start runs once', async () => {
  const lines: Line[] = []
  const life = lifecycle(lines, { what: 'checkpoints' })
  let runs = 0
  const run = async (): Promise<void> => {
    runs++
    throw new Error('bug')
  }
  life.start(run)
  life.start(run)
  await until('stopped', () => life.state === 'stopped')
  assert.equal(runs, 1)
  assert.equal(life.reason, 'bug')
  const errors = lines.filter(l => l.level === 'error')
  assert.equal(errors.length, 1)
  assert.equal(errors[0]?.message, 'checkpoints stopped after an unexpected error')
  assert.equal((errors[0]?.fields?.error as Error).message, 'bug')
  await life.close()
  assert.equal(life.state, 'stopped')
})

test('a component something else starts: not ready with its reason until started, then its own state', async () => {
  const group: { trouble?: string } = {}
  const life = lifecycle([], { waitingFor: () => group.trouble })
  assert.equal(life.state, 'starting')
  assert.equal(life.reason, undefined)
  group.trouble = 'waiting to join group A-mm2 on cluster B: connect ECONNREFUSED'
  assert.equal(life.state, 'not-ready')
  assert.equal(life.reason, group.trouble)
  life.start(async () => {
    life.running()
    await new Promise(resolve => setTimeout(resolve, 10))
  })
  assert.equal(life.state, 'running', 'once started, the waiting reason no longer applies')
  assert.equal(life.reason, undefined)
})

test('a trigger starts the next pass of every() at once; one asked for during a pass follows it; with -1 only asked passes run', async () => {
  const life = lifecycle([])
  const trigger = new PassTrigger()
  const hourly: number[] = []
  const askedOnly: number[] = []
  const askedOnlyTrigger = new PassTrigger()
  let release: (() => void) | undefined
  life.start(async () => {
    await Promise.all([
      life.every(
        'hourly',
        3_600_000,
        async () => {
          hourly.push(Date.now())
          if (hourly.length === 2) await new Promise<void>(resolve => (release = resolve))
        },
        { trigger }
      ),
      life.every(
        'never by itself',
        -1,
        async () => {
          askedOnly.push(Date.now())
        },
        { trigger: askedOnlyTrigger }
      )
    ])
  })
  await new Promise(resolve => setTimeout(resolve, 20))
  assert.equal(hourly.length, 0, 'the first pass waits its interval')
  assert.equal(askedOnly.length, 0)
  trigger.now()
  await until('the pass asked for', () => hourly.length === 1)
  trigger.now()
  await until('the second pass, which hangs', () => release !== undefined)
  trigger.now() // during the second pass
  release?.()
  await until('a third pass right after the second', () => hourly.length === 3)
  await new Promise(resolve => setTimeout(resolve, 20))
  assert.equal(hourly.length, 3, 'no pass more than asked for')
  askedOnlyTrigger.now()
  await until('the -1 loop runs the pass asked for', () => askedOnly.length === 1)
  assert.equal(await closesWithin(life, 1000), 'closed')
})
