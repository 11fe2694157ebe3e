/**
 * TLS settings of one client role (Java `ssl.*` keys) → Node TLS options. Trust and client
 * identity may come inline (PEM values, e.g. from a Strimzi resource) or from store files
 * (PEM, PKCS12, JKS). File-based material is exposed through getters that re-read the file when
 * it changed: the client library copies the TLS options for every new connection, so rotated
 * certificates are picked up without rebuilding the client.
 */
import type { ConnectionOptions as TlsOptions } from 'node:tls'
import {
  keystoreIdentity,
  pemCertificates,
  pemIdentity,
  storeType,
  StoreError,
  trustedCertificates
} from '../../tls/stores.ts'
import type { Identity } from '../../tls/stores.ts'
import { FileReadError, liveFile } from './live-file.ts'

export type Fail = (message: string) => never
type Prop = (key: string) => string | undefined

/** Runs `read`, turning store and file errors into `fail("<key>: <why>")`. */
function guarded<T>(key: string, fail: Fail, read: () => T): () => T {
  return () => {
    try {
      return read()
    } catch (err) {
      if (err instanceof StoreError || err instanceof FileReadError) {
        const hint =
          err instanceof StoreError && err.wrongPassword
            ? ` (check ${key.replace(/\.location$|\.certificates$/, '.password')})`
            : ''
        return fail(`${key}: ${err.message}${hint}`)
      }
      throw err
    }
  }
}

/**
 * Inline values may be Secrets that re-read their source (rotation), so they are parsed at each
 * use; after one good parse a failing one returns the last good result.
 */
function sticky<T>(read: () => T): () => T {
  let last: { v: T } | undefined
  return () => {
    try {
      const v = read()
      last = { v }
      return v
    } catch (err) {
      if (last !== undefined) return last.v
      throw err
    }
  }
}

function trust(prop: Prop, fail: Fail): (() => string[]) | undefined {
  const inline = prop('ssl.truststore.certificates')
  const location = prop('ssl.truststore.location')
  const type = guarded('ssl.truststore.type', fail, () =>
    storeType(prop('ssl.truststore.type'), inline !== undefined ? 'PEM' : 'JKS')
  )()
  if (inline !== undefined) {
    if (type !== 'PEM') fail(`ssl.truststore.certificates needs ssl.truststore.type=PEM, got ${type}`)
    const read = guarded(
      'ssl.truststore.certificates',
      fail,
      sticky(() => pemCertificates(prop('ssl.truststore.certificates') ?? ''))
    )
    read()
    return read
  }
  if (location === undefined) return undefined
  const read = liveFile(location, bytes => trustedCertificates(type, bytes, prop('ssl.truststore.password')))
  return guarded('ssl.truststore.location', fail, read)
}

function identity(prop: Prop, fail: Fail): (() => Identity) | undefined {
  const chain = prop('ssl.keystore.certificate.chain')
  const key = prop('ssl.keystore.key')
  const location = prop('ssl.keystore.location')
  const keyPassword = (): string | undefined => prop('ssl.key.password')
  if (chain !== undefined || key !== undefined) {
    if (chain === undefined || key === undefined)
      fail('ssl.keystore.certificate.chain and ssl.keystore.key must be set together')
    const read = guarded(
      'ssl.keystore.key',
      fail,
      sticky(() =>
        pemIdentity(prop('ssl.keystore.certificate.chain') ?? '', prop('ssl.keystore.key') ?? '', keyPassword())
      )
    )
    read()
    return read
  }
  if (location === undefined) return undefined
  const type = guarded('ssl.keystore.type', fail, () => storeType(prop('ssl.keystore.type'), 'JKS'))()
  const read = liveFile(location, bytes => keystoreIdentity(type, bytes, prop('ssl.keystore.password'), keyPassword()))
  return guarded('ssl.keystore.location', fail, read)
}

export function tlsOptions(prop: Prop, fail: Fail): TlsOptions {
  const tls: TlsOptions = {}
  const ca = trust(prop, fail)
  const id = identity(prop, fail)
  // Getters: evaluated each time the library spreads these options into tls.connect().
  if (ca !== undefined) Object.defineProperty(tls, 'ca', { enumerable: true, get: ca })
  if (id !== undefined) {
    const field = (f: 'cert' | 'key' | 'pfx' | 'passphrase') => () => {
      const v = id() as Record<string, unknown>
      return v[f]
    }
    for (const f of ['cert', 'key', 'pfx', 'passphrase'] as const)
      Object.defineProperty(tls, f, { enumerable: true, get: field(f) })
  }
  const algorithm = prop('ssl.endpoint.identification.algorithm') ?? 'https'
  if (algorithm === '') tls.checkServerIdentity = () => undefined
  else if (algorithm.toLowerCase() !== 'https')
    fail(`ssl.endpoint.identification.algorithm: expected https or an empty value, got "${algorithm}"`)
  const protocols = (prop('ssl.enabled.protocols') ?? '')
    .split(',')
    .map(s => s.trim())
    .filter(s => /^TLSv1\.[0-3]$/.test(s))
    .sort()
  if (protocols.length > 0) {
    tls.minVersion = protocols[0] as TlsOptions['minVersion']
    tls.maxVersion = protocols[protocols.length - 1] as TlsOptions['maxVersion']
  }
  return tls
}

/** Reads every getter once, so missing files and wrong passwords are reported before connecting. */
export function touchTls(tls: TlsOptions): void {
  void { ...tls }
}
