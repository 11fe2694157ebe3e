/**
 * OffsetSyncWriter.rangeAcked jumps from one due sync to the next instead of visiting every
 * offset of a contiguous run. It must write exactly what the offset-by-offset rule writes: the
 * same syncs, in the same order, with the same links, and the same delayed pair at a flush.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FlowConfig } from '../../../src/config/model.ts'
import { findSyncLink } from '../../../src/formats/offset-sync-chain.ts'
import { decodeOffsetSync } from '../../../src/formats/offset-sync.ts'
import type { KafkaAdmin } from '../../../src/kafka/admin.ts'
import type { KafkaProducer } from '../../../src/kafka/producer.ts'
import type { PartitionBatch } from '../../../src/kafka/types.ts'
import { createLogger } from '../../../src/observe/logger.ts'
import { DefaultReplicationPolicy } from '../../../src/policy/replication-policy.ts'
import { OffsetSyncWriter } from '../../../src/source/offset-sync-writer.ts'
import { seededRandom } from '../../../src/util/seeded-random.ts'

/** A writer and the syncs it wrote, decoded as text lines (upstream->downstream, link). */
function recordingWriter(offsetLagMax: number): { writer: OffsetSyncWriter; written: string[] } {
  const written: string[] = []
  const producer = {
    send: async (batches: readonly PartitionBatch[]) => {
      for (const r of batches.flatMap(b => b.records)) {
        const sync = decodeOffsetSync(r.key, r.value)
        const link = findSyncLink(r.headers)
        written.push(
          `${sync.topic}-${sync.partition} ${sync.upstreamOffset}->${sync.downstreamOffset}` +
            (link === undefined
              ? ''
              : ` after ${link.prevUpstream}->${link.prevDownstream} run to ${link.runEndUpstream}`)
        )
      }
      return batches.map(() => 0n)
    }
  } as unknown as KafkaProducer
  const flow = {
    source: 'A',
    target: 'B',
    offsetLagMax,
    offsetSyncs: { location: 'source', replicationFactor: 1, enabled: true }
  } as unknown as FlowConfig
  const writer = new OffsetSyncWriter(
    flow,
    new DefaultReplicationPolicy(),
    {} as KafkaAdmin,
    producer,
    createLogger('test', () => {})
  )
  return { writer, written }
}

const offsets = (first: bigint, count: number): bigint[] => Array.from({ length: count }, (_, i) => first + BigInt(i))

test('rangeAcked writes the same syncs as the offset-by-offset rule', async () => {
  for (const lagMax of [0, 1, 3, 100]) {
    for (let seed = 1; seed <= 20; seed++) {
      const rand = seededRandom(seed * 31 + lagMax)
      const jumping = recordingWriter(lagMax)
      const walking = recordingWriter(lagMax)
      const up = [0n, 0n]
      const down = [0n, 0n]
      for (let run = 0; run < 60; run++) {
        const partition = rand() < 0.5 ? 0 : 1
        // Mostly contiguous runs; sometimes an upstream hole (compaction, markers), a downstream
        // gap (a resent batch whose first answer was lost), or the target going back (re-created).
        const r = rand()
        if (r < 0.15) up[partition] = (up[partition] ?? 0n) + BigInt(1 + Math.floor(rand() * 5))
        else if (r < 0.25) down[partition] = (down[partition] ?? 0n) + BigInt(1 + Math.floor(rand() * 3))
        else if (r < 0.28) down[partition] = 0n
        const count = rand() < 0.2 ? 1 : 1 + Math.floor(rand() * 400)
        const first = up[partition] ?? 0n
        const base = down[partition] ?? 0n
        jumping.writer.rangeAcked('t', partition, first, count, base)
        walking.writer.offsetsAcked('t', partition, offsets(first, count), base)
        up[partition] = first + BigInt(count)
        down[partition] = base + BigInt(count)
        if (rand() < 0.3) {
          const includeDelayed = rand() < 0.5
          await jumping.writer.flush(includeDelayed)
          await walking.writer.flush(includeDelayed)
        }
        if (rand() < 0.03) {
          jumping.writer.reset('t', partition)
          walking.writer.reset('t', partition)
        }
      }
      await jumping.writer.flush(true)
      await walking.writer.flush(true)
      assert.ok(walking.written.length > 0)
      assert.deepEqual(jumping.written, walking.written, `offset.lag.max ${lagMax}, seed ${seed}`)
    }
  }
})

test('recordAcked of records without a hole takes the range path, with holes the rule per offset', async () => {
  const jumping = recordingWriter(100)
  const walking = recordingWriter(100)
  const contiguous = offsets(1000n, 350).map(offset => ({ offset }))
  const holed = [...offsets(1350n, 10), ...offsets(1400n, 200)].map(offset => ({ offset }))
  jumping.writer.recordAcked('t', 0, contiguous, 0n)
  jumping.writer.recordAcked('t', 0, holed, 350n)
  walking.writer.offsetsAcked('t', 0, offsets(1000n, 350), 0n)
  walking.writer.offsetsAcked(
    't',
    0,
    holed.map(r => r.offset),
    350n
  )
  await jumping.writer.flush(true)
  await walking.writer.flush(true)
  assert.deepEqual(jumping.written, walking.written)
  // The first record; then one whenever the last sync's translation (one past it) is
  // offset.lag.max behind (Java's rule: every 101st); the hole at 1400; the last pair at the flush.
  assert.deepEqual(
    walking.written.map(w => w.split(' ')[1]),
    ['1000->0', '1101->101', '1202->202', '1303->303', '1400->360', '1501->461', '1599->559']
  )
})
