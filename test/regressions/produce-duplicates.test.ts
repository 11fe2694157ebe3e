/**
 * Regression: a send to a just-created topic wrote some partitions twice. When one partition of
 * a produce request failed with a stale-metadata error (NOT_LEADER_OR_FOLLOWER right after
 * creation), the client library repeated the whole request, so the partitions that had already
 * succeeded were written again, and the offsets returned were those of the second copy. The
 * copier would have duplicated records on the target the same way. KafkaProducer now turns the
 * library's repeats off and retries only the partitions that failed.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import { KafkaProducer } from '../../src/kafka/producer.ts'
import { clientConfig, clustersFor, uniqueName } from '../harness/helpers.ts'

test('sending right after topic creation writes every record exactly once', async t => {
  const [a] = await clustersFor(t, [{ name: 'dup' }])
  assert.ok(a !== undefined)
  const admin = new KafkaAdmin(clientConfig(a), 'test')
  const producer = new KafkaProducer(clientConfig(a), 'test')
  t.after(async () => {
    await admin.close()
    await producer.close()
  })
  for (let round = 0; round < 6; round++) {
    const topic = uniqueName('fresh')
    const created = await admin.createTopic({ name: topic, partitions: 3, replicationFactor: 1, configs: {} })
    assert.equal(created.status, 'created')
    const batches = [0, 1, 2].map(partition => ({
      topic,
      partition,
      records: Array.from({ length: 100 }, (_, i) => ({
        key: null,
        value: Buffer.from(`v${partition}-${i}`),
        headers: []
      }))
    }))
    const bases = await producer.send(batches)
    assert.deepEqual(bases, [0n, 0n, 0n], 'returned offsets are those of the only copy')
    const ends = await admin.listOffsets(
      [0, 1, 2].map(partition => ({ topic, partition })),
      'latest'
    )
    assert.deepEqual(
      [...ends.values()],
      [100n, 100n, 100n],
      `round ${round}: each partition holds its 100 records once`
    )
  }
})
