import { test } from 'node:test'
import assert from 'node:assert/strict'
import { OffsetSyncStore, PartitionSyncs, type StoredSync } from '../../../src/checkpoint/offset-translation.ts'
import {
  decodeSyncLink,
  encodeSyncLink,
  findSyncLink,
  PREV_SYNC_HEADER
} from '../../../src/formats/offset-sync-chain.ts'
import { decodeOffsetSync } from '../../../src/formats/offset-sync.ts'
import type { FlowConfig } from '../../../src/config/model.ts'
import type { KafkaAdmin } from '../../../src/kafka/admin.ts'
import type { KafkaProducer } from '../../../src/kafka/producer.ts'
import type { PartitionBatch } from '../../../src/kafka/types.ts'
import { createLogger } from '../../../src/observe/logger.ts'
import { DefaultReplicationPolicy } from '../../../src/policy/replication-policy.ts'
import { OffsetSyncWriter } from '../../../src/source/offset-sync-writer.ts'

const s = (upstream: number, downstream: number, link?: [number, number, number]): StoredSync => ({
  upstream: BigInt(upstream),
  downstream: BigInt(downstream),
  link:
    link === undefined
      ? undefined
      : { prevUpstream: BigInt(link[0]), prevDownstream: BigInt(link[1]), runEndUpstream: BigInt(link[2]) }
})

function store(...syncs: StoredSync[]): PartitionSyncs {
  const p = new PartitionSyncs()
  for (const x of syncs) p.add(x)
  return p
}

const tr = (p: PartitionSyncs, u: number): [number, boolean] | undefined => {
  const t = p.translate(BigInt(u))
  return t === undefined ? undefined : [Number(t.offset), t.exact]
}

test('link header round-trips and rejects malformed values', () => {
  const link = { prevUpstream: 10n, prevDownstream: 7n, runEndUpstream: 19n }
  assert.equal(encodeSyncLink(link).toString(), '10 7 19')
  assert.deepEqual(decodeSyncLink(encodeSyncLink(link)), link)
  for (const bad of ['', '1 2', '1 2 x', '-1 2 3', '5 0 4', '1  2 3'])
    assert.equal(decodeSyncLink(Buffer.from(bad)), undefined, bad)
  assert.equal(decodeSyncLink(null), undefined)
  assert.deepEqual(
    findSyncLink([
      [Buffer.from('other'), Buffer.from('1 1 1')],
      [Buffer.from(PREV_SYNC_HEADER), Buffer.from('1 1 2')]
    ]),
    { prevUpstream: 1n, prevDownstream: 1n, runEndUpstream: 2n }
  )
})

test('exact inside a linked run, at the gap, and at the syncs', () => {
  // Records 100..149 -> 10..59, then a gap upstream (150..159 compacted away), 160 -> 60.
  const p = store(s(100, 10), s(160, 60, [100, 10, 149]))
  assert.equal(tr(p, 99), undefined, 'older than every sync: no translation')
  assert.deepEqual(tr(p, 100), [10, true])
  assert.deepEqual(tr(p, 101), [11, true])
  assert.deepEqual(tr(p, 149), [59, true])
  assert.deepEqual(tr(p, 150), [60, true], 'in the gap: the next copied record is the sync at 160')
  assert.deepEqual(tr(p, 159), [60, true])
  assert.deepEqual(tr(p, 160), [60, true])
  assert.deepEqual(tr(p, 161), [61, true], 'right after the last sync: +1 is exact (record 160 read, nothing after it)')
  assert.deepEqual(tr(p, 162), [61, false], "past the last sync: Java's +1")
  assert.deepEqual(tr(p, 5000), [61, false])
})

test('a gap on both sides at once (retry duplicate after compaction) stays exact', () => {
  // Run 0..4 -> 0..4, target has 5..14 written twice over (retry), upstream jumps to 10 -> 15.
  const p = store(s(0, 0), s(10, 15, [0, 0, 4]))
  assert.deepEqual(tr(p, 4), [4, true])
  assert.deepEqual(tr(p, 5), [15, true], 'not 5: offsets 5..14 hold no record of upstream 5..9')
  assert.deepEqual(tr(p, 9), [15, true])
})

test("unlinked or wrongly linked neighbours fall back to Java's rule", () => {
  assert.deepEqual(tr(store(s(100, 10), s(160, 60)), 120), [11, false], 'no link (first sync after a restart)')
  assert.deepEqual(
    tr(store(s(100, 10), s(160, 60, [90, 0, 149])), 120),
    [11, false],
    'link names another sync (one was lost)'
  )
  assert.deepEqual(
    tr(store(s(100, 10), s(160, 60, [100, 9, 149])), 120),
    [11, false],
    'same upstream, other downstream'
  )
  assert.deepEqual(
    tr(store(s(100, 10), s(160, 60, [100, 10, 160])), 120),
    [11, false],
    'run end not below the next sync'
  )
})

test('upstream rewind drops the syncs at or above it, keeps older ones; downstream rewind drops all', () => {
  const p = store(s(0, 0), s(50, 50, [0, 0, 49]), s(100, 100, [50, 50, 99]))
  p.add(s(80, 130)) // restart re-copied from 80
  assert.deepEqual(
    p.all().map(x => Number(x.upstream)),
    [0, 50, 80]
  )
  assert.deepEqual(tr(p, 60), [51, false], 'the sync that proved the run 50..99 is gone: fallback')
  assert.deepEqual(tr(p, 20), [20, true], 'the run 0..49 is still proven')
  assert.deepEqual(tr(p, 90), [131, false])
  p.add(s(200, 3)) // target re-created
  assert.deepEqual(
    p.all().map(x => Number(x.upstream)),
    [200]
  )
  assert.equal(tr(p, 150), undefined)
})

test('a repeated upstream offset: the later sync wins', () => {
  const p = store(s(0, 0), s(10, 10, [0, 0, 9]), s(10, 30))
  assert.deepEqual(tr(p, 10), [30, true])
  assert.deepEqual(tr(p, 5), [1, false], 'the replaced sync no longer proves the run')
})

test('memory is bounded: old history is thinned, answers stay safe', () => {
  const p = new PartitionSyncs(16)
  let prev: [number, number] | undefined
  for (let i = 0; i < 100; i++) {
    const up = i * 10
    const down = i * 5
    p.add(s(up, down, prev === undefined ? undefined : [prev[0], prev[1], prev[0] + 4]))
    prev = [up, down]
  }
  assert.ok(p.size <= 16)
  for (let u = 0; u <= 1000; u++) {
    const t = p.translate(BigInt(u))
    if (t === undefined) continue
    const truth = Math.floor(u / 10) * 5 + Math.min(u % 10, 5)
    assert.ok(t.offset <= BigInt(truth), `u=${u}: ${t.offset} > ${truth}`)
    if (t.exact) assert.equal(Number(t.offset), truth, `u=${u}`)
  }
})

/**
 * Simulates a copier on one partition over a source log with holes (compaction, aborted
 * transactions, markers) and a target that sometimes wrote a batch whose ack was lost (so the
 * records are there twice), feeding the real OffsetSyncWriter, and checks every translation of
 * every committed offset against the target log itself.
 */
async function simulate(
  seed: number,
  opts: { lagMax: number; holes: number; lostAcks: number; flushEvery: number; restartAt?: number }
): Promise<void> {
  let r = seed
  const rand = (): number => {
    r = (r * 1103515245 + 12345) & 0x7fffffff
    return r / 0x7fffffff
  }
  const N = 600
  const present = Array.from({ length: N }, () => rand() >= opts.holes)
  const sent: PartitionBatch[] = []
  const producer = {
    send: async (batches: readonly PartitionBatch[]) => {
      sent.push(...batches)
      return batches.map(() => 0n)
    }
  } as unknown as KafkaProducer
  const flow = {
    source: 'A',
    target: 'B',
    offsetLagMax: opts.lagMax,
    offsetSyncs: { location: 'source', replicationFactor: 1, enabled: true }
  } as unknown as FlowConfig
  const log = createLogger('test', () => {})
  let writer = new OffsetSyncWriter(flow, new DefaultReplicationPolicy(), {} as KafkaAdmin, producer, log)
  const target: number[] = [] // upstream offset of each target position
  let next = 0
  let sends = 0
  const run = async (until: number): Promise<void> => {
    while (next < until) {
      const size = 1 + Math.floor(rand() * 12)
      const batch: Array<{ offset: bigint }> = []
      let end = next
      while (end < until && batch.length < size) {
        if (present[end] === true) batch.push({ offset: BigInt(end) })
        end++
      }
      if (batch.length === 0) {
        next = end
        continue
      }
      if (rand() < opts.lostAcks) {
        for (const b of batch) target.push(Number(b.offset))
        continue
      } // written, ack lost: resent
      const base = BigInt(target.length)
      for (const b of batch) target.push(Number(b.offset))
      writer.recordAcked('t', 0, batch, base)
      next = end
      await writer.flush(++sends % opts.flushEvery === 0)
    }
    await writer.flush(true)
  }
  {
    await run(opts.restartAt ?? N)
    if (opts.restartAt !== undefined) {
      // A crash after positions were stored a bit earlier: the new lifetime re-copies from there.
      next = Math.max(0, opts.restartAt - 25)
      writer = new OffsetSyncWriter(flow, new DefaultReplicationPolicy(), {} as KafkaAdmin, producer, log)
      await run(N)
    }
    const store = new OffsetSyncStore()
    for (const rec of sent.flatMap(b => b.records)) {
      const sync = decodeOffsetSync(rec.key, rec.value)
      store.add(sync.topic, sync.partition, {
        upstream: sync.upstreamOffset,
        downstream: sync.downstreamOffset,
        link: findSyncLink(rec.headers)
      })
    }
    let exact = 0
    for (let u = 0; u <= N; u++) {
      const t = store.translate('t', 0, BigInt(u))
      if (t === undefined) continue
      const p = Number(t.offset)
      // No gap: every present record >= u is at or after p, in its last copy.
      for (let up = u; up < N; up++) {
        if (present[up] !== true) continue
        assert.ok(
          target.lastIndexOf(up) >= p,
          `seed ${seed} u=${u}: record ${up} (last copy at ${target.lastIndexOf(up)}) is before ${p}`
        )
        break
      }
      if (t.exact) {
        exact++
        // No re-read: nothing before u sits at or after p (except copies of the records of an
        // earlier lifetime, which a restart re-copies; those come after the true position anyway).
        const reread = target.slice(p).filter(up => up < u)
        if (opts.restartAt === undefined)
          assert.deepEqual(reread, [], `seed ${seed} u=${u}: exact ${p} re-reads ${reread.slice(0, 5).join(',')}`)
      }
    }
    if (opts.restartAt === undefined)
      assert.ok(exact > N * 0.95, `seed ${seed}: only ${exact} of ${N + 1} offsets exact`)
  }
}

test('writer + store simulation: compaction holes, lost acks, lag max, restarts', async () => {
  const cases = [
    { lagMax: 100, holes: 0, lostAcks: 0, flushEvery: 7 },
    { lagMax: 100, holes: 0.3, lostAcks: 0, flushEvery: 5 },
    { lagMax: 3, holes: 0.1, lostAcks: 0.1, flushEvery: 3 },
    { lagMax: 0, holes: 0.5, lostAcks: 0.2, flushEvery: 1 },
    { lagMax: 100, holes: 0.2, lostAcks: 0.15, flushEvery: 1000 },
    { lagMax: 100, holes: 0.2, lostAcks: 0.1, flushEvery: 4, restartAt: 300 }
  ]
  for (const [i, c] of cases.entries()) {
    for (let seed = 1; seed <= 5; seed++) await simulate(seed * 7919 + i, c)
  }
})
