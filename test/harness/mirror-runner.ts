/**
 * Runs kafka-mirror inside the test process, from an mm2.properties file, closed when the test
 * ends; and the one logger the tests give it (quiet unless KM_TEST_LOG is set, its lines kept
 * for assertions when asked).
 */
import { loadConfig } from '../../src/config/load.ts'
import { buildMirror, type Mirror } from '../../src/mirror.ts'
import { createLogger, type Level, type Logger } from '../../src/observe/logger.ts'
import type { KafkaCluster } from './cluster.ts'
import { writeMm2Properties } from './mirror-config.ts'

export interface TestLoggerOptions {
  /** Every line logged is pushed here, for the test to search. */
  readonly lines?: string[]
  /** The threshold (default: KAFKA_MIRROR_LOG_LEVEL, else info). */
  readonly level?: Level
}

/** The mirror's log: kept in `lines` when given, printed to stderr when KM_TEST_LOG is set. */
export function testLogger(opts: TestLoggerOptions = {}): Logger {
  return createLogger(
    'kafka-mirror',
    line => {
      opts.lines?.push(line)
      if (process.env.KM_TEST_LOG !== undefined) process.stderr.write(line + '\n')
    },
    opts.level
  )
}

/** A test (or suite) that can register a cleanup. */
export interface Cleanups {
  after: (fn: () => Promise<void>) => void
}

export async function startMirror(t: Cleanups, file: string, log: Logger = testLogger()): Promise<Mirror> {
  const mirror = buildMirror((await loadConfig(file)).config, log)
  t.after(async () => {
    await mirror.close()
  })
  mirror.start()
  return mirror
}

/**
 * A mirror copying A->B the topics `topicsRegex` selects, positions stored every 500 ms (so a
 * test waiting for them does not wait Connect's default minute); B->A stays off by default.
 */
export async function startCopyMirror(
  t: Cleanups,
  clusters: { A: KafkaCluster; B: KafkaCluster },
  topicsRegex: string,
  opts: { extra?: Readonly<Record<string, string>>; log?: Logger } = {}
): Promise<Mirror> {
  const file = writeMm2Properties(clusters, {
    'A->B.enabled': 'true',
    'A->B.topics': topicsRegex,
    'B.offset.flush.interval.ms': '500',
    ...opts.extra
  })
  return await startMirror(t, file, opts.log)
}
