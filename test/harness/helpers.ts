/**
 * Helpers every integration test uses: clusters that stop themselves after the test, unique
 * names, `waitFor` instead of sleeps, and produce / read-back / commit through our own Kafka
 * adapter (the Java tools in java-tools.ts give an independent second opinion).
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, type TestContext } from 'node:test'
import type { ClientConfig } from '../../src/config/model.ts'
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import { type DescribedGroup, KafkaGroupWire } from '../../src/kafka/group-wire.ts'
import { KafkaProducer } from '../../src/kafka/producer.ts'
import { readTopic } from '../../src/kafka/read-topic.ts'
import type { ConsumedRecord, Header } from '../../src/kafka/types.ts'
import { type ClusterOptions, type KafkaCluster, startClusters } from './cluster.ts'

/** A name no other test (or earlier run) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`
}

/** Starts clusters for one test and stops them when it ends, passed or failed. */
export async function clustersFor(t: TestContext, options: readonly ClusterOptions[]): Promise<KafkaCluster[]> {
  const clusters = await startClusters(options)
  t.after(async () => {
    await Promise.all(
      clusters.map(async c => {
        await c.close()
      })
    )
  })
  return clusters
}

/**
 * How long a file's shared clusters may take to start: two or three brokers at once on a machine other test runs keep
 * busy.
 */
const FILE_CLUSTERS_START_MS = 180_000

/**
 * Clusters shared by every test of a file: started before its first test, stopped after its
 * last, passed or failed. `use` receives them, in the order of `options`, once they are up.
 */
export function clustersForFile<const O extends readonly ClusterOptions[]>(
  options: O,
  use: (clusters: { -readonly [K in keyof O]: KafkaCluster }) => void
): void {
  let started: KafkaCluster[] = []
  before(async () => {
    started = await startClusters(options.map(o => ({ startTimeoutMs: FILE_CLUSTERS_START_MS, ...o })))
    use(started as { -readonly [K in keyof O]: KafkaCluster })
  })
  after(async () => {
    await Promise.all(
      started.map(async c => {
        await c.close()
      })
    )
  })
}

export function clientConfig(cluster: KafkaCluster, props: Record<string, string> = {}): ClientConfig {
  return { cluster: cluster.name, bootstrapServers: [cluster.bootstrap()], props }
}

/** Polls `condition` until it returns a truthy value (returned) or the time is up (throws, with `what`). */
export async function waitFor<T>(
  condition: () => Promise<T> | T,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {}
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000)
  let lastError: unknown
  while (true) {
    try {
      const value = await condition()
      if (value !== undefined && value !== null && value !== false) return value as NonNullable<T>
    } catch (err) {
      lastError = err
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? ` (last error: ${lastError.message})` : ''
      throw new Error(`timed out after ${opts.timeoutMs ?? 30_000} ms waiting for ${opts.what ?? 'condition'}${reason}`)
    }
    await new Promise(resolve => setTimeout(resolve, opts.intervalMs ?? 200))
  }
}

/**
 * The last `n` lines of a process's log, without the periodic `refreshing topics took` lines of
 * kafka-mirror (they would fill any tail of a quiet run).
 */
export function logTail(text: string, n = 40): string {
  return text
    .split('\n')
    .filter(l => !l.includes('refreshing topics took'))
    .slice(-n)
    .join('\n')
}

/**
 * A wait (or any step) that, when it fails, shows what the processes were saying: the error's
 * message gets the log tail of each of `logs` (name -> the log so far), the error itself its cause.
 */
export async function explained<T>(what: Promise<T>, logs: Readonly<Record<string, () => string>>): Promise<T> {
  try {
    return await what
  } catch (err) {
    const shown = Object.entries(logs)
      .map(([name, log]) => `\n--- ${name} log tail ---\n${logTail(log())}`)
      .join('')
    throw new Error(`${(err as Error).message}${shown}`, { cause: err })
  }
}

export async function createTopic(
  cluster: KafkaCluster,
  name: string,
  opts: { partitions?: number; configs?: Record<string, string> } = {}
): Promise<void> {
  const admin = new KafkaAdmin(clientConfig(cluster), 'test-admin')
  try {
    const outcome = await admin.createTopic({
      name,
      partitions: opts.partitions ?? 1,
      replicationFactor: 1,
      configs: opts.configs ?? {}
    })
    if (outcome.status === 'failed') throw outcome.error
    await waitFor(async () => (await admin.describeTopics([name])).has(name), { what: `topic ${name} to appear` })
  } finally {
    await admin.close()
  }
}

export interface TestRecord {
  readonly partition?: number
  readonly key?: string | Buffer | null
  readonly value?: string | Buffer | null
  readonly headers?: ReadonlyArray<readonly [string, string | null]>
  readonly timestamp?: bigint
}

/**
 * Records numbered on from 0 across every `take`, spread round-robin over `partitions`: record i
 * is key `k<i>`, value `v<i>`, in partition i % partitions, so each partition holds its records
 * in number order and a copy can be told from the source by content. `made` counts those taken.
 */
export function numberedRecords(partitions: number): { take: (n: number) => TestRecord[]; readonly made: number } {
  let next = 0
  return {
    take: n =>
      Array.from({ length: n }, () => {
        const i = next++
        return { partition: i % partitions, key: `k${i}`, value: `v${i}` }
      }),
    get made() {
      return next
    }
  }
}

const toBuf = (v: string | Buffer | null | undefined): Buffer | null =>
  v === null || v === undefined ? null : Buffer.isBuffer(v) ? v : Buffer.from(v)

/** Produces records (acks=all) and returns the offset each was written at (input order). */
export async function produce(
  cluster: KafkaCluster,
  topic: string,
  records: readonly TestRecord[],
  opts: { chunk?: number } = {}
): Promise<bigint[]> {
  const producer = new KafkaProducer(clientConfig(cluster), 'test-producer')
  try {
    const offsets: bigint[] = []
    const chunk = opts.chunk ?? 5000
    for (let i = 0; i < records.length; i += chunk) {
      const part = records.slice(i, i + chunk)
      const byPartition = Map.groupBy(
        part.map((r, index) => ({ r, index })),
        ({ r }) => r.partition ?? 0
      )
      const batches = [...byPartition].map(([partition, entries]) => ({
        topic,
        partition,
        records: entries.map(({ r }) => ({
          key: toBuf(r.key),
          value: toBuf(r.value),
          headers: (r.headers ?? []).map(([k, v]) => [Buffer.from(k), toBuf(v)] as Header),
          timestamp: r.timestamp
        }))
      }))
      const bases = await producer.send(batches)
      const chunkOffsets: bigint[] = []
      ;[...byPartition.values()].forEach((entries, b) => {
        entries.forEach(({ index }, j) => {
          chunkOffsets[index] = (bases[b] ?? -1n) + BigInt(j)
        })
      })
      offsets.push(...chunkOffsets)
    }
    return offsets
  } finally {
    await producer.close()
  }
}

/** Reads every record of a topic (all partitions, earliest to the current end), ordered by partition then offset. */
export async function readAll(
  cluster: KafkaCluster,
  topic: string,
  opts: { readCommitted?: boolean } = {}
): Promise<ConsumedRecord[]> {
  const admin = new KafkaAdmin(clientConfig(cluster), 'test-admin')
  try {
    const records = await readTopic(
      admin,
      clientConfig(cluster, {
        'isolation.level': opts.readCommitted === false ? 'read_uncommitted' : 'read_committed'
      }),
      topic,
      'test-reader'
    )
    if (records === undefined) throw new Error(`topic ${topic} does not exist on ${cluster.name}`)
    return records
  } finally {
    await admin.close()
  }
}

/** Commits offsets for a group (which must have no active members). */
export async function commitOffsets(
  cluster: KafkaCluster,
  group: string,
  offsets: ReadonlyArray<{ topic: string; partition: number; offset: bigint }>
): Promise<void> {
  const admin = new KafkaAdmin(clientConfig(cluster), 'test-admin')
  try {
    await admin.alterGroupOffsets(group, offsets)
  } finally {
    await admin.close()
  }
}

/** Record contents in a form deepEqual can compare: what a record read back is, or what the test produced. */
export interface Comparable {
  readonly partition: number
  readonly key: string | null
  readonly value: string | null
  readonly headers: Array<[string, string | null]>
  readonly timestamp: string
}

const base64 = (b: Buffer | null): string | null => (b === null ? null : b.toString('base64'))

/** A record read back, in comparable form. */
export function comparable(r: ConsumedRecord): Comparable {
  return {
    partition: r.partition,
    key: base64(r.key),
    value: base64(r.value),
    headers: r.headers.map(([k, v]) => [k.toString(), base64(v)]),
    timestamp: r.timestamp.toString()
  }
}

/**
 * The records a test produced, in comparable form and in the order `readAll` returns a topic
 * (partition, then offset: `produce` writes each partition's records in input order). What the
 * target holds is compared with this, not with the source read back by the same reader, so a
 * reading bug that hides a record on both sides cannot pass. Every record needs its timestamp.
 */
export function producedComparable(records: readonly TestRecord[]): Comparable[] {
  const byPartition = Map.groupBy(records, r => r.partition ?? 0)
  return [...byPartition.keys()]
    .sort((a, b) => a - b)
    .flatMap(p =>
      (byPartition.get(p) ?? []).map(r => {
        if (r.timestamp === undefined) throw new Error('producedComparable: give every record a timestamp')
        return {
          partition: p,
          key: base64(toBuf(r.key)),
          value: base64(toBuf(r.value)),
          headers: (r.headers ?? []).map(([k, v]): [string, string | null] => [k, base64(toBuf(v))]),
          timestamp: r.timestamp.toString()
        }
      })
    )
}

/**
 * Asserts that `text` (a reason, a log line) names a cluster as kafka-mirror must: by its alias
 * (`cluster B`) and by its exact address (no other port that merely starts alike). The clusters
 * here have one broker, whose address is the bootstrap address.
 */
export function assertNamesCluster(text: string, alias: string, cluster: KafkaCluster): void {
  const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  assert.match(text, new RegExp(`\\bcluster ${escape(alias)}\\b`), `names the cluster by its alias ${alias}`)
  assert.match(
    text,
    new RegExp(`(?<![\\d.])${escape(cluster.bootstrap())}(?!\\d)`),
    `names the cluster by its address ${cluster.bootstrap()}`
  )
}

/** A group's committed offsets on a cluster, by partition (the tests use one topic per group). */
export async function groupOffsets(cluster: KafkaCluster, group: string): Promise<Map<number, bigint>> {
  const admin = new KafkaAdmin(clientConfig(cluster), 'test-admin')
  try {
    return new Map((await admin.listGroupOffsets(group)).map(o => [o.partition, o.offset]))
  } finally {
    await admin.close()
  }
}

/**
 * A group as the cluster's group coordinator describes it (DescribeGroups): protocol type, state
 * and members, whoever the members are (kafka-mirror, Java MM2's Connect workers, a test's own).
 */
export async function describeGroup(cluster: KafkaCluster, groupId: string): Promise<DescribedGroup> {
  const wire = new KafkaGroupWire(clientConfig(cluster), 'test-describe-group', { rebalanceTimeoutMs: 10_000 })
  try {
    const found = await wire.findCoordinator(groupId)
    assert.ok(found.coordinator !== undefined, `coordinator of ${groupId}: error ${found.errorCode}`)
    return await wire.describe(found.coordinator, groupId)
  } finally {
    await wire.close()
  }
}
