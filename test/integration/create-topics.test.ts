/**
 * KafkaAdmin.createTopics: many topics in one request per config set, each with its own outcome
 * (created, exists, failed with the broker's reason), on a real broker.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import type { KafkaCluster } from '../harness/cluster.ts'
import { clientConfig, clustersForFile, createTopic, uniqueName, waitFor } from '../harness/helpers.ts'

let A: KafkaCluster
let admin: KafkaAdmin
clustersForFile([{ name: 'A' }], ([a]) => {
  A = a
  admin = new KafkaAdmin(clientConfig(a), 'test-admin')
})
after(async () => {
  await admin?.close()
})

test('createTopics: new, existing and refused topics in one call, each with its own outcome', async () => {
  const prefix = uniqueName('batch')
  const existing = `${prefix}-existing`
  await createTopic(A, existing, { partitions: 1 })
  const fresh = Array.from({ length: 50 }, (_, i) => `${prefix}-new-${i}`)
  const compacted = `${prefix}-compacted`
  const outcomes = await admin.createTopics([
    ...fresh.map(name => ({ name, partitions: 3, replicationFactor: 1, configs: {} })),
    { name: existing, partitions: 1, replicationFactor: 1, configs: {} },
    { name: `${prefix}-too-many-replicas`, partitions: 1, replicationFactor: 3, configs: {} },
    { name: compacted, partitions: 2, replicationFactor: 1, configs: { 'cleanup.policy': 'compact' } }
  ])
  for (const name of fresh) assert.deepEqual(outcomes.get(name), { status: 'created' }, name)
  assert.deepEqual(outcomes.get(existing), { status: 'exists' })
  const refused = outcomes.get(`${prefix}-too-many-replicas`)
  assert.equal(refused?.status, 'failed')
  assert.match(
    refused?.status === 'failed' ? refused.error.message : '',
    /creating topic .*too-many-replicas on cluster A: INVALID_REPLICATION_FACTOR/
  )
  assert.deepEqual(outcomes.get(compacted), { status: 'created' })

  // Metadata spreads to the broker's cache a moment after creation.
  const described = await waitFor(
    async () => {
      const d = await admin.describeTopics([...fresh, compacted, `${prefix}-too-many-replicas`])
      return d.size >= fresh.length + 1 ? d : undefined
    },
    { what: 'the created topics in metadata' }
  )
  assert.equal(described.size, fresh.length + 1, 'every created topic exists, the refused one does not')
  for (const name of fresh) assert.equal(described.get(name)?.partitions, 3)
  const configs = await admin.describeTopicConfigs([compacted, fresh[0] ?? ''])
  assert.equal(
    configs.get(compacted)?.find(e => e.name === 'cleanup.policy')?.value,
    'compact',
    'configs go to their own topics'
  )
  assert.equal(configs.get(fresh[0] ?? '')?.find(e => e.name === 'cleanup.policy')?.value, 'delete')
})

test('createTopics: more new partitions than a KRaft controller takes in one request (10,000 metadata records) are created in parts', async () => {
  // 2 x 5,100 partitions: one request would carry 10,202 records, which the controller refuses
  // for every topic (POLICY_VIOLATION "Unable to perform excessively large batch operation.").
  const prefix = uniqueName('large')
  const topics = [`${prefix}-0`, `${prefix}-1`]
  const outcomes = await admin.createTopics(
    topics.map(name => ({ name, partitions: 5_100, replicationFactor: 1, configs: {} }))
  )
  assert.deepEqual(
    topics.map(name => outcomes.get(name)),
    [{ status: 'created' }, { status: 'created' }]
  )
  const described = await waitFor(
    async () => {
      const d = await admin.describeTopics(topics)
      return d.size === 2 ? d : undefined
    },
    { timeoutMs: 120_000, what: 'both topics in metadata' }
  )
  assert.deepEqual(
    topics.map(name => described.get(name)?.partitions),
    [5_100, 5_100]
  )
})
