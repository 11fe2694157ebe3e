/**
 * Builds the client library's connection options from one resolved client role (`ClientConfig`,
 * Java property names). Secrets are revealed here and only here, and only into the options
 * object handed to the library (TLS material and SASL credentials are read through getters and
 * providers at connection time, see tls-options.ts and sasl-options.ts).
 *
 * security.protocol PLAINTEXT / SSL / SASL_PLAINTEXT / SASL_SSL; TLS trust from PEM, PKCS12 or
 * JKS; client certificates from PEM, PKCS12 or JKS; SASL PLAIN, SCRAM-SHA-256/512, OAUTHBEARER.
 * Problems are ConfigErrors that name the cluster alias and its bootstrap address.
 */
import { isIP } from 'node:net'
import type { SASLOptions } from '@platformatic/kafka'
import type { ConnectionOptions as TlsOptions } from 'node:tls'
import type { ClientConfig } from '../../config/model.ts'
import { ConfigError } from '../../errors.ts'
import { reveal } from '../../util/secret.ts'
import { clusterLabel } from './cluster-label.ts'
import { saslOptions } from './sasl-options.ts'
import { tlsOptions } from './tls-options.ts'

export { parseJaasConfig } from './sasl-options.ts'

export interface BaseClientOptions {
  clientId: string
  bootstrapBrokers: string[]
  timeout: number
  connectTimeout: number
  retries: number
  retryDelay: number
  tls?: TlsOptions
  tlsServerName?: string | boolean
  sasl?: SASLOptions
}

function propReader(cfg: ClientConfig): (key: string) => string | undefined {
  return key => {
    const v = cfg.props[key]
    return v === undefined ? undefined : reveal(v)
  }
}

function intProp(cfg: ClientConfig, key: string, fallback: number): number {
  const v = propReader(cfg)(key)
  if (v === undefined) return fallback
  const n = Number(v)
  return Number.isFinite(n) ? n : fallback
}

export { clusterLabel }

function hostOf(hostPort: string): string {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(hostPort)
  return m?.[1] ?? hostPort.replace(/:\d+$/, '')
}

export function clientOptions(cfg: ClientConfig, clientId: string): BaseClientOptions {
  const prop = propReader(cfg)
  const fail = (message: string): never => {
    throw new ConfigError(`${clusterLabel(cfg)}: ${message}`)
  }
  const protocol = (prop('security.protocol') ?? 'PLAINTEXT').trim().toUpperCase()
  if (!['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'].includes(protocol)) {
    fail(`security.protocol: expected PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, got "${protocol}"`)
  }
  const options: BaseClientOptions = {
    clientId,
    bootstrapBrokers: [...cfg.bootstrapServers],
    timeout: intProp(cfg, 'request.timeout.ms', 30_000),
    connectTimeout: intProp(cfg, 'socket.connection.setup.timeout.max.ms', 10_000),
    retries: 3,
    retryDelay: intProp(cfg, 'retry.backoff.ms', 250)
  }
  if (protocol === 'SSL' || protocol === 'SASL_SSL') {
    options.tls = tlsOptions(prop, fail)
    // SNI with each broker's own host name (OpenShift routes and ingresses route on it). RFC 6066
    // forbids IP addresses as server names, so a cluster reached by IP literals gets none.
    options.tlsServerName = cfg.bootstrapServers.some(b => isIP(hostOf(b)) === 0)
  }
  if (protocol.startsWith('SASL_')) options.sasl = saslOptions(prop, fail)
  return options
}
