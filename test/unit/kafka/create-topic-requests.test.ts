import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  CREATE_RECORDS_PER_REQUEST,
  createRequests,
  creationRecords,
  isTooLargeForController
} from '../../../src/kafka/create-topic-requests.ts'

const topic = (name: string, partitions: number, configs: Record<string, string> = {}) => ({
  name,
  partitions,
  configs
})

test('a topic costs one record, one per partition and one per config; -1 partitions (broker default) counts as one', () => {
  assert.equal(creationRecords(topic('t', 10)), 11)
  assert.equal(creationRecords(topic('t', 3, { 'cleanup.policy': 'compact', 'retention.ms': '1' })), 6)
  assert.equal(creationRecords(topic('t', -1)), 2)
})

test('1,000 topics of 10 partitions go out in requests of at most the limit, in order, none lost', () => {
  const topics = Array.from({ length: 1000 }, (_, i) => topic(`t${i}`, 10))
  const requests = createRequests(topics)
  assert.ok(requests.length > 1, 'more than one request')
  for (const r of requests) assert.ok(r.reduce((n, t) => n + creationRecords(t), 0) <= CREATE_RECORDS_PER_REQUEST)
  assert.deepEqual(
    requests.flat().map(t => t.name),
    topics.map(t => t.name)
  )
  assert.equal(requests[0]?.length, Math.floor(CREATE_RECORDS_PER_REQUEST / 11))
})

test('table: how topics are cut', () => {
  const cases: Array<[string, number[], number, number[]]> = [
    // what, partitions per topic, limit, topics per request
    ['nothing', [], 100, []],
    ['all fit', [1, 1, 1], 100, [3]],
    ['exactly the limit', [4, 4], 10, [2]],
    ['one over', [4, 5], 10, [1, 1]],
    ['a topic over the limit goes alone', [2, 50, 2], 10, [1, 1, 1]],
    ['runs', [3, 3, 3, 3, 3], 9, [2, 2, 1]]
  ]
  for (const [what, partitions, limit, sizes] of cases) {
    const requests = createRequests(
      partitions.map((p, i) => topic(`t${i}`, p)),
      limit
    )
    assert.deepEqual(
      requests.map(r => r.length),
      sizes,
      what
    )
  }
})

test("the controller's refusal of a too large request is told apart from other policy violations", () => {
  assert.equal(
    isTooLargeForController('POLICY_VIOLATION', 'Unable to perform excessively large batch operation.'),
    true
  )
  assert.equal(isTooLargeForController('POLICY_VIOLATION', 'Topic name is not allowed'), false)
  assert.equal(isTooLargeForController('INVALID_REPLICATION_FACTOR', 'excessively large'), false)
})
