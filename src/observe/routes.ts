/**
 * Which paths the mirror's HTTP server answers, and from what. Each route reads the running
 * mirror's live state through its own module; this file only assembles them.
 */
import type { Mirror } from '../mirror.ts'
import type { Route } from './http-server.ts'
import type { Logger } from './logger.ts'
import { pageRoutes } from './page/page-routes.ts'
import { statusRoutes } from './status-routes.ts'

export function mirrorRoutes(mirror: Mirror, _log: Logger): Map<string, Route> {
  const routes = new Map<string, Route>([...pageRoutes(), ...statusRoutes(mirror)])
  return routes
}
