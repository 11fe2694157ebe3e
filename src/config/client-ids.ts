/**
 * The client ids of every client kafka-mirror opens, built here only. Brokers apply quotas and
 * log requests by client id, so one pair's clients must be recognisable and stable across
 * restarts, threads and versions:
 * - a client of one of a pair's connectors carries Java MM2's id (3.5+, KAFKA-14838):
 *   `<source>-><target>|<connector name>|<role>`, e.g. `A->B|MirrorSourceConnector|replication-producer`;
 * - a client kafka-mirror opens for a pair outside the connectors (the CLI commands, the
 *   positions reader) carries `<source>-><target>|<use>`.
 */
import type { FlowConfig } from './model.ts'

export type Connector = 'source' | 'checkpoint' | 'heartbeat'

/** `<source>-><target>|<connector>|<role>`; `connector` as the name (with a task suffix where one applies). */
export function mirrorClientId(source: string, target: string, connector: string, role: string): string {
  return `${source}->${target}|${connector}|${role}`
}

function connectorName(flow: FlowConfig, connector: Connector): string {
  switch (connector) {
    case 'source':
      return flow.naming.sourceConnectorName
    case 'checkpoint':
      return flow.naming.checkpointConnectorName
    case 'heartbeat':
      return flow.naming.heartbeatConnectorName
  }
}

/** The ids of one connector's clients of a pair, by role (`replication-producer`, `heartbeats-admin`...). */
export function connectorClientIds(flow: FlowConfig, connector: Connector): (role: string) => string {
  const name = connectorName(flow, connector)
  return role => mirrorClientId(flow.source, flow.target, name, role)
}

/**
 * `<source>-><target>|<use>`: a client of a pair opened outside the connectors (`offsets-source-admin`, `validate`...).
 */
export function pairClientId(flow: FlowConfig, use: string): string {
  return `${flow.source}->${flow.target}|${use}`
}
