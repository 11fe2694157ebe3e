/**
 * The check of the exactly-once tests (test/harness/exactly-once-check.ts, topic-tail.ts and the
 * Java tools they use) on a topic Java's own transactional producer writes the way a copier in
 * that mode would (test/java/SequencedTransactions.java): committed transactions, an aborted
 * attempt, and a transaction left open by a kill -9, aborted when the same transactional id is
 * taken again. Until kafka-mirror writes transactions, this is what shows that the check sees
 * what the mode's tests need it to see, and that a look between kills is not blocked by an open
 * transaction.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { KafkaAdmin } from '../../src/kafka/admin.ts'
import { javaCommittedView, SequenceView, uncommittedView } from '../harness/exactly-once-check.ts'
import { clientConfig, clustersFor, createTopic, uniqueName, waitFor } from '../harness/helpers.ts'
import { dumpLogBatches, listTransactions, runJavaProgram, startJavaProgram } from '../harness/java-tools.ts'
import { TopicTail } from '../harness/topic-tail.ts'

const program = join(fileURLToPath(new URL('..', import.meta.url)), 'java', 'SequencedTransactions.java')

test('the check sees aborted attempts only read_uncommitted, and a look past a transaction left open returns at once', async t => {
  const [T] = await clustersFor(t, [{ name: 'T' }])
  assert.ok(T !== undefined)
  const topic = uniqueName('eos-check')
  await createTopic(T, topic, { partitions: 1 })
  const id = uniqueName('A-mm2-MirrorSourceConnector')
  const perPartition = [10]

  // seq 0-2 committed, 3-5 aborted then committed, 6-7 in a transaction the kill leaves open.
  const first = await startJavaProgram(program, [T.bootstrap(), topic, id, 'first'], 'open')
  await first.kill()

  const admin = new KafkaAdmin(clientConfig(T), 'eos-check-test')
  const committedTail = new TopicTail(T, admin, topic, 'read_committed')
  const uncommittedTail = new TopicTail(T, admin, topic, 'read_uncommitted')
  t.after(async () => {
    await Promise.all([committedTail.close(), uncommittedTail.close()])
    await admin.close()
  })
  const started = Date.now()
  const committed = new SequenceView(perPartition)
  committed.addAll(await committedTail.advance({ timeoutMs: 20_000 }))
  const lookMs = Date.now() - started
  assert.equal(committed.prefix(0), 6, 'read_committed, the tail holds seq 0-5, up to the open transaction')
  assert.equal(committed.result().duplicates, 0)
  const uncommitted = new SequenceView(perPartition)
  uncommitted.addAll(await uncommittedTail.advance())
  const u1 = uncommitted.result()
  assert.equal(u1.records, 11, 'read_uncommitted: 3 + 3 aborted + 3 + 2 open')
  assert.equal(u1.duplicates, 3)
  assert.ok(lookMs < 15_000, `the read_committed look returned (${lookMs} ms) while the transaction is open`)

  const open = await javaCommittedView(T, topic, perPartition)
  assert.deepEqual(
    [open.result().records, open.result().gaps, open.result().duplicates],
    [6, 4, 0],
    'the Java read_committed consumer also stops at the open transaction'
  )

  // The same id again: InitProducerId aborts the open transaction; then seq 6-9 are committed.
  await runJavaProgram(program, [T.bootstrap(), topic, id, 'second'])
  committed.addAll(await committedTail.advance())
  assert.equal(committed.result().exact, true, 'the tail read on to the end: every seq once')
  const java = (await javaCommittedView(T, topic, perPartition)).result()
  assert.equal(java.exact, true, java.problems.join('; '))
  const u = await uncommittedView(T, topic, perPartition)
  assert.equal(u.check.duplicates, 5, 'read_uncommitted keeps both aborted attempts (3 + 2 records)')
  assert.equal(u.logEnd - BigInt(u.check.records), 5n, 'five markers: three commits, two aborts')
  t.diagnostic(`look past the open transaction: ${lookMs} ms; read_uncommitted: ${u.check.problems.join('; ')}`)

  const batches = (await dumpLogBatches(T, [`${topic}-0`])).get(`${topic}-0`) ?? []
  assert.deepEqual(
    batches.filter(b => b.control).map(b => b.marker),
    ['COMMIT', 'ABORT', 'COMMIT', 'ABORT', 'COMMIT']
  )
  assert.ok(batches.filter(b => !b.control).every(b => b.transactional))
  assert.deepEqual(
    batches.flatMap(b => b.records.map(r => r.key)),
    [
      'p0-0',
      'p0-1',
      'p0-2',
      'p0-3',
      'p0-4',
      'p0-5',
      'p0-3',
      'p0-4',
      'p0-5',
      'p0-6',
      'p0-7',
      'p0-6',
      'p0-7',
      'p0-8',
      'p0-9'
    ]
  )
  await waitFor(
    async () => (await listTransactions(T.bootstrap())).find(l => l.transactionalId === id)?.state === 'CompleteCommit',
    { timeoutMs: 30_000, what: `${id} listed as CompleteCommit` }
  )
})
