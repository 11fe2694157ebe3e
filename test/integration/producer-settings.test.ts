/**
 * The target producer's `compression.type` is honoured (issue: kafka-mirror wrote everything
 * uncompressed whatever the user set, so an lz4 source took three times its size on the target):
 * the batches in the target's log segment files, read by Kafka's own DumpLogSegments, carry the
 * codec asked for, and a consumer reads the same records as on the source.
 */
import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { clustersFor, comparable, createTopic, produce, readAll, uniqueName, waitFor } from '../harness/helpers.ts'
import { runJava } from '../harness/java-tools.ts'
import { writeCopyOnlyProperties } from '../harness/mirror-config.ts'
import { startMirror } from '../harness/mirror-runner.ts'

test('<target>.producer.compression.type = zstd: the copied batches are zstd on the target, the records unchanged', async t => {
  const [A, B] = await clustersFor(t, [{ name: 'A' }, { name: 'B' }])
  assert.ok(A !== undefined && B !== undefined)
  const topic = uniqueName('zstd')
  await createTopic(A, topic, { partitions: 2 })
  await produce(
    A,
    topic,
    Array.from({ length: 4000 }, (_, i) => ({
      partition: i % 2,
      key: `k${i}`,
      value: `{"id":${i},"text":"${'compressible '.repeat(40)}"}`,
      headers: [['h', `v${i}`]]
    })),
    { chunk: 1000 }
  )
  const file = writeCopyOnlyProperties({ A, B }, topic, { 'B.producer.compression.type': 'zstd' })
  await startMirror(t, file)
  await waitFor(async () => (await readAll(B, `A.${topic}`).catch(() => [])).length === 4000, {
    timeoutMs: 60_000,
    what: '4000 records on the target'
  })
  assert.deepEqual((await readAll(B, `A.${topic}`)).map(comparable), (await readAll(A, topic)).map(comparable))

  const dir = join(B.dir, 'data', `A.${topic}-0`)
  const segments = readdirSync(dir)
    .filter(f => f.endsWith('.log'))
    .map(f => join(dir, f))
  const dump = await runJava(['org.apache.kafka.tools.DumpLogSegments', '--files', segments.join(',')], {
    label: 'java-dump-log'
  })
  assert.equal(dump.code, 0, dump.stderr)
  const codecs = [...dump.stdout.matchAll(/compresscodec: (\w+)/gi)].map(m => (m[1] ?? '').toLowerCase())
  assert.ok(codecs.length > 0, dump.stdout.slice(0, 500))
  assert.deepEqual([...new Set(codecs)], ['zstd'], `codecs of the ${codecs.length} batches on the target`)
})
