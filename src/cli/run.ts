/**
 * `kafka-mirror run`: starts every selected flow and runs until SIGINT/SIGTERM, then closes
 * (stop fetching, finish the in-flight send, store positions) within 30 s and exits 0.
 */
import nodeModule from 'node:module'
import type { LoadedConfig } from '../config/model.ts'
import { buildMirror } from '../mirror.ts'
import { type HttpServer, startHttpServer } from '../observe/http-server.ts'
import type { Logger } from '../observe/logger.ts'
import { mirrorRoutes } from '../observe/routes.ts'

const SHUTDOWN_LIMIT_MS = 30_000

export async function runCommand(
  loaded: LoadedConfig,
  opts: { clusters: readonly string[]; log: Logger; metricsPort: number }
): Promise<number> {
  const mirror = buildMirror(loaded.config, opts.log, { targets: opts.clusters })
  // The port is bound before any flow starts, so a taken port fails the start with nothing copied.
  let http: HttpServer | undefined
  if (opts.metricsPort !== 0)
    http = await startHttpServer({ port: opts.metricsPort, routes: mirrorRoutes(mirror, opts.log), log: opts.log })
  mirror.start()
  // Every module is loaded now: write Node's compile cache (bin/kafka-mirror.js enables it) at
  // once rather than at exit, so a mirror that is killed (kill -9, OOM, a crash loop) restarts
  // warm even if no run of it ever exited cleanly.
  nodeModule.flushCompileCache?.()
  opts.log.info('started', {
    flows: mirror.flows.map(f => f.flow.name).join(','),
    heartbeats: mirror.heartbeats.map(h => h.flow.name).join(',')
  })
  const signal = await new Promise<NodeJS.Signals>(resolve => {
    process.once('SIGINT', () => {
      resolve('SIGINT')
    })
    process.once('SIGTERM', () => {
      resolve('SIGTERM')
    })
  })
  opts.log.info('stopping', { signal })
  const timer = setTimeout(() => {
    opts.log.error('shutdown took longer than 30 s; exiting without waiting further')
    process.exit(1)
  }, SHUTDOWN_LIMIT_MS)
  timer.unref()
  await mirror.close()
  await http?.close()
  clearTimeout(timer)
  for (const s of mirror.status()) {
    opts.log.info('stopped', { flow: s.flow, records: s.copier?.recordsCopied ?? 0, bytes: s.copier?.bytesCopied ?? 0 })
  }
  for (const c of mirror.checkpointStatus()) {
    opts.log.info('stopped checkpoints', {
      flow: c.flow,
      checkpoints: c.stats.checkpointsWritten,
      exact: c.stats.exact,
      fallback: c.stats.fallback,
      groupOffsetsCommitted: c.stats.groupOffsetsCommitted
    })
  }
  return 0
}
