/**
 * The golden transactional batches the unit tests of stampTransactional compare with
 * (test/fixtures/formats/transactional-batches.json) are still what Java Kafka prints: runs
 * test/java/TransactionalBatches.java on the pinned Kafka jars. No broker is needed; it sits with
 * the integration tests because it starts a JVM (about 10 s), too slow for test/unit.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { runJavaProgram } from '../harness/java-tools.ts'

test('test/fixtures/formats/transactional-batches.json is what test/java/TransactionalBatches.java prints', async () => {
  const program = new URL('../java/TransactionalBatches.java', import.meta.url).pathname
  const fixture = new URL('../fixtures/formats/transactional-batches.json', import.meta.url)
  const { stdout } = await runJavaProgram(program, [])
  const printed = JSON.parse(stdout) as unknown
  const committed = JSON.parse(readFileSync(fixture, 'utf8')) as unknown
  assert.deepEqual(
    committed,
    printed,
    `the fixture is stale; regenerate it as the header of ${program} says (Java's output > ${fixture.pathname})`
  )
})
