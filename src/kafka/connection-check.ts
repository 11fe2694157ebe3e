/**
 * The start-up check of every client's settings: the connection options of each client a command
 * will connect with (config/what-runs.ts says which; security/client-options.ts builds them) and
 * the producers' settings (producer-settings.ts) and the source consumer's fetch settings
 * (fetch-settings.ts), built once with their files read, before any
 * flow starts.
 */
import type { ClientConfig } from '../config/model.ts'
import type { ClientRole, ClientUse } from '../config/what-runs.ts'
import { fetchSettings } from './fetch-settings.ts'
import { producerSettings } from './producer-settings.ts'
import { clientOptions } from './security/client-options.ts'
import { touchTls } from './security/tls-options.ts'

/**
 * Builds the options of every client in `clients` and reads their files once, so a missing
 * file, a wrong store password or an unsupported mechanism stops the command at start (exit 2)
 * instead of showing up as a component that never connects.
 */
export function checkConnectionSettings(clients: readonly ClientUse[]): void {
  const seen = new Set<ClientConfig>()
  for (const { role, config } of clients) {
    if (seen.has(config)) continue
    seen.add(config)
    const options = clientOptions(config, 'check')
    if (options.tls !== undefined) touchTls(options.tls)
    if (PRODUCER_ROLES.has(role)) producerSettings(config)
    if (role === 'sourceConsumer') fetchSettings(config)
  }
}

const PRODUCER_ROLES: ReadonlySet<ClientRole> = new Set(['sourceProducer', 'targetProducer'])
