/**
 * Produce requests written to the socket from their pieces, without one Buffer holding them all.
 *
 * The client library serializes a request into a list of Buffers and joins them with
 * `Buffer.concat` before its one `socket.write` (@platformatic/kafka network/connection.js
 * `send`: `payload: writer.buffer`). For the copy's Produce requests that join is a copy of
 * every copied byte into a new Buffer that lives until the write completes: as much garbage
 * again as the socket reads that brought the batches in, and it is that garbage which starts
 * V8's full collections (docs/DESIGN.md, "Where CPU and memory go now").
 *
 * Here a large Produce body (encoded by the library's Writer, the record batches appended as the
 * views they are) has its first piece remembered (`gathered`), and:
 * - `Writer.prototype.buffer` (the library's join) is wrapped: a request whose pieces hold such
 *   a first piece, right after the request header, is cut into runs: each run of small pieces
 *   (header, fields) joined, each large piece (a batch) kept as it is; the first run is returned
 *   as the head and the others are kept aside under it;
 * - the connection's socket gets a `write` that, handed such a head, writes the head and the
 *   pieces kept for it in one corked burst (one writev), and passes anything else through.
 * A body is marked only once its connection's socket gathers (`gatherProduceWrites`), so a head
 * never reaches a socket without its rest. Any other request, and a body not built here,
 * is joined as the library does.
 */
import { Writer } from '@platformatic/kafka'
import type { Connection } from './connections.ts'

/** Pieces smaller than this are joined with their small neighbours instead of written apart. */
const GATHER_BELOW = 1024
/**
 * Bodies smaller than this are joined as the library does. Gathering saves a copy of large
 * requests (a busy copy); on small ones, sent at a steady rate, it measured a worse p99 latency
 * (docs/DESIGN.md, "Raw-batch fast path").
 */
const GATHER_FROM_BYTES = 64 * 1024
/**
 * Where a body's first piece may sit in the request's pieces: after the size, api key, version
 * and correlation id (4) and the client id and header tags (up to 4 more).
 */
const FIRST_PIECE_FROM = 4
const FIRST_PIECE_UNTIL = 12

/** First pieces of bodies built here, not yet sent. */
const firstPieces = new WeakSet<Buffer>()
/** Head of a request (what the join returned) -> the pieces after it. */
const restOf = new WeakMap<Buffer, readonly Buffer[]>()
/** Sockets whose `write` knows heads. */
const gatheringSockets = new WeakSet<object>()

/**
 * Marks a request body (a library Writer) to be written from its pieces, when it is large enough
 * and the connection's socket was made to gather (`gatherProduceWrites`); returns it.
 */
export function gathered(body: InstanceType<typeof Writer>): InstanceType<typeof Writer> {
  installJoinUpToFirstPiece()
  const first = body.buffers[0]
  if (first !== undefined && body.buffers.length > 1 && body.length >= GATHER_FROM_BYTES) firstPieces.add(first)
  return body
}

/** Each run of small pieces joined into one Buffer (a fresh one), large pieces as they are. */
function coalesced(pieces: readonly Buffer[]): Buffer[] {
  const out: Buffer[] = []
  let run: Buffer[] = []
  for (const piece of pieces) {
    if (piece.length < GATHER_BELOW) {
      run.push(piece)
      continue
    }
    if (run.length > 0) out.push(Buffer.concat(run))
    run = []
    out.push(piece)
  }
  if (run.length > 0) out.push(Buffer.concat(run))
  return out
}

/**
 * Makes this connection's socket write a gathered request's pieces in one burst (once per
 * socket); false when the connection has no socket to do it with, and then nothing is gathered.
 */
export function gatherProduceWrites(conn: Connection): boolean {
  const socket = (conn as unknown as { socket?: GatheringSocket }).socket
  if (socket === undefined) return false
  if (gatheringSockets.has(socket)) return true
  gatheringSockets.add(socket)
  const plainWrite = socket.write
  socket.write = function writeGathered(this: GatheringSocket, chunk: unknown, ...rest: unknown[]): boolean {
    const pieces = Buffer.isBuffer(chunk) ? restOf.get(chunk) : undefined
    if (pieces === undefined) return plainWrite.call(this, chunk, ...rest)
    restOf.delete(chunk as Buffer)
    this.cork()
    let writable = plainWrite.call(this, chunk)
    for (let i = 0; i < pieces.length; i++)
      writable = i === pieces.length - 1 ? plainWrite.call(this, pieces[i], ...rest) : plainWrite.call(this, pieces[i])
    this.uncork()
    return writable
  }
  return true
}

interface GatheringSocket {
  write: (this: GatheringSocket, chunk: unknown, ...rest: unknown[]) => boolean
  cork(): void
  uncork(): void
}

let installed = false

function installJoinUpToFirstPiece(): void {
  if (installed) return
  installed = true
  const descriptor = Object.getOwnPropertyDescriptor(Writer.prototype, 'buffer')
  const join = descriptor?.get
  if (join === undefined) throw new Error('@platformatic/kafka Writer has no `buffer` getter: gathered writes need it')
  Object.defineProperty(Writer.prototype, 'buffer', {
    configurable: true,
    enumerable: descriptor?.enumerable ?? false,
    get(this: InstanceType<typeof Writer>): Buffer {
      const pieces = this.buffers
      const until = Math.min(pieces.length - 1, FIRST_PIECE_UNTIL)
      for (let i = FIRST_PIECE_FROM; i < until; i++) {
        const piece = pieces[i] as Buffer
        if (!firstPieces.has(piece)) continue
        firstPieces.delete(piece)
        // The header's pieces come first, so the head is a joined run: a Buffer of its own.
        const [head, ...rest] = coalesced(pieces) as [Buffer, ...Buffer[]]
        restOf.set(head, rest)
        return head
      }
      return join.call(this) as Buffer
    }
  })
}
