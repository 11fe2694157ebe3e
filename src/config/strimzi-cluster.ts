/**
 * One Strimzi cluster spec (`clusters[]`, `target`, `mirrors[].source`) → the client connection
 * properties Strimzi would write for it (Strimzi's KafkaMirrorMaker2 documentation), with certificates and passwords
 * read
 * from the secrets directory. PEM trust certificates stay plain text (they are public); keys,
 * passwords and JAAS lines become Secrets.
 */
import { X509Certificate } from 'node:crypto'
import { Secret } from '../util/secret.ts'
import type { MaybeSecret } from '../util/secret.ts'
import type { ProviderContext } from './providers.ts'
import { resolveValue } from './providers.ts'
import { listSecretKeys, readSecretKey } from './secrets.ts'
import { isHostPort } from './values.ts'
import type { Shape, YamlObject } from './yaml-reader.ts'
import { configError, located } from './where.ts'
import type { Where } from './where.ts'

export const CLUSTER_FIELDS = ['alias', 'bootstrapServers', 'tls', 'authentication', 'config'] as const
export const TARGET_FIELDS = [
  ...CLUSTER_FIELDS,
  'groupId',
  'configStorageTopic',
  'offsetStorageTopic',
  'statusStorageTopic'
] as const

const SECRET_REF: Shape = { fields: ['secretName', 'password', 'key'], required: ['secretName'] }
const CERT_AND_KEY: Shape = {
  fields: ['secretName', 'certificate', 'key'],
  required: ['secretName', 'certificate', 'key']
}
const TRUSTED: Shape = { fields: ['secretName', 'certificate', 'pattern'], required: ['secretName'] }
export const TLS_SHAPE: Shape = { fields: ['trustedCertificates'] }

const OAUTH_SUPPORTED = [
  'type',
  'clientId',
  'clientSecret',
  'tokenEndpointUri',
  'scope',
  'connectTimeoutSeconds',
  'readTimeoutSeconds',
  'accessTokenIsJwt',
  'enableMetrics',
  'includeAcceptHeader',
  'httpRetries',
  'httpRetryPauseMs',
  'maxTokenExpirySeconds',
  'tlsTrustedCertificates',
  'disableTlsHostnameVerification'
]
const OAUTH_UNSUPPORTED = [
  'accessToken',
  'accessTokenLocation',
  'refreshToken',
  'username',
  'passwordSecret',
  'audience',
  'grantType',
  'clientAssertion',
  'clientAssertionLocation',
  'clientAssertionType',
  'saslExtensions'
]

const AUTH_SHAPES: Readonly<Record<string, Shape>> = {
  tls: { fields: ['type', 'certificateAndKey'], required: ['type', 'certificateAndKey'] },
  'scram-sha-256': { fields: ['type', 'username', 'passwordSecret'], required: ['type', 'username', 'passwordSecret'] },
  'scram-sha-512': { fields: ['type', 'username', 'passwordSecret'], required: ['type', 'username', 'passwordSecret'] },
  plain: { fields: ['type', 'username', 'passwordSecret'], required: ['type', 'username', 'passwordSecret'] },
  oauth: {
    fields: [...OAUTH_SUPPORTED, ...OAUTH_UNSUPPORTED],
    required: ['type', 'clientId', 'clientSecret', 'tokenEndpointUri']
  },
  custom: { fields: ['type', 'sasl', 'config'], required: ['type'] }
}
const AUTH_ANY: Shape = { fields: [...new Set(Object.values(AUTH_SHAPES).flatMap(s => s.fields))], required: ['type'] }

/**
 * Prefixes Strimzi forbids in a cluster `config` (Strimzi's KafkaMirrorMaker2 documentation); matched
 * case-insensitively.
 */
/**
 * Connect worker keys of a cluster `config` that kafka-mirror reads (on the target, the Connect
 * cluster; Strimzi does not forbid them, KafkaMirrorMaker2ClusterSpec.FORBIDDEN_PREFIXES).
 */
const WORKER_KEYS_READ: readonly string[] = [
  'offset.flush.interval.ms',
  'exactly.once.source.support',
  // The worker group's timeouts: instances share the work in that group (docs/DESIGN.md, "Scale-out").
  'session.timeout.ms',
  'heartbeat.interval.ms',
  'rebalance.timeout.ms'
]

const FORBIDDEN = [
  'ssl.',
  'sasl.',
  'security.',
  'listeners',
  'plugin.path',
  'rest.',
  'bootstrap.servers',
  'consumer.interceptor.classes',
  'producer.interceptor.classes',
  'group.id',
  'config.storage.topic',
  'offset.storage.topic',
  'status.storage.topic'
]
const FORBIDDEN_EXCEPTIONS = [
  'ssl.endpoint.identification.algorithm',
  'ssl.cipher.suites',
  'ssl.protocol',
  'ssl.enabled.protocols'
]

export interface SecretsContext extends ProviderContext {
  readonly namespace?: string | undefined
}

export interface ClusterResult {
  readonly alias: string
  readonly bootstrapServers: string[]
  /** security.protocol, ssl.*, sasl.* for every client of the cluster. */
  readonly connection: Record<string, MaybeSecret>
  /** `producer.*` / `consumer.*` / `admin.*` from the cluster `config` (Connect worker client settings). */
  readonly roles: Array<{ key: string; value: MaybeSecret; where: Where }>
  /** The worker keys we use (WORKER_KEYS_READ), by key. */
  readonly worker: Map<string, { value: MaybeSecret; where: Where }>
}

export function readCluster(
  o: YamlObject,
  ctx: SecretsContext,
  warnings: string[],
  infos: string[],
  pulled: readonly string[] = []
): ClusterResult {
  const alias = o.str('alias', true) ?? ''
  if (!/^[a-zA-Z0-9._-]{1,100}$/.test(alias))
    throw configError(
      o.where('alias'),
      `expected 1-100 characters from a-z A-Z 0-9 . _ -, got ${JSON.stringify(alias)}`
    )
  const bootstrap = (o.str('bootstrapServers', true) ?? '')
    .split(',')
    .map(s => s.trim())
    .filter(s => s !== '')
  if (!bootstrap.every(isHostPort)) {
    throw configError(
      o.where('bootstrapServers'),
      `expected host:port entries separated by commas, got ${JSON.stringify(o.str('bootstrapServers'))}`
    )
  }
  const connection: Record<string, MaybeSecret> = {}
  const tls = o.obj('tls', TLS_SHAPE, { trustedCertificates: TRUSTED })
  if (tls !== undefined) {
    const pem = trustedCertificates(tls, ctx)
    if (pem !== undefined) {
      connection['ssl.truststore.type'] = 'PEM'
      // Live: re-read from the secrets directory for new connections, so a renewed cluster CA
      // (Strimzi adds it to the same secret) is trusted without a restart.
      const count = (pem.match(/-----BEGIN/g) ?? []).length
      connection['ssl.truststore.certificates'] = new Secret(
        pem,
        () => trustedCertificates(tls, ctx) ?? pem,
        `<${count} PEM block(s)>`
      )
    }
  }
  const sasl = authentication(o, tls !== undefined, ctx, connection, warnings)
  connection['security.protocol'] = `${sasl ? 'SASL_' : ''}${tls !== undefined ? 'SSL' : 'PLAINTEXT'}`

  const roles: ClusterResult['roles'] = []
  const worker: ClusterResult['worker'] = new Map()
  const unused: string[] = []
  for (const { key, value, where } of o.scalars('config')) {
    if (pulled.includes(key)) continue
    const lower = key.toLowerCase()
    if (FORBIDDEN.some(p => lower.startsWith(p)) && !FORBIDDEN_EXCEPTIONS.includes(lower)) {
      const security = /^(ssl|sasl|security)\./.test(lower)
      const msg = security
        ? 'dropped: Strimzi does not allow ssl./sasl./security. keys in a cluster config; use tls and authentication'
        : 'dropped: Strimzi does not allow this key in a cluster config'
      ;(security ? warnings : infos).push(located(where, msg))
      continue
    }
    const resolved = resolveValue(value, key, where, ctx)
    if (FORBIDDEN_EXCEPTIONS.includes(lower)) connection[key] = resolved
    else if (/^(producer|consumer|admin)\./.test(key)) roles.push({ key, value: resolved, where })
    else if (WORKER_KEYS_READ.includes(key)) worker.set(key, { value: resolved, where })
    else unused.push(key)
  }
  if (unused.length > 0)
    infos.push(located(o.where('config'), `not used by kafka-mirror (Connect worker settings): ${unused.join(', ')}`))
  return { alias, bootstrapServers: bootstrap, connection, roles, worker }
}

function trustedCertificates(tls: YamlObject, ctx: SecretsContext, field = 'trustedCertificates'): string | undefined {
  const entries = tls.list(field, TRUSTED) ?? []
  if (entries.length === 0) return undefined
  const blocks: string[] = []
  for (const e of entries) {
    const secretName = e.str('secretName', true) ?? ''
    const certificate = e.str('certificate')
    const pattern = e.str('pattern')
    if ((certificate === undefined) === (pattern === undefined))
      throw configError(e.where(), 'expected exactly one of certificate or pattern')
    const keys =
      certificate !== undefined
        ? [certificate]
        : listSecretKeys(ctx.secretsDir, secretName, ctx.namespace, e.where('pattern')).filter(k =>
            globToRegExp(pattern ?? '').test(k)
          )
    if (keys.length === 0)
      throw configError(e.where('pattern'), `no key of secret "${secretName}" matches ${JSON.stringify(pattern)}`)
    for (const key of keys) {
      const where = e.where(certificate !== undefined ? 'certificate' : 'pattern')
      blocks.push(
        ...pemCertificates(
          readSecretKey(ctx.secretsDir, { secretName, key, namespace: ctx.namespace }, where),
          secretName,
          key,
          where
        )
      )
    }
  }
  // Strimzi sorts and joins the certificates; sorting also makes the result stable across runs.
  return [...new Set(blocks)].sort().join('\n')
}

function pemCertificates(text: string, secretName: string, key: string, where: Where): string[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []
  const bad = (): never => {
    throw configError(where, `secret "${secretName}" key "${key}" is not a PEM X.509 certificate`)
  }
  if (blocks.length === 0) bad()
  for (const b of blocks) {
    try {
      new X509Certificate(b) // parsing is the check
    } catch {
      bad()
    }
  }
  return blocks
}

function globToRegExp(glob: string): RegExp {
  let re = ''
  for (const c of glob) re += c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.+()[\]{}|/]/g, '\\$&')
  return new RegExp(`^${re}$`)
}

/** Returns whether the mechanism is SASL (so the protocol becomes SASL_*). */
function authentication(
  o: YamlObject,
  tls: boolean,
  ctx: SecretsContext,
  out: Record<string, MaybeSecret>,
  warnings: string[]
): boolean {
  const probe = o.obj('authentication', AUTH_ANY)
  if (probe === undefined) return false
  const type = probe.str('type', true) ?? ''
  const shape = AUTH_SHAPES[type]
  if (shape === undefined)
    throw configError(
      probe.where('type'),
      `expected one of ${Object.keys(AUTH_SHAPES).join(', ')}, got ${JSON.stringify(type)}`
    )
  const a = o.obj('authentication', shape) as YamlObject
  const secret = (ref: YamlObject, keyField: string): string => {
    const secretName = ref.str('secretName', true) ?? ''
    const key = ref.str(keyField, true) ?? ''
    return readSecretKey(ctx.secretsDir, { secretName, key, namespace: ctx.namespace }, ref.where(keyField))
  }
  switch (type) {
    case 'tls': {
      if (!tls)
        throw configError(
          a.where('type'),
          'authentication type tls needs TLS; add `tls: {}` (or tls.trustedCertificates) to this cluster'
        )
      const ck = a.obj('certificateAndKey', CERT_AND_KEY) as YamlObject
      out['ssl.keystore.type'] = 'PEM'
      out['ssl.keystore.certificate.chain'] = live(() => secret(ck, 'certificate'))
      out['ssl.keystore.key'] = live(() => secret(ck, 'key'))
      return false
    }
    case 'plain':
    case 'scram-sha-256':
    case 'scram-sha-512': {
      const username = a.str('username', true) ?? ''
      const ps = a.obj('passwordSecret', { ...SECRET_REF, required: ['secretName', 'password'] }) as YamlObject
      const module =
        type === 'plain'
          ? 'org.apache.kafka.common.security.plain.PlainLoginModule'
          : 'org.apache.kafka.common.security.scram.ScramLoginModule'
      out['sasl.mechanism'] = type === 'plain' ? 'PLAIN' : type.toUpperCase()
      out['sasl.jaas.config'] = live(() => jaas(module, { username, password: secret(ps, 'password') }))
      return true
    }
    case 'oauth': {
      const unsupported = OAUTH_UNSUPPORTED.filter(f => a.has(f))
      if (unsupported.length > 0)
        throw configError(
          a.where(unsupported[0]),
          `oauth option ${unsupported.join(', ')} is not supported by kafka-mirror (supported: client credentials with clientId, clientSecret, tokenEndpointUri, scope)`
        )
      const cs = a.obj('clientSecret', {
        ...SECRET_REF,
        fields: ['secretName', 'key'],
        required: ['secretName', 'key']
      }) as YamlObject
      const clientId = a.str('clientId', true) ?? ''
      const scope = a.str('scope')
      // The token endpoint's TLS goes into the JAAS options as Kafka's login handler reads it.
      const endpointCa = trustedCertificates(a, ctx, 'tlsTrustedCertificates')
      const endpointTls: Record<string, string> =
        endpointCa === undefined ? {} : { 'ssl.truststore.type': 'PEM', 'ssl.truststore.certificates': endpointCa }
      if (a.bool('disableTlsHostnameVerification') === true) endpointTls['ssl.endpoint.identification.algorithm'] = ''
      const options = (): Record<string, string> => ({
        clientId,
        clientSecret: secret(cs, 'key'),
        ...(scope === undefined ? {} : { scope }),
        ...endpointTls
      })
      // Apache Kafka's own OAUTHBEARER client (KIP-768), not Strimzi's client library.
      out['sasl.mechanism'] = 'OAUTHBEARER'
      out['sasl.oauthbearer.token.endpoint.url'] = a.str('tokenEndpointUri', true) ?? ''
      out['sasl.login.callback.handler.class'] =
        'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler'
      const connect = a.int('connectTimeoutSeconds', 1)
      const read = a.int('readTimeoutSeconds', 1)
      if (connect !== undefined) out['sasl.login.connect.timeout.ms'] = String(connect * 1000)
      if (read !== undefined) out['sasl.login.read.timeout.ms'] = String(read * 1000)
      out['sasl.jaas.config'] = live(() =>
        jaas('org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule', options())
      )
      return true
    }
    default: {
      // custom
      const saslFlag = a.bool('sasl') ?? false
      for (const { key, value, where } of a.scalars('config')) {
        if (!key.startsWith('sasl.') && !key.startsWith('ssl.keystore.')) {
          warnings.push(located(where, 'dropped: custom authentication only passes sasl.* and ssl.keystore.* keys'))
          continue
        }
        out[key] = resolveValue(value, key, where, ctx)
      }
      return saslFlag
    }
  }
}

/**
 * A Secret read now (so a missing secret fails the load) and read again from the secrets
 * directory whenever a client uses it: Kubernetes updates mounted secrets in place.
 */
function live(read: () => string): Secret {
  return new Secret(read(), read)
}

/** `<LoginModule> required k="v" ...;` with `\` and `"` escaped for the JAAS parser. */
function jaas(module: string, options: Record<string, string>): string {
  const parts = Object.entries(options).map(([k, v]) => `${k}="${v.replace(/[\\"]/g, '\\$&')}"`)
  return `${module} required ${parts.join(' ')};`
}
