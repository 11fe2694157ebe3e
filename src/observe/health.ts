/**
 * `/healthz` and `/readyz`, the probes Kubernetes (or any supervisor) asks.
 *
 * - /healthz: the process is alive and its event loop answers in time. A timer measures how late
 *   it fires; a loop blocked for longer than LOOP_STALL_MS (a runaway computation, a sync call
 *   that hangs) answers 503 once it is free again, and of course answers nothing while stuck, which
 *   a probe's timeout reports as well. Cluster problems never fail it: restarting the process
 *   would not bring a cluster back (flows retry by themselves; that is /readyz's business).
 * - /readyz: 200 when every flow, checkpoint flow and heartbeat emitter of this instance is
 *   running; otherwise 503 with one line per component that is not, naming its cluster and why.
 */
import type { Mirror } from '../mirror.ts'
import type { RouteResponse } from './http-server.ts'
import { buildStatusReport } from './status-build.ts'

/** How often the loop watchdog ticks, and how late a tick may be before the loop counts as stalled. */
const TICK_MS = 500
export const LOOP_STALL_MS = 10_000
/** How long a stall keeps /healthz failing (a few probe periods, so a probe sees it). */
const STALL_REMEMBERED_MS = 30_000

export interface LoopWatch {
  /** The largest delay of a tick in the last STALL_REMEMBERED_MS, and when it was seen. */
  readonly worstDelayMs: () => number
  stop: () => void
}

export function watchEventLoop(): LoopWatch {
  let expected = Date.now() + TICK_MS
  let worst = { delay: 0, at: 0 }
  const timer = setInterval(() => {
    const now = Date.now()
    const delay = Math.max(0, now - expected)
    expected = now + TICK_MS
    if (delay >= worst.delay || now - worst.at > STALL_REMEMBERED_MS) worst = { delay, at: now }
  }, TICK_MS)
  // The watchdog must never keep a finished process alive.
  timer.unref()
  return {
    worstDelayMs: () => (Date.now() - worst.at > STALL_REMEMBERED_MS ? 0 : worst.delay),
    stop: () => {
      clearInterval(timer)
    }
  }
}

const json = (status: number, body: unknown): RouteResponse => ({
  status,
  contentType: 'application/json; charset=utf-8',
  body: JSON.stringify(body) + '\n'
})

export function healthz(watch: LoopWatch, stallMs = LOOP_STALL_MS): RouteResponse {
  const delay = watch.worstDelayMs()
  const ok = delay < stallMs
  return json(ok ? 200 : 503, {
    status: ok ? 'ok' : 'event loop stalled',
    eventLoopDelayMs: delay,
    uptimeMs: Math.round(process.uptime() * 1000)
  })
}

export function readyz(mirror: Mirror): RouteResponse {
  const report = buildStatusReport(mirror)
  return json(report.ready ? 200 : 503, { ready: report.ready, notReady: report.notReady })
}
