/** config/client-ids.ts: the ids every client of a pair carries (MM2's for the connectors' clients). */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { connectorClientIds, pairClientId } from '../../../src/config/client-ids.ts'
import { loadMm2Properties } from '../../../src/config/mm2-properties.ts'
import { loadStrimzi } from '../../../src/config/strimzi.ts'
import { mirrorTaskClientId } from '../../../src/observe/metrics-names.ts'
import { strimziV1 } from './config-fixture.ts'

const opts = { env: {}, secretsDir: undefined }

test("mm2.properties: MM2 connector names in the ids of each connector's clients; commands name the pair and their use", () => {
  const flow = loadMm2Properties(
    'clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\nA->B.enabled = true\n',
    { file: 'mm2.properties', ...opts }
  ).config.flows.find(f => f.name === 'A->B')!
  const rows: Array<[string, string]> = [
    [connectorClientIds(flow, 'source')('replication-producer'), 'A->B|MirrorSourceConnector|replication-producer'],
    [
      connectorClientIds(flow, 'checkpoint')('checkpoint-source-admin'),
      'A->B|MirrorCheckpointConnector|checkpoint-source-admin'
    ],
    [connectorClientIds(flow, 'heartbeat')('heartbeats-producer'), 'A->B|MirrorHeartbeatConnector|heartbeats-producer'],
    [pairClientId(flow, 'offsets-source-admin'), 'A->B|offsets-source-admin'],
    [
      mirrorTaskClientId('A', 'B', 'MirrorSourceConnector', 0, 'replication-consumer'),
      'A->B|MirrorSourceConnector-0|replication-consumer'
    ]
  ]
  for (const [got, want] of rows) assert.equal(got, want)
})

test('Strimzi: the connector names Strimzi gives (`<source>-><target>.<Connector>`)', () => {
  const flow = loadStrimzi(strimziV1(), { file: 'mm2.yaml', ...opts }).config.flows[0]!
  assert.equal(
    connectorClientIds(flow, 'source')('replication-consumer'),
    `a->b|${flow.naming.sourceConnectorName}|replication-consumer`
  )
  assert.equal(flow.naming.sourceConnectorName, 'a->b.MirrorSourceConnector')
})
