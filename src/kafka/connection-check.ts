/**
 * The start-up check of every client's settings: the connection options of each client role
 * (security/client-options.ts) and the producers' settings (producer-settings.ts), built once
 * with their files read, before any flow starts.
 */
import type { ClientConfig, MirrorConfig } from '../config/model.ts'
import { producerSettings } from './producer-settings.ts'
import { clientOptions } from './security/client-options.ts'
import { touchTls } from './security/tls-options.ts'

/**
 * Builds the options of every client of the enabled flows and reads their files once, so a
 * missing file, a wrong store password or an unsupported mechanism stops the command at start
 * (exit 2) instead of showing up as a flow that never connects.
 */
export function checkConnectionSettings (config: MirrorConfig): void {
  const seen = new Set<ClientConfig>()
  for (const flow of config.flows.filter(f => f.enabled)) {
    for (const cfg of Object.values(flow.clients)) {
      if (seen.has(cfg)) continue
      seen.add(cfg)
      const options = clientOptions(cfg, 'check')
      if (options.tls !== undefined) touchTls(options.tls)
    }
    producerSettings(flow.clients.targetProducer)
    producerSettings(flow.clients.sourceProducer)
  }
}
