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
 * Here a Produce body is built as few pieces (the small fields gathered into one Buffer
 * between record batches, the batches as the views they are), its first piece is remembered, and:
 * - `Writer.prototype.buffer` (the library's join) is wrapped: a request whose pieces hold such
 *   a first piece, right after the request header, is joined only up to it (the header and the
 *   first small fields); the rest of its pieces are kept aside under that head;
 * - the connection's socket gets a `write` that, handed such a head, writes the head and the
 *   pieces kept for it in one corked burst (one writev), and passes anything else through.
 * Both are installed before the request is sent (`gatherProduceWrites` for the connection), so
 * a head never reaches a socket without its rest. Any other request, and a body not built here,
 * is joined as the library does.
 */
import { Writer } from '@platformatic/kafka'
import type { Connection } from './connections.ts'

/** Pieces smaller than this are copied into the gathered small-field run instead of kept apart. */
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

/** Builds a request body as pieces: small fields run together, large byte strings kept as views. */
export class PieceBuilder {
  readonly #pieces: Buffer[] = []
  #run = Buffer.allocUnsafe(256)
  #start = 0
  #at = 0

  int16(value: number): this {
    this.#room(2)
    this.#at = this.#run.writeInt16BE(value, this.#at)
    return this
  }

  int32(value: number): this {
    this.#room(4)
    this.#at = this.#run.writeInt32BE(value, this.#at)
    return this
  }

  unsignedVarInt(value: number): this {
    this.#room(5)
    let v = value >>> 0
    while (v >= 0x80) {
      this.#run[this.#at++] = (v & 0x7f) | 0x80
      v >>>= 7
    }
    this.#run[this.#at++] = v
    return this
  }

  /** COMPACT_NULLABLE_STRING (flexible versions). */
  compactString(value: string | null): this {
    if (value === null) return this.unsignedVarInt(0)
    const length = Buffer.byteLength(value)
    this.unsignedVarInt(length + 1)
    this.#room(length)
    this.#at += this.#run.write(value, this.#at)
    return this
  }

  /** An empty TAG_BUFFER. */
  noTags(): this {
    return this.unsignedVarInt(0)
  }

  /** Bytes as they are: small ones copied into the run, large ones kept as a piece of their own. */
  bytes(piece: Buffer): this {
    if (piece.length < GATHER_BELOW) {
      this.#room(piece.length)
      this.#at += piece.copy(this.#run, this.#at)
    } else {
      this.#cut()
      this.#pieces.push(piece)
    }
    return this
  }

  /** The pieces, in order. */
  finish(): Buffer[] {
    this.#cut()
    return this.#pieces
  }

  #cut(): void {
    if (this.#at > this.#start) this.#pieces.push(this.#run.subarray(this.#start, this.#at))
    this.#start = this.#at
  }

  #room(bytes: number): void {
    if (this.#at + bytes <= this.#run.length) return
    this.#cut()
    this.#run = Buffer.allocUnsafe(Math.max(256, bytes))
    this.#start = 0
    this.#at = 0
  }
}

/** A library Writer over these pieces whose socket write will not join them (see the module comment). */
export function gatheredWriter(pieces: readonly Buffer[]): InstanceType<typeof Writer> {
  installJoinUpToFirstPiece()
  const w = Writer.create()
  for (const piece of pieces) w.append(piece)
  const first = pieces[0]
  if (first !== undefined && pieces.length > 1 && w.length >= GATHER_FROM_BYTES) firstPieces.add(first)
  return w
}

/** Makes this connection's socket write a gathered request's pieces in one burst; once per socket. */
export function gatherProduceWrites(conn: Connection): void {
  const socket = (conn as unknown as { socket?: GatheringSocket }).socket
  if (socket === undefined || gatheringSockets.has(socket)) return
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
        const head = Buffer.concat(pieces.slice(0, i + 1))
        restOf.set(head, pieces.slice(i + 1))
        return head
      }
      return join.call(this) as Buffer
    }
  })
}
