import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { type ArenaRegion, FetchArena } from '../../../src/kafka/fetch-arena.ts'

function take(arena: FetchArena, length: number, fill = length % 251): { bytes: Buffer; region: ArenaRegion } {
  const got = arena.copy([Buffer.alloc(length, fill)])
  assert.ok(got !== undefined, `expected room for ${length} bytes (used ${arena.usedBytes} of ${arena.capacity})`)
  return got
}

test('pieces come back as one contiguous copy, equal to the pieces joined', () => {
  const arena = new FetchArena(1024)
  const pieces = [randomBytes(10), randomBytes(1), randomBytes(300)]
  const got = arena.copy(pieces)
  assert.ok(got !== undefined)
  assert.deepEqual(got.bytes, Buffer.concat(pieces))
  // A copy, not a view of the pieces: changing them later changes nothing here.
  const before = Buffer.from(got.bytes)
  for (const p of pieces) p.fill(0)
  assert.deepEqual(got.bytes, before)
})

test('a held region is never reused: the ring is full until its holder lets go', () => {
  const arena = new FetchArena(1000)
  const a = take(arena, 400, 1)
  const b = take(arena, 400, 2)
  assert.equal(arena.copy([Buffer.alloc(300)]), undefined, 'no room while both are held')
  assert.deepEqual(a.bytes, Buffer.alloc(400, 1))
  assert.deepEqual(b.bytes, Buffer.alloc(400, 2))
  // The newer one let go: still no room, space comes back from the oldest end only.
  b.region.release()
  assert.equal(arena.copy([Buffer.alloc(300)]), undefined)
  assert.deepEqual(a.bytes, Buffer.alloc(400, 1))
  a.region.release()
  const c = take(arena, 300, 3)
  assert.equal(c.bytes.byteOffset, a.bytes.byteOffset, 'an empty ring starts again at its beginning')
  assert.equal(arena.regions, 1)
})

test('the ring wraps around to its start when the end has no room, and never overlaps a held region', () => {
  const arena = new FetchArena(1000)
  const a = take(arena, 400, 1)
  const b = take(arena, 400, 2)
  a.region.release()
  // 200 left at the end: 300 does not fit there, but fits at the start once a is given back.
  const c = take(arena, 300, 3)
  assert.equal(c.bytes.byteOffset, a.bytes.byteOffset)
  assert.deepEqual(b.bytes, Buffer.alloc(400, 2), 'b untouched')
  // Wrapped: free is only between c's end (300) and b's start (400).
  assert.equal(arena.copy([Buffer.alloc(101)]), undefined)
  const d = take(arena, 100, 4)
  assert.equal(d.bytes.byteOffset - a.bytes.byteOffset, 300)
  assert.deepEqual(b.bytes, Buffer.alloc(400, 2))
  assert.deepEqual(c.bytes, Buffer.alloc(300, 3))
  assert.equal(arena.usedBytes, 1000, 'from b (at 400) around to the end of d (400): the unusable end counts as used')
})

test('holders are asked when room is needed: a holder that changes its mind frees its region', () => {
  const arena = new FetchArena(100)
  let acked = false
  const a = take(arena, 60)
  a.region.holdWhile(() => !acked)
  assert.equal(arena.copy([Buffer.alloc(60)]), undefined)
  acked = true
  take(arena, 60)
  assert.equal(arena.regions, 1)
})

test('an unclaimed region is held until released as unclaimed; a claimed one only by its holder', () => {
  const arena = new FetchArena(100)
  const unclaimed = take(arena, 40)
  const claimed = take(arena, 40)
  claimed.region.holdWhile(() => true)
  claimed.region.releaseUnclaimed()
  assert.equal(claimed.region.held(), true, 'claimed: only its holder decides')
  assert.equal(unclaimed.region.held(), true, 'never claimed: held')
  unclaimed.region.releaseUnclaimed()
  assert.equal(unclaimed.region.held(), false)
})

test('more than the whole arena, or nothing, is not taken', () => {
  const arena = new FetchArena(100)
  assert.equal(arena.copy([Buffer.alloc(101)]), undefined)
  assert.equal(arena.copy([]), undefined)
  assert.throws(() => new FetchArena(0), /positive size/)
  assert.throws(() => new FetchArena(100, 101), /first size must be positive and at most 100/)
})

test('a ring with no room doubles up to its largest size; the regions in the old blocks keep their bytes', () => {
  const arena = new FetchArena(1000, 300)
  const a = take(arena, 200, 1)
  assert.equal(arena.capacity, 300)
  const b = take(arena, 200, 2)
  assert.equal(arena.capacity, 600, 'no room for 200 more: doubled')
  assert.notEqual(b.bytes.buffer, a.bytes.buffer, 'in a new block')
  const c = take(arena, 350, 3)
  assert.equal(c.bytes.buffer, b.bytes.buffer, 'room left in the new block')
  const d = take(arena, 100, 4)
  assert.equal(arena.capacity, 1000, 'doubled again, capped at the largest size')
  d.region.release()
  for (let i = 0; i < 20; i++) take(arena, 300, 5).region.release()
  assert.deepEqual(a.bytes, Buffer.alloc(200, 1), 'an old block is never written again')
  assert.deepEqual(b.bytes, Buffer.alloc(200, 2))
  assert.deepEqual(c.bytes, Buffer.alloc(350, 3))
  take(arena, 600, 6)
  assert.equal(arena.copy([Buffer.alloc(500)]), undefined, 'full at the largest size: refused')
  assert.equal(arena.fullBytes, 500)
  assert.equal(arena.capacity, 1000)
})

test('random copies and releases: every held region keeps its bytes, whatever is reused around it', () => {
  const arena = new FetchArena(64 * 1024)
  const live: Array<{ bytes: Buffer; region: ArenaRegion; expected: Buffer }> = []
  let seed = 7
  const random = (n: number): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
    return seed % n
  }
  let copied = 0
  let refused = 0
  let copiedBytes = 0
  let refusedBytes = 0
  for (let i = 0; i < 5_000; i++) {
    if (live.length > 0 && random(3) === 0) {
      // Out of order, as partitions are acknowledged in any order.
      const [gone] = live.splice(random(live.length), 1)
      gone?.region.release()
    }
    const length = 1 + random(8 * 1024)
    const expected = randomBytes(length)
    const got = arena.copy([expected.subarray(0, length >> 1), expected.subarray(length >> 1)])
    if (got === undefined) {
      refused++
      refusedBytes += length
    } else {
      copied++
      copiedBytes += length
      live.push({ ...got, expected })
    }
    for (const l of live) assert.ok(l.bytes.equals(l.expected), 'a held region was overwritten')
  }
  assert.ok(copied > 1_000 && refused > 0, `copied ${copied}, refused ${refused}: both paths taken`)
  assert.equal(arena.copiedBytes, copiedBytes)
  assert.equal(arena.fullBytes, refusedBytes)
})
