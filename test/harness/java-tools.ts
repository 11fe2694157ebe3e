/**
 * The Java reference peers, run from the same jars as the brokers: console producer and
 * consumer, small Java programs against connect-mirror-client (single-file source launch), and
 * Java MirrorMaker 2 itself in dedicated mode. Their output is what our results are checked
 * against, so a bug in our client cannot hide itself.
 */
import { readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ensureKafkaJars, javaBinary } from '../../scripts/kafka-jars.ts'
import { HarnessError } from './errors.ts'
import type { Cleanups } from './mirror-runner.ts'
import { spawnTracked, type TrackedProcess } from './processes.ts'

export interface JavaResult {
  readonly code: number | string
  readonly stdout: string
  readonly stderr: string
  /** The run was killed at `timeoutMs`, so its output may be cut short. */
  readonly timedOut: boolean
}

const QUIET_LOG4J = `Configuration:
  Appenders:
    Console:
      name: STDERR
      target: SYSTEM_ERR
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDERR
`

function log4jFile(libs: string, name: string, body: string): string {
  const file = join(libs, '..', name)
  writeFileSync(file, body)
  return file
}

function baseArgs(heapMb = 256, logConfig?: string): string[] {
  const libs = ensureKafkaJars()
  const log4j = logConfig ?? log4jFile(libs, 'log4j2-quiet.yaml', QUIET_LOG4J)
  return [
    `-Xmx${heapMb}m`,
    '-XX:TieredStopAtLevel=1',
    '-Xshare:auto',
    '-cp',
    join(libs, '*'),
    `-Dlog4j2.configurationFile=${log4j}`
  ]
}

/** Runs a Java main class to completion (killed after timeoutMs). */
export async function runJava(
  mainArgs: readonly string[],
  options: { input?: string; timeoutMs?: number; label?: string } = {}
): Promise<JavaResult> {
  const proc = spawnTracked(options.label ?? 'java', javaBinary(), [...baseArgs(), ...mainArgs], {
    stdio: ['pipe', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  proc.child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString()
  })
  proc.child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  proc.child.stdin?.end(options.input ?? '')
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    void proc.kill()
  }, options.timeoutMs ?? 60_000)
  const code = await proc.exited
  clearTimeout(timer)
  return { code, stdout, stderr, timedOut }
}

function expectSuccess(what: string, r: JavaResult): JavaResult {
  if (r.code !== 0)
    throw new HarnessError(`${what} failed (exit ${r.code}):\n${r.stderr.trim().split('\n').slice(-20).join('\n')}`)
  return r
}

/**
 * Java console producer. Each line is `value`, or `key<TAB>value` with keys, or
 * `h1:v1,h2:v2<TAB>key<TAB>value` with headers too.
 */
export async function javaProduce(
  bootstrap: string,
  topic: string,
  lines: readonly string[],
  opts: { keys?: boolean; headers?: boolean } = {}
): Promise<void> {
  const args = [
    'org.apache.kafka.tools.ConsoleProducer',
    '--bootstrap-server',
    bootstrap,
    '--topic',
    topic,
    '--producer-property',
    'acks=all',
    '--producer-property',
    'linger.ms=0'
  ]
  if (opts.keys === true) args.push('--reader-property', 'parse.key=true', '--reader-property', 'key.separator=\t')
  if (opts.headers === true)
    args.push('--reader-property', 'parse.headers=true', '--reader-property', 'headers.delimiter=\t')
  expectSuccess(
    'Java console producer',
    await runJava(args, { input: lines.join('\n') + '\n', label: 'java-console-producer' })
  )
}

/**
 * Java console consumer from the beginning; returns its lines. With `details` each line is
 * `CreateTime:<ts><TAB>Partition:<p><TAB>headers<TAB>key<TAB>value`; with `offsets` (and no
 * details) it is `Partition:<p><TAB>Offset:<o><TAB>value` (the console consumer's own print
 * format). It stops after `maxMessages`, or once no record came for `timeoutMs`. The whole run is
 * cut at `runTimeoutMs` (default timeoutMs + 30 s), which throws: a cut read is not an answer.
 */
export async function javaConsume(
  bootstrap: string,
  topic: string,
  maxMessages: number,
  opts: {
    timeoutMs?: number
    details?: boolean
    offsets?: boolean
    isolation?: 'read_committed' | 'read_uncommitted'
    runTimeoutMs?: number
  } = {}
): Promise<string[]> {
  const args = [
    'org.apache.kafka.tools.consumer.ConsoleConsumer',
    '--bootstrap-server',
    bootstrap,
    '--topic',
    topic,
    '--from-beginning',
    '--max-messages',
    String(maxMessages),
    '--timeout-ms',
    String(opts.timeoutMs ?? 20_000),
    '--command-property',
    `isolation.level=${opts.isolation ?? 'read_uncommitted'}`
  ]
  if (opts.details === true) {
    args.push(
      '--formatter-property',
      'print.partition=true',
      '--formatter-property',
      'print.headers=true',
      '--formatter-property',
      'print.key=true',
      '--formatter-property',
      'print.timestamp=true'
    )
  } else if (opts.offsets === true) {
    args.push('--formatter-property', 'print.partition=true', '--formatter-property', 'print.offset=true')
  }
  const runTimeoutMs = opts.runTimeoutMs ?? (opts.timeoutMs ?? 20_000) + 30_000
  const r = await runJava(args, { timeoutMs: runTimeoutMs, label: 'java-console-consumer' })
  if (r.timedOut)
    throw new HarnessError(
      `Java console consumer of ${topic} was still reading after ${runTimeoutMs} ms (${r.stdout.split('\n').length - 1} lines so far)`
    )
  // The console consumer exits non-zero on its timeout; what it printed is still the answer.
  if (r.code !== 0 && r.stdout === '') expectSuccess('Java console consumer', r)
  return r.stdout.split('\n').filter(l => l !== '')
}

/** Runs a single-file Java program (Java 11+ source launch) against the Kafka jars. */
export async function runJavaProgram(
  sourceFile: string,
  args: readonly string[],
  opts: { timeoutMs?: number } = {}
): Promise<JavaResult> {
  return expectSuccess(
    `Java program ${sourceFile}`,
    await runJava([sourceFile, ...args], { timeoutMs: opts.timeoutMs ?? 120_000, label: 'java-program' })
  )
}

/**
 * Starts a single-file Java program that keeps running (`runJavaProgram` waits for the end);
 * resolves once it printed `ready` on a line of its stdout. Stop it with `.stop()` or `.kill()`.
 */
export async function startJavaProgram(
  sourceFile: string,
  args: readonly string[],
  ready: string,
  opts: { timeoutMs?: number } = {}
): Promise<TrackedProcess> {
  const proc = spawnTracked('java-program', javaBinary(), [...baseArgs(), sourceFile, ...args], {
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  proc.child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new HarnessError(`${sourceFile} did not print ${ready} in time:\n${stderr.slice(-2000)}`))
      }, opts.timeoutMs ?? 120_000)
      proc.child.stdout?.on('data', (d: Buffer) => {
        stdout += d.toString()
        if (stdout.split('\n').includes(ready)) {
          clearTimeout(timer)
          resolve()
        }
      })
      void proc.exited.then(code => {
        clearTimeout(timer)
        reject(new HarnessError(`${sourceFile} exited (${code}) before printing ${ready}:\n${stderr.slice(-2000)}`))
      })
    })
  } catch (err) {
    await proc.kill()
    throw err
  }
  return proc
}

/** Starts Java MirrorMaker 2 in dedicated mode on an mm2.properties file. Stop it with `.stop()`. */
export function startJavaMirrorMaker(
  propertiesFile: string,
  opts: { clusters?: readonly string[]; logFile?: string } = {}
): TrackedProcess {
  const libs = ensureKafkaJars()
  const log4j = log4jFile(libs, 'log4j2-mm2.yaml', QUIET_LOG4J.replace('level: WARN', 'level: INFO'))
  const args = [
    ...baseArgs(512, log4j).filter(a => a !== '-XX:TieredStopAtLevel=1'),
    'org.apache.kafka.connect.mirror.MirrorMaker',
    propertiesFile
  ]
  if (opts.clusters !== undefined) args.push('--clusters', ...opts.clusters)
  return spawnTracked('java-mm2', javaBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] })
}

/** Java MirrorMaker 2 with its log kept in memory, as the tests that run it next to kafka-mirror use it. */
export interface LoggedJavaMirrorMaker {
  readonly proc: TrackedProcess
  /** Its stdout and stderr so far (the last 2-4 MB of a long run). */
  readonly log: () => string
}

/**
 * `startJavaMirrorMaker` with its INFO log kept, for assertions on what Java logged and for the
 * tail a failed wait shows; stopped (SIGTERM, 30 s grace) when the test ends. Both pipes are
 * drained whatever the test reads, or the JVM blocks once a pipe buffer fills.
 */
export function startLoggedJavaMirrorMaker(t: Cleanups, propertiesFile: string): LoggedJavaMirrorMaker {
  const proc = startJavaMirrorMaker(propertiesFile)
  let text = ''
  const add = (d: Buffer): void => {
    text += d.toString()
    if (text.length > 4_000_000) text = text.slice(-2_000_000)
  }
  proc.child.stdout?.on('data', add)
  proc.child.stderr?.on('data', add)
  t.after(async () => {
    await proc.stop(30_000)
  })
  return { proc, log: () => text }
}

/**
 * Sets broker quotas for one client id (given key names instead, removes them), e.g. `{ producer_byte_rate:
 * '1048576' }`: a slow link or a throttled tenant, made with Kafka's own ConfigCommand.
 */
export async function setClientQuota(
  bootstrap: string,
  clientId: string,
  quotas: Readonly<Record<string, string>> | readonly string[]
): Promise<void> {
  const op = Array.isArray(quotas)
    ? ['--delete-config', quotas.join(',')]
    : [
        '--add-config',
        Object.entries(quotas)
          .map(([k, v]) => `${k}=${v}`)
          .join(',')
      ]
  const r = await runJava(
    [
      'kafka.admin.ConfigCommand',
      '--bootstrap-server',
      bootstrap,
      '--alter',
      ...op,
      '--entity-type',
      'clients',
      '--entity-name',
      clientId
    ],
    { label: 'java-config-command' }
  )
  if (r.code !== 0) throw new HarnessError(`setting quotas for ${clientId}: ${r.stderr}`)
}

/** One record batch of a partition's log, as Kafka's DumpLogSegments prints it (with `--print-data-log`). */
export interface DumpedBatch {
  readonly baseOffset: bigint
  readonly lastOffset: bigint
  readonly producerId: bigint
  readonly producerEpoch: number
  readonly transactional: boolean
  readonly control: boolean
  /** A control batch's marker. */
  readonly marker: 'COMMIT' | 'ABORT' | undefined
  /** A data batch's records: key and payload as DumpLogSegments prints them (text). */
  readonly records: ReadonlyArray<{ readonly offset: bigint; readonly key: string; readonly payload: string }>
}

/**
 * Every batch in the log segments of the given partitions (`<topic>-<partition>`, as the broker
 * names their folders) on a harness cluster, by partition, read from the broker's data folder by
 * Kafka's own DumpLogSegments in one run: what the log holds, told by the broker's code and not by
 * our reader (transactional bit, producer, markers, record keys).
 */
export async function dumpLogBatches(
  cluster: { readonly dir: string },
  partitions: readonly string[]
): Promise<Map<string, DumpedBatch[]>> {
  const out = new Map<string, Array<DumpedBatch & { records: Array<DumpedBatch['records'][number]> }>>()
  const owner = new Map<string, string>()
  for (const name of partitions) {
    out.set(name, [])
    const dir = join(cluster.dir, 'data', name)
    for (const f of readdirSync(dir).filter(x => x.endsWith('.log'))) owner.set(join(dir, f), name)
  }
  if (owner.size === 0) return out
  const dump = expectSuccess(
    'DumpLogSegments',
    await runJava(
      ['org.apache.kafka.tools.DumpLogSegments', '--print-data-log', '--files', [...owner.keys()].join(',')],
      {
        label: 'java-dump-log',
        timeoutMs: 180_000
      }
    )
  )
  let batches: Array<DumpedBatch & { records: Array<DumpedBatch['records'][number]> }> | undefined
  for (const line of dump.stdout.split('\n')) {
    const file = /^Dumping (.*)$/.exec(line)?.[1]
    if (file !== undefined) {
      batches = out.get(owner.get(file) ?? '')
      continue
    }
    if (batches === undefined) continue
    const batch =
      /^baseOffset: (\d+) lastOffset: (\d+) .*?producerId: (-?\d+) producerEpoch: (-?\d+) .*?isTransactional: (\w+) isControl: (\w+)/.exec(
        line
      )
    if (batch !== null) {
      batches.push({
        baseOffset: BigInt(batch[1] ?? '0'),
        lastOffset: BigInt(batch[2] ?? '0'),
        producerId: BigInt(batch[3] ?? '-1'),
        producerEpoch: Number(batch[4]),
        transactional: batch[5] === 'true',
        control: batch[6] === 'true',
        marker: undefined,
        records: []
      })
      continue
    }
    const current = batches.at(-1)
    if (current === undefined || !line.startsWith('| offset: ')) continue
    const offset = BigInt(/^\| offset: (\d+)/.exec(line)?.[1] ?? '0')
    const marker = /endTxnMarker: (COMMIT|ABORT)/.exec(line)?.[1]
    if (marker !== undefined) {
      batches[batches.length - 1] = { ...current, marker: marker as 'COMMIT' | 'ABORT' }
      continue
    }
    const data = / key: (.*?) payload: (.*)$/.exec(line)
    current.records.push({ offset, key: data?.[1] ?? '', payload: data?.[2] ?? '' })
  }
  return out
}

/** A transactional id as Kafka's TransactionsCommand `list` shows it. */
export interface ListedTransaction {
  readonly transactionalId: string
  readonly producerId: string
  readonly state: string
}

/** The transactional ids the cluster's coordinators know (`kafka-transactions.sh list`). */
export async function listTransactions(bootstrap: string): Promise<ListedTransaction[]> {
  const r = expectSuccess(
    'kafka-transactions list',
    await runJava(['org.apache.kafka.tools.TransactionsCommand', '--bootstrap-server', bootstrap, 'list'], {
      label: 'java-transactions'
    })
  )
  // A header line (TransactionalId Coordinator ProducerId TransactionState), then one row per id.
  return r.stdout
    .split('\n')
    .map(l => l.trim().split(/\s+/))
    .filter(cols => cols.length >= 4 && cols[0] !== 'TransactionalId')
    .map(cols => ({ transactionalId: cols[0] ?? '', producerId: cols[2] ?? '', state: cols[3] ?? '' }))
}
