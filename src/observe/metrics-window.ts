/**
 * A windowed statistic as Kafka's metrics library keeps one (org.apache.kafka.common.metrics
 * SampledStat with its defaults: 2 samples of 30 s), so our `*-rate`, `*-min`, `*-max` and
 * `*-avg` read like MM2's over the same window: min/max/avg are NaN without samples, a rate
 * divides by at least one full sample's time (Kafka's Rate.windowSize), so the first seconds do
 * not show a spike.
 *
 * Plain data, mutated in place: the copier records into it on its own thread and the object is
 * posted to the main thread as it is (structured clone), where the readers compute the values at
 * scrape time. Recording takes a few additions per call; callers record once per batch or
 * acknowledged unit with the batch's count and its min/max, never per record.
 */

export const SAMPLES = 2
export const SAMPLE_MS = 30_000

export interface WindowSample {
  start: number
  /** Observations (records) in the sample. */
  n: number
  sum: number
  min: number
  max: number
}

/** Oldest sample first, at most SAMPLES. */
export interface SampledWindow {
  readonly samples: WindowSample[]
}

export function newWindow(): SampledWindow {
  return { samples: [] }
}

/**
 * Adds `count` observations whose total is `sum` and whose extremes are `min` and `max` (for a
 * plain counter, as in a rate, `sum` is the amount and min/max are unused).
 */
export function observe(w: SampledWindow, now: number, count: number, sum: number, min: number, max: number): void {
  const samples = w.samples
  let current = samples[samples.length - 1]
  if (current === undefined || now >= current.start + SAMPLE_MS) {
    current = { start: now, n: 0, sum: 0, min: Infinity, max: -Infinity }
    samples.push(current)
    if (samples.length > SAMPLES) samples.shift()
  }
  current.n += count
  current.sum += sum
  if (min < current.min) current.min = min
  if (max > current.max) current.max = max
}

/** The samples still inside the window at `now` (a sample older than the whole window is obsolete, as in Kafka). */
function live(w: SampledWindow, now: number): WindowSample[] {
  return w.samples.filter(s => now - s.start < SAMPLES * SAMPLE_MS)
}

export function windowMin(w: SampledWindow, now: number): number {
  const s = live(w, now).filter(x => x.n > 0)
  return s.length === 0 ? NaN : Math.min(...s.map(x => x.min))
}

export function windowMax(w: SampledWindow, now: number): number {
  const s = live(w, now).filter(x => x.n > 0)
  return s.length === 0 ? NaN : Math.max(...s.map(x => x.max))
}

export function windowAvg(w: SampledWindow, now: number): number {
  let n = 0
  let sum = 0
  for (const s of live(w, now)) {
    n += s.n
    sum += s.sum
  }
  return n === 0 ? NaN : sum / n
}

/**
 * Sum per second over the window (Kafka's Rate: elapsed time since the oldest sample, at least SAMPLES - 1 full
 * samples).
 */
export function windowRate(w: SampledWindow, now: number): number {
  return perSecond(w, now, x => x.sum)
}

/**
 * Observations per second over the window (a window counting records as observations and bytes as their sum gives both
 * rates).
 */
export function windowCountRate(w: SampledWindow, now: number): number {
  return perSecond(w, now, x => x.n)
}

function perSecond(w: SampledWindow, now: number, of: (s: WindowSample) => number): number {
  const s = live(w, now)
  let sum = 0
  for (const x of s) sum += of(x)
  let elapsed = now - (s[0]?.start ?? now)
  const full = Math.floor(elapsed / SAMPLE_MS)
  if (full < SAMPLES - 1) elapsed += (SAMPLES - 1 - full) * SAMPLE_MS
  return sum / (elapsed / 1000)
}
