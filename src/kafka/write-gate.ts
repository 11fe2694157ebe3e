/**
 * The write gate: whether this instance may still write records, positions and offset syncs
 * (docs/scale-out-plan.md §4, Claim 3). The group's write lease (src/group/lease.ts, `Lease` and
 * its thread-safe read side `LeaseView`) is the gate; this module only knows the shape, so the
 * Kafka adapters stay below the group layer.
 *
 * Two places check it:
 * - the write paths themselves, synchronously right before a request is built or handed to the
 *   client (KafkaProducer);
 * - the socket, as the last gate (`gateConnections`): a request that passed the first check can
 *   still wait in the client's queues (its in-flight limit, a socket waiting for `drain`), and
 *   after a SIGSTOP/SIGCONT a pending `drain` can write it before any timer of ours runs. So every
 *   connection of a gated client has its `socket.write` wrapped: once the gate is invalid, the
 *   connection is reset (RST: unsent bytes are discarded, not flushed) instead of writing. The
 *   client then fails the requests on it with a connection error; nothing of them was written.
 *
 * Not covered: bytes already handed to the kernel before the gate turned invalid (the residual
 * the plan states in §4).
 */
import type { Socket } from 'node:net'

/** What the write paths ask; LeaseView satisfies it. */
export interface WriteGate {
  /** True while writes are allowed (reads shared memory; cheap, synchronous). */
  valid: () => boolean
  /**
   * Throws a non-retriable error with kafkaCode LEASE_EXPIRED (LeaseExpiredError) unless valid;
   * `what` names the write, a function only evaluated on refusal.
   */
  assertValid: (what: string | (() => string)) => void
}

/** The kafkaCode of a write the gate refused (LeaseExpiredError's; src/group/lease.ts). */
export const GATE_REFUSED = 'LEASE_EXPIRED'

/** Whether `err` is a write the gate refused: nothing of it left this process. */
export function isGateRefusal(err: unknown): boolean {
  return (err as { kafkaCode?: unknown } | null)?.kafkaCode === GATE_REFUSED
}

/** Marks a socket already wrapped (a connection is announced once, but a gate must never stack). */
const GATED = Symbol('kafka-mirror write gate')

/**
 * Wraps `socket.write`: while the gate is valid it writes as before; once invalid it resets the
 * connection instead and reports the write as not taken (false).
 */
export function gateSocket(socket: Socket, gate: WriteGate): void {
  const marked = socket as Socket & { [GATED]?: true }
  if (marked[GATED] === true) return
  marked[GATED] = true
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean
  socket.write = ((...args: unknown[]): boolean => {
    if (gate.valid()) return write(...args)
    cut(socket)
    return false
  }) as Socket['write']
}

/** Resets the connection (RST, unsent bytes dropped); a TLS socket cannot be reset and is destroyed. */
function cut(socket: Socket): void {
  if (socket.destroyed) return
  try {
    socket.resetAndDestroy()
  } catch {
    // ERR_INVALID_HANDLE_TYPE: a TLS socket's handle is not a bare TCP handle. destroy() still
    // drops the bytes Node holds; TLS records already encrypted into the kernel are the residual.
    socket.destroy()
  }
}

/** The part of a library client this needs: it announces each new connection (`client:broker:connect`). */
export interface ConnectingClient {
  on: (
    event: 'client:broker:connect',
    listener: (payload: { connection: { socket: Socket | undefined } }) => void
  ) => unknown
}

/**
 * Gates every connection the client opens from now on (call it right after constructing the
 * client, before its first request). The client emits `client:broker:connect` for a new
 * connection before it hands that connection to any request (@platformatic/kafka
 * network/connection-pool.js, forwarded by clients/base/base.js), so no data request is written
 * on an ungated socket; the connection's own handshake (ApiVersions, SASL) comes before and
 * carries no data.
 */
export function gateConnections(client: ConnectingClient, gate: WriteGate): void {
  client.on('client:broker:connect', ({ connection }) => {
    if (connection.socket !== undefined) gateSocket(connection.socket, gate)
  })
}
