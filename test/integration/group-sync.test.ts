/**
 * sync.group.offsets.enabled with a group that is ACTIVE on the target (issue 4): while a real
 * Java member of group G is in the group on B, kafka-mirror must not touch G's committed offsets
 * there, even when G moves ahead on A; once the member leaves, the translated offsets are
 * committed on B, and only forward.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { decodeCheckpoint } from '../../src/formats/checkpoint.ts'
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import type { KafkaCluster } from '../harness/cluster.ts'
import {
  clientConfig,
  clustersForFile,
  commitOffsets,
  createTopic,
  groupOffsets,
  produce,
  readAll,
  uniqueName,
  waitFor
} from '../harness/helpers.ts'
import { runJavaProgram } from '../harness/java-tools.ts'
import { writeCheckpointFlowProperties } from '../harness/mirror-config.ts'
import { startMirror, testLogger } from '../harness/mirror-runner.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const WAIT = { timeoutMs: 90_000, intervalMs: 250 }
const SYNC_INTERVAL_S = 1

let A: KafkaCluster
let B: KafkaCluster
clustersForFile([{ name: 'gsync-A' }, { name: 'gsync-B' }], ([a, b]) => {
  A = a
  B = b
})

async function groupActive(cluster: KafkaCluster, group: string): Promise<boolean> {
  const admin = new KafkaAdmin(clientConfig(cluster), 'test-admin')
  try {
    return (await admin.groupActivity(group)).active
  } finally {
    await admin.close()
  }
}

/** The latest checkpoint's target offset for group/topic/partition in A.checkpoints.internal on B. */
async function checkpointOf(group: string, topic: string, partition: number): Promise<bigint | undefined> {
  let found: bigint | undefined
  for (const r of await readAll(B, 'A.checkpoints.internal').catch(() => [])) {
    const cp = decodeCheckpoint(r.key, r.value)
    if (cp.group === group && cp.topic === topic && cp.partition === partition) found = cp.downstreamOffset
  }
  return found
}

/**
 * The sync logs (debug) each pass that leaves a group alone for its members on the target
 * (src/checkpoint/group-offset-sync.ts).
 */
function activeSkips(lines: readonly string[], group: string): number {
  return lines.filter(l => l.includes('group has members on the target; not syncing its offsets') && l.includes(group))
    .length
}

test(
  'sync.group.offsets leaves a group alone while it has an active member on the target, then commits the translated offsets forward only once it leaves',
  { timeout: 600_000 },
  async t => {
    const topic = uniqueName('gsync')
    const remote = `A.${topic}`
    const group = uniqueName('G')
    await createTopic(A, topic, { partitions: 2 })
    await produce(
      A,
      topic,
      Array.from({ length: 200 }, (_, i) => ({ partition: i % 2, value: `v${i}` }))
    )
    await commitOffsets(A, group, [
      { topic, partition: 0, offset: 10n },
      { topic, partition: 1, offset: 5n }
    ])
    const file = writeCheckpointFlowProperties({ A, B }, topic, {
      'sync.group.offsets.enabled': 'true',
      'sync.group.offsets.interval.seconds': String(SYNC_INTERVAL_S)
    })
    const lines: string[] = []
    const mirror = await startMirror(t, file, testLogger({ lines, level: 'debug' }))

    // Idle on B: the group gets its translated offsets (the remote topic starts empty, so target = source offsets).
    await waitFor(
      async () => {
        const now = await groupOffsets(B, group)
        return now.get(0) === 10n && now.get(1) === 5n
      },
      { ...WAIT, what: `${group} synced on B while idle` }
    )

    // A real member joins G on B and stays (it never commits).
    const stopFile = join(mkdtempSync(join(tmpdir(), 'km-member-')), 'stop')
    const member = runJavaProgram(
      join(root, 'test', 'java', 'GroupMember.java'),
      [B.bootstrap(), remote, group, stopFile, '400'],
      { timeoutMs: 450_000 }
    )
    let memberDone = false
    void member
      .finally(() => {
        memberDone = true
      })
      .catch(() => {})
    t.after(async () => {
      writeFileSync(stopFile, '')
      await member.catch(() => {})
    })
    await waitFor(
      async () => {
        if (memberDone)
          throw new Error(
            `the Java member exited early: ${JSON.stringify(await member.catch((e: Error) => e.message))}`
          )
        return await groupActive(B, group)
      },
      { ...WAIT, what: 'the Java member to join G on B' }
    )

    // G moves ahead on A; the checkpoint follows, but G's offsets on B must not change while the member is there.
    await commitOffsets(A, group, [
      { topic, partition: 0, offset: 60n },
      { topic, partition: 1, offset: 70n }
    ])
    await waitFor(
      async () => (await checkpointOf(group, remote, 0)) === 60n && (await checkpointOf(group, remote, 1)) === 70n,
      { ...WAIT, what: 'checkpoints of the new position' }
    )
    const skippedBefore = mirror.checkpointStatus()[0]?.stats.activeGroupsSkipped ?? 0
    // Several sync passes that saw the member (each logs the skip), not a sleep that hopes they ran.
    const skipsBefore = activeSkips(lines, group)
    await waitFor(() => activeSkips(lines, group) >= skipsBefore + 4, {
      ...WAIT,
      what: 'four sync passes that skipped the active group'
    })
    assert.equal(await groupActive(B, group), true, 'the member was still in the group during the check')
    assert.deepEqual(
      await groupOffsets(B, group),
      new Map([
        [0, 10n],
        [1, 5n]
      ]),
      'an active group on the target was not touched by sync.group.offsets'
    )
    const skipped = mirror.checkpointStatus()[0]?.stats.activeGroupsSkipped ?? 0
    assert.ok(skipped >= 1, `the sync reports the active group as skipped (before ${skippedBefore}, now ${skipped})`)

    // The member leaves: the translated offsets are committed on B.
    const leftAt = Date.now()
    writeFileSync(stopFile, '')
    await member
    await waitFor(
      async () => {
        const now = await groupOffsets(B, group)
        return now.get(0) === 60n && now.get(1) === 70n
      },
      { ...WAIT, what: `${group} synced on B after its member left` }
    )
    t.diagnostic(
      `member left -> translated offsets committed on B: ${Date.now() - leftAt} ms (sync interval ${SYNC_INTERVAL_S} s)`
    )

    // Forward only: G rewinds on A; the checkpoint follows, G on B stays where it is.
    await commitOffsets(A, group, [{ topic, partition: 0, offset: 20n }])
    await waitFor(async () => (await checkpointOf(group, remote, 0)) === 20n, {
      ...WAIT,
      what: 'checkpoint of the rewound position'
    })
    // Proof that sync passes ran with the rewound checkpoint in hand: an idle canary group, moved on
    // A only now, reaches B twice, each time through a pass later than that checkpoint.
    const canary = uniqueName('canary')
    for (const offset of [30n, 40n]) {
      await commitOffsets(A, canary, [{ topic, partition: 0, offset }])
      await waitFor(async () => (await groupOffsets(B, canary)).get(0) === offset, {
        ...WAIT,
        what: `canary ${canary} synced to ${offset} on B`
      })
    }
    assert.deepEqual(
      await groupOffsets(B, group),
      new Map([
        [0, 60n],
        [1, 70n]
      ]),
      'sync.group.offsets never rewinds the group on the target'
    )
  }
)
