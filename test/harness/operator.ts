/**
 * What an operator or the broker's retention does to a cluster and kafka-mirror never does:
 * delete a topic, delete the records below an offset. The tests use them to make the data loss
 * the mirror must report (expired, re-created, deleted on the target).
 *
 * The mirror has no use for these calls, so they are not in src/kafka/: this file talks to the
 * client library directly, the one place outside src/kafka/ that eslint.config.js allows to.
 */
import { Admin } from '@platformatic/kafka'
import type { KafkaCluster } from './cluster.ts'
import { waitFor } from './helpers.ts'

async function withAdmin<T>(cluster: KafkaCluster, use: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin({ clientId: 'test-operator', bootstrapBrokers: [cluster.bootstrap()] })
  try {
    return await use(admin)
  } finally {
    await admin.close()
  }
}

/** Deletes a topic and returns once the cluster no longer lists it. */
export async function deleteTopic(cluster: KafkaCluster, topic: string): Promise<void> {
  await withAdmin(cluster, async admin => {
    await admin.deleteTopics({ topics: [topic] })
    await waitFor(async () => !(await admin.listTopics()).includes(topic), {
      what: `topic ${topic} deleted on ${cluster.name}`
    })
  })
}

/** Deletes the records of one partition below `offset`, as retention would. */
export async function deleteRecordsBefore(
  cluster: KafkaCluster,
  topic: string,
  partition: number,
  offset: bigint
): Promise<void> {
  await withAdmin(cluster, async admin => {
    await admin.deleteRecords({ topics: [{ name: topic, partitions: [{ partition, offset }] }] })
  })
}
