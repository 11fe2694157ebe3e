import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { gatheredWriter, gatherProduceWrites, PieceBuilder } from '../../../src/kafka/gathered-produce.ts'
import { produceBodyPieces } from '../../../src/kafka/raw-protocol.ts'
import type { BatchBytes } from '../../../src/kafka/record-batch.ts'

/**
 * The client library's Writer, the reference encoder and what its connection joins requests
 * with; reached through a Writer gatheredWriter returns, as tests do not import the library.
 */
type LibraryWriter = ReturnType<typeof gatheredWriter>
const Writer = gatheredWriter([]).constructor as unknown as { create(): LibraryWriter }

type Topics = Parameters<typeof produceBodyPieces>[3]

/** The same body through the library's own Writer, field by field (the Produce v9+ layout). */
function libraryBody(transactionalId: string | null, acks: number, timeoutMs: number, topics: Topics): Buffer {
  const w = Writer.create()
    .appendString(transactionalId as never)
    .appendInt16(acks)
    .appendInt32(timeoutMs)
    .appendArray(topics as never[], (w, t: Topics[number]) => {
      w.appendString(t.topic).appendArray(t.partitions as never[], (w, p: { partition: number; batch: BatchBytes }) => {
        const pieces = Buffer.isBuffer(p.batch) ? [p.batch] : p.batch
        w.appendInt32(p.partition).appendUnsignedVarInt(pieces.reduce((n, b) => n + b.length, 0) + 1)
        for (const piece of pieces) w.append(piece)
      })
    })
    .appendTaggedFields()
  return Buffer.concat(w.buffers)
}

/** What the client library's connection does with a request body before its socket write. */
function libraryRequest(body: LibraryWriter): LibraryWriter {
  return Writer.create()
    .appendInt16(0)
    .appendInt16(11)
    .appendInt32(42)
    .appendString('kafka-mirror-test', false)
    .appendTaggedFields()
    .appendFrom(body)
    .prependLength()
}

/** A socket stand-in that records what is written and when it is corked. */
function recordingSocket(): {
  socket: { write: (chunk: unknown) => boolean; cork(): void; uncork(): void }
  writes: Array<{ chunk: Buffer; corked: boolean }>
} {
  const writes: Array<{ chunk: Buffer; corked: boolean }> = []
  let corked = 0
  const socket = {
    write(chunk: unknown): boolean {
      writes.push({ chunk: chunk as Buffer, corked: corked > 0 })
      return true
    },
    cork(): void {
      corked++
    },
    uncork(): void {
      corked--
    }
  }
  return { socket, writes }
}

const bigBatch = randomBytes(70_000)
const splitBatch = [randomBytes(61), randomBytes(3000), randomBytes(500), randomBytes(40_000)]
const TOPICS: Topics = [
  {
    topic: 'A.orders',
    partitions: [
      { partition: 0, batch: bigBatch },
      { partition: 3, batch: splitBatch }
    ]
  },
  { topic: 'A.payments-é', partitions: [{ partition: 129, batch: randomBytes(100) }] }
]

describe('produceBodyPieces', () => {
  for (const transactionalId of [null, 'mirror-tx-1']) {
    it(`encodes the bytes the library's Writer encodes (transactional id ${String(transactionalId)})`, () => {
      const pieces = produceBodyPieces(transactionalId, -1, 30_000, TOPICS)
      assert.deepEqual(Buffer.concat(pieces), libraryBody(transactionalId, -1, 30_000, TOPICS))
    })
  }

  it('keeps large batch pieces as the same views and gathers the small fields between them', () => {
    const pieces = produceBodyPieces(null, 1, 5000, TOPICS)
    assert.ok(pieces.includes(bigBatch), 'the 70,000-byte batch is written from its own Buffer')
    assert.ok(pieces.includes(splitBatch[1] as Buffer) && pieces.includes(splitBatch[3] as Buffer))
    assert.ok(!pieces.includes(splitBatch[0] as Buffer), 'a 61-byte piece is copied into the gathered run')
    // fields, big, fields + 61 B, 3000 B, 500 B + fields... : far fewer pieces than fields
    assert.ok(pieces.length <= 7, `${pieces.length} pieces`)
  })
})

describe('PieceBuilder', () => {
  it('writes unsigned varints as Kafka does (7 bits a byte, low first)', () => {
    for (const value of [0, 1, 127, 128, 300, 16_383, 16_384, 2_097_151, 2 ** 31 - 1]) {
      const ours = Buffer.concat(new PieceBuilder().unsignedVarInt(value).finish())
      const theirs = Buffer.concat(Writer.create().appendUnsignedVarInt(value).buffers)
      assert.deepEqual(ours, theirs, `value ${value}`)
    }
  })

  it('starts a new run when the current one is full, without losing bytes', () => {
    const b = new PieceBuilder()
    const names = Array.from({ length: 40 }, (_, i) => `topic-${i}-${'x'.repeat(i)}`)
    for (const name of names) b.compactString(name).int32(7)
    const w = Writer.create()
    for (const name of names) w.appendString(name).appendInt32(7)
    assert.deepEqual(Buffer.concat(b.finish()), Buffer.concat(w.buffers))
  })
})

describe('gathered produce writes', () => {
  it('joins the request only up to the body, and the socket writes the rest corked, in order', () => {
    const pieces = produceBodyPieces(null, -1, 30_000, TOPICS)
    const request = libraryRequest(gatheredWriter(pieces))
    const expected = Buffer.concat(request.buffers)
    const { socket, writes } = recordingSocket()
    gatherProduceWrites({ socket } as never)

    const head = request.buffer
    assert.ok(head.length < 200, `head of ${head.length} bytes: header and first fields only`)
    assert.equal(head.readInt32BE(0), expected.length - 4, 'the size prefix counts the whole request')
    socket.write(head)

    assert.deepEqual(Buffer.concat(writes.map(w => w.chunk)), expected)
    assert.ok(
      writes.every(w => w.corked),
      'every piece written while corked: one writev'
    )
    assert.ok(
      writes.some(w => w.chunk === bigBatch),
      'the batch itself is written, not a copy'
    )
  })

  it('writes a head once: the same Buffer written again goes out as it is', () => {
    const request = libraryRequest(gatheredWriter(produceBodyPieces(null, -1, 1000, TOPICS)))
    const { socket, writes } = recordingSocket()
    gatherProduceWrites({ socket } as never)
    const head = request.buffer
    socket.write(head)
    const n = writes.length
    socket.write(head)
    assert.equal(writes.length, n + 1)
  })

  it('leaves every other request joined whole, as the library does', () => {
    const plain = libraryRequest(Writer.create().appendInt32(1).append(randomBytes(5000)))
    assert.deepEqual(plain.buffer, Buffer.concat(plain.buffers))
    // A body built here but not inside a request header (e.g. read on its own) is joined whole too.
    const body = gatheredWriter(produceBodyPieces(null, -1, 1000, TOPICS))
    assert.deepEqual(body.buffer, Buffer.concat(body.buffers))
  })

  it('joins a small request whole (below 64 KiB, one write as the library does)', () => {
    const small: Topics = [{ topic: 'A.orders', partitions: [{ partition: 0, batch: randomBytes(30_000) }] }]
    const request = libraryRequest(gatheredWriter(produceBodyPieces(null, -1, 1000, small)))
    assert.deepEqual(request.buffer, Buffer.concat(request.buffers))
  })

  it('passes chunks it does not know straight through, and wraps a socket once', () => {
    const { socket, writes } = recordingSocket()
    gatherProduceWrites({ socket } as never)
    const wrapped = socket.write
    gatherProduceWrites({ socket } as never)
    assert.equal(socket.write, wrapped)
    const chunk = randomBytes(10)
    socket.write(chunk)
    assert.deepEqual(writes, [{ chunk, corked: false }])
  })
})
