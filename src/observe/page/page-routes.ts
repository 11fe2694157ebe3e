/**
 * The live status page at `/`: three static files kept next to this module (no build step, no
 * CDN: it works on a closed network). The page's script polls `/status` and draws everything in
 * the browser, so these routes only hand out the files, read once when the routes are made.
 */
import { readFileSync } from 'node:fs'
import type { Route } from '../http-server.ts'

const FILES: ReadonlyArray<readonly [path: string, file: string, contentType: string]> = [
  ['/', 'index.html', 'text/html; charset=utf-8'],
  ['/page/status.js', 'status.js', 'text/javascript; charset=utf-8'],
  ['/page/status.css', 'status.css', 'text/css; charset=utf-8']
]

export function pageRoutes(): Array<[string, Route]> {
  return FILES.map(([path, file, contentType]) => {
    const body = readFileSync(new URL(file, import.meta.url))
    return [path, () => ({ contentType, body })]
  })
}
