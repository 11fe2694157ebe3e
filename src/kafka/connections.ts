/**
 * Connections of a library client for the requests this project builds itself (raw-protocol.ts,
 * group-wire.ts, transactions.ts), and the one rule they share for broker errors: the library
 * throws a ResponseError for an answer carrying an error code, and that answer is what callers
 * want (each code is a state to act on), so it is taken back out of the error.
 */
import { type Base, kGetBootstrapConnection, kGetConnection, ResponseError } from '@platformatic/kafka'

export type Connection = NonNullable<Parameters<Parameters<Base[typeof kGetConnection]>[1]>[1]>

/** A connection to that broker (the client's pooled one); rejects with the library's error. */
export async function brokerConnection(
  client: Base,
  broker: { readonly host: string; readonly port: number }
): Promise<Connection> {
  return await new Promise((resolve, reject) => {
    client[kGetConnection]({ host: broker.host, port: broker.port } as never, (error, conn) => {
      if (error != null || conn == null) reject(error ?? new Error('no connection'))
      else resolve(conn)
    })
  })
}

/** A connection to any of the bootstrap brokers; rejects with the library's error. */
export async function bootstrapConnection(client: Base): Promise<Connection> {
  return await new Promise((resolve, reject) => {
    client[kGetBootstrapConnection]((error, conn) => {
      if (error != null || conn == null) reject(error ?? new Error('no connection'))
      else resolve(conn)
    })
  })
}

/** The broker's answer inside a failed request, when the failure is an answer with an error code. */
export function answerInError<T>(err: unknown): T | undefined {
  const answer = err instanceof ResponseError ? (err as { response?: unknown }).response : undefined
  return answer === undefined || answer === null ? undefined : (answer as T)
}
