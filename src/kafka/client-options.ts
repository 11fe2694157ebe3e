/**
 * Builds the client library's connection options from one resolved client role (`ClientConfig`,
 * Java property names). Secrets are revealed here and only here, and only into the options
 * object handed to the library.
 *
 * Supported now: bootstrap servers, client.id, request timeouts, security.protocol PLAINTEXT /
 * SSL / SASL_PLAINTEXT / SASL_SSL with PEM trust (ssl.truststore.certificates or a PEM
 * truststore file), PEM client certificates, and SASL PLAIN / SCRAM from sasl.jaas.config.
 */
import { readFileSync } from 'node:fs'
import type { ConnectionOptions as TlsOptions } from 'node:tls'
import type { ClientConfig } from '../config/model.ts'
import { ConfigError } from '../errors.ts'
import { reveal } from '../util/secret.ts'

export interface BaseClientOptions {
  clientId: string
  bootstrapBrokers: string[]
  timeout: number
  connectTimeout: number
  retries: number
  retryDelay: number
  tls?: TlsOptions
  tlsServerName?: string | boolean
  sasl?: { mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512', username: string, password: string }
}

function prop (cfg: ClientConfig, key: string): string | undefined {
  const v = cfg.props[key]
  return v === undefined ? undefined : reveal(v)
}

function intProp (cfg: ClientConfig, key: string, fallback: number): number {
  const v = prop(cfg, key)
  if (v === undefined) return fallback
  const n = Number(v)
  return Number.isFinite(n) ? n : fallback
}

/** Parses `Module required k="v" k2="v2";` into its options. */
export function parseJaas (jaas: string): Record<string, string> {
  const options: Record<string, string> = {}
  const re = /([A-Za-z0-9_.]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;]+))/g
  for (const m of jaas.matchAll(re)) {
    if (m[1] !== undefined) options[m[1]] = (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1')
  }
  return options
}

export function clientOptions (cfg: ClientConfig, clientId: string): BaseClientOptions {
  const protocol = (prop(cfg, 'security.protocol') ?? 'PLAINTEXT').toUpperCase()
  const options: BaseClientOptions = {
    clientId,
    bootstrapBrokers: [...cfg.bootstrapServers],
    timeout: intProp(cfg, 'request.timeout.ms', 30_000),
    connectTimeout: intProp(cfg, 'socket.connection.setup.timeout.max.ms', 10_000),
    retries: 3,
    retryDelay: intProp(cfg, 'retry.backoff.ms', 250)
  }
  if (protocol === 'SSL' || protocol === 'SASL_SSL') {
    const tls: TlsOptions = {}
    const inline = prop(cfg, 'ssl.truststore.certificates')
    const location = prop(cfg, 'ssl.truststore.location')
    const type = (prop(cfg, 'ssl.truststore.type') ?? 'JKS').toUpperCase()
    if (inline !== undefined) tls.ca = inline
    else if (location !== undefined && type === 'PEM') tls.ca = readFileSync(location, 'utf8')
    const chain = prop(cfg, 'ssl.keystore.certificate.chain')
    const key = prop(cfg, 'ssl.keystore.key')
    if (chain !== undefined && key !== undefined) {
      tls.cert = chain
      tls.key = key
    }
    if (prop(cfg, 'ssl.endpoint.identification.algorithm') === '') tls.checkServerIdentity = () => undefined
    options.tls = tls
  } else if (protocol !== 'PLAINTEXT' && protocol !== 'SASL_PLAINTEXT') {
    throw new ConfigError(`security.protocol: expected PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, got "${protocol}"`, { file: `cluster ${cfg.cluster}` })
  }
  if (protocol.startsWith('SASL_')) {
    const mechanism = (prop(cfg, 'sasl.mechanism') ?? 'GSSAPI').toUpperCase()
    if (mechanism !== 'PLAIN' && mechanism !== 'SCRAM-SHA-256' && mechanism !== 'SCRAM-SHA-512') {
      throw new ConfigError(`sasl.mechanism: expected PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, got "${mechanism}"`, { file: `cluster ${cfg.cluster}` })
    }
    const jaas = parseJaas(prop(cfg, 'sasl.jaas.config') ?? '')
    options.sasl = { mechanism, username: jaas.username ?? '', password: jaas.password ?? '' }
  }
  return options
}
