/**
 * The monotonic clock and timers the group code runs on, behind an interface so the lease and
 * the membership state machine are tested with a fake clock (a SIGSTOP is then a clock jump).
 *
 * Nanoseconds from `process.hrtime.bigint()`: monotonic, and one time base for the whole process,
 * worker threads included (`performance.now()` starts again in each thread), so a deadline
 * written by the main thread means the same instant to a copier thread.
 */
export interface Clock {
  nowNs(): bigint
  setTimer(ms: number, fn: () => void): TimerHandle
  clearTimer(handle: TimerHandle): void
}

export interface TimerHandle {
  readonly id: unknown
}

export const systemClock: Clock = {
  nowNs: () => process.hrtime.bigint(),
  setTimer: (ms, fn) => {
    return { id: setTimeout(fn, Math.max(0, ms)) }
  },
  clearTimer: handle => {
    clearTimeout(handle.id as NodeJS.Timeout)
  }
}

export const NS_PER_MS = 1_000_000n

export function msToNs(ms: number): bigint {
  return BigInt(Math.round(ms)) * NS_PER_MS
}
