/**
 * The machine-facing routes: /metrics (Prometheus), /healthz and /readyz (probes), /status (JSON).
 * Built once per server; each request reads the mirror's state at that moment.
 */
import type { Mirror } from '../mirror.ts'
import { healthz, readyz, watchEventLoop } from './health.ts'
import type { Route } from './http-server.ts'
import { mirrorMetrics } from './metrics.ts'
import { buildStatusReport } from './status-build.ts'

export function statusRoutes(mirror: Mirror): Array<[string, Route]> {
  const metrics = mirrorMetrics(mirror)
  const loop = watchEventLoop()
  return [
    ['/metrics', async () => ({ contentType: metrics.contentType, body: await metrics.render() })],
    ['/healthz', () => healthz(loop)],
    ['/readyz', () => readyz(mirror)],
    [
      '/status',
      () => ({ contentType: 'application/json; charset=utf-8', body: JSON.stringify(buildStatusReport(mirror)) + '\n' })
    ]
  ]
}
