/**
 * Where the Apache Kafka jars live and how to get them. The jars come from Maven Central through
 * kafka/pom.xml into a cache outside git, one folder per Kafka version, so a fresh clone fetches
 * them once and every later run (tests, demo, benchmarks) reuses them.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const pomPath = join(repoRoot, 'kafka', 'pom.xml')

export function kafkaVersion(): string {
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(pomPath, 'utf8'))
  if (match?.[1] === undefined) throw new Error(`${pomPath}: no <kafka.version> property`)
  return match[1]
}

export function cacheRoot(): string {
  return process.env.KAFKA_MIRROR_CACHE ?? join(homedir(), '.cache', 'kafka-mirror')
}

/** Folder holding every jar of the pinned Kafka version (broker, tools, connect-mirror). */
export function kafkaLibsDir(): string {
  return join(cacheRoot(), `kafka-${kafkaVersion()}`, 'libs')
}

export function javaBinary(): string {
  return process.env.JAVA_HOME !== undefined ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java'
}

/** Throws a message a person can act on when a required command is missing. */
export function requireCommand(command: string, args: string[], what: string, hint = ''): void {
  const result = spawnSync(command, args, { stdio: 'ignore' })
  if (result.error !== undefined || result.status !== 0) {
    throw new Error(
      `${what} is required but \`${command} ${args.join(' ')}\` did not run (${result.error?.message ?? `exit ${result.status}`}). Install it and make sure it is on PATH${hint}.`
    )
  }
}

export function requireJava(): void {
  requireCommand(javaBinary(), ['-version'], 'Java 17 or newer', ' (or set JAVA_HOME)')
}

/** Downloads the jars unless the cache already has them; returns the libs folder. */
export function ensureKafkaJars(log: (line: string) => void = () => {}): string {
  const libs = kafkaLibsDir()
  const marker = join(libs, '.complete')
  if (existsSync(marker)) return libs
  requireJava()
  requireCommand('mvn', ['-v'], 'Apache Maven')
  log(`fetching Apache Kafka ${kafkaVersion()} jars from Maven Central into ${libs}`)
  const staging = `${libs}.partial-${process.pid}`
  rmSync(staging, { recursive: true, force: true })
  mkdirSync(dirname(libs), { recursive: true })
  execFileSync(
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      pomPath,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${staging}`,
      '-DincludeScope=runtime'
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] }
  )
  if (!readdirSync(staging).some(f => f.startsWith('kafka_2.13-'))) {
    throw new Error(`Maven finished but ${staging} holds no kafka_2.13 jar`)
  }
  rmSync(libs, { recursive: true, force: true })
  renameSync(staging, libs)
  writeFileSync(marker, new Date().toISOString())
  return libs
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const libs = ensureKafkaJars(line => console.log(line))
    console.log(`Kafka ${kafkaVersion()} jars ready in ${libs}`)
  } catch (err) {
    console.error(`kafka-jars: ${(err as Error).message}`)
    process.exit(1)
  }
}
