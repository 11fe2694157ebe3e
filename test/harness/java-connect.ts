/**
 * A Kafka Connect distributed worker (the runtime a Strimzi KafkaMirrorMaker2 deployment runs),
 * started from the harness jars with the worker keys Strimzi writes, and a small client for its
 * REST API. Tests use it to check that state kafka-mirror writes from a Strimzi resource is the
 * state a Strimzi-run Connect cluster reads.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureKafkaJars, javaBinary } from '../../scripts/kafka-jars.ts'
import { HarnessError } from './errors.ts'
import { freePort } from './ports.ts'
import { spawnTracked, type TrackedProcess } from './processes.ts'

export interface JavaConnect {
  readonly url: string
  readonly process: TrackedProcess
  /** REST call; returns the parsed JSON body (undefined for an empty body). Throws on HTTP >= 400. */
  rest(method: string, path: string, body?: unknown): Promise<unknown>
  stop(): Promise<void>
}

/**
 * Starts a distributed worker on `bootstrap` with Strimzi's defaults for the group and the three
 * internal topics (as Strimzi names them), each overridable through `worker`.
 */
export async function startJavaConnect(
  bootstrap: string,
  worker: Readonly<Record<string, string>> = {},
  opts: { timeoutMs?: number } = {}
): Promise<JavaConnect> {
  const libs = ensureKafkaJars()
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'km-connect-'))
  const props: Record<string, string> = {
    'bootstrap.servers': bootstrap,
    'group.id': 'mirrormaker2-cluster',
    'config.storage.topic': 'mirrormaker2-cluster-configs',
    'offset.storage.topic': 'mirrormaker2-cluster-offsets',
    'status.storage.topic': 'mirrormaker2-cluster-status',
    'config.storage.replication.factor': '1',
    'offset.storage.replication.factor': '1',
    'status.storage.replication.factor': '1',
    'key.converter': 'org.apache.kafka.connect.converters.ByteArrayConverter',
    'value.converter': 'org.apache.kafka.connect.converters.ByteArrayConverter',
    'header.converter': 'org.apache.kafka.connect.converters.ByteArrayConverter',
    listeners: `http://127.0.0.1:${port}`,
    'offset.flush.interval.ms': '1000',
    'plugin.discovery': 'only_scan',
    ...worker
  }
  const propsFile = join(dir, 'connect.properties')
  writeFileSync(
    propsFile,
    Object.entries(props)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') + '\n'
  )
  const log4j = join(dir, 'log4j2.yaml')
  writeFileSync(
    log4j,
    'Configuration:\n  Appenders:\n    Console:\n      name: STDERR\n      target: SYSTEM_ERR\n      PatternLayout:\n        pattern: "[%d] %p %m (%c)%n"\n  Loggers:\n    Root:\n      level: WARN\n      AppenderRef:\n        - ref: STDERR\n'
  )
  const proc = spawnTracked(
    'java-connect',
    javaBinary(),
    [
      '-Xmx384m',
      '-cp',
      join(libs, '*'),
      `-Dlog4j2.configurationFile=${log4j}`,
      'org.apache.kafka.connect.cli.ConnectDistributed',
      propsFile
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] }
  )
  let output = ''
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-20_000)
  }
  proc.child.stdout?.on('data', keep)
  proc.child.stderr?.on('data', keep)
  const url = `http://127.0.0.1:${port}`
  const rest = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(url + path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    const text = await res.text()
    if (res.status >= 400) throw new HarnessError(`Connect ${method} ${path}: HTTP ${res.status} ${text}`)
    return text === '' ? undefined : JSON.parse(text)
  }
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000)
  let exited: number | string | undefined
  void proc.exited.then(code => {
    exited = code
  })
  while (true) {
    if (exited !== undefined)
      throw new HarnessError(
        `Kafka Connect exited during start (exit ${exited}):\n${output.split('\n').slice(-30).join('\n')}`
      )
    // The REST server answers before the worker has joined its group; /connectors needs both.
    if (
      await rest('GET', '/connectors').then(
        () => true,
        () => false
      )
    )
      break
    if (Date.now() > deadline) {
      await proc.kill()
      throw new HarnessError(
        `Kafka Connect did not start within ${opts.timeoutMs ?? 120_000} ms:\n${output.split('\n').slice(-30).join('\n')}`
      )
    }
    await new Promise(resolve => setTimeout(resolve, 500))
  }
  return {
    url,
    process: proc,
    rest,
    stop: async () => {
      await proc.stop(20_000)
    }
  }
}
