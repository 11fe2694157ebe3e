/**
 * SASL settings of one client role (`sasl.mechanism`, `sasl.jaas.config`,
 * `sasl.oauthbearer.*`) → the client library's SASL options. Credentials are passed as
 * providers that read the current config value at each authentication, so a password that
 * changed in a mounted secret is used by the next connection.
 */
import { fileURLToPath } from 'node:url'
import type { SASLOptions } from '@platformatic/kafka'
import { readFileSync } from 'node:fs'
import { storeType, trustedCertificates } from '../../tls/stores.ts'
import type { Fail } from './tls-options.ts'
import { clientCredentialsProvider, fileTokenProvider, unsecuredTokenProvider } from './oauth-token.ts'

type Prop = (key: string) => string | undefined

export const SUPPORTED_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const

/** The login module class and options of `Module required k="v" k2="v2";`. */
export function parseJaasConfig(jaas: string): { module: string; options: Record<string, string> } {
  const module = /^\s*([A-Za-z0-9_.$]+)/.exec(jaas)?.[1] ?? ''
  const options: Record<string, string> = {}
  const rest = jaas.slice(jaas.indexOf(module) + module.length)
  const re = /([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;]+))/g
  for (const m of rest.matchAll(re)) {
    if (m[1] !== undefined) options[m[1]] = (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1')
  }
  return { module, options }
}

export function saslOptions(prop: Prop, fail: Fail): SASLOptions {
  const set = prop('sasl.mechanism')
  const mechanism = (set ?? 'GSSAPI').trim().toUpperCase()
  if (!(SUPPORTED_MECHANISMS as readonly string[]).includes(mechanism)) {
    fail(
      `sasl.mechanism: ${mechanism}${set === undefined ? ' (the default when sasl.mechanism is not set)' : ''} is not supported by kafka-mirror; supported: ${SUPPORTED_MECHANISMS.join(', ')}`
    )
  }
  const jaasNow = (): Record<string, string> => parseJaasConfig(prop('sasl.jaas.config') ?? '').options
  const jaasText = prop('sasl.jaas.config')
  if (jaasText === undefined || jaasText.trim() === '')
    fail(`sasl.jaas.config is required for SASL mechanism ${mechanism}`)
  const { module, options } = parseJaasConfig(jaasText ?? '')
  if (!/LoginModule$/.test(module)) fail('sasl.jaas.config: expected `<LoginModule class> required key="value" ...;`')
  if (mechanism === 'PLAIN' || mechanism.startsWith('SCRAM-')) {
    for (const k of ['username', 'password'])
      if (options[k] === undefined) fail(`sasl.jaas.config: ${k}="..." is required for ${mechanism}`)
    return {
      mechanism: mechanism as SASLOptions['mechanism'],
      username: () => jaasNow().username ?? '',
      password: () => jaasNow().password ?? ''
    }
  }
  return { mechanism: 'OAUTHBEARER', ...oauthBearer(prop, options, jaasNow, fail) }
}

function oauthBearer(
  prop: Prop,
  options: Record<string, string>,
  jaasNow: () => Record<string, string>,
  fail: Fail
): Pick<SASLOptions, 'token' | 'oauthBearerExtensions'> {
  const extensions: Record<string, string> = {}
  for (const [k, v] of Object.entries(options))
    if (k.startsWith('extension_')) extensions[k.slice('extension_'.length)] = v
  const withExtensions = Object.keys(extensions).length > 0 ? { oauthBearerExtensions: extensions } : {}
  const url = prop('sasl.oauthbearer.token.endpoint.url')
  if (url !== undefined && url.trim() !== '') {
    if (url.startsWith('file:')) return { token: fileTokenProvider(fileURLToPath(url)), ...withExtensions }
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      return fail(`sasl.oauthbearer.token.endpoint.url: expected an http(s) or file URL, got "${url}"`)
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      fail(`sasl.oauthbearer.token.endpoint.url: expected an http(s) or file URL, got "${url}"`)
    const clientId = options.clientId ?? prop('sasl.oauthbearer.client.credentials.client.id')
    const secretNow = (): string | undefined =>
      jaasNow().clientSecret ?? prop('sasl.oauthbearer.client.credentials.client.secret')
    if (clientId === undefined || secretNow() === undefined)
      fail(
        'sasl.jaas.config: clientId="..." and clientSecret="..." are required with sasl.oauthbearer.token.endpoint.url'
      )
    const ms = (key: string, fallback: number): number => {
      const n = Number(prop(key) ?? fallback)
      return Number.isFinite(n) && n > 0 ? n : fallback
    }
    return {
      token: clientCredentialsProvider({
        url,
        clientId: clientId ?? '',
        clientSecret: () => secretNow() ?? '',
        scope: options.scope ?? prop('sasl.oauthbearer.scope'),
        connectTimeoutMs: ms('sasl.login.connect.timeout.ms', 10_000),
        readTimeoutMs: ms('sasl.login.read.timeout.ms', 10_000),
        ...endpointTls(options, fail)
      }),
      ...withExtensions
    }
  }
  const subject = options.unsecuredLoginStringClaim_sub
  if (subject !== undefined) {
    const lifetime = Number(options.unsecuredLoginLifetimeSeconds ?? 3600)
    return {
      token: unsecuredTokenProvider(
        subject,
        Number.isFinite(lifetime) && lifetime > 0 ? lifetime : 3600,
        options.unsecuredLoginListClaim_scope
      ),
      ...withExtensions
    }
  }
  return fail(
    'OAUTHBEARER needs sasl.oauthbearer.token.endpoint.url (with clientId and clientSecret in sasl.jaas.config) or unsecuredLoginStringClaim_sub in sasl.jaas.config'
  )
}

/**
 * TLS towards an https token endpoint, from `ssl.*` options inside sasl.jaas.config as Kafka's
 * OAuthBearerLoginCallbackHandler reads them (truststore type/location/password or inline PEM
 * certificates, ssl.endpoint.identification.algorithm).
 */
function endpointTls(options: Record<string, string>, fail: Fail): { ca?: string; verifyHostname?: boolean } {
  const out: { ca?: string; verifyHostname?: boolean } = {}
  if (options['ssl.endpoint.identification.algorithm'] === '') out.verifyHostname = false
  const inline = options['ssl.truststore.certificates']
  const location = options['ssl.truststore.location']
  try {
    if (inline !== undefined) out.ca = trustedCertificates('PEM', Buffer.from(inline), undefined).join('\n')
    else if (location !== undefined)
      out.ca = trustedCertificates(
        storeType(options['ssl.truststore.type'], 'JKS'),
        readFileSync(location),
        options['ssl.truststore.password']
      ).join('\n')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    fail(
      `sasl.jaas.config: token endpoint truststore: ${code === undefined ? (err as Error).message : `cannot read ${location ?? ''} (${code})`}`
    )
  }
  return out
}
