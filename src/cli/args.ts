/**
 * Command-line parsing and help text, kept together so they cannot drift apart.
 */
import { parseArgs } from 'node:util'
import { UsageError } from '../errors.ts'
import { LOG_FORMATS, type LogFormat } from '../observe/logger.ts'

export const HELP = `kafka-mirror - Kafka MirrorMaker 2, re-implemented in TypeScript

Usage:
  kafka-mirror run --config FILE [--secrets-dir DIR] [--clusters ALIAS...] [--metrics-port PORT] [--log-format text|json]
  kafka-mirror validate --config FILE [--secrets-dir DIR] [--offline]
  kafka-mirror topology --config FILE [--secrets-dir DIR] [--json]
  kafka-mirror status --config FILE [--clusters ALIAS...] [--json]
  kafka-mirror offsets translate --config FILE --group G --from A --to B [--json]
  kafka-mirror failover --config FILE --group G --from A --to B [--dry-run]
  kafka-mirror verify --config FILE --flow A->B [--topics REGEX] [--json]
  kafka-mirror bench --config FILE --flow A->B [--records N] [--size BYTES] [--partitions P]
                     [--rate R --duration S] [--compression C] [--json]
  kafka-mirror --help | --version

Commands:
  run        Replicate every enabled flow until SIGINT/SIGTERM (then flush, store positions, exit 0).
  validate   Load the config and print the plan: clusters, flows, and for each flow the source
             topics that match now with their remote names (--offline: do not connect).
  topology   The replication graph seen from the heartbeats topics of every cluster: which
             clusters feed which, hops per upstream cluster, age of the newest heartbeats.
  status     For each group the config's instances share their work in (one per target and
             worker group id, e.g. <source>-mm2): state, generation, the instances in it and
             the units each runs (partitions as ranges, quiet and revoked ones marked, copier
             tasks per flow), read with DescribeGroups without joining. Says so when no
             instance runs a group, or when Kafka Connect (Java MM2) holds it. Exit 1 when a
             cluster cannot be reached.
  offsets translate
             Print where consumer group G of cluster A resumes on cluster B, per partition:
             translated now from the offset syncs and G's committed offsets on A (exact where
             the syncs prove the mapping), with the latest checkpoint for comparison.
  failover   Commit those translated offsets into group G on B (only moving it forward).
             Refuses (exit 1) while G has active members on B. --dry-run: only print.
  verify     Compare every topic partition flow A->B copies, record by record (key, value,
             headers, timestamp), and check its offset syncs: per partition the source and
             target ranges, records copied, missing, extra, differing, duplicates and pending.
             Exit 1 on any difference. Reads only; the mirror may keep running.
  bench      Measure flow A->B between your clusters: a scratch topic on A (deleted after,
             also on Ctrl-C), synthetic records copied by the same engine as run, and on B the
             throughput, end-to-end latency (p50/p95/p99/max), CPU-seconds and peak memory.
             Values are JSON-like text. Defaults: 100000 records of 1000 B, 6 partitions,
             flat out, no compression.

Options:
  --config FILE       mm2.properties (Java MM2 dedicated mode) or a Strimzi KafkaMirrorMaker2 YAML
  --secrets-dir DIR   Kubernetes-style secrets: DIR/<secretName>/<key> (default: $KAFKA_MIRROR_SECRETS_DIR)
  --clusters ALIAS    Only run flows whose target is one of these aliases (repeatable or comma-separated);
                      status: only the groups on these clusters
  --metrics-port PORT run: the HTTP port of /metrics, /healthz, /readyz, /status and the status
                      page (default 9404, Strimzi's exporter port; 0 = no HTTP server)
  --log-format FORMAT Logs on stderr as text (default) or json: one object per line with level, time,
                      scope, message and fields (default: $KAFKA_MIRROR_LOG_FORMAT, else text)
  --offline           validate without connecting to any cluster
  --flow A->B         verify: the flow to compare
  --topics REGEX      verify: only source topics matching REGEX (whole name)
  --records N, --size BYTES, --partitions P, --rate R, --duration S, --compression C
                      bench: how many records of what size in how many partitions; --rate with
                      --duration: R records/s for S seconds instead of N flat out;
                      C: none, gzip, snappy, lz4 or zstd (on the source's records)
  --json              topology, status, offsets translate, verify, bench: print JSON instead of text
  --group G           consumer group id (offsets translate, failover)
  --from A, --to B    the flow's source and target cluster aliases (offsets translate, failover)
  --dry-run           failover: print what would be committed, write nothing
  --debug             Print stack traces of errors

Exit codes: 0 ok, 1 runtime failure, 2 bad arguments or config.
Environment: KAFKA_MIRROR_LOG_LEVEL=debug|info|warn|error; KAFKA_MIRROR_LOG_FORMAT=text|json; KAFKA_MIRROR_HEAP_MB=256 (old-space limit of run, 0 = V8 default); KAFKA_MIRROR_HEAP_GROWTH_PERCENT (fewer collections for more memory)
Signals (run): SIGINT/SIGTERM stop; SIGUSR2 toggles debug logging (and back to the start level).
`

export interface CliArgs {
  readonly command:
    | 'run'
    | 'validate'
    | 'topology'
    | 'status'
    | 'help'
    | 'version'
    | 'offsets-translate'
    | 'failover'
    | 'verify'
    | 'bench'
  readonly config: string | undefined
  readonly secretsDir: string | undefined
  readonly clusters: readonly string[]
  readonly offline: boolean
  readonly debug: boolean
  readonly json: boolean
  /** offsets translate / failover */
  readonly group?: string | undefined
  readonly from?: string | undefined
  readonly to?: string | undefined
  readonly dryRun?: boolean
  /** verify, bench */
  readonly flow?: string | undefined
  /** bench */
  readonly bench?: {
    readonly records: number
    readonly size: number
    readonly partitions: number
    readonly rate: number | undefined
    readonly durationS: number | undefined
    readonly compression: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
  }
  readonly topics?: string | undefined
  /** run: the observability HTTP port, 0 = off */
  readonly metricsPort: number
  readonly logFormat: LogFormat
}

export function parseCli(argv: readonly string[]): CliArgs {
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        'secrets-dir': { type: 'string' },
        clusters: { type: 'string', multiple: true },
        offline: { type: 'boolean', default: false },
        debug: { type: 'boolean', default: false },
        group: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        json: { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        flow: { type: 'string' },
        topics: { type: 'string' },
        records: { type: 'string' },
        size: { type: 'string' },
        partitions: { type: 'string' },
        rate: { type: 'string' },
        duration: { type: 'string' },
        compression: { type: 'string' },
        'metrics-port': { type: 'string' },
        'log-format': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'v', default: false }
      }
    })
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\nRun \`kafka-mirror --help\` for usage.`)
  }
  const { values, positionals } = parsed
  const base = {
    config: values.config,
    secretsDir: values['secrets-dir'] ?? process.env.KAFKA_MIRROR_SECRETS_DIR,
    clusters: (values.clusters ?? [])
      .flatMap(c => c.split(','))
      .map(c => c.trim())
      .filter(c => c !== ''),
    offline: values.offline === true,
    debug: values.debug === true,
    json: values.json === true,
    metricsPort: metricsPort(values['metrics-port']),
    logFormat: logFormat(values['log-format'])
  }
  if (values.help === true) return { ...base, command: 'help' }
  if (values.version === true) return { ...base, command: 'version' }
  const [command, ...rest] = positionals
  // MM2's own form: `connect-mirror-maker.sh mm2.properties --clusters B`
  if (command === undefined)
    throw new UsageError(
      'missing command: run, validate, topology, status, offsets translate, failover, verify or bench. Run `kafka-mirror --help` for usage.'
    )
  if (command === 'offsets' || command === 'failover') return groupCommand(command, rest, base, values)
  if (command === 'verify') {
    if (rest.length > 0)
      throw new UsageError(`unexpected argument "${rest[0]}". Run \`kafka-mirror --help\` for usage.`)
    if (base.config === undefined) throw new UsageError('verify: --config FILE is required')
    if (values.flow === undefined || values.flow === '') throw new UsageError('verify: --flow A->B is required')
    return { ...base, command, flow: values.flow, topics: values.topics }
  }
  if (command === 'bench') {
    if (rest.length > 0)
      throw new UsageError(`unexpected argument "${rest[0]}". Run \`kafka-mirror --help\` for usage.`)
    if (base.config === undefined) throw new UsageError('bench: --config FILE is required')
    if (values.flow === undefined || values.flow === '') throw new UsageError('bench: --flow A->B is required')
    return { ...base, command, flow: values.flow, bench: benchOptions(values) }
  }
  if (command !== 'run' && command !== 'validate' && command !== 'topology' && command !== 'status')
    throw new UsageError(
      `unknown command "${command}": expected run, validate, topology, status, offsets translate, failover, verify or bench. Run \`kafka-mirror --help\` for usage.`
    )
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}". Run \`kafka-mirror --help\` for usage.`)
  if (base.config === undefined) throw new UsageError(`${command}: --config FILE is required`)
  return { ...base, command }
}

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const

function benchOptions(values: {
  records?: string
  size?: string
  partitions?: string
  rate?: string
  duration?: string
  compression?: string
}): NonNullable<CliArgs['bench']> {
  const whole = (
    flag: string,
    value: string | undefined,
    fallback: number | undefined,
    min: number,
    max: number
  ): number | undefined => {
    if (value === undefined) return fallback
    const n = /^\d+$/.test(value) ? Number(value) : NaN
    if (!(n >= min && n <= max))
      throw new UsageError(`bench: --${flag}: expected a whole number from ${min} to ${max}, got "${value}"`)
    return n
  }
  const rate = whole('rate', values.rate, undefined, 1, 10_000_000)
  const durationS = whole('duration', values.duration, undefined, 1, 86_400)
  if ((rate === undefined) !== (durationS === undefined))
    throw new UsageError('bench: --rate and --duration go together (R records/s for S seconds)')
  if (rate !== undefined && values.records !== undefined)
    throw new UsageError('bench: --records is for a flat-out run; with --rate the run sends rate x duration records')
  const compression = values.compression ?? 'none'
  if (!(CODECS as readonly string[]).includes(compression))
    throw new UsageError(`bench: --compression: expected one of ${CODECS.join(', ')}, got "${compression}"`)
  return {
    records: whole('records', values.records, 100_000, 1, 1_000_000_000) ?? 100_000,
    size: whole('size', values.size, 1000, 16, 1_000_000) ?? 1000,
    partitions: whole('partitions', values.partitions, 6, 1, 10_000) ?? 6,
    rate,
    durationS,
    compression: compression as NonNullable<CliArgs['bench']>['compression']
  }
}

export const DEFAULT_METRICS_PORT = 9404

function metricsPort(value: string | undefined): number {
  if (value === undefined) return DEFAULT_METRICS_PORT
  const port = /^\d+$/.test(value) ? Number(value) : NaN
  if (!(port >= 0 && port <= 65535))
    throw new UsageError(`--metrics-port: expected a port number from 0 (no HTTP server) to 65535, got "${value}"`)
  return port
}

function logFormat(value: string | undefined): LogFormat {
  const [given, from] =
    value !== undefined ? [value, '--log-format'] : [process.env.KAFKA_MIRROR_LOG_FORMAT, 'KAFKA_MIRROR_LOG_FORMAT']
  if (given === undefined || (given === '' && value === undefined)) return 'text'
  const found = LOG_FORMATS.find(f => f === given)
  if (found === undefined) throw new UsageError(`${from}: expected ${LOG_FORMATS.join(' or ')}, got "${given}"`)
  return found
}

/** `offsets translate` and `failover`: --config, --group, --from and --to are all required. */
function groupCommand(
  command: 'offsets' | 'failover',
  rest: readonly string[],
  base: Omit<CliArgs, 'command'>,
  values: { group?: string; from?: string; to?: string; json?: boolean; 'dry-run'?: boolean }
): CliArgs {
  let sub = rest
  if (command === 'offsets') {
    if (rest[0] !== 'translate')
      throw new UsageError(
        `offsets: expected the subcommand translate${rest[0] === undefined ? '' : `, got "${rest[0]}"`}. Run \`kafka-mirror --help\` for usage.`
      )
    sub = rest.slice(1)
  }
  const name = command === 'offsets' ? 'offsets translate' : 'failover'
  if (sub.length > 0) throw new UsageError(`unexpected argument "${sub[0]}". Run \`kafka-mirror --help\` for usage.`)
  for (const [flag, v] of [
    ['--config FILE', base.config],
    ['--group G', values.group],
    ['--from A', values.from],
    ['--to B', values.to]
  ] as const) {
    if (v === undefined || v === '') throw new UsageError(`${name}: ${flag} is required`)
  }
  if (command === 'failover' && values.json === true)
    throw new UsageError('failover: --json is only for offsets translate')
  if (command === 'offsets' && values['dry-run'] === true)
    throw new UsageError('offsets translate: --dry-run is only for failover (translate never writes)')
  return {
    ...base,
    command: command === 'offsets' ? 'offsets-translate' : 'failover',
    group: values.group,
    from: values.from,
    to: values.to,
    json: values.json === true,
    dryRun: values['dry-run'] === true
  }
}
