/**
 * State written from a Strimzi KafkaMirrorMaker2 resource is the state a Strimzi-run Kafka Connect
 * cluster reads: a real Connect distributed worker (Strimzi's worker keys: group
 * `mirrormaker2-cluster`, offsets topic `mirrormaker2-cluster-offsets`) with the connector Strimzi
 * would create (`<source>-><target>.MirrorSourceConnector`) reports kafka-mirror's positions through
 * its offsets REST API (KIP-875), and, resumed, continues after them with no gap and no duplicate.
 * kafka-mirror's position records carry the `kafka-mirror-owner` header (as every instance of a
 * group writes them), which Connect's offset store ignores.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadConfig } from '../../src/config/load.ts'
import { decodeSourceOffsetKey } from '../../src/formats/connect-offsets.ts'
import { Lease } from '../../src/group/lease.ts'
import { OWNER_HEADER } from '../../src/source/position-store.ts'
import { SourceFlow } from '../../src/source/source-flow.ts'
import { startClusters } from '../harness/cluster.ts'
import { comparable, createTopic, produce, readAll, uniqueName, waitFor } from '../harness/helpers.ts'
import { startJavaConnect } from '../harness/java-connect.ts'
import { testLogger } from '../harness/mirror-runner.ts'
import { waitForStoredPositions } from '../harness/positions.ts'

const SOURCE = 'my-cluster-source'
const TARGET = 'my-cluster-target'
const CONNECTOR = `${SOURCE}->${TARGET}.MirrorSourceConnector`

test(
  'Strimzi naming: a Strimzi-run Connect reads the positions kafka-mirror stored and resumes after them',
  { timeout: 600_000 },
  async t => {
    const fns: Array<() => Promise<void>> = []
    t.after(async () => {
      for (const fn of fns.reverse()) await fn()
    })
    const [A, B] = await startClusters([{ name: 'source' }, { name: 'target' }])
    assert.ok(A !== undefined && B !== undefined)
    fns.push(async () => {
      await Promise.all([A.close(), B.close()])
    })
    const log = testLogger()

    const topic = uniqueName('strimzi')
    const remote = `${SOURCE}.${topic}`
    await createTopic(A, topic, { partitions: 3 })
    await produce(
      A,
      topic,
      Array.from({ length: 300 }, (_, i) => ({ partition: i % 3, key: `k${i}`, value: `first-${i}` }))
    )

    const dir = mkdtempSync(join(tmpdir(), 'km-strimzi-'))
    const cr = join(dir, 'mm2.yaml')
    writeFileSync(
      cr,
      `apiVersion: kafka.strimzi.io/v1beta2
kind: KafkaMirrorMaker2
metadata:
  name: my-mirror-maker2
spec:
  version: 4.1.0
  replicas: 1
  connectCluster: "${TARGET}"
  clusters:
  - alias: "${SOURCE}"
    bootstrapServers: ${A.bootstrap()}
  - alias: "${TARGET}"
    bootstrapServers: ${B.bootstrap()}
    config:
      config.storage.replication.factor: 1
      offset.storage.replication.factor: 1
      status.storage.replication.factor: 1
      offset.flush.interval.ms: 500
  mirrors:
  - sourceCluster: "${SOURCE}"
    targetCluster: "${TARGET}"
    topicsPattern: "${topic}"
    sourceConnector:
      tasksMax: 1
      config:
        replication.factor: 1
        offset-syncs.topic.replication.factor: 1
        sync.topic.acls.enabled: "false"
`
    )
    const { config } = await loadConfig(cr)
    assert.equal(config.flows[0]?.naming.offsetsTopic, 'mirrormaker2-cluster-offsets')
    assert.equal(config.flows[0]?.naming.sourceConnectorName, CONNECTOR)
    // The flow as a group member runs it: writes gated by a (granted) lease, positions naming the writer.
    const lease = new Lease({ groupId: 'mirrormaker2-cluster', sessionTimeoutMs: 600_000 })
    lease.setGeneration(1)
    lease.renew(process.hrtime.bigint())
    const flowConfig = config.flows[0]
    assert.ok(flowConfig !== undefined)
    const mirror = new SourceFlow(flowConfig, log, { gate: lease, owner: 'strimzi-pod-0' })
    fns.push(async () => {
      await mirror.close()
      lease.close()
    })
    mirror.start()
    await waitFor(async () => (await readAll(B, remote).catch(() => [])).length === 300, {
      timeoutMs: 90_000,
      what: '300 records copied by kafka-mirror'
    })
    await mirror.close() // stores the positions
    const ours = (await readAll(B, 'mirrormaker2-cluster-offsets')).filter(
      r => decodeSourceOffsetKey(r.key).topic === topic
    )
    assert.ok(ours.length > 0)
    for (const r of ours)
      assert.deepEqual(
        r.headers.map(([k, v]) => [k.toString(), v?.toString()]),
        [[OWNER_HEADER, 'strimzi-pod-0 1']],
        'the position records Connect is about to read carry the owner header'
      )

    // Connect as Strimzi runs it, with the connector Strimzi would create, first stopped: its
    // offsets are what Connect reads from the offsets topic under the connector's name.
    const connect = await startJavaConnect(B.bootstrap())
    fns.push(async () => {
      await connect.stop()
    })
    const path = `/connectors/${encodeURIComponent(CONNECTOR)}`
    await connect.rest('POST', '/connectors', {
      name: CONNECTOR,
      initial_state: 'STOPPED',
      config: {
        'connector.class': 'org.apache.kafka.connect.mirror.MirrorSourceConnector',
        'source.cluster.alias': SOURCE,
        'target.cluster.alias': TARGET,
        'source.cluster.bootstrap.servers': A.bootstrap(),
        'target.cluster.bootstrap.servers': B.bootstrap(),
        topics: topic,
        'tasks.max': '1',
        'replication.factor': '1',
        'offset-syncs.topic.replication.factor': '1',
        'sync.topic.acls.enabled': 'false',
        'refresh.topics.interval.seconds': '5'
      }
    })
    const body = await waitFor(
      async () => {
        const r = (await connect.rest('GET', `${path}/offsets`)) as {
          offsets: Array<{ partition: Record<string, unknown>; offset: Record<string, unknown> }>
        }
        return r.offsets.length >= 3 ? r : undefined
      },
      { timeoutMs: 60_000, what: 'offsets of the stopped connector' }
    )
    const seen = body.offsets
      .map((o): Record<string, unknown> => ({ ...o.partition, offset: o.offset.offset }))
      .sort((a, b) => Number(a.partition) - Number(b.partition))
    assert.deepEqual(
      seen,
      [0, 1, 2].map(p => ({ cluster: SOURCE, partition: p, topic, offset: 99 })),
      'Connect reads the last copied offset of each partition'
    )

    // Resumed, Connect's MirrorSourceConnector continues after kafka-mirror's positions.
    await produce(
      A,
      topic,
      Array.from({ length: 150 }, (_, i) => ({ partition: i % 3, key: `k${300 + i}`, value: `second-${i}` }))
    )
    await connect.rest('PUT', `${path}/resume`)
    await waitFor(async () => (await readAll(B, remote)).length >= 450, {
      timeoutMs: 180_000,
      what: 'the later records copied by Java'
    })
    // Connect stores its positions (under the connector's name, in Strimzi's offsets topic) only
    // after the target acknowledged the records: a re-copy from the start is on B once they reach the end.
    await waitForStoredPositions(
      A,
      [topic],
      B,
      { source: SOURCE, offsetsTopic: 'mirrormaker2-cluster-offsets', connector: CONNECTOR },
      { timeoutMs: 120_000 }
    )
    assert.deepEqual(
      (await readAll(B, remote)).map(comparable),
      (await readAll(A, topic)).map(comparable),
      'no gap, no duplicate'
    )
  }
)
