/**
 * MM2's task assignment (MirrorSourceConnector.taskConfigs): numTasks = min(tasks.max, partitions), round-robin;
 * and CopierTasks' hand-over bookkeeping in a group (docs/scale-out-plan.md §5.3) with fake tasks.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FlowConfig } from '../../../src/config/model.ts'
import { tpKey } from '../../../src/kafka/types.ts'
import type { Logger } from '../../../src/observe/logger.ts'
import { type CopierStats, newCopierStats } from '../../../src/source/copier.ts'
import type { Position } from '../../../src/source/copier-protocol.ts'
import { type CopierTask, CopierTasks, type DealtPartition, dealPartitions } from '../../../src/source/copier-tasks.ts'
import type { ReplicatedTopic } from '../../../src/source/topic-sync.ts'

test('round-robin over min(tasks.max, partitions) tasks', () => {
  assert.deepEqual(dealPartitions(['a0', 'a1', 'a2', 'b0', 'b1', 'b2'], 3), [
    ['a0', 'b0'],
    ['a1', 'b1'],
    ['a2', 'b2']
  ])
  assert.deepEqual(dealPartitions(['a0', 'a1', 'a2', 'b0', 'b1'], 2), [
    ['a0', 'a2', 'b1'],
    ['a1', 'b0']
  ])
  assert.deepEqual(dealPartitions(['a0', 'a1'], 5), [['a0'], ['a1']], 'never more tasks than partitions')
  assert.deepEqual(dealPartitions(['a0', 'a1', 'a2'], 1), [['a0', 'a1', 'a2']])
  assert.deepEqual(dealPartitions([], 3), [], 'no partitions, no tasks')
})

test('appending partitions never moves the ones already dealt while the task count stays', () => {
  const before = dealPartitions(['a0', 'a1', 'a2', 'a3'], 3)
  const after = dealPartitions(['a0', 'a1', 'a2', 'a3', 'b0', 'b1'], 3)
  before.forEach((task, i) => {
    assert.deepEqual(after[i]?.slice(0, task.length), task)
  })
})

test('tasks.max below 1 is treated as 1', () => {
  assert.deepEqual(dealPartitions(['a0', 'a1'], 0), [['a0', 'a1']])
})

// ---- CopierTasks in a group: which task releases what, which gets what, which restarts ----

/** One call a fake task got; `task` is `<index>#<incarnation>` (a new incarnation is a restart). */
type Call = { readonly task: string; readonly op: string; readonly detail?: string }

const show = (p: { topic: string; partition: number }): string => tpKey(p.topic, p.partition)

/** What a fake task stores for a partition it lets go: 100 + partition. */
const storedAt = (p: { topic: string; partition: number }): Position => [
  p.topic,
  p.partition,
  BigInt(100 + p.partition)
]

function harness(tasksMax: number): {
  tasks: CopierTasks
  calls: Call[]
  reload: () => Promise<void>
  reloads: () => number
} {
  const calls: Call[] = []
  let incarnation = 0
  let reloads = 0
  const newTask = (index: number): CopierTask => {
    const name = `${index}#${++incarnation}`
    let mine: DealtPartition[] = []
    const stats: CopierStats = newCopierStats()
    return {
      index,
      get assignedCount() {
        return mine.length
      },
      stats,
      threadId: undefined,
      async assign(partitions, handOver, reread = false) {
        mine = [...partitions]
        const h = handOver.map(([t, p, o]) => `${tpKey(t, p)}@${o}`).join(',')
        calls.push({
          task: name,
          op: 'assign',
          detail: `${partitions.map(show).join(',')} | ${h}${reread ? ' | reread' : ''}`
        })
      },
      async release(partitions) {
        const gone = new Set(partitions.map(show))
        mine = mine.filter(p => !gone.has(show(p)))
        calls.push({ task: name, op: 'release', detail: partitions.map(show).join(',') })
        return partitions.map(storedAt)
      },
      start() {},
      async stop() {
        calls.push({ task: name, op: 'stop' })
        return mine.map(storedAt)
      },
      async close() {
        calls.push({ task: name, op: 'close' })
      }
    }
  }
  const log: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => log }
  return {
    tasks: new CopierTasks({ tasksMax } as FlowConfig, { newTask, log }, new Set()),
    calls,
    reload: async () => {
      reloads++
    },
    reloads: () => reloads
  }
}

const topics = (...ts: Array<[string, number]>): Map<string, ReplicatedTopic> =>
  new Map(ts.map(([name, partitions]) => [name, { source: name, remote: `A.${name}`, partitions }]))

const owned = (topic: string, ...partitions: number[]): Set<string> => new Set(partitions.map(p => tpKey(topic, p)))

test('growth by discovery joins the least loaded running task: the round-robin deal, nothing restarts', async () => {
  const h = harness(2)
  await h.tasks.own(undefined, undefined, [], h.reload)
  await h.tasks.assign(topics(['t', 4]))
  assert.deepEqual(h.tasks.dealt, [
    ['t:0', 't:2'],
    ['t:1', 't:3']
  ])
  h.calls.length = 0
  await h.tasks.assign(topics(['t', 4], ['u', 3]))
  assert.deepEqual(h.tasks.dealt, dealPartitions(['t:0', 't:1', 't:2', 't:3', 'u:0', 'u:1', 'u:2'], 2))
  assert.deepEqual(
    h.calls.map(c => `${c.task} ${c.op}`),
    ['0#1 assign', '1#2 assign'],
    'only assigns to the running tasks'
  )
})

test('partitions that leave are released by the tasks that hold them; the other tasks are not touched', async () => {
  const h = harness(3)
  await h.tasks.assign(topics(['t', 9]))
  await h.tasks.own(owned('t', 0, 1, 2, 3, 4, 5, 6, 7, 8), 3, [], h.reload)
  assert.deepEqual(h.tasks.dealt, [
    ['t:0', 't:3', 't:6'],
    ['t:1', 't:4', 't:7'],
    ['t:2', 't:5', 't:8']
  ])
  h.calls.length = 0
  const reloadsBefore = h.reloads()
  const stored = await h.tasks.own(owned('t', 0, 1, 2, 4, 5, 6, 8), 3, [], h.reload)
  assert.deepEqual(h.calls, [
    { task: '0#1', op: 'release', detail: 't:3' },
    { task: '1#2', op: 'release', detail: 't:7' }
  ])
  assert.deepEqual(stored, [
    ['t', 3, 103n],
    ['t', 7, 107n]
  ])
  assert.deepEqual(h.tasks.dealt, [
    ['t:0', 't:6'],
    ['t:1', 't:4'],
    ['t:2', 't:5', 't:8']
  ])
  assert.equal(h.reloads(), reloadsBefore, 'nothing arrived: no positions read again')
})

test('partitions that arrive from another instance: positions read again, dealt least loaded first with their hand-over', async () => {
  const h = harness(3)
  await h.tasks.assign(topics(['t', 9]))
  await h.tasks.own(owned('t', 0, 1, 2, 4, 5, 8), 3, [], h.reload)
  assert.deepEqual(h.tasks.dealt, [
    ['t:0', 't:4'],
    ['t:1', 't:5'],
    ['t:2', 't:8']
  ])
  const reloadsBefore = h.reloads()
  h.calls.length = 0
  // t:5 moves away, t:3 and t:7 arrive (t:7 with the position its previous owner stored on release).
  const stored = await h.tasks.own(owned('t', 0, 1, 2, 3, 4, 7, 8), 3, [['t', 7, 70n]], h.reload)
  assert.deepEqual(stored, [['t', 5, 105n]])
  assert.equal(h.reloads(), reloadsBefore + 1, 'the stored positions are read again once')
  assert.deepEqual(h.calls, [
    { task: '1#2', op: 'release', detail: 't:5' },
    { task: '1#2', op: 'assign', detail: 't:1,t:3 |  | reread' },
    { task: '0#1', op: 'assign', detail: 't:0,t:4,t:7 | t:7@70 | reread' }
  ])
  assert.ok(!h.calls.some(c => c.op === 'stop'), 'no task restarts')
  assert.deepEqual(h.tasks.dealt, [
    ['t:0', 't:4', 't:7'],
    ['t:1', 't:3'],
    ['t:2', 't:8']
  ])
})

test('partitions nobody copied (fresh) join without reading the positions again', async () => {
  const h = harness(2)
  await h.tasks.assign(topics(['t', 2]))
  await h.tasks.own(owned('t', 0, 1), 2, [], h.reload)
  const reloadsBefore = h.reloads()
  h.calls.length = 0
  await h.tasks.assign(topics(['t', 4]))
  await h.tasks.own(owned('t', 0, 1, 2, 3), 2, [], h.reload, { fresh: true })
  assert.equal(h.reloads(), reloadsBefore)
  assert.deepEqual(h.calls, [
    { task: '0#1', op: 'assign', detail: 't:0,t:2 | ' },
    { task: '1#2', op: 'assign', detail: 't:1,t:3 | ' }
  ])
})

test('an owned partition of a topic not ready yet is read again and handed over when discovery deals it', async () => {
  const h = harness(2)
  await h.tasks.assign(topics(['t', 2]))
  await h.tasks.own(owned('t', 0, 1), 2, [], h.reload)
  await h.tasks.own(new Set([...owned('t', 0, 1), tpKey('u', 0)]), 2, [['u', 0, 5n]], h.reload)
  const reloadsBefore = h.reloads()
  h.calls.length = 0
  await h.tasks.assign(topics(['t', 2], ['u', 1]))
  assert.equal(h.reloads(), reloadsBefore + 1)
  assert.deepEqual(h.calls, [{ task: '0#1', op: 'assign', detail: 't:0,u:0 | u:0@5 | reread' }])
})

test('a new task budget, or a task count that changes, stops every task and deals all again', async () => {
  const h = harness(4)
  await h.tasks.assign(topics(['t', 6]))
  await h.tasks.own(owned('t', 0, 1, 2, 3, 4, 5), 3, [], h.reload)
  h.calls.length = 0
  // Budget 3 -> 2: all stop (each stores), positions read again, two new tasks resume from what was stored.
  const stored = await h.tasks.own(owned('t', 0, 1, 2, 3, 4, 5), 2, [], h.reload)
  assert.equal(stored.length, 6)
  assert.deepEqual(
    h.calls.map(c => `${c.task} ${c.op}`),
    ['0#1 stop', '1#2 stop', '2#3 stop', '0#4 assign', '1#5 assign']
  )
  assert.equal(h.calls[3]?.detail, 't:0,t:2,t:4 | t:0@100,t:2@102,t:4@104')
  h.calls.length = 0
  // Only one partition left for budget 2: one task instead of two.
  const left = await h.tasks.own(owned('t', 4), 2, [], h.reload)
  assert.deepEqual(
    h.calls.map(c => `${c.task} ${c.op}`),
    ['0#4 stop', '1#5 stop', '0#6 assign']
  )
  assert.deepEqual(h.tasks.dealt, [['t:4']])
  assert.equal(left.length, 6, 'what the stopped tasks stored, the partitions that left included')
})

test('partitions that leave one task only: the others move over with their positions, so no task idles', async () => {
  const h = harness(2)
  await h.tasks.assign(topics(['t', 5]))
  await h.tasks.own(owned('t', 0, 1, 2, 3, 4), 2, [], h.reload)
  assert.deepEqual(h.tasks.dealt, [
    ['t:0', 't:2', 't:4'],
    ['t:1', 't:3']
  ])
  h.calls.length = 0
  const stored = await h.tasks.own(owned('t', 0, 2, 4), 2, [], h.reload)
  assert.deepEqual(stored, [
    ['t', 1, 101n],
    ['t', 3, 103n]
  ])
  assert.deepEqual(h.tasks.dealt, [['t:0', 't:2'], ['t:4']])
  assert.deepEqual(h.calls, [
    { task: '1#2', op: 'release', detail: 't:1,t:3' },
    { task: '0#1', op: 'release', detail: 't:4' },
    { task: '1#2', op: 'assign', detail: 't:4 | t:4@104' }
  ])
})
