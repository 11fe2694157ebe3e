/**
 * A value that must never be printed: passwords, private keys, tokens, JAAS lines.
 * `String(secret)`, `JSON.stringify` and `util.inspect` all show `[redacted]`; only `reveal()`
 * gives the value, and only the Kafka adapter calls it, when it builds a connection.
 */
import { inspect } from 'node:util'

const REDACTED = '[redacted]'

export class Secret {
  #value: string
  readonly #reload: (() => string) | undefined
  readonly #shown: string
  /**
   * `reload` (optional) reads the value again from where it came from (a mounted secret file, a
   * `${file:...}` reference): every reveal() then sees the current value, so rotated passwords
   * and keys reach new connections. If reloading fails, the last good value is kept.
   * `shown` (optional) replaces `[redacted]` in output for values that are live but not secret
   * (e.g. `<2 PEM block(s)>` for trusted certificates).
   */
  constructor(value: string, reload?: () => string, shown?: string) {
    this.#value = value
    this.#reload = reload
    this.#shown = shown ?? REDACTED
  }

  reveal(): string {
    if (this.#reload !== undefined) {
      try {
        this.#value = this.#reload()
      } catch {
        /* keep the last good value: a file may be caught mid-update */
      }
    }
    return this.#value
  }

  toString(): string {
    return this.#shown
  }

  toJSON(): string {
    return this.#shown
  }

  [inspect.custom](): string {
    return this.#shown
  }
}

export type MaybeSecret = string | Secret

export function reveal(v: MaybeSecret): string {
  return typeof v === 'string' ? v : v.reveal()
}

/**
 * Kafka client keys whose values are secret. Matched case-insensitively on the key without any
 * role prefix (`consumer.`, `source.cluster.` ...).
 */
export function isSensitiveKey(key: string): boolean {
  const k = key.toLowerCase()
  return (
    k.endsWith('password') ||
    k.endsWith('.jaas.config') ||
    k === 'sasl.jaas.config' ||
    k.endsWith('ssl.keystore.key') ||
    k.endsWith('ssl.keystore.certificate.chain') ||
    k.endsWith('secret') ||
    k.endsWith('token') ||
    k.includes('client.secret')
  )
}
