/** config/flow-rules.ts: every part of a pair reads the same policy and filters, built from its config. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CheckpointFlow } from '../../../src/checkpoint/checkpoint-flow.ts'
import { flowRules } from '../../../src/config/flow-rules.ts'
import { loadMm2Properties } from '../../../src/config/mm2-properties.ts'
import { HeartbeatEmitter } from '../../../src/heartbeat/emitter.ts'
import { createLogger } from '../../../src/observe/logger.ts'
import { SourceFlow } from '../../../src/source/source-flow.ts'

const quiet = createLogger('test', () => {})
const load = (text: string) =>
  loadMm2Properties(
    `clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\nA->B.enabled = true\n${text}`,
    { file: 'mm2.properties', env: {}, secretsDir: undefined }
  ).config

test('flowRules: the policy and filters the config describes', () => {
  const flow = load(
    'A->B.topics = orders.*\nA->B.groups.exclude = tmp-.*\nreplication.policy.separator = _\n'
  ).flows.find(f => f.name === 'A->B')!
  const rules = flowRules(flow)
  assert.equal(rules.policy.formatRemoteTopic('A', 'orders'), 'A_orders')
  assert.equal(rules.topicFilter.shouldReplicateTopic('orders-eu'), true)
  assert.equal(rules.topicFilter.shouldReplicateTopic('payments'), false)
  assert.equal(rules.groupFilter.shouldReplicateGroup('tmp-1'), false)
  assert.equal(rules.groupFilter.shouldReplicateGroup('app'), true)
  assert.equal(rules.configPropertyFilter.shouldReplicateConfigProperty('min.insync.replicas'), false)
})

test("flowRules: identity policy attributes kept names to the pair's source", () => {
  const flow = load(
    'replication.policy.class = org.apache.kafka.connect.mirror.IdentityReplicationPolicy\n'
  ).flows.find(f => f.name === 'A->B')!
  assert.equal(flowRules(flow).policy.topicSource('orders'), 'A')
})

test('flowRules: built once per pair, so the copy, checkpoints and heartbeats of a pair share them', () => {
  const flow = load('').flows.find(f => f.name === 'A->B')!
  assert.equal(flowRules(flow), flowRules(flow))
  const copy = new SourceFlow(flow, quiet)
  const checkpoints = new CheckpointFlow(flow, quiet)
  assert.equal(copy.selection.policy, checkpoints.policy)
  assert.equal(new HeartbeatEmitter(flow, quiet).topic, checkpoints.policy.heartbeatsTopic())
})
