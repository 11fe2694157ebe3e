/** MM2's task assignment (MirrorSourceConnector.taskConfigs): numTasks = min(tasks.max, partitions), round-robin. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { dealPartitions } from '../../../src/source/copier-tasks.ts'

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
