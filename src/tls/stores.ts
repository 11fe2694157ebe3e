/**
 * Java-style trust and key stores → what Node's TLS takes (PEM `ca`, `cert`/`key`, or `pfx`).
 * The store type is detected from the bytes when the file is JKS or PKCS12 (as Java 9+ does),
 * so `ssl.truststore.type=JKS` with a PKCS12 file still works. Errors are StoreErrors with no
 * file contents and no passwords in them.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { createSecureContext } from 'node:tls'
import { isJks, readJks } from './jks.ts'
import { pkcs12Certificates, StoreError } from './pkcs12.ts'

export { StoreError }

export type StoreType = 'PEM' | 'PKCS12' | 'JKS'

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g
const PEM_KEY =
  /-----BEGIN (?:ENCRYPTED |RSA |EC )?PRIVATE KEY-----[\s\S]*?-----END (?:ENCRYPTED |RSA |EC )?PRIVATE KEY-----/g

export function storeType(value: string | undefined, fallback: StoreType): StoreType {
  const t = (value ?? fallback).toUpperCase()
  if (t === 'PEM' || t === 'PKCS12' || t === 'JKS') return t
  if (t === 'JCEKS') return 'JKS'
  throw new StoreError(`store type "${value ?? ''}" is not supported (PEM, PKCS12, JKS)`)
}

/** Certificates of a PEM text, each checked to parse as X.509. */
export function pemCertificates(text: string): string[] {
  const blocks = text.match(PEM_CERT) ?? []
  if (blocks.length === 0) throw new StoreError('no PEM certificate (-----BEGIN CERTIFICATE-----) found')
  for (const b of blocks) {
    try {
      new X509Certificate(b) // parsing is the check
    } catch {
      throw new StoreError('a PEM certificate block does not parse as X.509')
    }
  }
  return blocks
}

/** Trusted certificates (PEM) from a truststore file's bytes. */
export function trustedCertificates(type: StoreType, bytes: Buffer, password: string | undefined): string[] {
  if (isJks(bytes)) {
    const store = readJks(bytes, password === '' ? undefined : password)
    const certs = [...store.trusted, ...store.keys.flatMap(k => k.chain.slice(-1))]
    if (certs.length === 0) throw new StoreError('the Java keystore holds no certificates')
    return certs
  }
  if (type === 'PEM' || bytes.subarray(0, 64).toString('latin1').includes('-----BEGIN'))
    return pemCertificates(bytes.toString('utf8'))
  const certs = pkcs12Certificates(bytes, password)
  if (certs.length === 0) throw new StoreError('the PKCS12 store holds no certificates')
  return certs
}

export type Identity =
  | { readonly kind: 'pem'; readonly cert: string; readonly key: string; readonly passphrase?: string | undefined }
  | { readonly kind: 'pfx'; readonly pfx: Buffer; readonly passphrase: string | undefined }

/** A client identity (certificate chain + private key) from PEM text (key may be encrypted with `keyPassword`). */
export function pemIdentity(certText: string, keyText: string, keyPassword: string | undefined): Identity {
  const cert = pemCertificates(certText).join('\n')
  const keys = keyText.match(PEM_KEY) ?? []
  if (keys.length === 0) throw new StoreError('no PEM private key (-----BEGIN PRIVATE KEY-----) found')
  try {
    createPrivateKey({ key: keys[0] as string, format: 'pem', passphrase: keyPassword })
  } catch {
    throw new StoreError(
      keyPassword === undefined
        ? 'the private key does not parse (encrypted keys need ssl.key.password)'
        : 'the private key does not open with ssl.key.password',
      keyPassword !== undefined
    )
  }
  return { kind: 'pem', cert, key: keys[0] as string, passphrase: keyPassword }
}

/** A client identity from a keystore file's bytes. */
export function keystoreIdentity(
  type: StoreType,
  bytes: Buffer,
  password: string | undefined,
  keyPassword: string | undefined
): Identity {
  if (isJks(bytes)) {
    const store = readJks(bytes, password, keyPassword ?? password)
    const entry = store.keys[0]
    if (entry === undefined) throw new StoreError('the Java keystore holds no private key entry')
    return { kind: 'pem', cert: entry.chain.join('\n'), key: entry.key }
  }
  if (type === 'PEM' || bytes.subarray(0, 64).toString('latin1').includes('-----BEGIN')) {
    const text = bytes.toString('utf8')
    return pemIdentity(text, text, keyPassword)
  }
  // Checking the MAC ourselves gives a precise wrong-password error; Node then reads the keys.
  pkcs12Certificates(bytes, password)
  try {
    createSecureContext({ pfx: bytes, passphrase: password })
  } catch (err) {
    throw new StoreError(`the PKCS12 keystore cannot be used (${(err as Error).message})`)
  }
  return { kind: 'pfx', pfx: bytes, passphrase: password }
}
