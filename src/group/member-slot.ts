/**
 * Lets a restarted instance rejoin its group as the member it was (docs/DESIGN.md, "Instances
 * sharing the work").
 *
 * Why: a process killed with -9 stays a member of its group until its session times out
 * (session.timeout.ms, 10 s). A new member joining meanwhile waits for that: the coordinator
 * completes the rebalance only once every known member rejoined or was dropped. A mirror that
 * crashes every few seconds would then never copy again. Joining with the dead process's member
 * id instead makes the coordinator treat the join as that member's own rejoin, so the
 * rebalance completes at once (Kafka's GroupMetadataManager handles a known member's JoinGroup
 * without waiting for its session).
 *
 * Safety: an id is reused only when the process that used it is gone. Each running process
 * holds one numbered slot per group, a lock file naming its pid; a slot whose pid is alive
 * belongs to that process (two instances on one machine take two slots, so they never share an
 * id), a slot whose pid is dead (or is this very process's pid, as after a container restart
 * that gives the new process pid 1 again) is taken over with the id it recorded. The id file
 * is rewritten whenever the coordinator gives a new id.
 *
 * The directory is KAFKA_MIRROR_STATE_DIR, or `kafka-mirror` under the OS temp directory; on
 * Kubernetes it survives a container restart only on a volume (an emptyDir).
 */
import { createHash } from 'node:crypto'
import { mkdirSync, openSync, readFileSync, closeSync, unlinkSync, writeFileSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const MAX_SLOTS = 64
/** Slots this process holds (several mirrors may run in one process, e.g. in tests). */
const held = new Set<string>()

export interface MemberSlot {
  /** The member id the previous holder of the slot last had ('' when none). */
  readonly memberId: string
  /**
   * For a slot taken over from a process that was gone, when this process started (epoch ms):
   * a restart follows its predecessor's death, so that process wrote nothing after this moment.
   * Undefined for a fresh slot.
   */
  readonly takenOverAt: number | undefined
  /** Records the id the coordinator gave this member. */
  remember: (memberId: string) => void
  /** Gives the slot up (a clean exit left the group, so its id is of no use any more). */
  release: () => void
}

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.KAFKA_MIRROR_STATE_DIR ?? join(tmpdir(), 'kafka-mirror')
}

function alive(pid: number): boolean {
  if (pid === process.pid) return false // the slot's pid is ours: its old holder is gone
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Takes the first free slot for a group (`key`: the cluster and group id, which name it).
 * Returns a slot without a file when the directory cannot be written: the instance then joins
 * as a new member, as it would without this.
 */
export function takeMemberSlot(key: string, dir = stateDir()): MemberSlot {
  const base = createHash('sha256').update(key).digest('hex').slice(0, 16)
  try {
    mkdirSync(dir, { recursive: true })
  } catch {
    return noSlot()
  }
  for (let slot = 0; slot < MAX_SLOTS; slot++) {
    const lock = join(dir, `member-${base}-${slot}.lock`)
    const idFile = join(dir, `member-${base}-${slot}.id`)
    if (held.has(lock) || !claim(lock)) continue
    held.add(lock)
    const takenOverAt = Math.round(performance.timeOrigin)
    let memberId = ''
    try {
      memberId = readFileSync(idFile, 'utf8').trim()
    } catch {
      // no id recorded yet
    }
    return {
      memberId,
      takenOverAt: memberId === '' ? undefined : takenOverAt,
      remember: id => {
        if (id === memberId) return
        memberId = id
        try {
          writeFileSync(idFile, id)
        } catch {
          // best effort: a restart then joins as a new member
        }
      },
      release: () => {
        held.delete(lock)
        for (const f of [idFile, lock]) {
          try {
            unlinkSync(f)
          } catch {
            // already gone
          }
        }
      }
    }
  }
  return noSlot()
}

/** Creates the lock with our pid, or takes over one whose process is gone. */
function claim(lock: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, 'wx')
      writeSync(fd, String(process.pid))
      closeSync(fd)
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return false
    }
    let pid = NaN
    try {
      pid = Number(readFileSync(lock, 'utf8').trim())
    } catch {
      continue
    }
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) return false
    try {
      unlinkSync(lock)
    } catch {
      // another process took it over first; the exclusive create decides
    }
  }
  return false
}

function noSlot(): MemberSlot {
  return { memberId: '', takenOverAt: undefined, remember: () => {}, release: () => {} }
}
