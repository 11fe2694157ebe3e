/**
 * A real, single-node Apache Kafka cluster (KRaft, broker and controller in one JVM) on loopback,
 * started from the jars in the harness cache. Each cluster has its own free ports, data folder
 * and log file, and a small heap so three fit on a 2-core, small-memory machine.
 *
 * Listeners are an option: the default is one PLAINTEXT listener; secure listeners (SSL,
 * SASL_SSL, ...) are added by passing their specs and the broker keys they need.
 */
import { randomBytes } from 'node:crypto'
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HarnessError } from './errors.ts'
import { ensureKafkaJars, javaBinary, requireJava } from '../../scripts/kafka-jars.ts'
import { canConnect, freePort } from './ports.ts'
import { spawnTracked, type TrackedProcess } from './processes.ts'

export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL'

export interface ListenerSpec {
  /** Listener name, e.g. `PLAINTEXT`, `EXTERNAL`, `SCRAM`. Upper case. */
  readonly name: string
  readonly protocol: SecurityProtocol
}

export interface ClusterOptions {
  /** A label for logs and messages, e.g. `source`. */
  readonly name: string
  /** Client listeners; the first is the one `bootstrap` points at. Default: one PLAINTEXT listener. */
  readonly listeners?: readonly ListenerSpec[]
  /** Extra broker keys (listener.name.x.ssl.keystore.location, authorizer.class.name, ...). */
  readonly brokerConfig?: Readonly<Record<string, string>>
  /** JVM heap in MB (default 384). */
  readonly heapMb?: number
  /** Give up waiting for the broker after this long (default 60 s). */
  readonly startTimeoutMs?: number
  /** Extra JVM arguments (e.g. -Djava.security.auth.login.config=...). */
  readonly jvmArgs?: readonly string[]
  /** Extra arguments to `kafka-storage format` (e.g. `--add-scram SCRAM-SHA-512=[name=u,password=p]`). */
  readonly formatArgs?: readonly string[]
}

const LOG4J2_CONFIG = `Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.request.logger
        level: WARN
      - name: org.apache.kafka.controller
        level: WARN
      - name: kafka.log
        level: WARN
      - name: org.apache.kafka.storage
        level: WARN
`

let runDir: string | undefined
function harnessRunDir(): string {
  runDir ??= join(
    process.env.KAFKA_MIRROR_HARNESS_DIR ?? join(tmpdir(), 'kafka-mirror-harness'),
    `${process.pid}-${Date.now()}`
  )
  mkdirSync(runDir, { recursive: true })
  return runDir
}

/** A Kafka cluster id: 16 random bytes, base64url without padding, as `kafka-storage random-uuid` prints. */
/** Like Kafka's Uuid.randomUuid: an id starting with '-' would read as an option to the format tool. */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

export class KafkaCluster {
  readonly name: string
  readonly dir: string
  readonly logFile: string
  readonly listeners: ReadonlyArray<ListenerSpec & { readonly port: number }>
  readonly controllerPort: number
  /** Milliseconds from spawn to "accepting requests", for the figures in notes. */
  startMs = 0
  #process: TrackedProcess | undefined
  readonly #options: ClusterOptions

  private constructor(
    options: ClusterOptions,
    dir: string,
    listeners: Array<ListenerSpec & { port: number }>,
    controllerPort: number
  ) {
    this.name = options.name
    this.#options = options
    this.dir = dir
    this.logFile = join(dir, 'server.log')
    this.listeners = listeners
    this.controllerPort = controllerPort
  }

  /** Formats storage, starts the JVM and waits until the broker serves requests. */
  static async start(options: ClusterOptions): Promise<KafkaCluster> {
    const specs = options.listeners ?? [{ name: 'PLAINTEXT', protocol: 'PLAINTEXT' }]
    const listeners = await Promise.all(specs.map(async l => ({ ...l, port: await freePort() })))
    const controllerPort = await freePort()
    const dir = join(harnessRunDir(), `${options.name}-${randomBytes(3).toString('hex')}`)
    mkdirSync(dir, { recursive: true })
    const cluster = new KafkaCluster(options, dir, listeners, controllerPort)
    await cluster.#boot()
    return cluster
  }

  /** `127.0.0.1:port` of the named listener (default: the first). */
  bootstrap(listenerName?: string): string {
    const listener = listenerName === undefined ? this.listeners[0] : this.listeners.find(l => l.name === listenerName)
    if (listener === undefined)
      throw new HarnessError(`cluster ${this.name} has no listener ${listenerName ?? '(none)'}`)
    return `127.0.0.1:${listener.port}`
  }

  get running(): boolean {
    return this.#process !== undefined
  }

  async #boot(): Promise<void> {
    const libs = ensureKafkaJars()
    requireJava()
    const propsFile = join(this.dir, 'server.properties')
    const log4jFile = join(this.dir, 'log4j2.yaml')
    if (!existsSync(propsFile)) {
      writeFileSync(propsFile, this.#serverProperties())
      writeFileSync(log4jFile, LOG4J2_CONFIG)
      const format = spawnTracked(
        `${this.name}-format`,
        javaBinary(),
        [
          '-Xmx256m',
          ...this.#commonJvmArgs(libs, log4jFile),
          'kafka.tools.StorageTool',
          'format',
          '-t',
          newClusterId(),
          '-c',
          propsFile,
          '--ignore-formatted',
          ...(this.#options.formatArgs ?? [])
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] }
      )
      let output = ''
      format.child.stdout?.on('data', (d: Buffer) => {
        output += d.toString()
      })
      format.child.stderr?.on('data', (d: Buffer) => {
        output += d.toString()
      })
      const code = await format.exited
      if (code !== 0)
        throw new HarnessError(
          `formatting storage for cluster ${this.name} failed (exit ${code}):\n${tail(output, 30)}`
        )
    }
    await this.#launch(libs, propsFile, log4jFile)
  }

  #commonJvmArgs(libs: string, log4jFile: string): string[] {
    return ['-cp', join(libs, '*'), `-Dlog4j2.configurationFile=${log4jFile}`, '-Djava.awt.headless=true']
  }

  async #launch(libs: string, propsFile: string, log4jFile: string): Promise<void> {
    const heap = this.#options.heapMb ?? 384
    const started = Date.now()
    const logStream = createWriteStream(this.logFile, { flags: 'a' })
    const proc = spawnTracked(
      `kafka-${this.name}`,
      javaBinary(),
      [
        `-Xms${Math.min(128, heap)}m`,
        `-Xmx${heap}m`,
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        ...this.#commonJvmArgs(libs, log4jFile),
        ...(this.#options.jvmArgs ?? []),
        'kafka.Kafka',
        propsFile
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] }
    )
    proc.child.stdout?.pipe(logStream)
    proc.child.stderr?.pipe(logStream)
    this.#process = proc
    const deadline = started + (this.#options.startTimeoutMs ?? 60_000)
    let exitedWith: number | string | undefined
    void proc.exited.then(code => {
      exitedWith = code
    })
    const first = this.listeners[0]
    if (first === undefined) throw new HarnessError(`cluster ${this.name} has no listener`)
    while (true) {
      if (exitedWith !== undefined) {
        this.#process = undefined
        throw new HarnessError(
          `Kafka cluster ${this.name} exited during start (exit ${exitedWith}); last lines of ${this.logFile}:\n${this.logTail()}`
        )
      }
      if (this.#logSaysStarted() && (await canConnect('127.0.0.1', first.port))) break
      if (Date.now() > deadline) {
        await proc.kill()
        this.#process = undefined
        throw new HarnessError(
          `Kafka cluster ${this.name} did not start within ${Math.round((deadline - started) / 1000)} s; last lines of ${this.logFile}:\n${this.logTail()}`
        )
      }
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    this.startMs = Date.now() - started
  }

  #logSaysStarted(): boolean {
    if (!existsSync(this.logFile)) return false
    return readFileSync(this.logFile, 'utf8').includes('Kafka Server started')
  }

  #serverProperties(): string {
    const listenerMap = [...this.listeners.map(l => `${l.name}:${l.protocol}`), 'CONTROLLER:PLAINTEXT']
    const props: Record<string, string> = {
      'process.roles': 'broker,controller',
      'node.id': '1',
      'controller.quorum.voters': `1@127.0.0.1:${this.controllerPort}`,
      listeners: [
        ...this.listeners.map(l => `${l.name}://127.0.0.1:${l.port}`),
        `CONTROLLER://127.0.0.1:${this.controllerPort}`
      ].join(','),
      'advertised.listeners': this.listeners.map(l => `${l.name}://127.0.0.1:${l.port}`).join(','),
      'listener.security.protocol.map': listenerMap.join(','),
      'controller.listener.names': 'CONTROLLER',
      'inter.broker.listener.name': this.listeners[0]?.name ?? 'PLAINTEXT',
      'log.dirs': join(this.dir, 'data'),
      'num.partitions': '1',
      'default.replication.factor': '1',
      'auto.create.topics.enable': 'false',
      'offsets.topic.replication.factor': '1',
      'offsets.topic.num.partitions': '5',
      'transaction.state.log.replication.factor': '1',
      'transaction.state.log.min.isr': '1',
      'transaction.state.log.num.partitions': '5',
      'share.coordinator.state.topic.replication.factor': '1',
      'group.initial.rebalance.delay.ms': '0',
      'log.retention.check.interval.ms': '2000',
      'log.segment.delete.delay.ms': '0',
      'num.network.threads': '2',
      'num.io.threads': '4',
      ...this.#options.brokerConfig
    }
    return (
      Object.entries(props)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n') + '\n'
    )
  }

  /** The last lines of the broker log, for error messages. */
  logTail(lines = 40): string {
    if (!existsSync(this.logFile)) return '(no log written)'
    return tail(readFileSync(this.logFile, 'utf8'), lines)
  }

  /** Stops the broker gracefully (SIGTERM, then SIGKILL after the grace period). */
  async stop(): Promise<void> {
    const proc = this.#process
    this.#process = undefined
    await proc?.stop(15_000)
  }

  /** Kills the broker JVM at once, as a crash would. */
  async kill(): Promise<void> {
    const proc = this.#process
    this.#process = undefined
    await proc?.kill()
  }

  /** Starts the broker again on the same ports and data (after stop or kill). */
  async restart(): Promise<void> {
    if (this.#process !== undefined) return
    const libs = ensureKafkaJars()
    await this.#launch(libs, join(this.dir, 'server.properties'), join(this.dir, 'log4j2.yaml'))
  }

  /** Stops the broker and deletes its data (logs are kept when KAFKA_MIRROR_KEEP_LOGS is set). */
  async close(): Promise<void> {
    await this.stop()
    if (process.env.KAFKA_MIRROR_KEEP_LOGS === undefined) rmSync(this.dir, { recursive: true, force: true })
  }
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n')
}

/** Starts several independent clusters in parallel; if one fails, the others are stopped too. */
export async function startClusters(options: readonly ClusterOptions[]): Promise<KafkaCluster[]> {
  const results = await Promise.allSettled(options.map(async o => await KafkaCluster.start(o)))
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failures.length > 0) {
    await Promise.all(
      results.map(async r => {
        if (r.status === 'fulfilled') await r.value.close()
      })
    )
    throw failures[0]?.reason
  }
  return results.map(r => (r as PromiseFulfilledResult<KafkaCluster>).value)
}
