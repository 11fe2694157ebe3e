/**
 * Every child process the harness starts (brokers, Java tools, Java MM2, our own CLI) is
 * registered here so that nothing outlives the test run:
 * - tests stop what they start (cluster.close(), proc.stop()) in their cleanup hooks;
 * - on SIGINT/SIGTERM/exit of this Node process the remaining children are killed;
 * - each JVM also gets a tiny watchdog shell whose stdin is a pipe from us: if this Node process
 *   dies without running any handler (SIGKILL, crash), the pipe closes, the watchdog's `read`
 *   returns and it kills the JVM.
 */
import { type ChildProcess, spawn } from 'node:child_process'

interface Tracked {
  readonly child: ChildProcess
  readonly watchdog: ChildProcess | undefined
  readonly label: string
}

const tracked = new Set<Tracked>()
let handlersInstalled = false

function installHandlers(): void {
  if (handlersInstalled) return
  handlersInstalled = true
  process.on('exit', () => {
    for (const t of tracked) killNow(t)
  })
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const t of tracked) killNow(t)
      process.exit(signal === 'SIGINT' ? 130 : 143)
    })
  }
}

function killNow(t: Tracked): void {
  try {
    t.child.kill('SIGKILL')
  } catch {
    /* already gone */
  }
  try {
    t.watchdog?.kill('SIGKILL')
  } catch {
    /* already gone */
  }
}

export interface TrackedProcess {
  readonly child: ChildProcess
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>
  /** SIGKILL now (for crash tests); resolves when the process is gone. */
  kill(): Promise<void>
}

/** Starts a child process under the registry's protection. */
export function spawnTracked(
  label: string,
  command: string,
  args: readonly string[],
  options: {
    cwd?: string
    env?: NodeJS.ProcessEnv
    stdio?: Array<'pipe' | 'ignore' | 'inherit' | number>
  }
): TrackedProcess {
  installHandlers()
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: options.stdio ?? ['ignore', 'pipe', 'pipe']
  })
  let watchdog: ChildProcess | undefined
  if (child.pid !== undefined) {
    watchdog = spawn(
      'sh',
      ['-c', 'read _ignored; kill -9 "$1" 2>/dev/null', 'kafka-mirror-watchdog', String(child.pid)],
      { stdio: ['pipe', 'ignore', 'ignore'], detached: true }
    )
    watchdog.unref()
  }
  const entry: Tracked = { child, watchdog, label }
  tracked.add(entry)
  const exited = new Promise<number | string>(resolve => {
    child.once('exit', (code, signal) => {
      tracked.delete(entry)
      // Closing the pipe lets the watchdog finish; its kill then hits a dead pid, which is harmless.
      watchdog?.stdin?.end()
      resolve(code ?? signal ?? 'unknown')
    })
    child.once('error', () => {
      tracked.delete(entry)
      watchdog?.stdin?.end()
      resolve('spawn-error')
    })
  })
  const isGone = (): boolean => child.exitCode !== null || child.signalCode !== null
  return {
    child,
    exited,
    async stop(graceMs = 15_000) {
      if (isGone()) {
        await exited
        return
      }
      child.kill('SIGTERM')
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
      }, graceMs)
      await exited
      clearTimeout(timer)
    },
    async kill() {
      if (!isGone()) child.kill('SIGKILL')
      await exited
    }
  }
}

export function runningCount(): number {
  return tracked.size
}
