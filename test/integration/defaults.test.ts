/**
 * Defaults and set intervals, on real brokers (issues 3 and 4):
 * - with no refresh.groups.interval.seconds, a group first committed on the source while the
 *   mirror runs is checkpointed within 10 s (plus one checkpoint emit interval);
 * - with refresh.topics.interval.seconds set to 30, the key is honoured: a topic created right
 *   after a discovery pass is not copied 10 s later (the one known at start is), and is copied
 *   after the interval.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decodeCheckpoint } from '../../src/formats/checkpoint.ts'
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import type { KafkaCluster } from '../harness/cluster.ts'
import {
  clientConfig,
  clustersForFile,
  commitOffsets,
  createTopic,
  produce,
  readAll,
  uniqueName,
  waitFor
} from '../harness/helpers.ts'
import { writeMm2Properties } from '../harness/mirror-config.ts'
import { startMirror, testLogger } from '../harness/mirror-runner.ts'

const WAIT = { timeoutMs: 90_000, intervalMs: 250 }

let A: KafkaCluster
let B: KafkaCluster
clustersForFile([{ name: 'dflt-A' }, { name: 'dflt-B' }], ([a, b]) => {
  A = a
  B = b
})

/**
 * The checkpoints of `group` in A.checkpoints.internal on B: the latest target offset, and when
 * the first one was written (a first checkpoint may be a safe fallback, refined once syncs arrive).
 */
async function checkpointOf(group: string): Promise<{ offset: bigint; firstWrittenAt: number } | undefined> {
  let found: { offset: bigint; firstWrittenAt: number } | undefined
  for (const r of await readAll(B, 'A.checkpoints.internal').catch(() => [])) {
    const cp = decodeCheckpoint(r.key, r.value)
    if (cp.group === group)
      found = { offset: cp.downstreamOffset, firstWrittenAt: found?.firstWrittenAt ?? Number(r.timestamp) }
  }
  return found
}

const sleep = async (ms: number): Promise<void> => {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/** The flow logs each periodic topic discovery pass at debug level (Lifecycle.every with logPasses). */
const DISCOVERY_PASS = 'topic discovery pass'

test(
  'no refresh.groups.interval.seconds: a group committed on the source while the mirror runs is checkpointed within 10 s + one emit interval',
  { timeout: 300_000 },
  async t => {
    const topic = uniqueName('dgroups')
    await createTopic(A, topic)
    await produce(
      A,
      topic,
      Array.from({ length: 50 }, (_, i) => ({ value: `v${i}` }))
    )
    const warm = uniqueName('warm')
    await commitOffsets(A, warm, [{ topic, partition: 0, offset: 5n }])
    const emitS = 1
    // refresh.groups.interval.seconds deliberately absent.
    const file = writeMm2Properties(
      { A, B },
      {
        'A->B.enabled': 'true',
        'A->B.topics': topic,
        'emit.heartbeats.enabled': 'false',
        'emit.checkpoints.interval.seconds': String(emitS),
        'sync.topic.acls.enabled': 'false'
      }
    )
    await startMirror(t, file)
    // The mirror is up and checkpointing (this group was there at start).
    await waitFor(async () => (await checkpointOf(warm))?.offset === 5n, {
      ...WAIT,
      what: 'the checkpoint of the group present at start'
    })

    const group = uniqueName('late')
    const committedAt = Date.now()
    await commitOffsets(A, group, [{ topic, partition: 0, offset: 20n }])
    const cp = await waitFor(
      async () => {
        const c = await checkpointOf(group)
        return c?.offset === 20n ? c : undefined
      },
      { ...WAIT, what: 'the checkpoint of the group committed while running' }
    )
    const seenAt = Date.now()
    assert.equal(cp.offset, 20n)
    const latency = cp.firstWrittenAt - committedAt
    t.diagnostic(
      `group committed on A -> its first checkpoint on B: ${latency} ms by the record's timestamp (${seenAt - committedAt} ms until the test read it); default group refresh, emit interval ${emitS} s`
    )
    const bound = 10_000 + emitS * 1000
    assert.ok(
      latency < bound,
      `a new group is checkpointed within 10 s + one emit interval (${bound} ms) with no refresh.groups.interval.seconds; took ${latency} ms`
    )
  }
)

test(
  'refresh.topics.interval.seconds=30 is honoured: a topic created right after a discovery pass waits for the next one; the one known at start is copied',
  { timeout: 300_000 },
  async t => {
    const prefix = uniqueName('drefresh')
    const known = `${prefix}-known`
    const late = `${prefix}-late`
    await createTopic(A, known)
    await produce(A, known, [{ value: 'k1' }, { value: 'k2' }])
    const file = writeMm2Properties(
      { A, B },
      {
        'A->B.enabled': 'true',
        'A->B.topics': `${prefix}-.*`,
        'emit.heartbeats.enabled': 'false',
        'emit.checkpoints.enabled': 'false',
        'sync.topic.acls.enabled': 'false',
        'refresh.topics.interval.seconds': '30'
      }
    )
    const lines: string[] = []
    const startedAt = Date.now()
    await startMirror(t, file, testLogger({ lines, level: 'debug' }))
    await waitFor(async () => (await readAll(B, `A.${known}`).catch(() => [])).length === 2, {
      ...WAIT,
      what: 'the topic known at start on B'
    })

    // However long the start took, the check begins right after a discovery pass: the next one is
    // 30 s away, so a topic created now must still be missing 10 s later.
    const passesBefore = lines.filter(l => l.includes(DISCOVERY_PASS)).length
    await waitFor(() => lines.filter(l => l.includes(DISCOVERY_PASS)).length > passesBefore, {
      ...WAIT,
      what: 'a topic discovery pass'
    })
    const passAt = Date.now()
    await createTopic(A, late)
    await produce(A, late, [{ value: 'l1' }])
    const createdAt = Date.now()
    await sleep(10_000)
    const admin = new KafkaAdmin(clientConfig(B), 'test-admin')
    try {
      const checkedAt = Date.now()
      assert.ok(
        checkedAt - passAt < 30_000,
        `the check ran within the interval (${checkedAt - passAt} ms after the pass)`
      )
      assert.equal(
        (await admin.describeTopics([`A.${late}`])).has(`A.${late}`),
        false,
        `A.${late} is not created before the next 30 s refresh (checked ${checkedAt - passAt} ms after a pass)`
      )
    } finally {
      await admin.close()
    }
    await waitFor(async () => (await readAll(B, `A.${late}`).catch(() => [])).length === 1, {
      ...WAIT,
      what: 'the late topic copied after the refresh'
    })
    t.diagnostic(
      `discovery pass ${passAt - startedAt} ms after the start; late topic copied ${Date.now() - createdAt} ms after its creation (refresh every 30 s)`
    )
  }
)
