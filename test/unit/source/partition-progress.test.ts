/**
 * PartitionProgress: what may be sent, stored and retried for one partition, driven step by
 * step as the copier drives it (fetched units, sends, acknowledgements, failures, restarts).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { PartitionProgress, REFUSED_BACKOFF, RETRY_BACKOFF, type Unit } from '../../../src/source/partition-progress.ts'

type U = Unit<string>
const unit = (first: number, next: number, name = `${first}-${next}`, bytes = 100): U => ({
  first: BigInt(first),
  next: BigInt(next),
  bytes,
  empty: false,
  payload: name
})
const skip = (first: number, next: number): U => ({
  first: BigInt(first),
  next: BigInt(next),
  bytes: 0,
  empty: true,
  payload: 'skip'
})

/** Sends the head unit and returns it (fails the test when nothing may be sent). */
function sendHead(p: PartitionProgress<string>, now = 0): U {
  const u = p.next(now)
  assert.ok(u !== undefined, 'a unit may be sent')
  p.sending(u)
  return u
}

test('acknowledged units move the storable position to their last offset; stored positions are not offered again', () => {
  const p = new PartitionProgress<string>(10n)
  assert.equal(p.storable(), undefined, 'nothing copied yet')
  p.enqueue(unit(10, 15))
  p.enqueue(unit(15, 20))
  const a = sendHead(p)
  assert.equal(p.next(0), undefined, 'one unit of a partition in flight at a time')
  assert.ok(p.acked(a, p.epoch))
  assert.equal(p.storable(), 14n)
  p.stored(14n)
  assert.equal(p.storable(), undefined)
  const b = sendHead(p)
  assert.ok(p.acked(b, p.epoch))
  assert.equal(p.storable(), 19n)
  assert.equal(p.queuedBytes, 0)
})

test('units must be contiguous', () => {
  const p = new PartitionProgress<string>(0n)
  p.enqueue(unit(0, 5))
  assert.throws(() => {
    p.enqueue(unit(6, 8))
  }, /expected 5/)
  assert.throws(() => {
    p.enqueue(unit(3, 8))
  }, /expected 5/)
})

test('markers and aborted records (empty units) are stepped over at once, at the head or after an acknowledgement', () => {
  const table: Array<{ name: string; units: U[]; acks: number; storable: bigint | undefined }> = [
    { name: 'empty unit first', units: [skip(0, 3), unit(3, 6)], acks: 0, storable: 2n },
    {
      name: 'empty unit after a unit in flight waits for its ack',
      units: [unit(0, 3), skip(3, 5)],
      acks: 0,
      storable: undefined
    },
    { name: 'then moves with it', units: [unit(0, 3), skip(3, 5)], acks: 1, storable: 4n },
    {
      name: 'aborted transaction between two units',
      units: [unit(0, 3), skip(3, 9), unit(9, 12)],
      acks: 1,
      storable: 8n
    },
    { name: 'compaction hole folded into a unit', units: [unit(0, 100)], acks: 1, storable: 99n }
  ]
  for (const row of table) {
    const p = new PartitionProgress<string>(0n)
    for (const u of row.units) p.enqueue(u)
    for (let i = 0; i < row.acks; i++) {
      const u = sendHead(p)
      assert.ok(p.acked(u, p.epoch), row.name)
    }
    if (row.acks === 0 && row.units[0]?.empty === false) sendHead(p)
    assert.equal(p.storable(), row.storable, row.name)
  }
})

test('a retriable failure keeps the unit at the head and sends it again after a growing backoff; nothing behind it goes first', () => {
  const p = new PartitionProgress<string>(0n)
  p.enqueue(unit(0, 5, 'a'))
  p.enqueue(unit(5, 9, 'b'))
  let now = 1000
  const delays: number[] = []
  for (let attempt = 1; attempt <= 4; attempt++) {
    const u = sendHead(p, now)
    assert.equal(u.payload, 'a')
    p.failed(u, now)
    assert.equal(p.next(now), undefined, 'waits for its backoff')
    delays.push(p.retryAt - now)
    now = p.retryAt
  }
  assert.deepEqual(delays, [
    RETRY_BACKOFF.firstMs,
    RETRY_BACKOFF.firstMs * 2,
    RETRY_BACKOFF.firstMs * 4,
    RETRY_BACKOFF.firstMs * 8
  ])
  const u = sendHead(p, now)
  assert.ok(p.acked(u, p.epoch))
  assert.equal(p.retryAt, 0, 'an acknowledgement ends the backoff')
  assert.equal(sendHead(p, now).payload, 'b')
  assert.equal(p.storable(), 4n)
})

test('partial acknowledgements: each partition has its own progress, a failed one does not hold back another', () => {
  const ok = new PartitionProgress<string>(0n)
  const bad = new PartitionProgress<string>(0n)
  ok.enqueue(unit(0, 10))
  bad.enqueue(unit(0, 10))
  const u1 = sendHead(ok)
  const u2 = sendHead(bad)
  // One produce request, two answers: partition "ok" written, "bad" NOT_LEADER_OR_FOLLOWER.
  ok.acked(u1, ok.epoch)
  bad.failed(u2, 0)
  assert.equal(ok.storable(), 9n)
  assert.equal(bad.storable(), undefined)
  assert.equal(bad.queuedUnits, 1, 'the failed unit is kept for the retry')
})

test('a refused record: the unit is narrowed down to records, the ones before it are copied, the partition pauses on it and tries again later', () => {
  const p = new PartitionProgress<string>(0n)
  p.enqueue(unit(0, 4, 'all'))
  p.enqueue(unit(4, 6, 'next'))
  const whole = sendHead(p)
  p.failed(whole, 0) // the copier narrows down after a non-retriable error
  p.splitHead([unit(0, 1, 'r0', 100), unit(1, 2, 'r1', 0), unit(2, 3, 'r2', 0), unit(3, 4, 'r3', 0)])
  let now = 1_000
  for (const expected of ['r0', 'r1']) {
    const u = sendHead(p, now)
    assert.equal(u.payload, expected)
    assert.ok(p.acked(u, p.epoch))
  }
  const refused = sendHead(p, now)
  assert.equal(refused.payload, 'r2')
  const pause = p.refused(refused, now, 'RECORD_TOO_LARGE')
  assert.deepEqual(pause, { offset: 2n, reason: 'RECORD_TOO_LARGE', since: now })
  assert.equal(p.storable(), 1n, 'records before the refused one are copied and storable')
  assert.equal(p.next(now + REFUSED_BACKOFF.firstMs - 1), undefined, 'paused')
  now += REFUSED_BACKOFF.firstMs
  const again = sendHead(p, now)
  assert.equal(again.payload, 'r2', 'the same record is tried again, nothing after it was sent')
  const second = p.refused(again, now, 'RECORD_TOO_LARGE')
  assert.equal(second.since, 1_000, 'the pause remembers when it started')
  assert.equal(p.retryAt - now, REFUSED_BACKOFF.firstMs * 2)
  now = p.retryAt
  const fixed = sendHead(p, now)
  assert.ok(p.acked(fixed, p.epoch))
  assert.equal(p.pause, undefined, 'copying again clears the pause')
  assert.equal(sendHead(p, now).payload, 'r3')
})

test('splitHead must cover exactly the head unit', () => {
  const p = new PartitionProgress<string>(0n)
  p.enqueue(unit(0, 4))
  assert.throws(() => {
    p.splitHead([unit(0, 2), unit(3, 4)])
  }, /expected 2/)
  assert.throws(() => {
    p.splitHead([unit(0, 2)])
  }, /parts end at 2/)
  const u = sendHead(p)
  assert.throws(() => {
    p.splitHead([unit(0, 4)])
  }, /in flight/)
  p.failed(u, 0)
  p.splitHead([unit(0, 1), unit(1, 4)])
  assert.equal(p.queuedUnits, 2)
})

test('retention overtaking the copy: restart forgets the queue, ignores the answer in flight, and stores from the new start', () => {
  const p = new PartitionProgress<string>(0n)
  p.enqueue(unit(0, 10))
  p.enqueue(unit(10, 20))
  const inFlight = sendHead(p)
  const epochBefore = p.epoch
  p.restart(500n) // records 0..499 expired on the source
  assert.equal(p.queuedUnits, 0)
  assert.equal(p.queuedBytes, 0)
  assert.equal(p.acked(inFlight, epochBefore), false, 'an answer from before the restart moves nothing')
  assert.equal(p.ackedTo, 500n)
  assert.equal(p.end, 500n, 'the next fetched unit starts at the new position')
  p.enqueue(unit(500, 510))
  const u = sendHead(p)
  assert.ok(p.acked(u, p.epoch))
  assert.equal(p.storable(), 509n)
})

test("a re-created topic (restart below the stored position) stores the new topic's position after its first acknowledgement", () => {
  const p = new PartitionProgress<string>(1000n)
  p.enqueue(unit(1000, 1010))
  const u = sendHead(p)
  p.acked(u, p.epoch)
  p.stored(1009n)
  p.restart(0n)
  assert.equal(p.storable(), undefined, 'nothing copied of the new topic yet')
  p.enqueue(unit(0, 3))
  const v = sendHead(p)
  p.acked(v, p.epoch)
  assert.equal(p.storable(), 2n)
})

test('restart from a stored position: nothing is storable until something new is acknowledged', () => {
  const p = new PartitionProgress<string>(42n) // resumed at stored offset 41 + 1
  assert.equal(p.storable(), undefined)
  assert.equal(p.ackedTo, 42n)
  p.enqueue(skip(42, 44)) // a commit marker right after the stored position
  assert.equal(p.storable(), 43n, 'stepping over markers is progress too')
})

test('queued bytes count what is waiting, for back-pressure', () => {
  const p = new PartitionProgress<string>(0n)
  p.enqueue(unit(0, 1, 'a', 300))
  p.enqueue(unit(1, 2, 'b', 200))
  assert.equal(p.queuedBytes, 500)
  const u = sendHead(p)
  assert.equal(p.queuedBytes, 500, 'a unit in flight still holds its bytes')
  p.acked(u, p.epoch)
  assert.equal(p.queuedBytes, 200)
})

test('only the head unit, one at a time, may be marked as sent', () => {
  const p = new PartitionProgress<string>(0n)
  const a = unit(0, 1)
  const b = unit(1, 2)
  p.enqueue(a)
  p.enqueue(b)
  assert.throws(() => {
    p.sending(b)
  }, /head unit/)
  p.sending(a)
  assert.throws(() => {
    p.sending(a)
  }, /one at a time/)
})

test('damaged bytes: the head unit and everything after it are dropped and fetched again from its first offset; acknowledged and stored positions stay', () => {
  const p = new PartitionProgress<string>(0n)
  p.enqueue(unit(0, 5))
  p.enqueue(unit(5, 10))
  p.enqueue(unit(10, 15))
  assert.ok(p.acked(sendHead(p), p.epoch))
  p.stored(4n)
  const damaged = sendHead(p)
  const epochBefore = p.epoch
  p.refetch(damaged)
  assert.equal(p.end, 5n, 'the next fetched unit must start at the damaged one')
  assert.deepEqual([p.queuedUnits, p.queuedBytes, p.inFlight], [0, 0, false])
  assert.equal(p.ackedTo, 5n)
  assert.equal(p.storable(), undefined, 'nothing new to store')
  assert.notEqual(p.epoch, epochBefore, 'an answer for a unit sent before is ignored')
  assert.throws(
    () => {
      p.enqueue(unit(10, 15))
    },
    /expected 5/,
    'what a fetch made before brings no longer fits'
  )
  p.enqueue(unit(5, 10, 'fetched again'))
  const again = sendHead(p)
  assert.equal(again.payload, 'fetched again')
  assert.ok(p.acked(again, p.epoch))
  assert.equal(p.storable(), 9n)
  assert.throws(() => {
    p.refetch(unit(20, 25))
  }, /only the head unit/)
})

test('release drops what is queued but keeps the unit in flight, whose acknowledgement still moves the position', () => {
  const p = new PartitionProgress<string>(0n)
  p.enqueue(unit(0, 5))
  p.enqueue(unit(5, 10))
  p.enqueue(unit(10, 15))
  const a = sendHead(p)
  p.release()
  assert.equal(p.queuedUnits, 1, 'only the unit in flight')
  assert.equal(p.queuedBytes, 100)
  assert.ok(p.acked(a, p.epoch))
  assert.equal(p.storable(), 4n)
  assert.equal(p.next(0), undefined, 'nothing left to send')
  const idle = new PartitionProgress<string>(7n)
  idle.enqueue(unit(7, 9))
  idle.release()
  assert.equal(idle.queuedUnits, 0)
  assert.equal(idle.storable(), undefined)
})

/** Joins any two units into one covering both (payloads concatenated), up to `maxBytes`. */
const joinUpTo =
  (maxBytes: number) =>
  (head: U, following: U): U | undefined =>
    head.bytes + following.bytes > maxBytes
      ? undefined
      : {
          first: head.first,
          next: following.next,
          bytes: head.bytes + following.bytes,
          empty: false,
          payload: `${head.payload}+${following.payload}`
        }

test('coalesceHead: what queued up while a send was in flight goes out in the next send, up to what join accepts', () => {
  const p = new PartitionProgress<string>(0n)
  p.enqueue(unit(0, 10, 'a'))
  const a = sendHead(p)
  for (const [first, name] of [
    [10, 'b'],
    [20, 'c'],
    [30, 'd'],
    [40, 'e']
  ] as const)
    p.enqueue(unit(first, first + 10, name))
  assert.equal(p.coalesceHead(joinUpTo(1_000)), 0, 'nothing is joined while a unit is in flight')
  assert.ok(p.acked(a, p.epoch))
  assert.equal(p.coalesceHead(joinUpTo(300)), 2, 'joined up to the size join accepts')
  assert.equal(p.queuedUnits, 2)
  assert.equal(p.queuedBytes, 400, 'the queued bytes are unchanged by joining')
  const joined = sendHead(p)
  assert.deepEqual([joined.first, joined.next, joined.payload], [10n, 40n, 'b+c+d'])
  assert.ok(p.acked(joined, p.epoch))
  assert.equal(p.storable(), 39n)
  assert.equal(p.coalesceHead(joinUpTo(300)), 0, 'one unit left: nothing to join')
  assert.equal(sendHead(p).payload, 'e')
})

test('coalesceHead leaves a failed head as it is until it is acknowledged (its retry and its narrowing keep their shape)', () => {
  const p = new PartitionProgress<string>(0n)
  p.enqueue(unit(0, 4, 'all'))
  p.enqueue(unit(4, 6, 'next'))
  const whole = sendHead(p)
  p.failed(whole, 0)
  assert.equal(p.coalesceHead(joinUpTo(1_000)), 0)
  p.splitHead([unit(0, 2, 'r0'), unit(2, 4, 'r1')])
  assert.equal(p.coalesceHead(joinUpTo(1_000)), 0, 'narrowed units are not joined again')
  const r0 = sendHead(p, RETRY_BACKOFF.firstMs)
  assert.equal(r0.payload, 'r0')
  assert.ok(p.acked(r0, p.epoch))
  assert.equal(p.coalesceHead(joinUpTo(1_000)), 1, 'after an acknowledgement the queue joins again')
  assert.equal(sendHead(p).payload, 'r1+next')
})

test('coalesceHead refuses a join that does not cover exactly the two units', () => {
  const p = new PartitionProgress<string>(0n)
  p.enqueue(unit(0, 5))
  p.enqueue(unit(5, 9))
  assert.throws(() => p.coalesceHead(head => ({ ...head, next: 7n })), /must cover \[0, 9\)/)
  assert.equal(p.queuedUnits, 2, 'nothing changed')
})
