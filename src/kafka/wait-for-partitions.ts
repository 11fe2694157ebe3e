/**
 * Waiting for topics a cluster just created or grew to show their partitions in its metadata
 * (a broker answers CreateTopics before every broker's metadata has the topic). One short poll,
 * shared by the remote topics and the positions topic; it ends early when the signal aborts, so
 * shutdown never waits it out.
 */
import { sleep } from '../util/abortable.ts'
import type { KafkaAdmin, TopicDescription } from './admin.ts'

/** Polls every 100 ms. */
const POLL_MS = 100

/**
 * Describes `wanted` (topic -> partitions it must show) until each shows at least that many, at
 * most `attempts` times; returns the last descriptions (the caller decides about a topic still short).
 */
export async function waitForPartitions(
  admin: KafkaAdmin,
  wanted: ReadonlyMap<string, number>,
  opts: { readonly attempts: number; readonly signal?: AbortSignal | undefined }
): Promise<Map<string, TopicDescription>> {
  let seen = new Map<string, TopicDescription>()
  for (let i = 0; i < opts.attempts && opts.signal?.aborted !== true; i++) {
    seen = await admin.describeTopics([...wanted.keys()])
    if ([...wanted].every(([name, partitions]) => (seen.get(name)?.partitions ?? 0) >= partitions)) break
    await sleep(POLL_MS, opts.signal)
  }
  return seen
}
