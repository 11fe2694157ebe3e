/**
 * Topic ACL sync on real brokers (MirrorSourceConnector ACL sync): clusters with KRaft's StandardAuthorizer, ACLs
 * created on the source, described back from the target. And a source without an authorizer:
 * one info line, then only debug lines.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { AclBinding } from '../../src/kafka/acl.ts'
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import type { Logger } from '../../src/observe/logger.ts'
import { type KafkaCluster, startClusters } from '../harness/cluster.ts'
import { clientConfig, createTopic, produce, readAll, uniqueName, waitFor } from '../harness/helpers.ts'
import { writeMm2Properties } from '../harness/mirror-config.ts'
import { startMirror as startMirrorFrom, testLogger } from '../harness/mirror-runner.ts'

/** The mirror, the tests and the KRaft controller all connect as User:ANONYMOUS over PLAINTEXT. */
const AUTHORIZER = {
  'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
  'super.users': 'User:ANONYMOUS'
}

function capture(level: 'info' | 'debug' = 'info'): { lines: string[]; log: Logger } {
  const lines: string[] = []
  return { lines, log: testLogger({ lines, level }) }
}

type After = { after: (fn: () => Promise<void>) => void }

/** Two clusters; cleanups registered later run first (the mirror stops before its clusters). */
async function clusterPair(
  t: After,
  brokerConfig?: Record<string, string>
): Promise<{ A: KafkaCluster; B: KafkaCluster; cleanup: (fn: () => Promise<void>) => void }> {
  const fns: Array<() => Promise<void>> = []
  t.after(async () => {
    for (const fn of fns.reverse()) await fn()
  })
  const [A, B] = await startClusters([
    { name: 'A', brokerConfig },
    { name: 'B', brokerConfig }
  ])
  assert.ok(A !== undefined && B !== undefined)
  fns.push(async () => {
    await Promise.all([A.close(), B.close()])
  })
  return {
    A,
    B,
    cleanup: fn => {
      fns.push(fn)
    }
  }
}

async function startMirror(
  cleanup: (fn: () => Promise<void>) => void,
  A: KafkaCluster,
  B: KafkaCluster,
  topics: string,
  log: Logger
): Promise<void> {
  const file = writeMm2Properties(
    { A, B },
    {
      'A->B.enabled': 'true',
      'A->B.topics': topics,
      'sync.topic.acls.interval.seconds': '1',
      'B.offset.flush.interval.ms': '500'
    }
  )
  await startMirrorFrom({ after: cleanup }, file, log)
}

const show = (b: AclBinding): string =>
  `${b.patternType} ${b.resourceName} ${b.principal}@${b.host} ${b.permission} ${b.operation}`

test(
  'topic ACLs are copied to the remote topics: WRITE dropped, ALL becomes READ, DENY kept, prefixed and unselected not copied',
  { timeout: 300_000 },
  async t => {
    const { A, B, cleanup } = await clusterPair(t, AUTHORIZER)
    const prefix = uniqueName('acl')
    const orders = `${prefix}-orders`
    const other = `${prefix}-other`
    await createTopic(A, orders, { partitions: 1 })
    await createTopic(A, other, { partitions: 1 })
    await produce(A, orders, [{ key: 'k', value: 'v' }])
    const source = new KafkaAdmin(clientConfig(A), 'test-admin')
    const target = new KafkaAdmin(clientConfig(B), 'test-admin')
    cleanup(async () => {
      await source.close()
      await target.close()
    })
    const lit = (
      resourceName: string,
      principal: string,
      operation: AclBinding['operation'],
      permission: AclBinding['permission'] = 'ALLOW',
      host = '*'
    ): AclBinding => ({
      resourceType: 'TOPIC',
      resourceName,
      patternType: 'LITERAL',
      principal,
      host,
      operation,
      permission
    })
    await source.createAcls([
      lit(orders, 'User:alice', 'WRITE'),
      lit(orders, 'User:alice', 'ALL'),
      lit(orders, 'User:bob', 'DESCRIBE', 'ALLOW', '10.0.0.1'),
      lit(orders, 'User:eve', 'READ', 'DENY'),
      lit(other, 'User:alice', 'READ'),
      { ...lit(orders, 'User:carol', 'READ'), patternType: 'PREFIXED' },
      { ...lit(`${prefix}-group`, 'User:alice', 'READ'), resourceType: 'GROUP' }
    ])
    const { lines, log } = capture()
    await startMirror(cleanup, A, B, `${orders}.*`, log)

    const remote = `A.${orders}`
    const onTarget = async (): Promise<string[]> =>
      ((await target.describeTopicAcls()) ?? [])
        .filter(b => b.resourceName.includes(prefix))
        .map(show)
        .sort()
    const expected = [
      `LITERAL ${remote} User:alice@* ALLOW READ`,
      `LITERAL ${remote} User:bob@10.0.0.1 ALLOW DESCRIBE`,
      `LITERAL ${remote} User:eve@* DENY READ`
    ].sort()
    await waitFor(async () => (await onTarget()).length >= 3, { timeoutMs: 90_000, what: 'ACLs on the target' })
    assert.deepEqual(await onTarget(), expected)
    await waitFor(async () => (await readAll(B, remote)).length === 1, { timeoutMs: 60_000, what: 'the record copied' })

    // An ACL added later on the source follows at the next interval; the others are not re-created.
    await source.createAcls([lit(orders, 'User:dave', 'DESCRIBE_CONFIGS')])
    await waitFor(async () => (await onTarget()).includes(`LITERAL ${remote} User:dave@* ALLOW DESCRIBE_CONFIGS`), {
      timeoutMs: 30_000,
      what: 'the later ACL on the target'
    })
    assert.equal((await onTarget()).length, 4)
    const synced = lines.filter(l => l.includes('synced topic ACLs'))
    assert.equal(synced.length, 2, `one line per pass that created something:\n${synced.join('\n')}`)
    assert.match(synced[0] ?? '', /created=3/)
    assert.match(synced[1] ?? '', /created=1/)
  }
)

test(
  'a source without an authorizer: one info line, then debug only; records still flow',
  { timeout: 300_000 },
  async t => {
    const { A, B, cleanup } = await clusterPair(t)
    const topic = uniqueName('noauth')
    await createTopic(A, topic, { partitions: 1 })
    await produce(A, topic, [{ value: 'one' }])
    const { lines, log } = capture('debug')
    await startMirror(cleanup, A, B, topic, log)
    await waitFor(async () => (await readAll(B, `A.${topic}`).catch(() => [])).length === 1, {
      timeoutMs: 60_000,
      what: 'the record copied'
    })
    await waitFor(() => lines.filter(l => l.includes('topic ACL sync skipped')).length >= 3, {
      timeoutMs: 30_000,
      what: 'three more ACL passes'
    })
    const info = lines.filter(l => l.includes(' INFO ') && l.includes('ACL'))
    assert.equal(info.length, 1, info.join('\n'))
    assert.match(info[0] ?? '', /source cluster has no authorizer/)
    assert.ok(
      !lines.some(l => (l.includes(' WARN ') || l.includes(' ERROR')) && l.includes('ACL')),
      'no warning about ACLs'
    )
  }
)
