/**
 * Turns the client library's errors into our KafkaError, classified by class and flags (never by
 * the code string alone: the library's TimeoutError reports a network code). The message says
 * what we were doing and the broker's error name; nothing from the request (which may hold
 * credentials) is copied into it.
 */
import { AuthenticationError, NetworkError, ProtocolError, TimeoutError } from '@platformatic/kafka'
import { KafkaError } from '../errors.ts'
import { errorTree } from '../util/error-tree.ts'
import { explainSecurityFailure, failedAddress } from './security/security-errors.ts'

/** Broker error names found anywhere in the error tree (e.g. `TOPIC_AUTHORIZATION_FAILED`). */
export function brokerErrorNames(err: unknown): string[] {
  const names = new Set<string>()
  for (const { error } of errorTree(err)) {
    const apiId = (error as { apiId?: unknown }).apiId
    if (error instanceof ProtocolError && typeof apiId === 'string') names.add(apiId)
  }
  return [...names]
}

/**
 * Retriable when something in the tree says so (network, timeout, retriable broker error) and nothing says it is fatal.
 */
function isRetriableTree(err: unknown): boolean {
  let retriable = false
  for (const { error } of errorTree(err)) {
    if (error instanceof AuthenticationError) return false
    if (error instanceof NetworkError || error instanceof TimeoutError) retriable = true
    if (error instanceof ProtocolError) {
      if ((error as { canRetry?: boolean }).canRetry !== true) return false
      retriable = true
    }
  }
  return retriable
}

function rootMessage(err: unknown): string {
  const messages = new Set<string>()
  for (const { error, leaf } of errorTree(err)) if (leaf) messages.add(error.message)
  return [...messages].slice(0, 3).join('; ') || String(err)
}

/** Wraps any error from the client as KafkaError('<doing>: <broker error names or root cause>'). */
export function toKafkaError(doing: string, err: unknown): KafkaError {
  if (err instanceof KafkaError) return err
  const security = explainSecurityFailure(err)
  if (security !== undefined) {
    const address = failedAddress(err)
    return new KafkaError(`${doing}: ${security}${address === undefined ? '' : ` (connecting to ${address})`}`, {
      retriable: false,
      cause: err
    })
  }
  const names = brokerErrorNames(err)
  const detail = names.length > 0 ? `${names.join(', ')} (${rootMessage(err)})` : rootMessage(err)
  return new KafkaError(`${doing}: ${detail}`, { retriable: isRetriableTree(err), kafkaCode: names[0], cause: err })
}

/** The client reports a missing topic as a broker error or as its own "Unknown topic" error. */
export function isUnknownTopicError(err: unknown): boolean {
  if (brokerErrorNames(err).includes('UNKNOWN_TOPIC_OR_PARTITION')) return true
  for (const { error } of errorTree(err)) if (/Unknown topic/i.test(error.message)) return true
  return false
}
