/**
 * The lifecycle every long-running component shares (SourceFlow, CheckpointFlow,
 * HeartbeatEmitter): a state with its reason, connecting with retry and backoff, periodic tasks
 * that back off on failure and recover by themselves, and an idempotent close.
 *
 * Why one module: the three components had their own copies of this machinery, and the details
 * that make it correct (close the clients of a failed attempt, keep every sleep abortable so
 * shutdown never waits out a backoff, never leave `stopped` once reached) must not drift apart.
 * What differs between them is an option here, not a copy there.
 */
import type { Logger } from '../observe/logger.ts'
import { backoffMs, sleep } from './abortable.ts'

export type LifecycleState = 'starting' | 'running' | 'not-ready' | 'stopped'

interface Closeable {
  close: () => Promise<void>
}

export interface LifecycleOptions {
  readonly log: Logger
  /** What the messages name: `<what> not ready; retrying`, `<what> stopped after an unexpected error`. */
  readonly what: string
  /** Whether the not-ready warning carries the backoff (`retryInMs`). */
  readonly logRetryIn: boolean
  /** Wait before retry `attempt` (1, 2, ...); tests shorten it. */
  readonly backoffMs?: (attempt: number) => number
  /**
   * Before start(): why the component cannot start yet, if something else decides when it starts
   * (a part of a scale-out group runs only once the group deals it here); the component is then
   * not ready with that reason instead of starting.
   */
  readonly waitingFor?: () => string | undefined
}

/** The longest wait a Node timer takes (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * Asks an `every` loop for its next pass now: a pass running when `now()` is called is followed
 * at once by another; otherwise the wait for the next pass ends.
 */
export class PassTrigger {
  #wake: (() => void) | undefined
  #pending = false

  now(): void {
    if (this.#wake !== undefined) this.#wake()
    else this.#pending = true
  }

  /** Waits `ms`, less when now() is called (or was, since the last wait). */
  async wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.#pending) {
      this.#pending = false
      return
    }
    const woken = new AbortController()
    this.#wake = () => {
      woken.abort()
    }
    try {
      await sleep(ms, AbortSignal.any([signal, woken.signal]))
    } finally {
      this.#wake = undefined
    }
  }
}

export interface EveryOptions {
  /** Run the first pass at once; otherwise the first pass waits one interval (it was part of the build). */
  readonly firstPassAtOnce?: boolean
  /** Close the owned clients after a failed pass: a client that lost its cluster may keep stale connections. */
  readonly closeClientsOnFailure?: boolean
  /** Log each pass's duration at debug level. */
  readonly logPasses?: boolean
  /** Logged (info) whenever a pass brings the component to running; replaces `<name> recovered`. */
  readonly announce?: { readonly message: string; readonly fields: Record<string, unknown> }
  /**
   * A side task, whose failure does not make the component not ready (MM2's ACL sync: records
   * keep flowing): a failed pass is a warning and the next pass comes one interval later, and no
   * pass changes the component's state.
   */
  readonly sideTask?: boolean
  /** Starts the next pass before its interval is up when `now()` is called (never two passes at once). */
  readonly trigger?: PassTrigger
}

export class Lifecycle {
  readonly #log: Logger
  readonly #what: string
  readonly #logRetryIn: boolean
  readonly #backoffMs: (attempt: number) => number
  readonly #abort = new AbortController()
  readonly #closeables: Closeable[] = []
  #state: LifecycleState = 'starting'
  #reason: string | undefined
  #running: Promise<void> | undefined
  readonly #waitingFor: (() => string | undefined) | undefined

  constructor(options: LifecycleOptions) {
    this.#log = options.log
    this.#what = options.what
    this.#logRetryIn = options.logRetryIn
    this.#backoffMs = options.backoffMs ?? backoffMs
    this.#waitingFor = options.waitingFor
  }

  get state(): LifecycleState {
    return this.#waiting() === undefined ? this.#state : 'not-ready'
  }
  get reason(): string | undefined {
    return this.#waiting() ?? this.#reason
  }

  #waiting(): string | undefined {
    return this.#running === undefined ? this.#waitingFor?.() : undefined
  }
  /** Aborts on close: pass it to everything that waits. */
  get signal(): AbortSignal {
    return this.#abort.signal
  }

  /** Runs `run` once in the background; an error it throws ends in `stopped` with the reason. */
  start(run: () => Promise<void>): void {
    this.#running ??= run().catch(err => {
      this.#state = 'stopped'
      this.#reason = (err as Error).message
      this.#log.error(`${this.#what} stopped after an unexpected error`, { error: err as Error })
    })
  }

  /** Registers a client to close on close() or when an attempt fails. */
  own<T extends Closeable>(client: T): T {
    this.#closeables.push(client)
    return client
  }

  async closeClients(): Promise<void> {
    const all = this.#closeables.splice(0)
    await Promise.all(
      all.map(async c => {
        await c.close()
      })
    )
  }

  running(): void {
    this.#state = 'running'
    this.#reason = undefined
  }

  notReady(err: Error, attempt: number): void {
    this.#state = 'not-ready'
    this.#reason = err.message
    const retryInMs = this.#logRetryIn ? { retryInMs: this.#backoffMs(attempt) } : {}
    this.#log.warn(`${this.#what} not ready; retrying`, { attempt, ...retryInMs, reason: err.message })
  }

  /**
   * Calls `build` until it succeeds, closing the clients it owned after each failure and waiting
   * backoffMs(attempt) in between; undefined when closed first.
   */
  async retry<T>(build: () => Promise<T>): Promise<T | undefined> {
    const signal = this.#abort.signal
    for (let attempt = 1; !signal.aborted; attempt++) {
      try {
        return await build()
      } catch (err) {
        await this.closeClients()
        this.notReady(err as Error, attempt)
        await sleep(this.#backoffMs(attempt), signal)
      }
    }
    return undefined
  }

  /**
   * Runs `task` every `intervalMs` (never two at once) until closed; -1 = no passes. After a
   * failure the next pass comes after the backoff instead; a pass that succeeds again brings a
   * not-ready component back to running.
   */
  async every(name: string, intervalMs: number, task: () => Promise<void>, options: EveryOptions = {}): Promise<void> {
    const signal = this.#abort.signal
    // No passes of its own (-1): with a trigger, it still runs the passes asked for.
    if (intervalMs < 0 && options.trigger === undefined) return
    let failures = 0
    let wait = options.firstPassAtOnce !== true
    while (!signal.aborted) {
      if (wait) {
        const ms = failures > 0 ? this.#backoffMs(failures) : intervalMs < 0 ? MAX_TIMER_MS : intervalMs
        await (options.trigger?.wait(ms, signal) ?? sleep(ms, signal))
      }
      wait = true
      if (signal.aborted) return
      const started = Date.now()
      if (options.sideTask === true) {
        await this.#sidePass(name, intervalMs, task)
        continue
      }
      try {
        await task()
        const down = this.#state === 'starting' || this.#state === 'not-ready'
        if (down) this.running()
        if (options.announce !== undefined) {
          if (down) this.#log.info(options.announce.message, options.announce.fields)
        } else if (failures > 0) this.#log.info(`${name} recovered`)
        failures = 0
      } catch (err) {
        failures++
        this.notReady(err as Error, failures)
        if (options.closeClientsOnFailure === true) await this.closeClients()
      }
      if (options.logPasses === true) this.#log.debug(`${name} pass`, { ms: Date.now() - started })
    }
  }

  async #sidePass(name: string, intervalMs: number, task: () => Promise<void>): Promise<void> {
    try {
      await task()
    } catch (err) {
      this.#log.warn(`${name} failed; retrying next interval`, { inMs: intervalMs, error: err as Error })
    }
  }

  /** Stops the background run, waits for it, closes the clients; idempotent. */
  async close(): Promise<void> {
    if (this.#abort.signal.aborted) {
      await this.#running
      return
    }
    this.#abort.abort()
    await this.#running
    await this.closeClients()
    this.#state = 'stopped'
  }
}
