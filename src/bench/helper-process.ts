/**
 * The bench process's side of a load or reader process (src/bench/bench-child.ts is the other
 * side): forks the script with the same Node options, sends it its work over IPC, relays its
 * messages, and turns its end into a promise. Its stdout goes to our stderr, which keeps
 * `--json` output clean. `stop()` kills it; a helper that ends before
 * saying `done` fails the run with what it said.
 *
 * A helper has ended once its process exited AND its IPC channel closed. The 'exit' event alone
 * can come before the last messages: the child writes `done` and exits, and the event loop may
 * see the exit (SIGCHLD) before it reads the channel, for instance when the other helper's exit
 * left the signal pipe first in line. The channel closes only after everything in it was read.
 */
import { type ChildProcess, fork, type Serializable } from 'node:child_process'
import type { EventEmitter } from 'node:events'
import { fileURLToPath } from 'node:url'
import { KafkaError, KafkaMirrorError } from '../errors.ts'

export interface HelperProcess<M extends { kind: string }, ToChild> {
  on: (listener: (m: M) => void) => void
  tell: (m: ToChild) => void
  /** The `done` message; rejects if the process failed or ended first, or `signal` aborts. */
  done: (signal?: AbortSignal) => Promise<Extract<M, { kind: 'done' }>>
  stop: () => Promise<void>
}

/** What startHelper uses of a forked process (a ChildProcess; tests hand in their own). */
export type HelperChild = EventEmitter &
  Pick<ChildProcess, 'connected' | 'exitCode' | 'signalCode' | 'kill'> & {
    send: (message: Serializable) => boolean
  }

function forkScript(script: URL): HelperChild {
  return fork(fileURLToPath(script), [], { serialization: 'advanced', stdio: ['ignore', 2, 2, 'ipc'] })
}

export function startHelper<M extends { kind: string }, ToChild = never>(
  script: URL,
  role: string,
  work: unknown,
  start: (script: URL) => HelperChild = forkScript
): HelperProcess<M, ToChild> {
  const child = start(script)
  const listeners: Array<(m: M) => void> = []
  // How the process ended. A fork that fails to start emits 'error' and never 'exit'.
  const exited = new Promise<string>(resolve => {
    child.once('exit', (code: number | null, signal: NodeJS.Signals | null) => {
      resolve(signal ?? `exit ${code}`)
    })
    child.once('error', () => {
      resolve('did not start')
    })
  })
  const channelClosed = new Promise<void>(resolve => {
    if (!child.connected) resolve()
    else
      child.once('disconnect', () => {
        resolve()
      })
  })
  const finished = new Promise<Extract<M, { kind: 'done' }>>((resolve, reject) => {
    child.on('message', (m: M) => {
      for (const l of listeners) l(m)
      if (m.kind === 'done') resolve(m as Extract<M, { kind: 'done' }>)
      if (m.kind === 'failed')
        reject(
          new KafkaError(`bench: the ${role}: ${(m as unknown as { message: string }).message}`, { retriable: false })
        )
    })
    child.once('error', reject)
    // A `done` still in the channel settles this promise first; rejecting after it is a no-op.
    void Promise.all([exited, channelClosed]).then(([how]) => {
      reject(new KafkaError(`bench: the ${role} process ended (${how})`, { retriable: false }))
    })
  })
  // Stopped helpers end this promise too; only a caller of done() hears about it.
  finished.catch(() => {})
  child.send({ work })
  return {
    on: l => {
      listeners.push(l)
    },
    tell: m => {
      if (child.connected) child.send({ toChild: m })
    },
    done: async signal =>
      await new Promise((resolve, reject) => {
        if (signal?.aborted === true) {
          reject(new KafkaMirrorError('KM_USAGE', 'bench: interrupted'))
          return
        }
        finished.then(resolve, reject)
        signal?.addEventListener(
          'abort',
          () => {
            reject(new KafkaMirrorError('KM_USAGE', 'bench: interrupted'))
          },
          { once: true }
        )
      }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    }
  }
}
