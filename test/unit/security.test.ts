/**
 * Truststore/keystore readers against stores made by openssl and Java keytool, the mapping of
 * Java `ssl.*` / `sasl.*` keys to client options, OAUTHBEARER token providers, and SNI.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { before, test } from 'node:test'
import { createServer as createTlsServer } from 'node:tls'
import { javaBinary } from '../../scripts/kafka-jars.ts'
import { describeConfig, loadConfig } from '../../src/config/load.ts'
import type { ClientConfig } from '../../src/config/model.ts'
import { ConfigError } from '../../src/errors.ts'
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import { clientOptions } from '../../src/kafka/security/client-options.ts'
import { clientCredentialsProvider, unsecuredTokenProvider } from '../../src/kafka/security/oauth-token.ts'
import { parseJaasConfig } from '../../src/kafka/security/sasl-options.ts'
import { readJks } from '../../src/tls/jks.ts'
import { pkcs12Certificates, StoreError } from '../../src/tls/pkcs12.ts'
import { keystoreIdentity, trustedCertificates } from '../../src/tls/stores.ts'
import { Secret } from '../../src/util/secret.ts'
import { createPki, type Pki } from '../harness/tls.ts'

let pki: Pki
let dir: string
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'km-unit-tls-'))
  pki = createPki(join(dir, 'pki'))
})

const caPem = (): string => readFileSync(pki.ca.crt, 'utf8').trim()

test('PKCS12 truststores from openssl 3 (PBES2/AES-256, HMAC-SHA256) and Java keytool give the CA; a wrong password is named as such', () => {
  for (const file of [pki.ca.p12, pki.ca.javaP12]) {
    const certs = pkcs12Certificates(readFileSync(file), pki.ca.password)
    assert.deepEqual(
      certs.map(c => c.trim()),
      [caPem()]
    )
    assert.throws(
      () => pkcs12Certificates(readFileSync(file), 'wrong'),
      (e: unknown) => e instanceof StoreError && e.wrongPassword && /password does not open/.test(e.message)
    )
  }
})

test('legacy PKCS12 (pbeWithSHAAnd3-KeyTripleDES-CBC, SHA-1 MAC) is read too', () => {
  const file = join(dir, 'legacy.p12')
  execFileSync('openssl', [
    'pkcs12',
    '-export',
    '-nokeys',
    '-in',
    pki.ca.crt,
    '-out',
    file,
    '-passout',
    'pass:legacy',
    '-certpbe',
    'PBE-SHA1-3DES',
    '-macalg',
    'sha1'
  ])
  assert.deepEqual(
    pkcs12Certificates(readFileSync(file), 'legacy').map(c => c.trim()),
    [caPem()]
  )
})

test('JKS truststore: trusted-certificate entries; wrong password fails the integrity check; the declared type does not matter', () => {
  const jks = readFileSync(pki.ca.jks)
  assert.deepEqual(
    readJks(jks, pki.ca.password).trusted.map(c => c.trim()),
    [caPem()]
  )
  assert.throws(() => readJks(jks, 'nope'), /integrity check failed/)
  // Like Java 9+, the bytes decide: a JKS file declared PKCS12 and the other way round still load.
  assert.deepEqual(
    trustedCertificates('PKCS12', jks, pki.ca.password).map(c => c.trim()),
    [caPem()]
  )
  assert.deepEqual(
    trustedCertificates('JKS', readFileSync(pki.ca.p12), pki.ca.password).map(c => c.trim()),
    [caPem()]
  )
})

test('keystores: JKS private-key entry (Sun key protection) and PKCS12 give a usable client identity', () => {
  const user = pki.issue('unit-user', { cn: 'unit-user' })
  const jksFile = join(dir, 'user.jks')
  execFileSync(
    join(dirname(javaBinary()), 'keytool'),
    [
      '-importkeystore',
      '-srckeystore',
      user.p12,
      '-srcstoretype',
      'PKCS12',
      '-srcstorepass',
      user.p12Password,
      '-destkeystore',
      jksFile,
      '-deststoretype',
      'JKS',
      '-deststorepass',
      'jks-pass',
      '-destkeypass',
      'jks-pass',
      '-noprompt'
    ],
    { stdio: 'ignore' }
  )
  const id = keystoreIdentity('JKS', readFileSync(jksFile), 'jks-pass', undefined)
  assert.equal(id.kind, 'pem')
  if (id.kind === 'pem') {
    const expected = createPrivateKey(readFileSync(user.key)).export({ format: 'der', type: 'pkcs8' })
    assert.deepEqual(createPrivateKey(id.key).export({ format: 'der', type: 'pkcs8' }), expected)
    assert.equal(new X509Certificate(id.cert).subject.includes('CN=unit-user'), true)
  }
  assert.equal(keystoreIdentity('PKCS12', readFileSync(user.p12), user.p12Password, undefined).kind, 'pfx')
  assert.throws(() => keystoreIdentity('PKCS12', readFileSync(user.p12), 'wrong', undefined), /password does not open/)
})

function cfg(props: Record<string, string | Secret>, bootstrap = ['127.0.0.1:9093']): ClientConfig {
  return { cluster: 'src', bootstrapServers: bootstrap, props }
}

test('client options: TLS trust, hostname verification switch, SNI only for host names, enabled protocols', () => {
  const o = clientOptions(
    cfg({
      'security.protocol': 'SSL',
      'ssl.truststore.type': 'PKCS12',
      'ssl.truststore.location': pki.ca.p12,
      'ssl.truststore.password': new Secret(pki.ca.password),
      'ssl.enabled.protocols': 'TLSv1.2,TLSv1.3'
    }),
    'x'
  )
  const tls = { ...o.tls }
  assert.deepEqual(
    (tls.ca as string[]).map(c => c.trim()),
    [caPem()]
  )
  assert.equal(tls.checkServerIdentity, undefined)
  assert.equal(tls.minVersion, 'TLSv1.2')
  assert.equal(o.tlsServerName, false)
  const named = clientOptions(
    cfg({ 'security.protocol': 'SSL', 'ssl.endpoint.identification.algorithm': '' }, ['kafka-0.example.com:443']),
    'x'
  )
  assert.equal(named.tlsServerName, true)
  assert.equal(named.tls?.checkServerIdentity?.('x', {} as never), undefined)
  assert.equal(clientOptions(cfg({}), 'x').tls, undefined)
})

test('client options: errors name the cluster, its address and the key, never the secret', () => {
  const cases: Array<[Record<string, string | Secret>, RegExp]> = [
    [
      { 'security.protocol': 'SASL_SSL' },
      /sasl\.mechanism: GSSAPI \(the default when sasl\.mechanism is not set\) is not supported/
    ],
    [
      { 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'AWS_MSK_IAM', 'sasl.jaas.config': 'x required;' },
      /AWS_MSK_IAM is not supported by kafka-mirror; supported: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER/
    ],
    [{ 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'PLAIN' }, /sasl\.jaas\.config is required/],
    [
      {
        'security.protocol': 'SASL_SSL',
        'sasl.mechanism': 'SCRAM-SHA-512',
        'sasl.jaas.config': new Secret('org.apache.kafka.common.security.scram.ScramLoginModule required username="u";')
      },
      /password="\.\.\." is required/
    ],
    [
      { 'security.protocol': 'TLS' },
      /security\.protocol: expected PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, got "TLS"/
    ],
    [
      {
        'security.protocol': 'SSL',
        'ssl.truststore.location': join(dir, 'missing.p12'),
        'ssl.truststore.password': new Secret('hunter2')
      },
      /ssl\.truststore\.location: cannot read .*missing\.p12 \(ENOENT\)/
    ],
    [
      {
        'security.protocol': 'SSL',
        'ssl.truststore.location': pki.ca.p12,
        'ssl.truststore.password': new Secret('hunter2')
      },
      /ssl\.truststore\.location: the password does not open this PKCS12 store.*check ssl\.truststore\.password/
    ],
    [
      { 'security.protocol': 'SSL', 'ssl.truststore.type': 'BCFKS', 'ssl.truststore.location': pki.ca.p12 },
      /ssl\.truststore\.type: store type "BCFKS" is not supported/
    ],
    [
      { 'security.protocol': 'SSL', 'ssl.endpoint.identification.algorithm': 'ldaps' },
      /expected https or an empty value/
    ],
    [
      { 'security.protocol': 'SSL', 'ssl.truststore.certificates': 'not a cert' },
      /ssl\.truststore\.certificates: no PEM certificate/
    ]
  ]
  for (const [props, re] of cases) {
    assert.throws(
      () => {
        void { ...clientOptions(cfg(props), 'x').tls }
      },
      (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e))
        assert.match(e.message, /^cluster src \(127\.0\.0\.1:9093\): /)
        assert.match(e.message, re)
        assert.ok(!e.message.includes('hunter2'))
        return true
      }
    )
  }
})

test('SASL options: PLAIN/SCRAM credentials are providers read at each authentication; JAAS parsing', async () => {
  let password = 'first'
  const jaas = {
    reveal: () =>
      `org.apache.kafka.common.security.scram.ScramLoginModule required username="mirror" password="${password}";`
  }
  const props: Record<string, unknown> = { 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'scram-sha-512' }
  Object.defineProperty(props, 'sasl.jaas.config', { enumerable: true, get: () => new Secret(jaas.reveal()) })
  const o = clientOptions(cfg(props as Record<string, string>), 'x')
  assert.equal(o.sasl?.mechanism, 'SCRAM-SHA-512')
  const pw = o.sasl?.password as () => string
  assert.equal(pw(), 'first')
  password = 'rotated'
  assert.equal(pw(), 'rotated')
  assert.deepEqual(
    parseJaasConfig('org.apache.kafka.common.security.plain.PlainLoginModule required username="a\\"b" password=p2 ;'),
    {
      module: 'org.apache.kafka.common.security.plain.PlainLoginModule',
      options: { username: 'a"b', password: 'p2' }
    }
  )
})

test('OAUTHBEARER: unsecured tokens from JAAS; client credentials are posted with Basic auth, cached, and failures never show the secret', async () => {
  const unsecured = clientOptions(
    cfg({
      'security.protocol': 'SASL_SSL',
      'sasl.mechanism': 'OAUTHBEARER',
      'sasl.jaas.config':
        'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="alice";'
    }),
    'x'
  )
  const token = await (unsecured.sasl?.token as () => Promise<string>)()
  const [header, payload] = token
    .split('.')
    .map(p => JSON.parse(Buffer.from(p, 'base64url').toString() || '{}') as Record<string, unknown>)
  assert.deepEqual(header, { alg: 'none' })
  assert.equal(payload?.sub, 'alice')

  const seen: string[] = []
  let status = 200
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (d: Buffer) => {
      body += d.toString()
    })
    req.on('end', () => {
      seen.push(`${req.headers.authorization ?? ''} ${body}`)
      if (status !== 200) {
        res
          .writeHead(status, { 'content-type': 'application/json' })
          .end('{"error":"invalid_client","error_description":"bad secret"}')
        return
      }
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ access_token: `tok-${seen.length}`, expires_in: 3600 }))
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  try {
    const port = (server.address() as { port: number }).port
    const provider = clientCredentialsProvider({
      url: `http://127.0.0.1:${port}/token`,
      clientId: 'my client',
      clientSecret: () => 's3cr3t&x',
      scope: 'a b',
      connectTimeoutMs: 5000,
      readTimeoutMs: 5000
    })
    assert.equal(await provider(), 'tok-1')
    assert.equal(await provider(), 'tok-1')
    assert.equal(seen.length, 1)
    const sameIdentity = clientCredentialsProvider({
      url: `http://127.0.0.1:${port}/token`,
      clientId: 'my client',
      clientSecret: () => 's3cr3t&x',
      scope: 'a b',
      connectTimeoutMs: 5000,
      readTimeoutMs: 5000
    })
    assert.equal(await sameIdentity(), 'tok-1', 'another client of the same identity shares the token')
    assert.equal(seen.length, 1)
    assert.equal(
      seen[0],
      `Basic ${Buffer.from('my+client:s3cr3t%26x').toString('base64')} grant_type=client_credentials&scope=a+b`
    )
    status = 401
    const failing = clientCredentialsProvider({
      url: `http://127.0.0.1:${port}/token`,
      clientId: 'c',
      clientSecret: () => 's3cr3t&x',
      connectTimeoutMs: 5000,
      readTimeoutMs: 5000
    })
    await assert.rejects(
      failing(),
      (e: Error) =>
        /token endpoint http:\/\/127\.0\.0\.1:\d+\/token answered HTTP 401: invalid_client \(bad secret\) for client id "c"/.test(
          e.message
        ) && !e.message.includes('s3cr3t')
    )
  } finally {
    server.close()
  }
  const lifetime = unsecuredTokenProvider('bob', 1, undefined)
  assert.notEqual(await lifetime(), '')
})

test('TLS material is re-read when its file changes (rotation), for new connections', () => {
  const location = join(dir, 'rotating-ca.crt')
  writeFileSync(location, readFileSync(pki.ca.crt))
  const o = clientOptions(
    cfg({ 'security.protocol': 'SSL', 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': location }),
    'x'
  )
  assert.match(({ ...o.tls }.ca as string[])[0] ?? '', /BEGIN CERTIFICATE/)
  assert.deepEqual(
    ({ ...o.tls }.ca as string[]).map(c => c.trim()),
    [caPem()]
  )
  // Kubernetes swaps the whole file; emulate with a rename over it.
  writeFileSync(`${location}.new`, readFileSync(pki.otherCa.crt))
  renameSync(`${location}.new`, location)
  assert.deepEqual(
    ({ ...o.tls }.ca as string[]).map(c => c.trim()),
    [readFileSync(pki.otherCa.crt, 'utf8').trim()]
  )
  // A broken update keeps the last good material instead of breaking new connections.
  writeFileSync(`${location}.new`, 'garbage')
  renameSync(`${location}.new`, location)
  assert.deepEqual(
    ({ ...o.tls }.ca as string[]).map(c => c.trim()),
    [readFileSync(pki.otherCa.crt, 'utf8').trim()]
  )
})

test('SNI: the broker host name is sent as TLS server name', async () => {
  const broker = pki.issue('sni-broker', { cn: 'localhost', san: 'DNS:localhost' })
  const names: Array<string | false | null> = []
  const server = createTlsServer({ key: readFileSync(broker.key), cert: readFileSync(broker.cert) }, socket => {
    names.push(socket.servername)
    socket.destroy()
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  const admin = new KafkaAdmin(
    {
      cluster: 'route',
      bootstrapServers: [`localhost:${port}`],
      props: {
        'security.protocol': 'SSL',
        'ssl.truststore.type': 'PEM',
        'ssl.truststore.location': pki.ca.crt,
        'request.timeout.ms': '2000'
      }
    },
    'sni-test'
  )
  try {
    await admin.clusterId().catch(() => undefined)
  } finally {
    await admin.close()
    server.close()
  }
  assert.ok(names.length > 0 && names.every(n => n === 'localhost'), JSON.stringify(names))
})

test('OAUTHBEARER over https: the token endpoint is trusted through ssl.* options inside sasl.jaas.config', async () => {
  const endpoint = pki.issue('token-endpoint', { cn: 'localhost', san: 'DNS:localhost,IP:127.0.0.1' })
  const server = createHttpsServer(
    { key: readFileSync(endpoint.key), cert: readFileSync(endpoint.cert) },
    (_req, res) => {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ access_token: 'tls-token', expires_in: 60 }))
    }
  )
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  try {
    const url = `https://127.0.0.1:${(server.address() as { port: number }).port}/token`
    const jaas = (extra: string): string =>
      `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="c" clientSecret="s"${extra};`
    const provider = (extra: string): (() => Promise<string>) =>
      clientOptions(
        cfg({
          'security.protocol': 'SASL_SSL',
          'sasl.mechanism': 'OAUTHBEARER',
          'sasl.oauthbearer.token.endpoint.url': url,
          'sasl.jaas.config': jaas(extra)
        }),
        'x'
      ).sasl?.token as () => Promise<string>
    assert.equal(
      await provider(
        ` ssl.truststore.type="PKCS12" ssl.truststore.location="${pki.ca.p12}" ssl.truststore.password="${pki.ca.password}"`
      )(),
      'tls-token'
    )
    await assert.rejects(
      provider('')(),
      /token endpoint https:\/\/127\.0\.0\.1:\d+\/token: request failed \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)/
    )
    assert.throws(
      () => provider(' ssl.truststore.location="/nope/ca.p12"'),
      /cluster src \(127\.0\.0\.1:9093\): sasl\.jaas\.config: token endpoint truststore: cannot read \/nope\/ca\.p12 \(ENOENT\)/
    )
  } finally {
    server.close()
  }
})

test('resource oauth: tlsTrustedCertificates and disableTlsHostnameVerification reach the token request', async () => {
  const secrets = join(dir, 'oauth-secrets')
  mkdirSync(join(secrets, 'sso-ca'), { recursive: true })
  mkdirSync(join(secrets, 'oauth-client'), { recursive: true })
  writeFileSync(join(secrets, 'sso-ca', 'ca.crt'), readFileSync(pki.ca.crt))
  writeFileSync(join(secrets, 'oauth-client', 'secret'), 'oauth-S3cret')
  // A certificate for another name: only works because host name verification is off.
  const endpoint = pki.issue('sso', { cn: 'sso.invalid', san: 'DNS:sso.invalid' })
  const server = createHttpsServer(
    { key: readFileSync(endpoint.key), cert: readFileSync(endpoint.cert) },
    (_req, res) => {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ access_token: 'cr-token', expires_in: 60 }))
    }
  )
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  try {
    const file = join(dir, 'oauth.yaml')
    writeFileSync(
      file,
      resourceWithSourceCluster(`    bootstrapServers: kafka-a:9093
    tls: {}
    authentication:
      type: oauth
      clientId: mirror
      clientSecret: { secretName: oauth-client, key: secret }
      tokenEndpointUri: https://127.0.0.1:${(server.address() as { port: number }).port}/token
      tlsTrustedCertificates: [{ secretName: sso-ca, certificate: ca.crt }]
      disableTlsHostnameVerification: true
`)
    )
    const { config } = await loadConfig(file, { secretsDir: secrets })
    const source = config.flows[0]?.clients.sourceAdmin as ClientConfig
    const token = clientOptions(source, 'x').sasl?.token as () => Promise<string>
    assert.equal(await token(), 'cr-token')
  } finally {
    server.close()
  }
})

/**
 * A v1beta2 KafkaMirrorMaker2 copying cluster a (given as its YAML list entry, `- alias: a` first) to a plain cluster
 * b.
 */
function resourceWithSourceCluster(clusterA: string): string {
  return `apiVersion: kafka.strimzi.io/v1beta2
kind: KafkaMirrorMaker2
metadata: { name: m }
spec:
  connectCluster: b
  clusters:
  - alias: a
${clusterA}  - alias: b
    bootstrapServers: kafka-b:9092
  mirrors:
  - { sourceCluster: a, targetCluster: b, sourceConnector: {} }
`
}

test('resource trustedCertificates are live: a CA added to the mounted secret is trusted by new connections', async () => {
  const secrets = join(dir, 'ca-rotation-secrets')
  mkdirSync(join(secrets, 'cluster-ca-cert'), { recursive: true })
  writeFileSync(join(secrets, 'cluster-ca-cert', 'ca.crt'), readFileSync(pki.ca.crt))
  const file = join(dir, 'ca-rotation.yaml')
  writeFileSync(
    file,
    resourceWithSourceCluster(`    bootstrapServers: kafka-a:9093
    tls: { trustedCertificates: [{ secretName: cluster-ca-cert, pattern: "*.crt" }] }
`)
  )
  const { config } = await loadConfig(file, { secretsDir: secrets })
  assert.match(describeConfig(config), /ssl\.truststore\.certificates=<1 PEM block\(s\)>/)
  const options = clientOptions(config.flows[0]?.clients.sourceConsumer as ClientConfig, 'x')
  assert.equal(({ ...options.tls }.ca as string[]).length, 1)
  // CA renewal: Strimzi adds the new CA next to the old one in the same secret.
  writeFileSync(join(secrets, 'cluster-ca-cert', 'ca-2026.crt'), readFileSync(pki.otherCa.crt))
  assert.equal(({ ...options.tls }.ca as string[]).length, 2)
})
