/** /healthz follows the event loop: a loop held up longer than the limit answers 503 once it is free again. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { healthz, watchEventLoop } from '../../../src/observe/health.ts'

test('a responsive loop is healthy; a stalled one is reported with its delay', async () => {
  const watch = watchEventLoop()
  try {
    await new Promise(resolve => setTimeout(resolve, 1_100))
    const ok = healthz(watch, 1_000)
    assert.equal(ok.status, 200, String(ok.body))
    // Hold the loop for 1.5 s: the watchdog's next tick comes about that late.
    const until = Date.now() + 1_500
    while (Date.now() < until) {
      /* busy */
    }
    await new Promise(resolve => setTimeout(resolve, 700))
    const stalled = healthz(watch, 1_000)
    assert.equal(stalled.status, 503, String(stalled.body))
    const body = JSON.parse(String(stalled.body)) as { status: string; eventLoopDelayMs: number }
    assert.equal(body.status, 'event loop stalled')
    assert.ok(body.eventLoopDelayMs >= 1_000, String(body.eventLoopDelayMs))
    // The default limit (10 s) is not reached by that.
    assert.equal(healthz(watch).status, 200)
  } finally {
    watch.stop()
  }
})
