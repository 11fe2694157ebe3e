/**
 * Start-up at scale: N source topics of P partitions, each partition holding one record, none of
 * them on the target yet; then the real binary starts and the clock runs until the first record
 * is on the target and until every partition's record is. Figures only.
 *
 *   npm run bench:new-topics -- [--topics 100] [--partitions 10]
 */
import { spawn } from 'node:child_process'
import { KafkaAdmin } from '../src/kafka/admin.ts'
import { KafkaProducer, ProduceFailure } from '../src/kafka/producer.ts'
import { startClusters } from '../test/harness/cluster.ts'
import { clientConfig } from '../test/harness/helpers.ts'
import { writeMm2Properties } from '../test/harness/mirror-config.ts'
import { listEnds } from './lib/mirror-process.ts'
import { benchArgs } from './lib/args.ts'

const values = benchArgs(import.meta.url, {
  topics: { type: 'string', default: '100' },
  partitions: { type: 'string', default: '10' }
})
const count = Number(values.topics)
const partitions = Number(values.partitions)

const [a, b] = await startClusters([
  { name: 'nt-A', heapMb: 1024 },
  { name: 'nt-B', heapMb: 1024 }
])
if (a === undefined || b === undefined) throw new Error('clusters did not start')
const child: { proc?: ReturnType<typeof spawn> } = {}
try {
  const names = Array.from({ length: count }, (_, i) => `nt-${String(i).padStart(4, '0')}`)
  const sourceAdmin = new KafkaAdmin(clientConfig(a), 'bench-admin')
  for (let i = 0; i < names.length; i += 200) {
    const outcomes = await sourceAdmin.createTopics(
      names.slice(i, i + 200).map(name => ({ name, partitions, replicationFactor: 1, configs: {} }))
    )
    for (const [name, o] of outcomes) if (o.status === 'failed') throw new Error(`${name}: ${o.error.message}`)
  }
  while ((await sourceAdmin.describeTopics(names)).size < count) await new Promise(resolve => setTimeout(resolve, 200))
  await sourceAdmin.close()
  const producer = new KafkaProducer(clientConfig(a), 'bench-producer')
  const batches = names.flatMap(topic =>
    Array.from({ length: partitions }, (_, partition) => ({
      topic,
      partition,
      records: [{ key: null, value: Buffer.from(`${topic}-${partition}`), headers: [] }]
    }))
  )
  // Partitions created a moment ago may not have their leaders yet: keep sending what was refused.
  let pending = batches
  for (let attempt = 0; pending.length > 0; attempt++) {
    const failed: typeof batches = []
    for (let i = 0; i < pending.length; i += 2000) {
      const chunk = pending.slice(i, i + 2000)
      await producer.send(chunk).catch((err: unknown) => {
        if (!(err instanceof ProduceFailure) || attempt >= 30) throw err
        chunk.forEach((b, j) => {
          if (err.acked[j] === undefined) failed.push(b)
        })
      })
    }
    pending = failed
    if (pending.length > 0) await new Promise(resolve => setTimeout(resolve, 500))
  }
  await producer.close()
  console.log(`${count} topics x ${partitions} partitions on the source, one record per partition`)

  const file = writeMm2Properties({ A: a, B: b }, { 'A->B.enabled': 'true', 'A->B.topics': 'nt-.*' })
  const target = new KafkaAdmin(clientConfig(b), 'bench-target-admin')
  const remote = names.flatMap(topic =>
    Array.from({ length: partitions }, (_, partition) => ({ topic: `A.${topic}`, partition }))
  )
  const start = Date.now()
  child.proc = spawn(
    process.execPath,
    [new URL('../bin/kafka-mirror.js', import.meta.url).pathname, 'run', '--config', file],
    { stdio: ['ignore', 'ignore', process.env.KM_BENCH_LOG !== undefined ? 'inherit' : 'ignore'] }
  )
  let first: number | undefined
  let copied = 0
  while (copied < remote.length && Date.now() - start < 600_000) {
    const existing = await target.describeTopics(names.map(n => `A.${n}`)).catch(() => new Map())
    const present = remote.filter(tp => existing.has(tp.topic))
    // Partitions whose leaders are not elected yet fail a ListOffsets as a whole; listEnds keeps
    // the answers of the others, so the first copied record is seen when it lands.
    const ends = present.length === 0 ? new Map<string, bigint>() : await listEnds(target, present)
    copied = [...ends.values()].filter(e => e > 0n).length
    if (copied > 0) first ??= Date.now() - start
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  const all = Date.now() - start
  await target.close()
  console.log(
    `start to first copied record: ${((first ?? NaN) / 1000).toFixed(1)} s; to every partition's record (${copied} of ${remote.length}): ${(all / 1000).toFixed(1)} s`
  )
} finally {
  if (child.proc !== undefined && child.proc.exitCode === null) {
    const exited = new Promise(resolve => child.proc?.once('exit', resolve))
    child.proc.kill('SIGTERM')
    await exited
  }
  await Promise.all([a.close(), b.close()])
}
