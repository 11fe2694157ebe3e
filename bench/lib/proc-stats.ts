/** What the side-by-side bench reads from /proc and from the brokers' data folders. */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { KafkaCluster } from '../../test/harness/cluster.ts'

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())

/** utime + stime + cutime + cstime (fields 14-17 of /proc/<pid>/stat), in seconds. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  const split = cpuSplit(pid)
  return split === undefined ? undefined : split.user + split.system
}

/**
 * The same CPU time as user and system (kernel) seconds: (c)utime and (c)stime. On loopback the
 * kernel's TCP work for both ends of a connection shows in the system time of whoever writes.
 */
export function cpuSplit(pid: number | undefined): { user: number; system: number } | undefined {
  if (pid === undefined) return undefined
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces): the first one is field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = (n: number): number => Number(fields[n - 3])
    return { user: (ticks(14) + ticks(16)) / CLK_TCK, system: (ticks(15) + ticks(17)) / CLK_TCK }
  } catch {
    return undefined
  }
}

/** VmHWM (peak resident set) of a process in kB, from /proc/<pid>/status. */
export function vmHwmKb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const kb = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return kb === undefined ? undefined : Number(kb)
  } catch {
    return undefined
  }
}

/** Sum of the .log segment files of a topic's partition folders on a (single-broker) cluster. */
export function logSegmentBytes(cluster: KafkaCluster, topic: string, partitions: number): number {
  let total = 0
  for (let p = 0; p < partitions; p++) {
    const dir = join(cluster.dir, 'data', `${topic}-${p}`)
    if (!existsSync(dir)) continue
    for (const f of readdirSync(dir)) if (f.endsWith('.log')) total += statSync(join(dir, f)).size
  }
  return total
}

/**
 * What the machine as a whole went through, as running totals in seconds: CPU time the hypervisor
 * gave to others while this VM wanted it (steal, /proc/stat), and time in which at least one task
 * waited for a CPU, for I/O or for memory (reclaim) (the "some" totals of /proc/pressure, PSI).
 * A run's share is the difference of two snapshots: a run disturbed from outside the mirror shows
 * here. undefined where the kernel has no such file (PSI needs CONFIG_PSI and psi=1).
 */
export interface MachineTotals {
  readonly stealS: number | undefined
  readonly cpuWaitS: number | undefined
  readonly ioWaitS: number | undefined
  readonly memoryWaitS: number | undefined
}

export function machineTotals(): MachineTotals {
  return {
    stealS: stealSeconds(),
    cpuWaitS: pressureSomeSeconds('cpu'),
    ioWaitS: pressureSomeSeconds('io'),
    memoryWaitS: pressureSomeSeconds('memory')
  }
}

export function machineSince(start: MachineTotals, end: MachineTotals = machineTotals()): MachineTotals {
  const less = (x: number | undefined, y: number | undefined): number | undefined =>
    x === undefined || y === undefined ? undefined : x - y
  return {
    stealS: less(end.stealS, start.stealS),
    cpuWaitS: less(end.cpuWaitS, start.cpuWaitS),
    ioWaitS: less(end.ioWaitS, start.ioWaitS),
    memoryWaitS: less(end.memoryWaitS, start.memoryWaitS)
  }
}

/** The 8th value of /proc/stat's `cpu` line (all CPUs), in seconds. */
function stealSeconds(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? ''
    const ticks = Number(line.trim().split(/\s+/)[8])
    return Number.isFinite(ticks) ? ticks / CLK_TCK : undefined
  } catch {
    return undefined
  }
}

/** `some ... total=<µs>` of /proc/pressure/<resource>, in seconds. */
function pressureSomeSeconds(resource: 'cpu' | 'io' | 'memory'): number | undefined {
  try {
    const micros = /^some .*total=(\d+)/m.exec(readFileSync(`/proc/pressure/${resource}`, 'utf8'))?.[1]
    return micros === undefined ? undefined : Number(micros) / 1e6
  } catch {
    return undefined
  }
}
