/**
 * Several `kafka-mirror run` processes on one config, as an operator scales out: each with its
 * own status port and its own captured log, killable one by one (SIGTERM, SIGKILL, SIGSTOP).
 * Every process is stopped when the test ends, whatever happened.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { binaryPath } from './binary.ts'
import type { Cleanups } from './mirror-runner.ts'
import { freePort } from './ports.ts'
import { spawnTracked, type TrackedProcess } from './processes.ts'

export interface Instance {
  readonly index: number
  readonly pid: number
  readonly port: number
  /** Log lines so far (stdout and stderr). */
  readonly log: string[]
  readonly process: TrackedProcess
  /** The /status report (undefined while the HTTP server does not answer). */
  status: () => Promise<InstanceStatus | undefined>
}

export interface InstanceStatus {
  readonly instance: { readonly id: string }
  readonly flows: ReadonlyArray<{ readonly flow: string; readonly recordsCopied: number }>
  readonly heartbeats: ReadonlyArray<{ readonly flow: string }>
  readonly checkpoints: ReadonlyArray<{ readonly flow: string }>
  readonly groups: ReadonlyArray<{
    readonly groupId: string
    readonly state: string
    readonly generation: number
    readonly units: readonly string[]
  }>
}

let started = 0

export interface InstanceOptions {
  readonly env?: NodeJS.ProcessEnv
  /**
   * A fresh KAFKA_MIRROR_STATE_DIR for this instance: its member slot (src/group/member-slot.ts)
   * is then a new one, not a slot in the shared default directory left by a process of another
   * test, which it would take over as if it were that process restarting (its member id, and a
   * take-over time that says its predecessor wrote nothing after it started).
   */
  readonly ownStateDir?: boolean
}

export async function startInstance(t: Cleanups, configFile: string, opts: InstanceOptions = {}): Promise<Instance> {
  const index = started++
  const port = await freePort()
  const stateDir =
    opts.ownStateDir === true ? { KAFKA_MIRROR_STATE_DIR: mkdtempSync(join(tmpdir(), 'km-instance-state-')) } : {}
  const proc = spawnTracked(
    `kafka-mirror-${index}`,
    process.execPath,
    [binaryPath, 'run', '--config', configFile, '--metrics-port', String(port)],
    { env: { ...process.env, ...stateDir, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] }
  )
  t.after(async () => {
    // A stopped (SIGSTOP) process must run again to hear SIGTERM.
    proc.child.kill('SIGCONT')
    await proc.stop(10_000)
  })
  const log: string[] = []
  let rest = ''
  const collect = (chunk: Buffer): void => {
    const lines = (rest + chunk.toString()).split('\n')
    rest = lines.pop() ?? ''
    log.push(...lines)
    if (process.env.KM_TEST_LOG !== undefined) for (const l of lines) process.stderr.write(`[${index}] ${l}\n`)
  }
  proc.child.stdout?.on('data', collect)
  proc.child.stderr?.on('data', collect)
  return {
    index,
    pid: proc.child.pid ?? -1,
    port,
    log,
    process: proc,
    status: async () => {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/status`, { signal: AbortSignal.timeout(2000) })
        return (await res.json()) as InstanceStatus
      } catch {
        return undefined
      }
    }
  }
}

export async function startInstances(
  t: Cleanups,
  n: number,
  configFile: string,
  opts: InstanceOptions = {}
): Promise<Instance[]> {
  return await Promise.all(Array.from({ length: n }, async () => await startInstance(t, configFile, opts)))
}
