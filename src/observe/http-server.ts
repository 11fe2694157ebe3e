/**
 * The one HTTP server of a running mirror: metrics, health, status and the status page are routes
 * on it (Strimzi's exporter port 9404 by default, `--metrics-port`). It serves GET only, never
 * anything from the config beyond what a route chooses to show, and a route that throws answers
 * 500 with a fixed text (the error goes to the log, whose values are redacted), so a failing
 * handler cannot leak a secret into a response.
 */
import type { IncomingMessage, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { UsageError } from '../errors.ts'
import type { Logger } from './logger.ts'

// Not an ESM import: that would load undici at every start (eslint.config.js says why).
const { createServer } = process.getBuiltinModule('node:http')

export interface RouteResponse {
  readonly status?: number
  readonly contentType: string
  readonly body: string | Buffer
}

/** A route answers from the mirror's live state; `url` carries the query string. */
export type Route = (url: URL, req: IncomingMessage) => RouteResponse | Promise<RouteResponse>

export interface HttpServer {
  /** The port actually bound (differs from the one asked for when that was 0 in tests). */
  readonly port: number
  close(): Promise<void>
}

export async function startHttpServer(opts: {
  port: number
  host?: string
  routes: ReadonlyMap<string, Route>
  log: Logger
}): Promise<HttpServer> {
  const log = opts.log.child('http')
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const route = opts.routes.get(url.pathname)
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res
        .writeHead(405, { 'content-type': 'text/plain; charset=utf-8', allow: 'GET, HEAD' })
        .end('method not allowed\n')
      return
    }
    if (route === undefined) {
      res
        .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        .end(`no such page: ${url.pathname} (try ${[...opts.routes.keys()].join(', ')})\n`)
      return
    }
    Promise.resolve()
      .then(async () => await route(url, req))
      .then(
        answer => {
          res.writeHead(answer.status ?? 200, { 'content-type': answer.contentType, 'cache-control': 'no-store' })
          res.end(req.method === 'HEAD' ? undefined : answer.body)
        },
        (err: unknown) => {
          log.error('route failed', { path: url.pathname, error: err as Error })
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
          res.end('internal error (see the mirror log)\n')
        }
      )
  })
  // Probes and scrapers keep connections open; close() must not wait for them.
  server.keepAliveTimeout = 5_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'the port is in use (another kafka-mirror or exporter?)' : err.message
      reject(
        new UsageError(
          `--metrics-port ${opts.port}: cannot listen on ${opts.host ?? '0.0.0.0'}:${opts.port}: ${why}; choose another port, or 0 to turn the HTTP server off`
        )
      )
    })
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => {
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  log.info('listening', { port, routes: [...opts.routes.keys()].join(',') })
  return {
    port,
    async close() {
      server.closeAllConnections()
      await new Promise<void>(resolve => {
        server.close(() => {
          resolve()
        })
      })
    }
  }
}
