/**
 * The harness could not do its job (Java missing, a broker or Connect worker that did not
 * start, a Java tool that failed). Not one of kafka-mirror's errors (docs/errors.md): only the
 * tests, the demo and the benchmarks raise it.
 */
export class HarnessError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'HarnessError'
  }
}
