/**
 * Secured connections on real brokers. Two clusters, each with its own CA and every kind of
 * secured listener (test/harness/secure-cluster.ts); the mirror reaches them only through those
 * listeners, while setup and read-back use the PLAINTEXT listener. One test per way users
 * connect: TLS + SCRAM-SHA-512 with Strimzi's `ca.p12` / `ca.password` (mm2.properties) and with
 * `ca.crt` (KafkaMirrorMaker2 resource + secrets directory), mutual TLS, PLAIN, SCRAM-SHA-256,
 * OAUTHBEARER with a client-credentials token endpoint.
 */
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { loadConfig } from '../../src/config/load.ts'
import type { ClientConfig } from '../../src/config/model.ts'
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import { readTopic } from '../../src/kafka/read-topic.ts'
import { decodeCheckpoint } from '../../src/formats/checkpoint.ts'
import { decodeConnectOffsetKey, decodeOffsetValue } from '../../src/formats/connect-offsets.ts'
import { buildMirror, type Mirror } from '../../src/mirror.ts'
import { startHttpServer } from '../../src/observe/http-server.ts'
import { mirrorRoutes } from '../../src/observe/routes.ts'
import { type KafkaCluster, startClusters } from '../harness/cluster.ts'
import { freePort } from '../harness/ports.ts'
import { commitOffsets, createTopic, produce, readAll, uniqueName, waitFor } from '../harness/helpers.ts'
import { runJava } from '../harness/java-tools.ts'
import { testLogger } from '../harness/mirror-runner.ts'
import { SECURE_USERS, secureClusterOptions, unsecuredJwt } from '../harness/secure-cluster.ts'
import { writeSecretVolume } from '../harness/k8s-secrets.ts'
import { createPki, type Pki } from '../harness/tls.ts'

let S: KafkaCluster
let T: KafkaCluster
let pkiS: Pki
let pkiT: Pki
let dir: string
const logLines: string[] = []
// Debug level: the secret scan at the end sees every line the mirror can write.
const log = testLogger({ lines: logLines, level: 'debug' })
/**
 * Secret values made by single tests (OAuth client secret and tokens, keystore passwords, key PEM lines), for the final
 * scan.
 */
const testSecrets: string[] = []

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'km-security-'))
  pkiS = createPki(join(dir, 'pki-src'))
  pkiT = createPki(join(dir, 'pki-tgt'))
  const [s, t] = await startClusters([secureClusterOptions('src', pkiS), secureClusterOptions('tgt', pkiT)])
  if (s === undefined || t === undefined) throw new Error('clusters did not start')
  S = s
  T = t
})
after(async () => {
  await Promise.all([S?.close(), T?.close()])
})

const RF_ONE = [
  'replication.factor = 1',
  'offset-syncs.topic.replication.factor = 1',
  'checkpoints.topic.replication.factor = 1',
  'heartbeats.topic.replication.factor = 1',
  'offset.storage.replication.factor = 1',
  'config.storage.replication.factor = 1',
  'status.storage.replication.factor = 1'
]

/** An mm2.properties for src->tgt through the given listeners with per-cluster security keys. */
function writeSecureProperties(
  name: string,
  topic: string,
  src: { listener: string; props: Record<string, string> },
  tgt: { listener: string; props: Record<string, string> },
  extra: readonly string[] = []
): string {
  const lines = [
    'clusters = src, tgt',
    `src.bootstrap.servers = ${S.bootstrap(src.listener)}`,
    `tgt.bootstrap.servers = ${T.bootstrap(tgt.listener)}`,
    ...Object.entries(src.props).map(([k, v]) => `src.${k} = ${v}`),
    ...Object.entries(tgt.props).map(([k, v]) => `tgt.${k} = ${v}`),
    'src->tgt.enabled = true',
    `src->tgt.topics = ${topic}`,
    'tgt.offset.flush.interval.ms = 500',
    ...RF_ONE,
    ...extra
  ]
  const file = join(dir, `${name}.properties`)
  writeFileSync(file, lines.join('\n') + '\n')
  return file
}

/** Runs the mirror on `configFile` until `count` records of `topic` are on the target as `src.<topic>`. */
async function replicates(
  t: { after: (fn: () => Promise<void>) => void },
  configFile: string,
  topic: string,
  opts: { secretsDir?: string; remote?: string } = {}
): Promise<Mirror> {
  const { config } = await loadConfig(configFile, { secretsDir: opts.secretsDir })
  const mirror = buildMirror(config, log)
  t.after(async () => {
    await mirror.close()
  })
  const records = Array.from({ length: 20 }, (_, i) => ({ partition: i % 2, key: `k${i}`, value: `v${i}` }))
  await produce(S, topic, records)
  mirror.start()
  const remote = opts.remote ?? `src.${topic}`
  await waitFor(async () => (await readAll(T, remote).catch(() => [])).length === 20, {
    timeoutMs: 90_000,
    what: `20 records on ${remote}; flow status: ${JSON.stringify(mirror.status().map(s => [s.state, s.reason]))}`
  })
  const got = (await readAll(T, remote)).map(r => `${r.partition}:${r.key?.toString()}=${r.value?.toString()}`).sort()
  assert.deepEqual(got, records.map(r => `${r.partition}:${r.key}=${r.value}`).sort())
  return mirror
}

function passwordFile(name: string, entries: Record<string, string>): string {
  const file = join(dir, `${name}.properties`)
  writeFileSync(
    file,
    Object.entries(entries)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') + '\n'
  )
  return file
}

/** Checkpoints every second for groups found every second, so a group's checkpoint shows up fast. */
const CHECKPOINTS_FAST = [
  'src->tgt.emit.checkpoints.interval.seconds = 1',
  'src->tgt.refresh.groups.interval.seconds = 1'
]

/**
 * What status() / heartbeatStatus() / checkpointStatus() show, and every page of the mirror's HTTP
 * server (/metrics, /healthz, /readyz, /status, the status page), kept for the final secret scan.
 */
async function scanMirror(mirror: Mirror): Promise<void> {
  outputs.push(
    JSON.stringify(mirror.status()),
    JSON.stringify(mirror.heartbeatStatus()),
    JSON.stringify(mirror.checkpointStatus())
  )
  const routes = mirrorRoutes(mirror, log)
  const server = await startHttpServer({ port: 0, host: '127.0.0.1', routes, log })
  try {
    for (const path of routes.keys()) {
      const res = await fetch(`http://127.0.0.1:${server.port}${path}`)
      const body = await res.text()
      if (['/metrics', '/status'].includes(path)) assert.equal(res.status, 200, `${path}: ${body}`)
      outputs.push(`${path}:\n${body}`)
    }
  } finally {
    await server.close()
  }
}

interface TranslateJson {
  partitions: Array<{
    topic: string
    sourceTopic: string
    partition: number
    sourceOffset: number
    targetOffset: number | null
    exact: boolean
    checkpoint: number | null
  }>
}

/**
 * Runs every command of the real CLI on `file` (debug log level), each exiting 0: validate, run
 * (until it replicates, then SIGTERM), offsets translate (table and --json), failover --dry-run,
 * topology (table and --json). Returns the parsed `offsets translate --json`.
 */
async function everyCommand(file: string, g: { group: string; from: string; to: string }): Promise<TranslateJson> {
  const env = { KAFKA_MIRROR_LOG_LEVEL: 'debug' }
  const groupArgs = ['--config', file, '--group', g.group, '--from', g.from, '--to', g.to]
  const validate = await cli(['validate', '--config', file], { env })
  assert.equal(validate.code, 0, validate.out)
  const run = await cli(['run', '--config', file], {
    env,
    stopAfter: out => /replicating/.test(out) && /checkpointing/.test(out)
  })
  assert.equal(run.code, 0, run.out)
  assert.match(run.out, /stopped/)
  const table = await cli(['offsets', 'translate', ...groupArgs], { env })
  assert.equal(table.code, 0, table.out)
  const json = await cli(['offsets', 'translate', ...groupArgs, '--json'], { env, stdoutOnly: true })
  assert.equal(json.code, 0, json.out)
  const dry = await cli(['failover', ...groupArgs, '--dry-run'], { env })
  assert.equal(dry.code, 0, dry.out)
  assert.match(dry.out, /dry run/)
  for (const extra of [[], ['--json']]) {
    const topology = await cli(['topology', '--config', file, ...extra], { env })
    assert.equal(topology.code, 0, topology.out)
  }
  return JSON.parse(json.out) as TranslateJson
}

const scramJaas = (user: { username: string }, passwordRef: string): string =>
  `org.apache.kafka.common.security.scram.ScramLoginModule required username="${user.username}" password="${passwordRef}";`

test('TLS + SCRAM-SHA-512 on both sides, trust from Strimzi-style ca.p12 + password file (mm2.properties): records, positions and consumer-group offsets replicate; every command works over TLS', async t => {
  const topic = uniqueName('p12')
  await Promise.all([createTopic(S, topic, { partitions: 2 })])
  // The password file is referenced as Strimzi users do: ${file:<path>:<key>}.
  const creds = passwordFile('p12-creds', {
    'src.truststore.password': pkiS.ca.password,
    'tgt.truststore.password': pkiT.ca.password,
    'scram.password': SECURE_USERS.scram512.password
  })
  const side = (pki: Pki, key: string): Record<string, string> => ({
    'security.protocol': 'SASL_SSL',
    'ssl.truststore.type': 'PKCS12',
    'ssl.truststore.location': pki.ca.p12,
    'ssl.truststore.password': `\${file:${creds}:${key}}`,
    'sasl.mechanism': 'SCRAM-SHA-512',
    'sasl.jaas.config': scramJaas(SECURE_USERS.scram512, `\${file:${creds}:scram.password}`)
  })
  const file = writeSecureProperties(
    'p12',
    topic,
    { listener: 'SASL_SSL', props: side(pkiS, 'src.truststore.password') },
    { listener: 'SASL_SSL', props: side(pkiT, 'tgt.truststore.password') },
    CHECKPOINTS_FAST
  )
  const mirror = await replicates(t, file, topic)

  // A consumer group of the source (committed through the PLAINTEXT setup listener; the mirror
  // reads it through the secured one) gets checkpoints on the target with the exact translation:
  // the remote topic started empty, so a target offset equals its source offset.
  const group = uniqueName('p12-group')
  const committed = new Map([
    [0, 4n],
    [1, 10n]
  ])
  await commitOffsets(
    S,
    group,
    [...committed].map(([partition, offset]) => ({ topic, partition, offset }))
  )
  const remote = `src.${topic}`
  let seen = new Map<number, bigint>()
  await waitFor(
    async () => {
      seen = new Map()
      for (const r of await readAll(T, 'src.checkpoints.internal').catch(() => [])) {
        const cp = decodeCheckpoint(r.key, r.value)
        if (cp.group === group && cp.topic === remote) seen.set(cp.partition, cp.downstreamOffset)
      }
      return [...committed].every(([p, o]) => seen.get(p) === o)
    },
    { timeoutMs: 90_000, what: `checkpoints of ${group}` }
  ).catch((err: Error) => {
    throw new Error(
      `${err.message}; seen ${[...seen].map(([p, o]) => `${p}->${o}`).join(' ') || 'none'}; status ${JSON.stringify(mirror.checkpointStatus().map(c => [c.state, c.reason]))}`
    )
  })

  // Positions stored on the target (Connect offsets topic) are the last copied offset of each partition.
  const positionKey = (partition: number): string =>
    `["MirrorSourceConnector",{"cluster":"src","partition":${partition},"topic":"${topic}"}]`
  let positions = new Map<string | undefined, bigint | null>()
  await waitFor(
    async () => {
      const stored = (await readAll(T, 'mm2-offsets.src.internal')).filter(r =>
        r.key?.toString().includes(`"topic":"${topic}"`)
      )
      for (const r of stored) assert.equal(decodeConnectOffsetKey(r.key).connector, 'MirrorSourceConnector')
      positions = new Map(stored.map(r => [r.key?.toString(), decodeOffsetValue(r.value)]))
      return positions.get(positionKey(0)) === 9n && positions.get(positionKey(1)) === 9n
    },
    { timeoutMs: 60_000, what: 'stored positions 9 and 9 (10 records per partition)' }
  ).catch((err: Error) => {
    throw new Error(`${err.message}; got ${[...positions].map(([k, v]) => `${k}=${v}`).join(' ')}`)
  })
  await scanMirror(mirror)
  await mirror.close()

  // Every command through the real CLI and the secured listeners; translate agrees with the checkpoints.
  const translated = await everyCommand(file, { group, from: 'src', to: 'tgt' })
  assert.deepEqual(
    translated.partitions.map(p => [p.topic, p.partition, p.sourceOffset, p.targetOffset, p.checkpoint]).sort(),
    [...committed].map(([p, o]) => [remote, p, Number(o), Number(o), Number(o)]).sort()
  )
  // Inside the copied range the syncs prove the mapping; at the end (10) it is the +1 rule's answer.
  assert.equal(translated.partitions.find(p => p.partition === 0)?.exact, true)

  // Read back through the secured target listener with our own client, too.
  const { config } = await loadConfig(file)
  const targetConsumer: ClientConfig = config.flows[0]?.clients.targetConsumer as ClientConfig
  const admin = new KafkaAdmin(config.flows[0]?.clients.targetAdmin as ClientConfig, 'test-secure-admin')
  try {
    const viaTls = await readTopic(admin, targetConsumer, `src.${topic}`, 'test-secure-reader')
    assert.equal(viaTls?.length, 20)
  } finally {
    await admin.close()
  }
})

test('KafkaMirrorMaker2 resource: tls.trustedCertificates (ca.crt by pattern) + scram-sha-512 from a secrets directory: records replicate', async t => {
  const topic = uniqueName('cr')
  await createTopic(S, topic, { partitions: 2 })
  const secrets = join(dir, 'cr-secrets')
  const put = (secret: string, key: string, value: string): void => {
    mkdirSync(join(secrets, secret), { recursive: true })
    writeFileSync(join(secrets, secret, key), value)
  }
  put('src-cluster-ca-cert', 'ca.crt', readFileSync(pkiS.ca.crt, 'utf8'))
  put('src-cluster-ca-cert', 'ca.password', pkiS.ca.password)
  put('tgt-cluster-ca-cert', 'ca.crt', readFileSync(pkiT.ca.crt, 'utf8'))
  put('mirror-user', 'password', SECURE_USERS.scram512.password)
  const cluster = (alias: string, c: KafkaCluster): string => `
  - alias: "${alias}"
    bootstrapServers: ${c.bootstrap('SASL_SSL')}
    tls:
      trustedCertificates:
      - secretName: ${alias}-cluster-ca-cert
        pattern: "*.crt"
    authentication:
      type: scram-sha-512
      username: ${SECURE_USERS.scram512.username}
      passwordSecret:
        secretName: mirror-user
        password: password`
  const file = join(dir, 'mirror.yaml')
  writeFileSync(
    file,
    `apiVersion: kafka.strimzi.io/v1beta2
kind: KafkaMirrorMaker2
metadata:
  name: secure-mirror
spec:
  version: 4.1.0
  replicas: 1
  connectCluster: "tgt"
  clusters:${cluster('src', S)}${cluster('tgt', T)}
    config:
      offset.storage.replication.factor: 1
      config.storage.replication.factor: 1
      status.storage.replication.factor: 1
  mirrors:
  - sourceCluster: "src"
    targetCluster: "tgt"
    topicsPattern: "${topic}"
    sourceConnector:
      config:
        replication.factor: 1
        offset-syncs.topic.replication.factor: 1
`
  )
  await replicates(t, file, topic, { secretsDir: secrets })
})

test('mutual TLS: PKCS12 keystore + JKS truststore on one side, PEM keystore + PEM truststore on the other: records replicate', async t => {
  const topic = uniqueName('mtls')
  await createTopic(S, topic, { partitions: 2 })
  const srcUser = pkiS.issue('mirror-user', { cn: 'mirror-user' })
  const tgtUser = pkiT.issue('mirror-user', { cn: 'mirror-user' })
  const pemKeystore = join(dir, 'tgt-user.pem')
  writeFileSync(pemKeystore, readFileSync(tgtUser.key, 'utf8') + readFileSync(tgtUser.cert, 'utf8'))
  testSecrets.push(srcUser.p12Password, tgtUser.p12Password, pemKeyLine(srcUser.key), pemKeyLine(tgtUser.key))
  const file = writeSecureProperties(
    'mtls',
    topic,
    {
      listener: 'MTLS',
      props: {
        'security.protocol': 'SSL',
        'ssl.truststore.type': 'JKS',
        'ssl.truststore.location': pkiS.ca.jks,
        'ssl.truststore.password': pkiS.ca.password,
        'ssl.keystore.type': 'PKCS12',
        'ssl.keystore.location': srcUser.p12,
        'ssl.keystore.password': srcUser.p12Password
      }
    },
    {
      listener: 'MTLS',
      props: {
        'security.protocol': 'SSL',
        'ssl.truststore.type': 'PEM',
        'ssl.truststore.location': pkiT.ca.crt,
        'ssl.keystore.type': 'PEM',
        'ssl.keystore.location': pemKeystore
      }
    },
    CHECKPOINTS_FAST
  )
  const mirror = await replicates(t, file, topic)
  await scanMirror(mirror)
  await mirror.close()
  const group = uniqueName('mtls-group')
  await commitOffsets(S, group, [{ topic, partition: 0, offset: 3n }])
  const translated = await everyCommand(file, { group, from: 'src', to: 'tgt' })
  assert.deepEqual(
    translated.partitions.map(p => [p.partition, p.targetOffset]),
    [[0, 3]]
  )
})

/**
 * A line of a PEM private key's base64 body that holds key material (the first line is mostly a fixed ASN.1 header).
 */
function pemKeyLine(keyFile: string): string {
  const body = readFileSync(keyFile, 'utf8')
    .split('\n')
    .filter(l => l !== '' && !l.startsWith('-----'))
  const line = body[1] ?? body[0]
  assert.ok(line !== undefined && line.length >= 20, `no key line in ${keyFile}`)
  return line
}

test('SASL PLAIN over TLS (Java keytool PKCS12 truststore) and SCRAM-SHA-256 over TLS (inline PEM trust): records replicate', async t => {
  const topic = uniqueName('plain256')
  await createTopic(S, topic, { partitions: 2 })
  const file = writeSecureProperties(
    'plain256',
    topic,
    {
      listener: 'SASL_SSL',
      props: {
        'security.protocol': 'SASL_SSL',
        'ssl.truststore.type': 'PKCS12',
        'ssl.truststore.location': pkiS.ca.javaP12,
        'ssl.truststore.password': pkiS.ca.password,
        'sasl.mechanism': 'PLAIN',
        'sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required username="${SECURE_USERS.plain.username}" password="${SECURE_USERS.plain.password}";`
      }
    },
    {
      listener: 'SASL_SSL',
      props: {
        'security.protocol': 'SASL_SSL',
        'ssl.truststore.type': 'PEM',
        // Inline PEM as one properties value: lines joined with escaped newlines.
        'ssl.truststore.certificates': readFileSync(pkiT.ca.crt, 'utf8').trim().split('\n').join('\\n'),
        'sasl.mechanism': 'SCRAM-SHA-256',
        'sasl.jaas.config': scramJaas(SECURE_USERS.scram256, SECURE_USERS.scram256.password)
      }
    }
  )
  await replicates(t, file, topic)
})

test('SCRAM-SHA-512 without TLS (SASL_PLAINTEXT) on one side and PLAIN without TLS on the other: records replicate', async t => {
  const topic = uniqueName('saslplain')
  await createTopic(S, topic, { partitions: 2 })
  const file = writeSecureProperties(
    'saslplaintext',
    topic,
    {
      listener: 'SASL_PLAINTEXT',
      props: {
        'security.protocol': 'SASL_PLAINTEXT',
        'sasl.mechanism': 'SCRAM-SHA-512',
        'sasl.jaas.config': scramJaas(SECURE_USERS.scram512, SECURE_USERS.scram512.password)
      }
    },
    {
      listener: 'SASL_PLAINTEXT',
      props: {
        'security.protocol': 'SASL_PLAINTEXT',
        'sasl.mechanism': 'PLAIN',
        'sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required username="${SECURE_USERS.plain.username}" password="${SECURE_USERS.plain.password}";`
      }
    }
  )
  await replicates(t, file, topic)
})

test('OAUTHBEARER: tokens from a client-credentials token endpoint (broker with the unsecured JWT validator): records replicate', async t => {
  const topic = uniqueName('oauth')
  await createTopic(S, topic, { partitions: 2 })
  const clientSecret = 'oauth-client-S3cret-value'
  testSecrets.push(clientSecret)
  const requests: string[] = []
  const server: Server = createServer((req, res) => {
    let body = ''
    req.on('data', (d: Buffer) => {
      body += d.toString()
    })
    req.on('end', () => {
      const [id, secret] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64')
        .toString()
        .split(':')
      requests.push(`${req.method} ${req.url} ${id} ${body}`)
      if (secret !== clientSecret || !body.includes('grant_type=client_credentials')) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_client' }))
        return
      }
      const token = unsecuredJwt(id ?? 'x', 300)
      testSecrets.push(token)
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 300 }))
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.after(() => {
    server.close()
  })
  const address = server.address()
  const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/realms/kafka/token`
  const side = (pki: Pki): Record<string, string> => ({
    'security.protocol': 'SASL_SSL',
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': pki.ca.crt,
    'sasl.mechanism': 'OAUTHBEARER',
    'sasl.oauthbearer.token.endpoint.url': url,
    'sasl.login.callback.handler.class': 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler',
    'sasl.jaas.config': `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="mirror-client" clientSecret="${clientSecret}" scope="kafka";`
  })
  const file = writeSecureProperties(
    'oauth',
    topic,
    { listener: 'SASL_SSL', props: side(pkiS) },
    { listener: 'SASL_SSL', props: side(pkiT) },
    CHECKPOINTS_FAST
  )
  const mirror = await replicates(t, file, topic)
  await scanMirror(mirror)
  assert.ok(requests.length >= 1, 'the token endpoint was asked')
  assert.ok(
    requests.every(r =>
      r.startsWith('POST /realms/kafka/token mirror-client grant_type=client_credentials&scope=kafka')
    ),
    requests.join('\n')
  )
  // One token for the client id, shared by every client of the mirror (source and target, all roles).
  assert.equal(requests.length, 1, `token requests: ${requests.length}`)
  await mirror.close()

  // Every command of the CLI through OAuth (each process fetches its own token).
  const group = uniqueName('oauth-group')
  await commitOffsets(S, group, [{ topic, partition: 1, offset: 7n }])
  const translated = await everyCommand(file, { group, from: 'src', to: 'tgt' })
  assert.deepEqual(
    translated.partitions.map(p => [p.partition, p.targetOffset, p.exact]),
    [[1, 7, true]]
  )
  assert.ok(requests.length > 1, 'the CLI processes asked the token endpoint too')
})

// ---------------------------------------------------------------------------------------------
// Error cases through the real CLI: each gives its message (naming the cluster alias and its
// bootstrap address) and a non-zero exit, and no secret value appears in any output.

const bin = join(import.meta.dirname, '..', '..', 'bin', 'kafka-mirror.js')
const outputs: string[] = []

/** The pages of a running `kafka-mirror run` (its HTTP server), scanned for secrets like its output. */
const RUN_PAGES = ['/metrics', '/healthz', '/readyz', '/status', '/']

/**
 * Runs bin/kafka-mirror.js; `out` is stdout and stderr together (only stdout with `stdoutOnly`, stderr still goes to
 * the scan).
 * `run` serves HTTP on a free port; when `stopAfter` matches, its pages are read into the scan (and `pages`) before
 * SIGTERM.
 */
async function cli(
  args: string[],
  opts: {
    stopAfter?: (out: string) => boolean
    timeoutMs?: number
    env?: Record<string, string>
    stdoutOnly?: boolean
  } = {}
): Promise<{ code: number | null; out: string; pages: Map<string, { status: number; body: string }> }> {
  const { spawn } = await import('node:child_process')
  const port = args[0] === 'run' ? await freePort() : undefined
  const child = spawn(
    process.execPath,
    [bin, ...args, ...(port === undefined ? [] : ['--metrics-port', String(port)])],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } }
  )
  let out = ''
  let stderr = ''
  let stopped = false
  const pages = new Map<string, { status: number; body: string }>()
  const readPages = async (): Promise<void> => {
    if (port === undefined) return
    for (const path of RUN_PAGES) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`).catch(() => undefined)
      if (res === undefined) continue
      const page = { status: res.status, body: await res.text() }
      pages.set(path, page)
      outputs.push(`${path}:\n${page.body}`)
    }
  }
  const onData = (d: Buffer): void => {
    out += d.toString()
    if (!stopped && opts.stopAfter?.(out) === true) {
      stopped = true
      void readPages().finally(() => {
        child.kill('SIGTERM')
      })
    }
  }
  child.stdout.on('data', onData)
  child.stderr.on(
    'data',
    opts.stdoutOnly === true
      ? (d: Buffer) => {
          stderr += d.toString()
        }
      : onData
  )
  const timer = setTimeout(() => {
    child.kill('SIGKILL')
  }, opts.timeoutMs ?? 90_000)
  const code = await new Promise<number | null>(resolve =>
    child.once('exit', c => {
      resolve(c)
    })
  )
  clearTimeout(timer)
  outputs.push(out, stderr)
  return { code, out, pages }
}

const WRONG_PASSWORD = 'wrong-Guess-S3cret'
const goodTarget = (): { listener: string; props: Record<string, string> } => ({
  listener: 'SASL_SSL',
  props: {
    'security.protocol': 'SASL_SSL',
    'ssl.truststore.type': 'PKCS12',
    'ssl.truststore.location': pkiT.ca.p12,
    'ssl.truststore.password': pkiT.ca.password,
    'sasl.mechanism': 'SCRAM-SHA-512',
    'sasl.jaas.config': scramJaas(SECURE_USERS.scram512, SECURE_USERS.scram512.password)
  }
})
const scramSource = (overrides: Record<string, string>): { listener: string; props: Record<string, string> } => ({
  listener: 'SASL_SSL',
  props: {
    'security.protocol': 'SASL_SSL',
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': pkiS.ca.crt,
    'sasl.mechanism': 'SCRAM-SHA-512',
    'sasl.jaas.config': scramJaas(SECURE_USERS.scram512, SECURE_USERS.scram512.password),
    ...overrides
  }
})

test('validate on a good secured config exits 0 and lists the topic', async () => {
  const topic = uniqueName('validate-ok')
  await createTopic(S, topic)
  const r = await cli([
    'validate',
    '--config',
    writeSecureProperties('validate-ok', topic, scramSource({}), goodTarget())
  ])
  assert.equal(r.code, 0, r.out)
  assert.match(r.out, new RegExp(`${topic} -> src\\.${topic}`))
})

test('untrusted certificate: validate exits 1 naming the cluster, its address and the trust settings', async () => {
  const r = await cli([
    'validate',
    '--config',
    writeSecureProperties('untrusted', 'x', scramSource({ 'ssl.truststore.location': pkiS.otherCa.crt }), goodTarget())
  ])
  assert.equal(r.code, 1, r.out)
  assert.match(r.out, /cannot list topics of src \(127\.0\.0\.1:\d+\).*certificate is not trusted.*ssl\.truststore/)
  assert.ok(r.out.includes(S.bootstrap('SASL_SSL')), r.out)
})

test('host name mismatch: validate exits 1 with a host name mismatch message; an empty ssl.endpoint.identification.algorithm turns the check off', async () => {
  const props = { 'security.protocol': 'SSL', 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': pkiS.ca.crt }
  const r = await cli([
    'validate',
    '--config',
    writeSecureProperties('badname', 'x', { listener: 'BADNAME', props }, goodTarget())
  ])
  assert.equal(r.code, 1, r.out)
  assert.match(r.out, /src \(127\.0\.0\.1:\d+\).*host name mismatch/)
  const off = await cli([
    'validate',
    '--config',
    writeSecureProperties(
      'badname-off',
      'x',
      { listener: 'BADNAME', props: { ...props, 'ssl.endpoint.identification.algorithm': '' } },
      goodTarget()
    )
  ])
  assert.equal(off.code, 0, off.out)
})

test('mutual TLS listener without a client certificate, TLS to a plaintext port, plaintext to a TLS port: validate exits 1 saying so', async () => {
  const trust = { 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': pkiS.ca.crt }
  const noCert = await cli([
    'validate',
    '--config',
    writeSecureProperties(
      'nocert',
      'x',
      { listener: 'MTLS', props: { 'security.protocol': 'SSL', ...trust } },
      goodTarget()
    )
  ])
  assert.equal(noCert.code, 1, noCert.out)
  assert.match(noCert.out, /cannot list topics of src \(127\.0\.0\.1:\d+\).*refused the client certificate/)
  const tlsToPlain = await cli([
    'validate',
    '--config',
    writeSecureProperties(
      'tls2plain',
      'x',
      { listener: 'PLAINTEXT', props: { 'security.protocol': 'SSL', ...trust } },
      goodTarget()
    )
  ])
  assert.equal(tlsToPlain.code, 1, tlsToPlain.out)
  assert.match(tlsToPlain.out, /src \(127\.0\.0\.1:\d+\).*does not seem to speak TLS/)
  const plainToTls = await cli([
    'validate',
    '--config',
    writeSecureProperties('plain2tls', 'x', { listener: 'SSL', props: {} }, goodTarget())
  ])
  assert.equal(plainToTls.code, 1, plainToTls.out)
  assert.match(plainToTls.out, /src \(127\.0\.0\.1:\d+\).*requires TLS/)
})

test('wrong SASL password: validate exits 1 with "SASL authentication failed" for the target', async () => {
  const target = goodTarget()
  const r = await cli([
    'validate',
    '--config',
    writeSecureProperties('wrongpw', 'x', scramSource({}), {
      ...target,
      props: { ...target.props, 'sasl.jaas.config': scramJaas(SECURE_USERS.scram512, WRONG_PASSWORD) }
    })
  ])
  assert.equal(r.code, 1, r.out)
  assert.match(r.out, /cannot connect to target tgt \(127\.0\.0\.1:\d+\).*SASL authentication failed/)
})

test('unknown mechanism, missing file, wrong truststore and keystore passwords: exit 2 at start, naming cluster, address and key', async () => {
  const gssapi = await cli([
    'validate',
    '--config',
    writeSecureProperties('gssapi', 'x', scramSource({ 'sasl.mechanism': 'GSSAPI' }), goodTarget())
  ])
  assert.equal(gssapi.code, 2, gssapi.out)
  assert.match(
    gssapi.out,
    /cluster src \(127\.0\.0\.1:\d+\): sasl\.mechanism: GSSAPI .*not supported.*PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER/
  )

  const missing = await cli([
    'run',
    '--config',
    writeSecureProperties(
      'missing',
      'x',
      scramSource({ 'ssl.truststore.location': join(dir, 'nope', 'ca.crt') }),
      goodTarget()
    )
  ])
  assert.equal(missing.code, 2, missing.out)
  assert.match(
    missing.out,
    /cluster src \(127\.0\.0\.1:\d+\): ssl\.truststore\.location: cannot read .*nope\/ca\.crt \(ENOENT\)/
  )

  const target = goodTarget()
  const wrongStore = await cli([
    'validate',
    '--offline',
    '--config',
    writeSecureProperties('wrongstore', 'x', scramSource({}), {
      ...target,
      props: { ...target.props, 'ssl.truststore.password': WRONG_PASSWORD }
    })
  ])
  assert.equal(wrongStore.code, 2, wrongStore.out)
  assert.match(
    wrongStore.out,
    /cluster tgt \(127\.0\.0\.1:\d+\): ssl\.truststore\.location: the password does not open this PKCS12 store.*ssl\.truststore\.password/
  )

  const user = pkiS.issue('keystore-user', { cn: 'keystore-user' })
  testSecrets.push(user.p12Password, pemKeyLine(user.key))
  const wrongKeystore = await cli([
    'validate',
    '--config',
    writeSecureProperties(
      'wrongkeystore',
      'x',
      {
        listener: 'MTLS',
        props: {
          'security.protocol': 'SSL',
          'ssl.truststore.type': 'PEM',
          'ssl.truststore.location': pkiS.ca.crt,
          'ssl.keystore.type': 'PKCS12',
          'ssl.keystore.location': user.p12,
          'ssl.keystore.password': WRONG_PASSWORD
        }
      },
      goodTarget()
    )
  ])
  assert.equal(wrongKeystore.code, 2, wrongKeystore.out)
  assert.match(
    wrongKeystore.out,
    /cluster src \(127\.0\.0\.1:\d+\): ssl\.keystore\.location: the password does not open this PKCS12 store/
  )
})

test("missing secret in a resource's secrets directory: exit 2 naming the secret and key", async () => {
  const file = join(dir, 'missing-secret.yaml')
  writeFileSync(
    file,
    `apiVersion: kafka.strimzi.io/v1beta2
kind: KafkaMirrorMaker2
metadata:
  name: m
spec:
  connectCluster: tgt
  clusters:
  - alias: src
    bootstrapServers: ${S.bootstrap('SASL_SSL')}
    tls: {}
    authentication:
      type: scram-sha-512
      username: u
      passwordSecret: { secretName: no-such-user, password: password }
  - alias: tgt
    bootstrapServers: ${T.bootstrap('SASL_SSL')}
  mirrors:
  - sourceCluster: src
    targetCluster: tgt
    sourceConnector: {}
`
  )
  const r = await cli(['validate', '--offline', '--config', file, '--secrets-dir', join(dir, 'empty-secrets')])
  assert.equal(r.code, 2, r.out)
  assert.match(r.out, /secret "no-such-user" key "password" not found/)
})

test('a running mirror with a wrong target password reports the flow not ready with the reason, then stops cleanly on SIGTERM', async () => {
  const target = goodTarget()
  const file = writeSecureProperties('run-wrongpw', 'x', scramSource({}), {
    ...target,
    props: { ...target.props, 'sasl.jaas.config': scramJaas(SECURE_USERS.scram512, WRONG_PASSWORD) }
  })
  const r = await cli(['run', '--config', file], { stopAfter: out => /flow not ready/.test(out) })
  assert.equal(r.code, 0, r.out)
  assert.match(r.out, /flow not ready.*SASL authentication failed.*connecting to 127\.0\.0\.1:\d+/)
  // /readyz says the same, naming the target cluster (the pages go to the secret scan too).
  const ready = r.pages.get('/readyz')
  assert.equal(ready?.status, 503, ready?.body)
  const replication = (
    JSON.parse(ready?.body ?? '{}') as {
      notReady?: Array<{ component: string; cluster: string | null; reason: string }>
    }
  ).notReady?.find(n => n.component === 'replication src->tgt')
  assert.equal(replication?.cluster, 'tgt', ready?.body)
  assert.match(replication?.reason ?? '', /SASL authentication failed/)
})

test('a running mirror whose target certificate is not trusted reports the flow not ready naming the certificate problem, then stops cleanly on SIGTERM', async () => {
  const target = goodTarget()
  const file = writeSecureProperties('run-untrusted', 'x', scramSource({}), {
    ...target,
    props: {
      ...target.props,
      'ssl.truststore.location': pkiT.otherCa.p12,
      'ssl.truststore.password': pkiT.otherCa.password
    }
  })
  const r = await cli(['run', '--config', file], { stopAfter: out => /flow not ready/.test(out) })
  assert.equal(r.code, 0, r.out)
  assert.match(r.out, /flow not ready.*cluster tgt: TLS: the broker's certificate is not trusted.*ssl\.truststore/)
  assert.ok(r.out.includes(T.bootstrap('SASL_SSL').split(',')[0] ?? 'no address'), r.out)
})

async function setScramPassword(cluster: KafkaCluster, user: string, password: string): Promise<void> {
  const r = await runJava(
    [
      'kafka.admin.ConfigCommand',
      '--bootstrap-server',
      cluster.bootstrap(),
      '--alter',
      '--add-config',
      `SCRAM-SHA-512=[password=${password}]`,
      '--entity-type',
      'users',
      '--entity-name',
      user
    ],
    { label: 'kafka-configs' }
  )
  assert.equal(r.code, 0, r.stderr)
}

test('rotation: a SCRAM password changed in the mounted secret is used by new connections, without a restart and without losing records', async t => {
  const topic = uniqueName('rotate')
  await createTopic(S, topic, { partitions: 2 })
  const user = 'rotating-user'
  const [pw1, pw2] = ['rotate-One-S3cret', 'rotate-Two-S3cret']
  await setScramPassword(S, user, pw1)
  const secrets = join(dir, 'rotation-secrets')
  writeSecretVolume(secrets, 'src-cluster-ca-cert', { 'ca.crt': readFileSync(pkiS.ca.crt, 'utf8') }, 1)
  writeSecretVolume(secrets, 'tgt-cluster-ca-cert', { 'ca.crt': readFileSync(pkiT.ca.crt, 'utf8') }, 1)
  writeSecretVolume(secrets, user, { password: pw1 }, 1)
  writeSecretVolume(secrets, 'mirror-user', { password: SECURE_USERS.scram512.password }, 1)
  const cluster = (alias: string, c: KafkaCluster, username: string, secretName: string): string => `
  - alias: "${alias}"
    bootstrapServers: ${c.bootstrap('SASL_SSL')}
    tls:
      trustedCertificates: [{ secretName: ${alias}-cluster-ca-cert, certificate: ca.crt }]
    authentication: { type: scram-sha-512, username: ${username}, passwordSecret: { secretName: ${secretName}, password: password } }`
  const file = join(dir, 'rotation.yaml')
  writeFileSync(
    file,
    `apiVersion: kafka.strimzi.io/v1beta2
kind: KafkaMirrorMaker2
metadata: { name: rotating }
spec:
  connectCluster: tgt
  clusters:${cluster('src', S, user, user)}${cluster('tgt', T, SECURE_USERS.scram512.username, 'mirror-user')}
    config: { offset.storage.replication.factor: 1, offset.flush.interval.ms: 500 }
  mirrors:
  - sourceCluster: src
    targetCluster: tgt
    topicsPattern: "${topic}"
    sourceConnector: { config: { replication.factor: 1, offset-syncs.topic.replication.factor: 1 } }
`
  )
  const { config } = await loadConfig(file, { secretsDir: secrets })
  const mirror = buildMirror(config, log)
  t.after(async () => {
    await mirror.close()
  })
  const batch = (from: number): Array<{ partition: number; value: string }> =>
    Array.from({ length: 10 }, (_, i) => ({ partition: i % 2, value: `r${from + i}` }))
  await produce(S, topic, batch(0))
  mirror.start()
  const remoteValues = async (): Promise<string[]> =>
    (await readAll(T, `src.${topic}`).catch(() => [])).map(r => r.value?.toString() ?? '').sort()
  await waitFor(async () => (await remoteValues()).length === 10, { timeoutMs: 90_000, what: 'the first 10 records' })

  // The password changes on the broker and in the mounted secret (atomic swap, as the kubelet does);
  // the broker restart drops every connection, so only a re-read password gets the mirror back in.
  await setScramPassword(S, user, pw2)
  writeSecretVolume(secrets, user, { password: pw2 }, 2)
  await S.stop()
  await S.restart()
  await produce(S, topic, batch(10))
  await waitFor(async () => (await remoteValues()).length >= 20, {
    timeoutMs: 120_000,
    what: `20 records after the rotation; flow status: ${JSON.stringify(mirror.status().map(s => [s.state, s.reason]))}`
  })
  assert.deepEqual(await remoteValues(), [...batch(0), ...batch(10)].map(r => r.value).sort())
  for (const line of logLines)
    for (const s of [pw1, pw2]) assert.ok(!line.includes(s), `a password appeared in the log: ${line}`)
})

test('no secret value appears in any output of the commands above', () => {
  const secrets = [
    SECURE_USERS.scram512.password,
    SECURE_USERS.scram256.password,
    SECURE_USERS.plain.password,
    WRONG_PASSWORD,
    pkiS.ca.password,
    pkiT.ca.password,
    ...testSecrets
  ]
  assert.ok(testSecrets.length >= 7, `secrets of the single tests collected: ${testSecrets.length}`)
  assert.ok(outputs.length >= 1, 'no command output collected')
  assert.ok(
    outputs.some(
      o => o.startsWith('/metrics:\n') && o.includes('kafka_connect_mirror_mirrorsourceconnector_record_count{')
    ),
    'the scan saw /metrics of a mirror that copied'
  )
  assert.ok(
    outputs.some(o => o.startsWith('/status:\n') && o.includes('"partitions":[{')),
    'the scan saw /status with partitions'
  )
  // KM_SECURITY_OUTPUTS=<file> keeps what the commands printed, to read the messages.
  if (process.env.KM_SECURITY_OUTPUTS !== undefined)
    writeFileSync(process.env.KM_SECURITY_OUTPUTS, outputs.join('\n-----\n'))
  for (const out of outputs) for (const s of secrets) assert.ok(!out.includes(s), `a secret value appeared in:\n${out}`)
  for (const line of logLines)
    for (const s of secrets) assert.ok(!line.includes(s), `a secret value appeared in the log: ${line}`)
})
