import assert from 'node:assert/strict'
import { once } from 'node:events'
import { test } from 'node:test'
import { Worker } from 'node:worker_threads'
import { defaultLeaseMarginMs, Lease, LeaseExpiredError, LeaseView } from '../../../src/group/lease.ts'
import { FakeClock } from './fakes.ts'

const MS = 1_000_000n
const S = 10_000

function lease(clock: FakeClock, onExpire?: () => void, marginMs?: number): Lease {
  return new Lease({ groupId: 'A-mm2', sessionTimeoutMs: S, marginMs, clock, onExpire })
}

test('the margin is a tenth of the session timeout, at least one second', () => {
  for (const [session, margin] of [
    [10_000, 1000],
    [6000, 1000],
    [45_000, 4500],
    [300_000, 30_000]
  ] as const) {
    assert.equal(defaultLeaseMarginMs(session), margin, `session ${session}`)
  }
})

test('validity over time: nothing before a renewal, then until sentAt + S - m (exclusive), never moved back', () => {
  const clock = new FakeClock()
  const l = lease(clock)
  const rows: Array<[string, () => void, bigint, boolean]> = [
    ['never renewed', () => {}, 0n, false],
    [
      'renewed from a request sent at 100 ms',
      () => {
        l.renew(100n * MS)
      },
      200n * MS,
      true
    ],
    ['just before 100 + 9000', () => {}, 9099n * MS, true],
    ['at the deadline', () => {}, 9100n * MS, false],
    [
      'an older answer does not move it back',
      () => {
        l.renew(50n * MS)
      },
      9099n * MS,
      true
    ],
    [
      'a later answer moves it on',
      () => {
        l.renew(5000n * MS)
      },
      13_999n * MS,
      true
    ],
    [
      'fenced',
      () => {
        l.fence()
      },
      6000n * MS,
      false
    ]
  ]
  for (const [what, act, at, valid] of rows) {
    act()
    assert.equal(l.valid(at), valid, what)
  }
})

test('renew reports a resume only when the lease had run out', async () => {
  const clock = new FakeClock()
  const l = lease(clock)
  assert.equal(l.renew(clock.nowNs()), true, 'first grant counts as valid again')
  await clock.advance(1000)
  assert.equal(l.renew(clock.nowNs()), false, 'renewing a valid lease')
  await clock.advance(12_000)
  assert.equal(l.valid(), false)
  assert.equal(l.renew(clock.nowNs()), true, 'valid again after it had run out')
  assert.equal(l.renew(clock.nowNs() - 20_000n * MS), false, 'a stale answer renews nothing')
})

test('onExpire fires once, at the deadline; renewals postpone it; fence() cancels it', async () => {
  const clock = new FakeClock()
  const expired: number[] = []
  const l = lease(clock, () => {
    expired.push(clock.nowMs)
  })
  l.renew(0n)
  await clock.advance(8000)
  l.renew(clock.nowNs()) // deadline now 8000 + 9000
  await clock.advance(8999)
  assert.deepEqual(expired, [])
  await clock.advance(100)
  assert.equal(expired.length, 1)
  assert.ok(expired[0]! >= 17_000 && expired[0]! <= 17_001, `expired at ${expired[0]} ms`)
  await clock.advance(60_000)
  assert.equal(expired.length, 1, 'once only')
  l.renew(clock.nowNs())
  l.fence()
  await clock.advance(60_000)
  assert.equal(expired.length, 1, 'fence() reports nothing')
})

test('a stopped process (clock jump, no timer ran) sees the expired lease on its first check', () => {
  const clock = new FakeClock()
  const l = lease(clock)
  l.renew(0n)
  clock.jump(9500)
  assert.equal(l.valid(), false)
  assert.throws(
    () => {
      l.assertValid('writing positions')
    },
    (err: unknown) =>
      err instanceof LeaseExpiredError && /writing positions refused/.test(err.message) && /A-mm2/.test(err.message)
  )
})

test('a lazily named write is named only when it is refused (the copy path asks before every request)', () => {
  const clock = new FakeClock()
  const l = lease(clock)
  l.renew(0n)
  let named = 0
  const what = (): string => {
    named++
    return 'producing to broker 1'
  }
  l.assertValid(what)
  assert.equal(named, 0)
  clock.jump(9500)
  assert.throws(() => {
    l.assertValid(what)
  }, /producing to broker 1 refused/)
  assert.equal(named, 1)
})

test('a view on the shared buffer (as a worker thread gets it) sees renewals and the fence at once', () => {
  const clock = new FakeClock()
  const l = lease(clock)
  const view = new LeaseView(l.buffer, 'A-mm2', clock)
  assert.equal(view.valid(), false)
  l.renew(0n)
  assert.equal(view.valid(), true)
  assert.equal(view.remainingMs(), 9000)
  l.fence()
  assert.equal(view.valid(), false)
  assert.equal(view.remainingMs(), 0)
})

test('a margin that leaves no lease is refused', () => {
  assert.throws(() => lease(new FakeClock(), undefined, S), RangeError)
})

test('a worker thread reading the buffer on its own clock sees the deadline the main thread set (one time base per process)', async () => {
  const l = new Lease({ groupId: 'A-mm2', sessionTimeoutMs: S })
  const ask = async (): Promise<boolean> => {
    // The worker compares the shared deadline with its own process.hrtime.bigint(), as a copier thread's LeaseView
    // does.
    const worker = new Worker(
      `
      const { parentPort, workerData } = require('node:worker_threads')
      const deadline = Atomics.load(new BigInt64Array(workerData, 0, 1), 0)
      parentPort.postMessage(process.hrtime.bigint() < deadline)
    `,
      { eval: true, workerData: l.buffer }
    )
    const [valid] = (await once(worker, 'message')) as [boolean]
    await worker.terminate()
    return valid
  }
  assert.equal(await ask(), false, 'never renewed')
  l.renew(process.hrtime.bigint())
  assert.equal(await ask(), true, 'renewed just now: valid for about 9 s')
  l.fence()
  assert.equal(await ask(), false, 'fenced')
  l.close()
})

test('the generation cell: -1 before any, then what the owner set, seen by a view and by a worker thread', async () => {
  const l = new Lease({ groupId: 'A-mm2', sessionTimeoutMs: S })
  const view = new LeaseView(l.buffer, 'A-mm2')
  assert.equal(l.generation, -1)
  assert.equal(view.generation, -1)
  l.setGeneration(7)
  assert.equal(view.generation, 7)
  l.renew(process.hrtime.bigint())
  l.fence()
  assert.equal(view.generation, 7, 'fencing ends the lease, not the generation')
  l.setGeneration(8)
  const worker = new Worker(
    `
    const { parentPort, workerData } = require('node:worker_threads')
    const cells = new BigInt64Array(workerData, 0, 2)
    parentPort.postMessage(Number(Atomics.load(cells, 1)))
  `,
    { eval: true, workerData: l.buffer }
  )
  const [seen] = (await once(worker, 'message')) as [number]
  await worker.terminate()
  assert.equal(seen, 8)
  l.close()
})
