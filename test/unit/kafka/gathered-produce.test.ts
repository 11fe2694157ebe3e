import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { gathered, gatherProduceWrites } from '../../../src/kafka/gathered-produce.ts'
import { produceBody } from '../../../src/kafka/raw-protocol.ts'

/**
 * The client library's Writer, what its connection joins requests with; reached through a body
 * produceBody returns, as tests do not import the library.
 */
type LibraryWriter = ReturnType<typeof produceBody>
const Writer = produceBody(null, 0, 0, []).constructor as unknown as { create(): LibraryWriter }

type Topics = Parameters<typeof produceBody>[3]

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

describe('gathered produce writes', () => {
  it('writes the request as runs of small pieces joined and the batches as they are, corked, in order', () => {
    const request = libraryRequest(gathered(produceBody(null, -1, 30_000, TOPICS)))
    const expected = Buffer.concat(request.buffers)
    const { socket, writes } = recordingSocket()
    assert.equal(gatherProduceWrites({ socket } as never), true)

    const head = request.buffer
    assert.ok(head.length < 200, `head of ${head.length} bytes: header and first fields only`)
    assert.equal(head.readInt32BE(0), expected.length - 4, 'the size prefix counts the whole request')
    socket.write(head)

    assert.deepEqual(Buffer.concat(writes.map(w => w.chunk)), expected)
    assert.ok(
      writes.every(w => w.corked),
      'every piece written while corked: one writev'
    )
    const written = writes.map(w => w.chunk)
    assert.ok(written.includes(bigBatch), 'the 70,000-byte batch is written from its own Buffer, not a copy')
    assert.ok(written.includes(splitBatch[1] as Buffer) && written.includes(splitBatch[3] as Buffer))
    assert.ok(!written.includes(splitBatch[0] as Buffer), 'a 61-byte piece is joined with the fields around it')
    // head, 70,000 B, fields + 61 B, 3,000 B, 500 B, 40,000 B, the fields and 100 B batch after
    assert.ok(writes.length <= 7, `${writes.length} writes`)
  })

  it('marks nothing for a connection without a socket', () => {
    assert.equal(gatherProduceWrites({} as never), false)
  })

  it('writes a head once: the same Buffer written again goes out as it is', () => {
    const request = libraryRequest(gathered(produceBody(null, -1, 1000, TOPICS)))
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
    const body = gathered(produceBody(null, -1, 1000, TOPICS))
    assert.deepEqual(body.buffer, Buffer.concat(body.buffers))
  })

  it('joins a small request whole (below 64 KiB, one write as the library does)', () => {
    const small: Topics = [{ topic: 'A.orders', partitions: [{ partition: 0, batch: randomBytes(30_000) }] }]
    const request = libraryRequest(gathered(produceBody(null, -1, 1000, small)))
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
