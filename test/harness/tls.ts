/**
 * A throw-away PKI for one test run, made with the `openssl` and Java `keytool` command-line
 * tools (so the stores are the ones real users get from those tools, not ones we wrote
 * ourselves): a cluster CA, broker certificates for the loopback names, client certificates
 * for mutual TLS, a second CA nobody trusts, and the CA as PEM, PKCS12 (openssl 3 and Java
 * keytool) and JKS truststores, laid out like Strimzi's `<cluster>-cluster-ca-cert` secret.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { javaBinary } from '../../scripts/kafka-jars.ts'

export interface CertAndKey {
  /** PEM certificate file. */
  readonly cert: string
  /** PEM private key file (PKCS#8, unencrypted). */
  readonly key: string
  /** PKCS12 keystore (key, certificate, CA) made by openssl, and its password. */
  readonly p12: string
  readonly p12Password: string
}

export interface Pki {
  readonly dir: string
  /** The cluster CA in every truststore form. */
  readonly ca: {
    readonly crt: string
    readonly key: string
    /** openssl 3 `pkcs12 -export -nokeys` (PBES2/AES-256 + HMAC-SHA256), as Strimzi's `ca.p12`. */
    readonly p12: string
    /** Java keytool PKCS12 truststore. */
    readonly javaP12: string
    readonly jks: string
    /** The password of the three stores. */
    readonly password: string
  }
  /** A CA that signed nothing the brokers use: trusting only it must fail. */
  readonly otherCa: { readonly crt: string; readonly p12: string; readonly password: string }
  /** Issues a certificate signed by the cluster CA. */
  issue: (name: string, opts: { cn: string; san?: string }) => CertAndKey
}

function run(cmd: string, args: readonly string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

function keytool(): string {
  return join(dirname(javaBinary()), 'keytool')
}

function newKey(file: string): void {
  // EC keys: fast to make on a busy 2-core machine, and accepted by Java and Node alike.
  run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file])
}

function selfSignedCa(dir: string, name: string, cn: string): { crt: string; key: string } {
  const key = join(dir, `${name}.key`)
  const crt = join(dir, `${name}.crt`)
  newKey(key)
  run('openssl', [
    'req',
    '-x509',
    '-new',
    '-key',
    key,
    '-out',
    crt,
    '-days',
    '3',
    '-subj',
    `/O=kafka-mirror tests/CN=${cn}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign'
  ])
  return { crt, key }
}

function caP12(crt: string, out: string, password: string): void {
  run('openssl', [
    'pkcs12',
    '-export',
    '-nokeys',
    '-in',
    crt,
    '-out',
    out,
    '-passout',
    `pass:${password}`,
    '-caname',
    'ca.crt'
  ])
}

/** Creates the PKI under `dir` (about a second of openssl/keytool work). */
export function createPki(dir: string): Pki {
  mkdirSync(dir, { recursive: true })
  const password = 'ca-store-Pa55'
  const ca = selfSignedCa(dir, 'ca', 'cluster-ca')
  const p12 = join(dir, 'ca.p12')
  caP12(ca.crt, p12, password)
  const javaP12 = join(dir, 'ca-java.p12')
  const jks = join(dir, 'ca.jks')
  for (const [file, type] of [
    [javaP12, 'PKCS12'],
    [jks, 'JKS']
  ] as const) {
    run(keytool(), [
      '-importcert',
      '-noprompt',
      '-alias',
      'cluster-ca',
      '-file',
      ca.crt,
      '-keystore',
      file,
      '-storetype',
      type,
      '-storepass',
      password
    ])
  }
  const other = selfSignedCa(dir, 'other-ca', 'someone-else')
  const otherP12 = join(dir, 'other-ca.p12')
  caP12(other.crt, otherP12, password)
  let serial = 1
  const issue = (name: string, opts: { cn: string; san?: string }): CertAndKey => {
    const key = join(dir, `${name}.key`)
    const csr = join(dir, `${name}.csr`)
    const cert = join(dir, `${name}.crt`)
    const ext = join(dir, `${name}.ext`)
    newKey(key)
    run('openssl', ['req', '-new', '-key', key, '-out', csr, '-subj', `/O=kafka-mirror tests/CN=${opts.cn}`])
    writeFileSync(
      ext,
      `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n${opts.san === undefined ? '' : `subjectAltName=${opts.san}\n`}`
    )
    run('openssl', [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.crt,
      '-CAkey',
      ca.key,
      '-set_serial',
      String(++serial + Date.now()),
      '-out',
      cert,
      '-days',
      '3',
      '-extfile',
      ext
    ])
    const p12File = join(dir, `${name}.p12`)
    const p12Password = `${name}-p12-Pa55`
    run('openssl', [
      'pkcs12',
      '-export',
      '-in',
      cert,
      '-inkey',
      key,
      '-certfile',
      ca.crt,
      '-out',
      p12File,
      '-passout',
      `pass:${p12Password}`,
      '-name',
      name
    ])
    return { cert, key, p12: p12File, p12Password }
  }
  return {
    dir,
    ca: { ...ca, p12, javaP12, jks, password },
    otherCa: { crt: other.crt, p12: otherP12, password },
    issue
  }
}
