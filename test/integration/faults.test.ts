/**
 * Faults on real brokers: a cluster lost in the middle of a copy, a source topic the mirror is
 * not allowed to read, records at the source topic's size limit. Each test checks the target's
 * records against the source's, not only the mirror's own counters.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { AclBinding } from '../../src/kafka/acl.ts'
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import type { ConsumedRecord } from '../../src/kafka/types.ts'
import type { Mirror } from '../../src/mirror.ts'
import { type KafkaCluster, startClusters } from '../harness/cluster.ts'
import {
  assertNamesCluster,
  clientConfig,
  clustersForFile,
  comparable,
  createTopic,
  produce,
  readAll,
  uniqueName,
  waitFor
} from '../harness/helpers.ts'
import { writeMm2Properties } from '../harness/mirror-config.ts'
import { type Cleanups, startCopyMirror, startMirror, testLogger } from '../harness/mirror-runner.ts'
import { storedPositions, waitForStoredPositions } from '../harness/positions.ts'

let A: KafkaCluster
let B: KafkaCluster
clustersForFile([{ name: 'A' }, { name: 'B' }], ([a, b]) => {
  A = a
  B = b
})
const logLines: string[] = []
const log = testLogger({ lines: logLines })

/** Cleanups run newest first (the mirror stops before the cluster it talks to), passed or failed. */
function lastInFirstOut(t: Cleanups): (fn: () => Promise<void>) => void {
  const fns: Array<() => Promise<void>> = []
  t.after(async () => {
    for (const fn of fns.reverse()) await fn()
  })
  return fn => {
    fns.push(fn)
  }
}

async function mirrorFor(t: Cleanups, topicsRegex: string, extra: Record<string, string> = {}): Promise<Mirror> {
  return await startCopyMirror(t, { A, B }, topicsRegex, { extra, log })
}

/**
 * Until flow A->B stored positions up to the last record of `topic`: whatever it copied, a duplicate too, is on B by
 * then.
 */
async function copiedToTheEnd(topic: string): Promise<void> {
  await waitForStoredPositions(A, [topic], B, { source: 'A' }, { timeoutMs: 120_000 })
}

async function remoteCount(cluster: KafkaCluster, topic: string): Promise<number> {
  return (await readAll(cluster, topic).catch(() => [])).length
}

/**
 * What the copier guarantees across a lost cluster: per partition, the target holds every source
 * record, in source order, and nothing else. A send whose outcome was lost with the connection is
 * sent again (the producer is not idempotent), so a record may appear twice, but only as part of
 * a repeated run of records directly after its first copy. Returns the number of repeated records.
 */
function assertAllCopiedInOrder(source: readonly ConsumedRecord[], target: readonly ConsumedRecord[]): number {
  let repeated = 0
  const partitions = new Set(source.map(r => r.partition))
  for (const p of partitions) {
    const want = source.filter(r => r.partition === p).map(r => r.value?.toString() ?? '')
    const got = target.filter(r => r.partition === p).map(r => r.value?.toString() ?? '')
    const seen = new Set<string>()
    const firstCopies: string[] = []
    let i = 0
    for (const v of got) {
      if (seen.has(v)) {
        repeated++
        continue
      }
      // A repeat may only go back over records already copied; a new record must be the next one.
      assert.equal(v, want[i], `partition ${p}: target record #${firstCopies.length} should be ${want[i]}, got ${v}`)
      seen.add(v)
      firstCopies.push(v)
      i++
    }
    assert.equal(
      firstCopies.length,
      want.length,
      `partition ${p}: ${want.length - firstCopies.length} source records missing on the target`
    )
  }
  assert.equal(target.filter(r => !partitions.has(r.partition)).length, 0)
  return repeated
}

/**
 * The bound on records copied twice after the target was lost. The copier stores a partition's
 * position only after the target acknowledged every record up to it (src/source/copier.ts), so
 * the loss can make it send again only records past the position stored when the target went:
 * the ones acknowledged since that store and the ones in flight, which reached the target, if at
 * all, before the kill. Hence, per partition:
 * - every repeated record lies past `storedBeforeLoss` (nothing stored as copied is copied again);
 * - there are no more repeats than records past `storedBeforeLoss` the target got before its
 *   first repeat (each such record copied once more at most).
 * `storedBeforeLoss` is read just before the kill: what was copied and stored in between only
 * widens the bound, so it is never tighter than the truth. Returns the bound, summed over the
 * partitions that have repeats.
 */
function assertRepeatsBounded(
  source: readonly ConsumedRecord[],
  target: readonly ConsumedRecord[],
  storedBeforeLoss: ReadonlyMap<number, bigint>
): number {
  const offsetOf = new Map(source.map(r => [`${r.partition}:${r.value?.toString() ?? ''}`, r.offset]))
  let total = 0
  for (const p of new Set(source.map(r => r.partition))) {
    const stored = storedBeforeLoss.get(p) ?? -1n
    const seen = new Set<string>()
    let pastStoreBeforeFirstRepeat = 0
    let repeats = 0
    for (const r of target.filter(x => x.partition === p)) {
      const value = r.value?.toString() ?? ''
      const offset = offsetOf.get(`${p}:${value}`) ?? -1n
      if (!seen.has(value)) {
        seen.add(value)
        if (repeats === 0 && offset > stored) pastStoreBeforeFirstRepeat++
        continue
      }
      repeats++
      assert.ok(
        offset > stored,
        `partition ${p}: source offset ${offset} copied again though its position (${stored}) was stored before the target was lost`
      )
    }
    assert.ok(
      repeats <= pastStoreBeforeFirstRepeat,
      `partition ${p}: ${repeats} records copied twice, more than the ${pastStoreBeforeFirstRepeat} the target got past the stored position ${stored} before the loss`
    )
    if (repeats > 0) total += pastStoreBeforeFirstRepeat
  }
  return total
}

/**
 * Produces records numbered from `from` into `topic` (3 partitions) until stopped (at the latest when the test ends);
 * returns how many.
 */
function keepProducing(t: Cleanups, topic: string, from = 0): { stop: () => Promise<number> } {
  let running = true
  let n = from
  const loop = (async () => {
    while (running) {
      await produce(
        A,
        topic,
        Array.from({ length: 300 }, (_, j) => ({
          partition: (n + j) % 3,
          key: `k${n + j}`,
          value: `v${n + j}-${'p'.repeat(200)}`
        }))
      )
      n += 300
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  })()
  const stop = async (): Promise<number> => {
    running = false
    await loop
    return n - from
  }
  // A test that failed half-way must not leave the loop producing into the next one's clusters.
  t.after(async () => {
    await stop().catch(() => 0)
  })
  return { stop }
}

test(
  'target lost during a copy: flow not ready with the reason, recovers by itself, every source record on the target',
  { timeout: 400_000 },
  async t => {
    const topic = uniqueName('lose-target')
    await createTopic(A, topic, { partitions: 3 })
    const producing = keepProducing(t, topic)
    const mirror = await mirrorFor(t, topic)
    await waitFor(async () => (await remoteCount(B, `A.${topic}`)) > 1000, {
      timeoutMs: 90_000,
      what: 'copy under way'
    })
    const linesBefore = logLines.length
    let stopped = true
    t.after(async () => {
      if (stopped) await B.restart()
    })
    const storedBeforeLoss = await storedPositions(B, { source: 'A' }, topic)
    await B.kill()
    const notReady = await waitFor(
      () => {
        const s = mirror.status()[0]
        return s?.state === 'not-ready' ? s : undefined
      },
      { timeoutMs: 60_000, what: 'flow not ready' }
    )
    t.diagnostic(`status while the target is down: ${notReady.reason ?? ''}`)
    assertNamesCluster(notReady.reason ?? '', 'B', B)
    await new Promise(resolve => setTimeout(resolve, 3000)) // keep producing into the outage
    await B.restart()
    stopped = false
    const total = await producing.stop()
    await waitFor(async () => (await remoteCount(B, `A.${topic}`)) >= total, {
      timeoutMs: 120_000,
      what: `${total} records on the target after it came back`
    })
    await waitFor(() => mirror.status()[0]?.state === 'running', { timeoutMs: 60_000, what: 'flow running again' })
    const during = logLines.slice(linesBefore)
    const warn = during.find(l => / WARN /.test(l) && /retrying/.test(l))
    assert.ok(warn !== undefined, 'a warning says what failed and that it is retried')
    t.diagnostic(`first warning: ${warn}`)
    assert.ok(
      during.some(l => /recovered/.test(l)),
      'recovery is logged'
    )
    await copiedToTheEnd(topic)
    const [source, target] = [await readAll(A, topic), await readAll(B, `A.${topic}`)]
    const repeated = assertAllCopiedInOrder(source, target)
    const bound = assertRepeatsBounded(source, target, storedBeforeLoss)
    t.diagnostic(
      `${total} records, ${repeated} copied twice (sends whose outcome was lost with the target); at most ${bound} allowed (copied past the positions stored before the loss, in the partitions with repeats)`
    )
  }
)

test(
  'source lost during a copy: flow not ready with the reason, recovers by itself, every source record on the target exactly once',
  { timeout: 400_000 },
  async t => {
    const topic = uniqueName('lose-source')
    await createTopic(A, topic, { partitions: 3 })
    const producing = keepProducing(t, topic)
    const mirror = await mirrorFor(t, topic)
    await waitFor(async () => (await remoteCount(B, `A.${topic}`)) > 1000, {
      timeoutMs: 90_000,
      what: 'copy under way'
    })
    const first = await producing.stop()
    const linesBefore = logLines.length
    let stopped = true
    t.after(async () => {
      if (stopped) await A.restart()
    })
    await A.kill()
    const notReady = await waitFor(
      () => {
        const s = mirror.status()[0]
        return s?.state === 'not-ready' ? s : undefined
      },
      { timeoutMs: 60_000, what: 'flow not ready' }
    )
    t.diagnostic(`status while the source is down: ${notReady.reason ?? ''}`)
    assertNamesCluster(notReady.reason ?? '', 'A', A)
    await A.restart()
    stopped = false
    const more = keepProducing(t, topic, first)
    await new Promise(resolve => setTimeout(resolve, 2000))
    const total = first + (await more.stop())
    await waitFor(async () => (await remoteCount(B, `A.${topic}`)) >= total, {
      timeoutMs: 120_000,
      what: `${total} records on the target after the source came back`
    })
    await waitFor(() => mirror.status()[0]?.state === 'running', { timeoutMs: 60_000, what: 'flow running again' })
    const during = logLines.slice(linesBefore)
    t.diagnostic(
      `log while the source was down:\n${during
        .filter(l => / (WARN|ERROR) /.test(l))
        .slice(0, 5)
        .join('\n')}`
    )
    assert.ok(
      during.some(l => / WARN /.test(l) && /cluster A: connect/.test(l)),
      'a warning names the unreachable source'
    )
    assert.ok(
      !during.some(l => l.includes('waiting for topic discovery')),
      'an unreachable cluster is not taken for a deleted topic'
    )
    await copiedToTheEnd(topic)
    const repeated = assertAllCopiedInOrder(await readAll(A, topic), await readAll(B, `A.${topic}`))
    // Losing the source never makes a send ambiguous: nothing may be copied twice.
    assert.equal(repeated, 0)
  }
)

test(
  'a source topic the mirror may not read: that partition reported with topic, partition, offset and reason; the others keep flowing',
  { timeout: 300_000 },
  async t => {
    // No super user: the broker allows whatever no ACL mentions, so only the topic with ACLs is closed.
    const cleanup = lastInFirstOut(t)
    const [S] = await startClusters([
      {
        name: 'S',
        brokerConfig: {
          'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
          'allow.everyone.if.no.acl.found': 'true'
        }
      }
    ])
    assert.ok(S !== undefined)
    cleanup(async () => {
      await S.close()
    })
    const prefix = uniqueName('denied')
    const denied = `${prefix}-secret`
    const open = `${prefix}-open`
    await createTopic(S, denied, { partitions: 1 })
    await createTopic(S, open, { partitions: 1 })
    await produce(S, denied, [{ value: 'secret-1' }, { value: 'secret-2' }])
    await produce(S, open, [{ value: 'open-1' }])
    const admin = new KafkaAdmin(clientConfig(S), 'test-admin')
    cleanup(async () => {
      await admin.close()
    })
    // The mirror (User:ANONYMOUS, as every PLAINTEXT client) may see the topic but not read it.
    const acl = (operation: AclBinding['operation'], permission: AclBinding['permission']): AclBinding => ({
      resourceType: 'TOPIC',
      resourceName: denied,
      patternType: 'LITERAL',
      principal: 'User:ANONYMOUS',
      host: '*',
      operation,
      permission
    })
    await admin.createAcls([acl('DESCRIBE', 'ALLOW'), acl('DESCRIBE_CONFIGS', 'ALLOW'), acl('READ', 'DENY')])

    const file = writeMm2Properties(
      { S, B },
      { 'S->B.enabled': 'true', 'S->B.topics': `${prefix}.*`, 'B.offset.flush.interval.ms': '500' }
    )
    const mirror = await startMirror({ after: cleanup }, file, log)
    await waitFor(async () => (await remoteCount(B, `S.${open}`)) === 1, {
      timeoutMs: 90_000,
      what: 'the open topic copied'
    })
    const failure = await waitFor(
      () => [...(mirror.status()[0]?.copier?.failures.values() ?? [])].find(f => f.topic === denied),
      { timeoutMs: 60_000, what: 'the denied partition reported' }
    )
    assert.equal(failure.partition, 0)
    assert.equal(failure.offset, 0n, 'the first record not copied')
    assert.match(failure.reason, /TOPIC_AUTHORIZATION_FAILED/)
    const line = logLines.find(l => l.includes('cannot copy partition') && l.includes(denied))
    assert.ok(line !== undefined, 'logged')
    assert.match(line, /partition=0/)
    assert.match(line, /offset=0/)
    assert.match(line, /TOPIC_AUTHORIZATION_FAILED/)
    // The other topic keeps flowing while the denied one is retried.
    await produce(S, open, [{ value: 'open-2' }])
    await waitFor(async () => (await remoteCount(B, `S.${open}`)) === 2, {
      timeoutMs: 30_000,
      what: 'the open topic keeps flowing'
    })
    assert.equal(await remoteCount(B, `S.${denied}`), 0)
    assert.ok(mirror.status()[0]?.copier?.failures.has(`${denied}:0`), 'still reported')
    // The source's ACLs cannot be copied to a target without an authorizer: said once, not every pass.
    assert.equal(logLines.filter(l => l.includes('target cluster has no authorizer')).length, 1)
  }
)

test(
  "records at the source topic's max.message.bytes, and larger than one copy slice, are copied intact",
  { timeout: 300_000 },
  async t => {
    const topic = uniqueName('big')
    const limit = 2 * 1024 * 1024
    await createTopic(A, topic, { partitions: 1, configs: { 'max.message.bytes': String(limit) } })
    // One record per batch (`chunk: 1`): the biggest fills the batch limit up to a few hundred bytes of framing.
    const values = [limit - 300, 600_000, 600_000, 1_500_000, 10, 950_000].map((n, i) => Buffer.alloc(n, 97 + i))
    await produce(
      A,
      topic,
      values.map(value => ({ key: `k${value.length}`, value })),
      { chunk: 1 }
    )
    await mirrorFor(t, topic)
    await waitFor(async () => (await remoteCount(B, `A.${topic}`)) === values.length, {
      timeoutMs: 90_000,
      what: 'all big records copied'
    })
    const admin = new KafkaAdmin(clientConfig(B), 'test-admin')
    try {
      const configs = (await admin.describeTopicConfigs([`A.${topic}`])).get(`A.${topic}`) ?? []
      assert.equal(
        configs.find(c => c.name === 'max.message.bytes')?.value,
        String(limit),
        "the remote topic has the source's limit"
      )
    } finally {
      await admin.close()
    }
    const copied = await readAll(B, `A.${topic}`)
    assert.deepEqual(
      copied.map(r => r.value?.length),
      values.map(v => v.length)
    )
    copied.forEach((r, i) => {
      assert.ok(r.value?.equals(values[i] as Buffer), `record ${i} intact`)
    })
    assert.deepEqual(copied.map(comparable), (await readAll(A, topic)).map(comparable))
  }
)
