import type { ClientConfig } from '../../config/model.ts'

/** `cluster A (host:9093)`: how messages about a client's settings or connection name the cluster. */
export function clusterLabel(cfg: ClientConfig): string {
  return `cluster ${cfg.cluster} (${cfg.bootstrapServers.join(',')})`
}
