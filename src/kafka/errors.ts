/**
 * Turns the client library's errors into our KafkaError, classified by class and flags (never by
 * the code string alone: the library's TimeoutError reports a network code). The message says
 * what we were doing and the broker's error name; nothing from the request (which may hold
 * credentials) is copied into it.
 */
import { AuthenticationError, MultipleErrors, NetworkError, ProtocolError, TimeoutError } from '@platformatic/kafka'
import { KafkaError } from '../errors.ts'

/** Broker error names found anywhere in the error tree (e.g. `TOPIC_AUTHORIZATION_FAILED`). */
export function brokerErrorNames (err: unknown): string[] {
  const names: string[] = []
  const visit = (e: unknown, depth: number): void => {
    if (depth > 6 || !(e instanceof Error)) return
    if (e instanceof ProtocolError && typeof (e as { apiId?: unknown }).apiId === 'string') names.push((e as unknown as { apiId: string }).apiId)
    if (e instanceof AggregateError) for (const inner of e.errors) visit(inner, depth + 1)
    if (e.cause !== undefined) visit(e.cause, depth + 1)
  }
  visit(err, 0)
  return [...new Set(names)]
}

function isRetriableTree (err: unknown): boolean {
  let retriable = false
  let fatal = false
  const visit = (e: unknown, depth: number): void => {
    if (depth > 6 || !(e instanceof Error)) return
    if (e instanceof NetworkError || e instanceof TimeoutError) retriable = true
    if (e instanceof AuthenticationError) fatal = true
    if (e instanceof ProtocolError) {
      if ((e as unknown as { canRetry?: boolean }).canRetry === true) retriable = true
      else fatal = true
    }
    if (e instanceof MultipleErrors || e instanceof AggregateError) for (const inner of (e as AggregateError).errors) visit(inner, depth + 1)
    if (e.cause !== undefined) visit(e.cause, depth + 1)
  }
  visit(err, 0)
  return retriable && !fatal
}

function rootMessage (err: unknown): string {
  const messages: string[] = []
  const visit = (e: unknown, depth: number): void => {
    if (depth > 6 || !(e instanceof Error)) return
    if (e instanceof AggregateError && e.errors.length > 0) {
      for (const inner of e.errors) visit(inner, depth + 1)
      return
    }
    if (e.cause instanceof Error) { visit(e.cause, depth + 1); return }
    messages.push(e.message)
  }
  visit(err, 0)
  return [...new Set(messages)].slice(0, 3).join('; ') || String(err)
}

/** Wraps any error from the client as KafkaError('<doing>: <broker error names or root cause>'). */
export function toKafkaError (doing: string, err: unknown): KafkaError {
  if (err instanceof KafkaError) return err
  const names = brokerErrorNames(err)
  const detail = names.length > 0 ? `${names.join(', ')} (${rootMessage(err)})` : rootMessage(err)
  return new KafkaError(`${doing}: ${detail}`, { retriable: isRetriableTree(err), kafkaCode: names[0], cause: err })
}
