/**
 * Command-line parsing and help text, kept together so they cannot drift apart.
 */
import { parseArgs } from 'node:util'
import { UsageError } from '../errors.ts'

export const HELP = `kafka-mirror - Kafka MirrorMaker 2, re-implemented in TypeScript

Usage:
  kafka-mirror run --config FILE [--secrets-dir DIR] [--clusters ALIAS...]
  kafka-mirror validate --config FILE [--secrets-dir DIR] [--offline]
  kafka-mirror topology --config FILE [--secrets-dir DIR] [--json]
  kafka-mirror --help | --version

Commands:
  run        Replicate every enabled flow until SIGINT/SIGTERM (then flush, store positions, exit 0).
  validate   Load the config and print the plan: clusters, flows, and for each flow the source
             topics that match now with their remote names (--offline: do not connect).
  topology   The replication graph seen from the heartbeats topics of every cluster: which
             clusters feed which, hops per upstream cluster, age of the newest heartbeats.

Options:
  --config FILE       mm2.properties (Java MM2 dedicated mode) or a Strimzi KafkaMirrorMaker2 YAML
  --secrets-dir DIR   Kubernetes-style secrets: DIR/<secretName>/<key> (default: $KAFKA_MIRROR_SECRETS_DIR)
  --clusters ALIAS    Only run flows whose target is one of these aliases (repeatable or comma-separated)
  --offline           validate without connecting to any cluster
  --json              topology: print JSON instead of text
  --debug             Print stack traces of errors

Exit codes: 0 ok, 1 runtime failure, 2 bad arguments or config.
Environment: KAFKA_MIRROR_LOG_LEVEL=debug|info|warn|error
`

export interface CliArgs {
  readonly command: 'run' | 'validate' | 'topology' | 'help' | 'version'
  readonly config: string | undefined
  readonly secretsDir: string | undefined
  readonly clusters: readonly string[]
  readonly offline: boolean
  readonly debug: boolean
  readonly json: boolean
}

export function parseCli (argv: readonly string[]): CliArgs {
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
        json: { type: 'boolean', default: false },
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
    clusters: (values.clusters ?? []).flatMap(c => c.split(',')).map(c => c.trim()).filter(c => c !== ''),
    offline: values.offline === true,
    debug: values.debug === true,
    json: values.json === true
  }
  if (values.help === true) return { ...base, command: 'help' }
  if (values.version === true) return { ...base, command: 'version' }
  const [command, ...rest] = positionals
  // MM2's own form: `connect-mirror-maker.sh mm2.properties --clusters B`
  if (command === undefined) throw new UsageError('missing command: run, validate or topology. Run `kafka-mirror --help` for usage.')
  if (command !== 'run' && command !== 'validate' && command !== 'topology') throw new UsageError(`unknown command "${command}": expected run, validate or topology. Run \`kafka-mirror --help\` for usage.`)
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}". Run \`kafka-mirror --help\` for usage.`)
  if (base.config === undefined) throw new UsageError(`${command}: --config FILE is required`)
  return { ...base, command }
}
