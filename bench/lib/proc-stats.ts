/** What the side-by-side bench reads from /proc and from the brokers' data folders. */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { KafkaCluster } from '../../test/harness/cluster.ts'

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())

/** utime + stime + cutime + cstime (fields 14-17 of /proc/<pid>/stat), in seconds. */
export function cpuSeconds (pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces): the first one is field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return [14, 15, 16, 17].reduce((sum, n) => sum + Number(fields[n - 3]), 0) / CLK_TCK
  } catch { return undefined }
}

/** VmHWM (peak resident set) of a process in kB, from /proc/<pid>/status. */
export function vmHwmKb (pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const kb = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return kb === undefined ? undefined : Number(kb)
  } catch { return undefined }
}

/** Sum of the .log segment files of a topic's partition folders on a (single-broker) cluster. */
export function logSegmentBytes (cluster: KafkaCluster, topic: string, partitions: number): number {
  let total = 0
  for (let p = 0; p < partitions; p++) {
    const dir = join(cluster.dir, 'data', `${topic}-${p}`)
    if (!existsSync(dir)) continue
    for (const f of readdirSync(dir)) if (f.endsWith('.log')) total += statSync(join(dir, f)).size
  }
  return total
}
