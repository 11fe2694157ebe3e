/**
 * Runs the kafka-mirror binary to its end without blocking this process. A test must not use
 * spawnSync while brokers run: the brokers' output comes to this process through pipes, and a
 * blocked event loop stops draining them, so a broker stalls on a full pipe (requests then time
 * out) for as long as the command runs.
 */
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const binaryPath = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'kafka-mirror.js')

export interface BinaryResult {
  readonly status: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `kafka-mirror ARGS` to its end (killed after `timeoutMs`, default 120 s). */
export async function runBinary(args: readonly string[], options: { timeoutMs?: number } = {}): Promise<BinaryResult> {
  const child = spawn(process.execPath, [binaryPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c
  })
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c
  })
  const timer = setTimeout(() => {
    child.kill('SIGKILL')
  }, options.timeoutMs ?? 120_000)
  try {
    const [status, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject)
      child.once('close', (code, sig) => {
        resolve([code, sig])
      })
    })
    return { status, signal, stdout, stderr }
  } finally {
    clearTimeout(timer)
  }
}
