/** The topic ACL mapping of MirrorSourceConnector, on bindings and on a real flow's selection. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadMm2Properties } from '../../../src/config/mm2-properties.ts'
import type { AclBinding } from '../../../src/kafka/acl.ts'
import { mapTopicAcls } from '../../../src/source/acl-sync.ts'
import { TopicSelection } from '../../../src/source/topic-selection.ts'

function acl(
  resourceName: string,
  operation: AclBinding['operation'],
  permission: AclBinding['permission'] = 'ALLOW',
  more: Partial<AclBinding> = {}
): AclBinding {
  return {
    resourceType: 'TOPIC',
    resourceName,
    patternType: 'LITERAL',
    principal: 'User:alice',
    host: '*',
    operation,
    permission,
    ...more
  }
}

const prefixAll = { accepts: (t: string) => !t.startsWith('B.'), remoteName: (t: string) => `A.${t}` }

test('WRITE allowed is dropped, ALL allowed becomes READ, the rest is copied as is', () => {
  const mapped = mapTopicAcls(
    [
      acl('orders', 'WRITE'),
      acl('orders', 'ALL'),
      acl('orders', 'DESCRIBE', 'ALLOW', { host: '10.0.0.1' }),
      acl('orders', 'ALTER_CONFIGS'),
      acl('orders', 'WRITE', 'DENY', { principal: 'User:mallory' }),
      acl('orders', 'ALL', 'DENY', { principal: 'User:eve' }),
      acl('orders', 'READ', 'DENY')
    ],
    prefixAll
  )
  assert.deepEqual(mapped, [
    acl('A.orders', 'READ'),
    acl('A.orders', 'DESCRIBE', 'ALLOW', { host: '10.0.0.1' }),
    acl('A.orders', 'ALTER_CONFIGS'),
    acl('A.orders', 'WRITE', 'DENY', { principal: 'User:mallory' }),
    acl('A.orders', 'ALL', 'DENY', { principal: 'User:eve' }),
    acl('A.orders', 'READ', 'DENY')
  ])
})

test('only LITERAL TOPIC bindings of selected topics; duplicates after mapping collapse', () => {
  const mapped = mapTopicAcls(
    [
      acl('orders', 'READ', 'ALLOW', { patternType: 'PREFIXED' }),
      acl('orders', 'READ', 'ALLOW', { patternType: 'MATCH' }),
      acl('grp', 'READ', 'ALLOW', { resourceType: 'GROUP' }),
      acl('kafka-cluster', 'ALTER', 'ALLOW', { resourceType: 'CLUSTER' }),
      acl('B.orders', 'READ'), // came from the target: not selected
      acl('pay', 'ALL'),
      acl('pay', 'READ')
    ],
    prefixAll
  )
  assert.deepEqual(mapped, [acl('A.pay', 'READ')])
})

test('with a real flow: filters, default excludes, cycles and the remote name of the policy', () => {
  const text = [
    'clusters = A, B',
    'A.bootstrap.servers = a:9092',
    'B.bootstrap.servers = b:9092',
    'A->B.enabled = true',
    'A->B.topics.exclude = other',
    'replication.policy.separator = _'
  ].join('\n')
  const flow = loadMm2Properties(text, { file: 'mm2.properties', env: {} }).config.flows.find(f => f.name === 'A->B')
  assert.ok(flow !== undefined)
  const selection = new TopicSelection(flow)
  const naming = {
    accepts: (t: string) => selection.select([t]).length === 1,
    remoteName: (t: string) => selection.remoteName(t)
  }
  const mapped = mapTopicAcls(
    [
      acl('orders-eu', 'ALL'),
      acl('other', 'READ'),
      acl('B_orders', 'READ'),
      acl('*', 'READ'),
      acl('__consumer_offsets', 'READ'),
      acl('mm2_x_internal', 'READ'),
      acl('.hidden', 'READ')
    ],
    naming
  )
  // A literal `*` resource passes the filter and becomes the odd literal `A_*`, as in MM2.
  assert.deepEqual(
    mapped.map(b => `${b.resourceName}:${b.operation}`),
    ['A_orders-eu:READ', 'A_*:READ']
  )
})

test('identity policy keeps the name', () => {
  const text = [
    'clusters = A, B',
    'A.bootstrap.servers = a:9092',
    'B.bootstrap.servers = b:9092',
    'A->B.enabled = true',
    'replication.policy.class = org.apache.kafka.connect.mirror.IdentityReplicationPolicy'
  ].join('\n')
  const flow = loadMm2Properties(text, { file: 'mm2.properties', env: {} }).config.flows.find(f => f.name === 'A->B')
  assert.ok(flow !== undefined)
  const selection = new TopicSelection(flow)
  const mapped = mapTopicAcls([acl('orders', 'ALL', 'ALLOW')], {
    accepts: t => selection.select([t]).length === 1,
    remoteName: t => selection.remoteName(t)
  })
  assert.deepEqual(mapped, [acl('orders', 'READ')])
})
