import assert from 'node:assert/strict'
import { EventEmitter, once } from 'node:events'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { test } from 'node:test'
import { Lease, LeaseExpiredError, LeaseView } from '../../../src/group/lease.ts'
import { gateConnections, gateSocket, isGateRefusal, type WriteGate } from '../../../src/kafka/write-gate.ts'

/** A gate switched by the test. */
function switchable(): WriteGate & { open: boolean } {
  const g = {
    open: true,
    valid: () => g.open,
    assertValid: (what: string | (() => string)) => {
      if (!g.open) throw new LeaseExpiredError(typeof what === 'string' ? what : what(), 'A-mm2')
    }
  }
  return g
}

/** A local server that collects what each connection sends and how it ended. */
async function collector(): Promise<{
  server: Server
  port: number
  received: () => string
  ended: Promise<string>
}> {
  let data = ''
  let resolveEnd: (how: string) => void = () => {}
  const ended = new Promise<string>(resolve => {
    resolveEnd = resolve
  })
  const server = createServer(s => {
    s.on('data', chunk => {
      data += chunk.toString()
    })
    s.on('error', err => {
      resolveEnd((err as NodeJS.ErrnoException).code ?? err.message)
    })
    s.on('end', () => {
      resolveEnd('end')
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as { port: number }).port
  return { server, port, received: () => data, ended }
}

async function connect(port: number): Promise<Socket> {
  const socket = createConnection({ port, host: '127.0.0.1' })
  await once(socket, 'connect')
  return socket
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

test('a gated socket writes while the gate is valid; once invalid it resets the connection instead of writing', async () => {
  const { server, port, received, ended } = await collector()
  const socket = await connect(port)
  const gate = switchable()
  gateSocket(socket, gate)
  gateSocket(socket, gate) // announced twice: wrapped once
  assert.equal(socket.write('first;'), true)
  await until(() => received() === 'first;', 'the first write')
  gate.open = false
  const closed = once(socket, 'close')
  assert.equal(socket.write('second;'), false, 'the refused write is not taken')
  await closed
  assert.equal(socket.destroyed, true)
  assert.equal(await ended, 'ECONNRESET', 'the peer sees a reset, not an orderly end')
  assert.equal(received(), 'first;', 'nothing after the gate closed reached the peer')
  server.close()
})

test('bytes queued behind back-pressure are not flushed once the gate closed: the next write resets instead', async () => {
  const { server, port, received } = await collector()
  const socket = await connect(port)
  const gate = switchable()
  gateSocket(socket, gate)
  // Cork: Node holds the first write in its own buffer, as a socket waiting for `drain` does.
  socket.cork()
  socket.write('held;')
  gate.open = false
  socket.write('late;')
  await once(socket, 'close')
  await new Promise(resolve => setTimeout(resolve, 100))
  assert.equal(received(), '', 'the held bytes were dropped with the connection')
  server.close()
})

test("gateConnections wraps the socket of every connection the client announces, as the library's pool does", async () => {
  const { server, port, received } = await collector()
  const client = new EventEmitter()
  const gate = switchable()
  gateConnections(client as never, gate)
  const socket = await connect(port)
  client.emit('client:broker:connect', { broker: { host: '127.0.0.1', port }, connection: { socket } })
  client.emit('client:broker:connect', { broker: {}, connection: { socket: undefined } })
  socket.write('a;')
  await until(() => received() === 'a;', 'the gated write while valid')
  gate.open = false
  socket.write('b;')
  await once(socket, 'close')
  assert.equal(received(), 'a;')
  server.close()
})

test('a LeaseView is a write gate, and its refusal is recognised as one', () => {
  const lease = new Lease({ groupId: 'A-mm2', sessionTimeoutMs: 10_000 })
  const gate: WriteGate = new LeaseView(lease.buffer, 'A-mm2')
  assert.equal(gate.valid(), false)
  let refusal: unknown
  try {
    gate.assertValid('producing to t')
  } catch (err) {
    refusal = err
  }
  assert.ok(refusal instanceof LeaseExpiredError)
  assert.equal(isGateRefusal(refusal), true)
  assert.equal(isGateRefusal(new Error('x')), false)
  assert.equal(isGateRefusal(undefined), false)
  lease.renew(process.hrtime.bigint())
  assert.equal(gate.valid(), true)
  gate.assertValid('producing to t')
  lease.close()
})
