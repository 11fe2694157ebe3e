/**
 * /metrics, /healthz, /readyz and /status over HTTP from a mirror that runs no broker: what a
 * starting mirror and one whose clusters are unreachable answer, and that no secret of the
 * config appears in any endpoint (the same values the security test scans the logs for).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadMm2Properties } from '../../../src/config/mm2-properties.ts'
import { buildMirror, type Mirror } from '../../../src/mirror.ts'
import { startHttpServer } from '../../../src/observe/http-server.ts'
import { createLogger } from '../../../src/observe/logger.ts'
import { mirrorRoutes } from '../../../src/observe/routes.ts'
import type { StatusReport } from '../../../src/observe/status-report.ts'
import { waitFor } from '../../harness/helpers.ts'
import { freePort } from '../../harness/ports.ts'

const quiet = createLogger('test', () => {})
const SECRETS = ['sc-ram-Pa55word', 'trust-St0re-pass', 'key-St0re-pass', 'oauth-Cl1ent-secret']

function secureConfig(port: number): Mirror {
  const text =
    [
      'clusters = A, B',
      `A.bootstrap.servers = 127.0.0.1:${port}`,
      `B.bootstrap.servers = 127.0.0.1:${port}`,
      'A.security.protocol = SASL_PLAINTEXT',
      'A.sasl.mechanism = SCRAM-SHA-512',
      `A.sasl.jaas.config = org.apache.kafka.common.security.scram.ScramLoginModule required username="mirror" password="${SECRETS[0]}";`,
      `B.ssl.truststore.password = ${SECRETS[1]}`,
      `B.ssl.keystore.password = ${SECRETS[2]}`,
      `B.sasl.oauthbearer.client.secret = ${SECRETS[3]}`,
      'A->B.enabled = true',
      'A->B.topics = orders'
    ].join('\n') + '\n'
  return buildMirror(
    loadMm2Properties(text, { file: 'secure-mirror.properties', env: {}, secretsDir: undefined }).config,
    quiet
  )
}

async function get(port: number, path: string): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`)
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() }
}

const PATHS = ['/metrics', '/healthz', '/readyz', '/status']

function assertNoSecret(bodies: readonly string[]): void {
  for (const body of bodies) {
    for (const s of SECRETS) assert.ok(!body.includes(s), `secret ${s} appears in an endpoint:\n${body.slice(0, 2000)}`)
  }
}

test('a mirror that has not connected yet: alive, not ready (each component named, starting), status and metrics with MM2 and Strimzi names; no secret anywhere', async t => {
  const mirror = secureConfig(await freePort())
  const server = await startHttpServer({ port: 0, host: '127.0.0.1', routes: mirrorRoutes(mirror, quiet), log: quiet })
  t.after(async () => {
    await server.close()
    await mirror.close()
  })
  const health = await get(server.port, '/healthz')
  assert.equal(health.status, 200)
  assert.equal((JSON.parse(health.body) as { status: string }).status, 'ok')
  const ready = await get(server.port, '/readyz')
  assert.equal(ready.status, 503)
  const notReady = (
    JSON.parse(ready.body) as { ready: boolean; notReady: Array<{ component: string; state: string; reason: string }> }
  ).notReady
  assert.deepEqual(notReady.map(r => r.component).sort(), [
    'checkpoints A->B',
    'heartbeats A->B',
    'heartbeats B->A',
    'replication A->B'
  ])
  for (const r of notReady) {
    assert.equal(r.state, 'starting')
    assert.match(r.reason, /starting: connecting to clusters/)
  }
  const status = JSON.parse((await get(server.port, '/status')).body) as StatusReport
  assert.equal(status.version, 1)
  assert.equal(status.ready, false)
  assert.deepEqual(
    status.flows.map(f => [f.flow, f.source, f.target, f.state, f.recordsCopied]),
    [['A->B', 'A', 'B', 'starting', 0]]
  )
  assert.deepEqual(
    status.checkpoints.map(c => [c.flow, c.checkpointsTopic, c.lastEmitAt]),
    [['A->B', 'A.checkpoints.internal', null]]
  )
  assert.equal(status.heartbeats.length, 2)
  const metrics = await get(server.port, '/metrics')
  assert.equal(metrics.status, 200)
  assert.match(metrics.type, /^text\/plain; version=0\.0\.4/)
  const pod =
    'strimzi_io_kind="KafkaMirrorMaker2",strimzi_io_cluster="secure-mirror",strimzi_io_name="secure-mirror-mirrormaker2"'
  // One source, one checkpoint and two heartbeat connectors, none running yet.
  assert.match(
    metrics.body,
    new RegExp(`^kafka_connect_worker_connector_count\\{${pod},kubernetes_pod_name="[^"]+"\\} 4$`, 'm')
  )
  assert.match(
    metrics.body,
    /^kafka_connect_connector_status\{connector="MirrorSourceConnector",task="0",status="unassigned",strimzi_io_kind/m
  )
  assert.match(metrics.body, /^kafka_mirror_flow_ready\{flow="A->B",component="replication",.*\} 0$/m)
  assert.match(metrics.body, /^jvm_memory_used_bytes\{area="heap",.*\} \d+$/m)
  assert.match(metrics.body, /^process_cpu_seconds_total\{.*\} [\d.e-]+$/m)
  assertNoSecret(await Promise.all(PATHS.map(async p => (await get(server.port, p)).body)))
})

test('unreachable clusters: /readyz names the cluster and the reason; /status and /metrics say not ready; still no secret', async t => {
  // A port nothing listens on: connections are refused at once.
  const mirror = secureConfig(await freePort())
  const server = await startHttpServer({ port: 0, host: '127.0.0.1', routes: mirrorRoutes(mirror, quiet), log: quiet })
  t.after(async () => {
    await server.close()
    await mirror.close()
  })
  mirror.start()
  const notReady = await waitFor(
    async () => {
      const r = JSON.parse((await get(server.port, '/readyz')).body) as {
        notReady: Array<{ component: string; cluster: string | null; state: string; reason: string }>
      }
      const flow = r.notReady.find(n => n.component === 'replication A->B')
      return flow !== undefined && flow.state === 'not-ready' && flow.cluster !== null ? r.notReady : undefined
    },
    { timeoutMs: 60_000, what: 'replication A->B not ready with a cluster named' }
  )
  const flow = notReady.find(n => n.component === 'replication A->B')
  assert.ok(flow !== undefined && ['A', 'B'].includes(flow.cluster ?? ''), JSON.stringify(flow))
  assert.match(flow.reason, new RegExp(`cluster ${flow.cluster ?? ''}`))
  assert.equal((await get(server.port, '/readyz')).status, 503)
  const metrics = (await get(server.port, '/metrics')).body
  assert.match(metrics, /^kafka_connect_connector_status\{connector="MirrorSourceConnector",task="0",status="failed",/m)
  assert.match(metrics, /^kafka_connect_worker_connector_failed_task_count\{connector="MirrorSourceConnector",.*\} 1$/m)
  // Both heartbeat emitters (A->B and B->A) are a dedicated-mode MirrorHeartbeatConnector: their counts add up.
  await waitFor(
    async () =>
      /^kafka_connect_worker_connector_failed_task_count\{connector="MirrorHeartbeatConnector",.*\} 2$/m.test(
        (await get(server.port, '/metrics')).body
      ),
    { timeoutMs: 30_000, what: 'two failed heartbeat tasks' }
  )
  assert.equal((await get(server.port, '/healthz')).status, 200)
  assertNoSecret(await Promise.all(PATHS.map(async p => (await get(server.port, p)).body)))
})
