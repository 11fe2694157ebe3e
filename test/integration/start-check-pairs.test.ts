/**
 * The start-up checks see every pair the mirror runs (config/what-runs.ts), not only the pairs
 * that copy: a heartbeats-only or checkpoints-only pair connects to its clusters as surely as a
 * copying one, so a bad setting or an unreachable cluster there is reported at start, naming the
 * cluster, the same way as for a copying pair (the copying pair A->B runs on real brokers here).
 * Before the rule was shared, `run` started and the heartbeat emitter failed later, and
 * `validate` never connected to such a cluster at all.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { type KafkaCluster, startClusters } from '../harness/cluster.ts'
import { createTopic, uniqueName } from '../harness/helpers.ts'
import { writeMm2Properties } from '../harness/mirror-config.ts'
import { freePort } from '../harness/ports.ts'
import { spawnTracked } from '../harness/processes.ts'

const bin = join(import.meta.dirname, '..', '..', 'bin', 'kafka-mirror.js')

let A: KafkaCluster
let B: KafkaCluster
/** A port nothing listens on: cluster C's address. */
let closedPort: number
before(async () => {
  const [a, b] = await startClusters([{ name: 'pairs-A' }, { name: 'pairs-B' }])
  if (a === undefined || b === undefined) throw new Error('clusters did not start')
  A = a
  B = b
  closedPort = await freePort()
})
after(async () => {
  await Promise.all([A?.close(), B?.close()])
})

/**
 * Runs the real CLI; a `run` that gets as far as replicating is stopped with SIGTERM (it would
 * otherwise run on: that is the failure this file guards against).
 */
async function cli(args: readonly string[]): Promise<{ code: number | string; out: string }> {
  const proc = spawnTracked('kafka-mirror', process.execPath, [bin, ...args], {})
  let out = ''
  let stopping = false
  const onData = (d: Buffer): void => {
    out += d.toString()
    // One SIGTERM only: a second one would find run's handler gone and kill it. The grace is
    // run's own shutdown limit and more: a heartbeat pass still connecting to C delays the close.
    if (!stopping && args[0] === 'run' && /replicating/.test(out)) {
      stopping = true
      void proc.stop(40_000)
    }
  }
  proc.child.stdout?.on('data', onData)
  proc.child.stderr?.on('data', onData)
  const timer = setTimeout(() => {
    void proc.stop(40_000)
  }, 90_000)
  const code = await proc.exited
  clearTimeout(timer)
  return { code, out }
}

/** A->B copies `topic` (A and B real); C, at a closed port, is used only by heartbeats A->C. */
function heartbeatsIntoC(topic: string, cSettings: Readonly<Record<string, string>>): string {
  return writeMm2Properties(
    { A, B },
    {
      clusters: 'A, B, C',
      'C.bootstrap.servers': `127.0.0.1:${closedPort}`,
      'A->B.enabled': 'true',
      'A->B.topics': topic,
      'emit.heartbeats.enabled': 'false',
      'A->C.emit.heartbeats.enabled': 'true',
      'sync.topic.acls.enabled': 'false',
      ...cSettings
    }
  )
}

test(
  'run: a missing truststore of a cluster that only receives heartbeats stops the start (exit 2) naming the cluster, as it does for a copying pair',
  { timeout: 240_000 },
  async () => {
    const topic = uniqueName('pairs')
    await createTopic(A, topic)
    const missing = join(tmpdir(), uniqueName('no-such-dir'), 'ca.crt')
    const tls = { 'security.protocol': 'SSL', 'ssl.truststore.type': 'PEM', 'ssl.truststore.location': missing }
    const heartbeatsOnly = await cli([
      'run',
      '--config',
      heartbeatsIntoC(topic, Object.fromEntries(Object.entries(tls).map(([k, v]) => [`C.${k}`, v])))
    ])
    assert.equal(heartbeatsOnly.code, 2, heartbeatsOnly.out)
    assert.match(
      heartbeatsOnly.out,
      new RegExp(
        `cluster C \\(127\\.0\\.0\\.1:${closedPort}\\): ssl\\.truststore\\.location: cannot read .*ca\\.crt \\(ENOENT\\)`
      )
    )
    assert.doesNotMatch(heartbeatsOnly.out, /replicating/, 'nothing started')

    // The same setting on the copying pair's target fails the same way: one check for both.
    const copying = await cli([
      'run',
      '--config',
      writeMm2Properties(
        { A, B },
        {
          'A->B.enabled': 'true',
          'A->B.topics': topic,
          'emit.heartbeats.enabled': 'false',
          ...Object.fromEntries(Object.entries(tls).map(([k, v]) => [`B.${k}`, v]))
        }
      )
    ])
    assert.equal(copying.code, 2, copying.out)
    assert.match(
      copying.out,
      new RegExp(
        `cluster B \\(127\\.0\\.0\\.1:\\d+\\): ssl\\.truststore\\.location: cannot read .*ca\\.crt \\(ENOENT\\)`
      )
    )

    // With C's settings in order, the mirror starts and copies (C being down is then a runtime
    // matter, reported as the emitter's not-ready state): the exit above came from the check.
    const fine = await cli(['run', '--config', heartbeatsIntoC(topic, {})])
    assert.equal(fine.code, 0, fine.out)
    assert.match(fine.out, /replicating/)
  }
)

test(
  'validate: a cluster used only by a heartbeats-only pair is connected to; unreachable, it fails naming the cluster and its address',
  { timeout: 240_000 },
  async () => {
    const topic = uniqueName('pairs-validate')
    await createTopic(A, topic)
    const r = await cli(['validate', '--config', heartbeatsIntoC(topic, {})])
    assert.equal(r.code, 1, r.out)
    assert.match(r.out, new RegExp(`${topic} -> A\\.${topic}`), 'the copying pair is listed as before')
    assert.match(r.out, new RegExp(`A->C: cannot connect to target C \\(127\\.0\\.0\\.1:${closedPort}\\)`))
  }
)

test(
  'validate: a checkpoints-only pair (Strimzi mirror with only a checkpointConnector) connects to its source; unreachable, it fails naming it',
  { timeout: 240_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'km-pairs-'))
    const file = join(dir, 'mm2.yaml')
    writeFileSync(
      file,
      `apiVersion: kafka.strimzi.io/v1
kind: KafkaMirrorMaker2
metadata:
  name: pairs
spec:
  target:
    alias: b
    bootstrapServers: ${B.bootstrap()}
    groupId: pairs
    configStorageTopic: pairs-config
    offsetStorageTopic: pairs-offsets
    statusStorageTopic: pairs-status
  mirrors:
  - source:
      alias: a
      bootstrapServers: ${A.bootstrap()}
    sourceConnector:
      config:
        replication.factor: 1
        offset-syncs.topic.replication.factor: 1
  - source:
      alias: c
      bootstrapServers: 127.0.0.1:${closedPort}
    checkpointConnector:
      config:
        checkpoints.topic.replication.factor: 1
`
    )
    const r = await cli(['validate', '--config', file])
    assert.equal(r.code, 1, r.out)
    assert.match(r.out, /c->b \(checkpoints only\)/, 'the plan names what the pair runs')
    assert.match(r.out, new RegExp(`c->b: cannot connect to source c \\(127\\.0\\.0\\.1:${closedPort}\\)`))
    assert.doesNotMatch(r.out, /a->b: cannot/, 'the copying pair connects')
  }
)
