/**
 * `npm run demo`: the main job on local embedded defaults. Starts two local Kafka clusters named
 * like the user's (my-cluster-source, my-cluster-target), creates `mytopic` with 3 partitions,
 * runs the real `kafka-mirror run` on examples/demo/kafka-mirror-maker-2.yaml, produces a few
 * records and prints them as read back from `my-cluster-source.mytopic` on the target. Then it
 * keeps mirroring (one new record every 5 s, each printed once when it reaches the target) until
 * Ctrl-C, and cleans everything up. The mirror's status page is on http://127.0.0.1:9404/.
 *
 * `--once` stops after the first read-back; `--ticks N` after N new records (both for the tests).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startClusters } from '../test/harness/cluster.ts'
import { createTopic, produce, readAll, waitFor } from '../test/harness/helpers.ts'
import { spawnTracked } from '../test/harness/processes.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const once = process.argv.includes('--once')
const ticksArg = process.argv.indexOf('--ticks')
const maxTicks = ticksArg >= 0 ? Number(process.argv[ticksArg + 1]) : Infinity
const tickMs = maxTicks === Infinity ? 5000 : 1000
const say = (line: string): void => {
  process.stdout.write(`[demo] ${line}\n`)
}

say('starting two local Kafka clusters (my-cluster-source, my-cluster-target)...')
const started = Date.now()
const [source, target] = await startClusters([{ name: 'my-cluster-source' }, { name: 'my-cluster-target' }])
if (source === undefined || target === undefined) throw new Error('clusters did not start')
say(
  `clusters up in ${((Date.now() - started) / 1000).toFixed(1)} s: source ${source.bootstrap()}, target ${target.bootstrap()}`
)

const workDir = mkdtempSync(join(tmpdir(), 'kafka-mirror-demo-'))
const configFile = join(workDir, 'kafka-mirror-maker-2.yaml')
writeFileSync(
  configFile,
  readFileSync(join(root, 'examples', 'demo', 'kafka-mirror-maker-2.yaml'), 'utf8')
    .replace('127.0.0.1:9092', source.bootstrap())
    .replace('127.0.0.1:9093', target.bootstrap())
)

let mirror: ReturnType<typeof spawnTracked> | undefined
let stopping = false
async function cleanup(code: number): Promise<never> {
  if (stopping) process.exit(code)
  stopping = true
  say('stopping kafka-mirror and the clusters...')
  await mirror?.stop(30_000)
  await Promise.all([source?.close(), target?.close()])
  rmSync(workDir, { recursive: true, force: true })
  say('done')
  process.exit(code)
}
process.on('SIGINT', () => {
  void cleanup(0)
})
process.on('SIGTERM', () => {
  void cleanup(0)
})

try {
  await createTopic(source, 'mytopic', { partitions: 3 })
  say('created mytopic (3 partitions) on my-cluster-source')
  say(`running: kafka-mirror run --config ${configFile}`)
  mirror = spawnTracked(
    'kafka-mirror',
    process.execPath,
    [join(root, 'bin', 'kafka-mirror.js'), 'run', '--config', configFile],
    { stdio: ['ignore', 'inherit', 'inherit'] }
  )

  const records = ['hello', 'from', 'my-cluster-source'].map((value, i) => ({
    partition: i % 3,
    key: `key-${i}`,
    value,
    headers: [['demo', 'true']] as Array<[string, string]>
  }))
  await produce(source, 'mytopic', records)
  say(`produced ${records.length} records to mytopic`)
  const copied = await waitFor(
    async () => {
      const r = await readAll(target, 'my-cluster-source.mytopic').catch(() => [])
      return r.length >= records.length ? r : undefined
    },
    { timeoutMs: 60_000, what: 'records on my-cluster-source.mytopic' }
  )
  say('read back from my-cluster-target, topic my-cluster-source.mytopic:')
  for (const r of copied) {
    say(
      `  partition ${r.partition} offset ${r.offset} key=${r.key?.toString() ?? 'null'} value=${r.value?.toString() ?? 'null'} headers=${r.headers.map(([k, v]) => `${k.toString()}:${v?.toString() ?? 'null'}`).join(',')}`
    )
  }
  if (once) await cleanup(0)
  say('status page of the mirror: http://127.0.0.1:9404/ (metrics on /metrics, JSON on /status)')
  say(
    'what it can copy between your own clusters: kafka-mirror bench --config YOUR_FILE --flow SOURCE->TARGET (see README, "How much can it copy: bench")'
  )
  say(
    `mirroring continues; a new record every ${tickMs / 1000} s, printed when it reaches the target. Press Ctrl-C to stop.`
  )
  // Records already printed, by partition and offset: the read-back is ordered by partition, so
  // a new record is not simply the last one read.
  const printed = new Set(copied.map(r => `${r.partition}:${r.offset}`))
  for (let n = 1; n <= maxTicks && !stopping; n++) {
    await new Promise(resolve => setTimeout(resolve, tickMs))
    if (stopping) break
    await produce(source, 'mytopic', [
      { partition: n % 3, key: `tick-${n}`, value: `tick ${n} at ${new Date().toISOString()}` }
    ])
    const fresh = await waitFor(
      async () => {
        const r = (await readAll(target, 'my-cluster-source.mytopic')).filter(
          x => !printed.has(`${x.partition}:${x.offset}`)
        )
        return r.length > 0 ? r : undefined
      },
      { timeoutMs: 30_000, what: 'the new record on the target' }
    )
    for (const r of fresh) {
      printed.add(`${r.partition}:${r.offset}`)
      say(
        `  mirrored: partition ${r.partition} offset ${r.offset} key=${r.key?.toString() ?? 'null'} value=${r.value?.toString() ?? 'null'}`
      )
    }
  }
  await cleanup(0)
} catch (err) {
  process.stderr.write(`[demo] failed: ${(err as Error).message}\n`)
  await cleanup(1)
}
