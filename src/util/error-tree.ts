/**
 * Walks an error with everything it wraps: AggregateError members and Error causes, depth first.
 * Errors from the Kafka client nest (a request error holding one error per broker, each with its
 * cause), and what went wrong is usually a leaf. Plain JavaScript errors only: the classification
 * by the client library's classes stays in kafka/errors.ts and kafka/security/security-errors.ts.
 */

/**
 * Every error in an error tree (the error, its AggregateError members, its causes),
 * depth first, with whether it is a leaf (no members, no Error cause).
 */
export function* errorTree(err: unknown, depth = 0): Generator<{ error: Error; leaf: boolean }> {
  if (depth > 6 || !(err instanceof Error)) return
  const members = err instanceof AggregateError ? err.errors : []
  yield { error: err, leaf: members.length === 0 && !(err.cause instanceof Error) }
  for (const inner of members) yield* errorTree(inner, depth + 1)
  if (err.cause !== undefined) yield* errorTree(err.cause, depth + 1)
}
