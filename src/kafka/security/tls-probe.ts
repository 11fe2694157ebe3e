/**
 * When a TLS broker closes the connection right after the handshake, the client library only
 * reports "Connection closed": with TLS 1.3 the broker's verdict on the client certificate (an
 * alert) arrives after the handshake and the library drops it. A one-off TLS connection with
 * the same options, kept open for a moment, receives that alert; its code then explains the
 * failure ("the broker refused the client certificate").
 */
import { isIP } from 'node:net'
import { connect } from 'node:tls'
import { KafkaError } from '../../errors.ts'
import type { BaseClientOptions } from './client-options.ts'
import { explainSecurityFailure } from './security-errors.ts'

const PROBE_MS = 3000

async function probe(options: BaseClientOptions, hostPort: string): Promise<Error | undefined> {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(hostPort)
  if (m === null || options.tls === undefined) return undefined
  const host = m[1] as string
  const port = Number(m[2])
  return await new Promise(resolve => {
    const socket = connect({
      ...options.tls,
      host,
      port,
      ...(options.tlsServerName === true && isIP(host) === 0 ? { servername: host } : {})
    })
    const done = (err: Error | undefined): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve(err)
    }
    const timer = setTimeout(() => {
      done(undefined)
    }, PROBE_MS)
    socket.on('data', () => {})
    socket.once('error', err => {
      done(err)
    })
    socket.once('close', () => {
      done(undefined)
    })
  })
}

/** `err` with its "Connection closed" explained when a TLS probe finds out why; otherwise `err`. */
export async function explainClosedTls(options: BaseClientOptions, err: KafkaError): Promise<KafkaError> {
  if (options.tls === undefined || !/Connection closed/i.test(err.message)) return err
  const address = options.bootstrapBrokers[0]
  if (address === undefined) return err
  const found = await probe(options, address)
  const explanation = found === undefined ? undefined : explainSecurityFailure(found)
  if (explanation === undefined) return err
  return new KafkaError(err.message.replace(/Connection closed\.?/i, `${explanation} (connecting to ${address})`), {
    retriable: false,
    cause: err.cause
  })
}
