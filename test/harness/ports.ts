/** Free TCP ports on loopback, asked from the kernel (bind to port 0, read it back, release). */
import { connect, createServer } from 'node:net'

/** Ports already handed out by this process: the kernel may offer a released port again at once. */
const given = new Set<number>()

/**
 * A free port never handed out before by this process (a cluster's listener and controller once
 * got the same one, and the broker refused to start).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await kernelPort()
    if (given.has(port)) continue
    given.add(port)
    return port
  }
  throw new Error('no fresh free port after 20 attempts')
}

async function kernelPort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port)
        else reject(new Error('no port assigned'))
      })
    })
  })
}

/** True once something accepts TCP connections on host:port. */
export async function canConnect(host: string, port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const socket = connect({ host, port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => {
      socket.destroy()
      resolve(false)
    })
  })
}
