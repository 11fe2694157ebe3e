/** Filling source topics for the side-by-side bench before a mirror starts. */
import { HarnessError } from '../../test/harness/errors.ts'
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import { KafkaProducer } from '../../src/kafka/producer.ts'
import type { KafkaCluster } from '../../test/harness/cluster.ts'
import { clientConfig, createTopic, waitFor } from '../../test/harness/helpers.ts'
import { runJava } from '../../test/harness/java-tools.ts'
import { roundRobinBatches } from './batches.ts'

/** Creates a topic and waits until every partition has a leader (ListOffsets answers for all). */
export async function createReadyTopic(cluster: KafkaCluster, topic: string, partitions: number): Promise<void> {
  await createTopic(cluster, topic, { partitions })
  const admin = new KafkaAdmin(clientConfig(cluster), 'bench-admin')
  try {
    const tps = Array.from({ length: partitions }, (_, partition) => ({ topic, partition }))
    await waitFor(async () => (await admin.listOffsets(tps, 'latest')).size === partitions, {
      timeoutMs: 120_000,
      what: `leaders for the ${partitions} partitions of ${topic}`
    })
  } finally {
    await admin.close()
  }
}

/** Records on a topic: the sum of its partitions' end offsets. */
export async function recordCount(cluster: KafkaCluster, topic: string, partitions: number): Promise<bigint> {
  const admin = new KafkaAdmin(clientConfig(cluster), 'bench-admin')
  try {
    const tps = Array.from({ length: partitions }, (_, partition) => ({ topic, partition }))
    return [...(await admin.listOffsets(tps, 'latest')).values()].reduce((x, y) => x + y, 0n)
  } finally {
    await admin.close()
  }
}

/** Key bytes of keys `k0` .. `k<count-1>` plus `count` values of `size` bytes. */
export function keyedRecordBytes(count: number, size: number): number {
  let keyBytes = 0
  for (let i = 0; i < count; i++) keyBytes += `k${i}`.length
  return keyBytes + count * size
}

/**
 * Writes `count` records of `size` bytes (key `k<i>`, value `x` repeated, partition i mod
 * `partitions`) with our producer (acks=all, uncompressed), `chunk` records per send.
 */
export async function loadKeyed(
  cluster: KafkaCluster,
  topic: string,
  count: number,
  size: number,
  partitions: number,
  chunk = 20_000
): Promise<void> {
  const value = Buffer.from('x'.repeat(size))
  // A first write to 1,000 partitions just created has taken more than the client's default 30 s
  // on this machine; the client then sent the request again and the source held one chunk twice.
  // Waiting longer for the answer keeps the load exact.
  const producer = new KafkaProducer(clientConfig(cluster, { 'request.timeout.ms': '180000' }), 'bench-loader')
  try {
    for (let first = 0; first < count; first += chunk) {
      await producer.send(
        roundRobinBatches(topic, partitions, first, Math.min(chunk, count - first), i => ({
          key: Buffer.from(`k${i}`),
          value,
          headers: []
        }))
      )
    }
  } finally {
    await producer.close()
  }
}

/**
 * Kafka's ProducerPerformance (full JIT) writing `count` records picked at random from the lines
 * of `payloadFile`, null keys, with the given producer properties (e.g. compression.type=lz4).
 * Returns its summary line.
 */
export async function loadWithProducerPerformance(
  cluster: KafkaCluster,
  topic: string,
  count: number,
  payloadFile: string,
  props: readonly string[]
): Promise<string> {
  const r = await runJava(
    [
      '-XX:TieredStopAtLevel=4',
      'org.apache.kafka.tools.ProducerPerformance',
      '--bootstrap-server',
      cluster.bootstrap(),
      '--topic',
      topic,
      '--num-records',
      String(count),
      '--payload-file',
      payloadFile,
      '--throughput',
      '-1',
      '--command-property',
      ...props
    ],
    { timeoutMs: 900_000, label: 'java-producer-perf' }
  )
  const summary =
    r.stdout
      .split('\n')
      .filter(l => l.trim() !== '')
      .at(-1) ?? ''
  if (r.code !== 0)
    throw new HarnessError(
      `ProducerPerformance into ${topic} failed (exit ${r.code}): ${summary}\n${r.stderr.trim().split('\n').slice(-20).join('\n')}`
    )
  return summary
}
