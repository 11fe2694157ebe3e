/**
 * Bytes damaged on the source's disk: a byte of one lz4 batch of partition 0 is flipped inside
 * the broker's log segment (brokers do not check CRCs when they serve a fetch, so the mirror
 * receives the damaged batch as it is). The mirror must copy nothing of it or after it on that
 * partition (the batch fails its CRC-32C check), keep copying the other partition, report the
 * partition paused with the CRC mismatch, and, once the byte is restored, fetch the batch again
 * and finish the copy: every record once, in order, nothing lost, nothing doubled.
 */
import assert from 'node:assert/strict'
import { closeSync, openSync, readFileSync, readSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import { KafkaProducer } from '../../src/kafka/producer.ts'
import { splitBatches } from '../../src/kafka/record-batch.ts'
import { tpKey } from '../../src/kafka/types.ts'
import { clientConfig, clustersFor, createTopic, readAll, uniqueName, waitFor } from '../harness/helpers.ts'
import { writeCopyOnlyProperties } from '../harness/mirror-config.ts'
import { startMirror } from '../harness/mirror-runner.ts'

const BATCHES = 12
const PER_BATCH = 50
const TOTAL = BATCHES * PER_BATCH
const DAMAGED_BATCH = 5

const value = (partition: number, i: number): string => `p${partition}-${i}-${'v'.repeat(150)}`

test('a batch damaged on the source is never copied; its partition waits, reported, and resumes once the bytes are whole', async t => {
  const [A, B] = await clustersFor(t, [{ name: 'A' }, { name: 'B' }])
  if (A === undefined || B === undefined) throw new Error('clusters did not start')
  const topic = uniqueName('damaged')
  await createTopic(A, topic, { partitions: 2 })
  const producer = new KafkaProducer(clientConfig(A, { 'compression.type': 'lz4' }), 'test-lz4-producer')
  try {
    // One send per batch: BATCHES lz4 batches of PER_BATCH records in each partition.
    for (let b = 0; b < BATCHES; b++) {
      await producer.send(
        [0, 1].map(partition => ({
          topic,
          partition,
          records: Array.from({ length: PER_BATCH }, (_, j) => ({
            key: null,
            value: Buffer.from(value(partition, b * PER_BATCH + j)),
            headers: []
          }))
        }))
      )
    }
  } finally {
    await producer.close()
  }

  // Flip one byte near the end of a batch of partition 0 (inside its compressed records, where
  // only the CRC tells), in the broker's active segment: its next fetch serves the damaged bytes.
  const segment = join(A.dir, 'data', `${topic}-0`, '00000000000000000000.log')
  const batches = splitBatches(readFileSync(segment))
  assert.equal(batches.length, BATCHES, 'one batch per send')
  const damaged = batches[DAMAGED_BATCH]
  assert.ok(damaged !== undefined && damaged.codec === 'lz4')
  const position = batches.slice(0, DAMAGED_BATCH).reduce((n, x) => n + x.size, 0) + damaged.size - 10
  const flip = (): void => {
    const fd = openSync(segment, 'r+')
    try {
      const byte = Buffer.alloc(1)
      readSync(fd, byte, 0, 1, position)
      byte[0] = (byte[0] as number) ^ 0xff
      writeSync(fd, byte, 0, 1, position)
    } finally {
      closeSync(fd)
    }
  }
  flip()

  const mirror = await startMirror(t, writeCopyOnlyProperties({ A, B }, topic))
  const remote = `A.${topic}`
  const admin = new KafkaAdmin(clientConfig(B), 'test-admin')
  t.after(async () => {
    await admin.close()
  })
  const ends = async (): Promise<[bigint, bigint]> => {
    const e = await admin
      .listOffsets(
        [0, 1].map(partition => ({ topic: remote, partition })),
        'latest'
      )
      .catch(() => new Map<string, bigint>())
    return [e.get(tpKey(remote, 0)) ?? -1n, e.get(tpKey(remote, 1)) ?? -1n]
  }
  const failure = (): { offset: bigint; reason: string } | undefined =>
    mirror.status()[0]?.copier?.failures.get(tpKey(topic, 0))

  // Partition 1 is copied whole; partition 0 up to the damaged batch, which is reported.
  await waitFor(
    async () => {
      const [p0, p1] = await ends()
      return p1 === BigInt(TOTAL) && p0 === damaged.baseOffset && failure() !== undefined
    },
    { timeoutMs: 90_000, what: 'partition 1 copied, partition 0 copied up to the damaged batch and reported paused' }
  )
  const reported = failure()
  assert.equal(reported?.offset, damaged.baseOffset, "the report names the damaged batch's offset")
  assert.match(reported?.reason ?? '', /corrupt: stored CRC \d+ but computed \d+/)
  // Still nothing of it or after it after three more fetches of the damaged bytes (each moves the
  // report's retryAt): they are not sent, however often they come.
  const retries = new Set<number>()
  await waitFor(
    () => {
      const at = mirror.status()[0]?.copier?.failures.get(tpKey(topic, 0))?.retryAt
      if (at !== undefined) retries.add(at)
      return retries.size >= 4
    },
    { timeoutMs: 60_000, intervalMs: 20, what: 'three more fetches of the damaged batch' }
  )
  assert.deepEqual(await ends(), [damaged.baseOffset, BigInt(TOTAL)])

  flip()
  await waitFor(async () => (await ends())[0] === BigInt(TOTAL), {
    timeoutMs: 60_000,
    what: 'partition 0 copied whole once the bytes are restored'
  })
  await waitFor(() => failure() === undefined, { timeoutMs: 10_000, what: 'the partition reported recovered' })
  const copied = await readAll(B, remote)
  for (const partition of [0, 1]) {
    const values = copied.filter(r => r.partition === partition).map(r => r.value?.toString())
    assert.deepEqual(
      values,
      Array.from({ length: TOTAL }, (_, i) => value(partition, i)),
      `partition ${partition}: every record once, in order`
    )
  }
})
