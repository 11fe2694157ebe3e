/**
 * Process entry: parses arguments, loads the config, runs the command and maps outcomes to exit
 * codes (0 ok, 1 runtime failure, 2 bad arguments or config). Known errors print one line;
 * stacks only with --debug.
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { HELP, parseCli } from './cli/args.ts'
// Each command's module is loaded when it runs: a restarted `run` loads only what it needs.
import { loadConfig } from './config/load.ts'
import { clientsInUse, runPlan } from './config/what-runs.ts'
import { ConfigError, KafkaMirrorError, UsageError } from './errors.ts'
import { checkConnectionSettings } from './kafka/connection-check.ts'
import { createLogger, LogLevel, watchLevelSignal } from './observe/logger.ts'

function version(): string {
  const pkg = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'package.json'), 'utf8')) as {
    version: string
  }
  return pkg.version
}

async function main(argv: readonly string[]): Promise<number> {
  let debug = argv.includes('--debug')
  /** The last word of a failed command on stderr: a line of text, or a JSON line with --log-format json. */
  let fail = (message: string, stack: string | undefined): void => {
    process.stderr.write(`kafka-mirror: ${message}\n`)
    if (stack !== undefined) process.stderr.write(`${stack}\n`)
  }
  try {
    const args = parseCli(argv)
    debug = args.debug
    if (args.logFormat === 'json') {
      const failLog = createLogger('kafka-mirror', undefined, { level: 'error', format: 'json' })
      fail = (message, stack) => {
        failLog.error(message, { stack })
      }
    }
    if (args.command === 'help') {
      process.stdout.write(HELP)
      return 0
    }
    if (args.command === 'version') {
      process.stdout.write(`kafka-mirror ${version()}\n`)
      return 0
    }
    const level = new LogLevel()
    const log = createLogger('kafka-mirror', undefined, { level, format: args.logFormat })
    const loaded = await loadConfig(args.config ?? '', { secretsDir: args.secretsDir })
    for (const w of loaded.warnings) log.warn(w)
    for (const i of loaded.infos) log.info(i)
    // The clients of every pair that runs (for `run` and `status`, of the pairs their --clusters keep).
    const targets = args.command === 'run' || args.command === 'status' ? args.clusters : []
    checkConnectionSettings(clientsInUse(runPlan(loaded.config, targets)))
    if (args.command === 'validate')
      return await (
        await import('./cli/validate.ts')
      ).validateCommand(loaded, {
        offline: args.offline,
        out: line => {
          process.stdout.write(line + '\n')
        }
      })
    if (args.command === 'topology')
      return await (
        await import('./cli/topology.ts')
      ).topologyCommand(loaded, {
        json: args.json,
        out: line => {
          process.stdout.write(line + '\n')
        }
      })
    if (args.command === 'status')
      return await (
        await import('./cli/status.ts')
      ).statusCommand(
        loaded,
        { clusters: args.clusters, json: args.json },
        {
          out: line => {
            process.stdout.write(line + '\n')
          }
        }
      )
    if (args.command === 'offsets-translate' || args.command === 'failover') {
      const offsetsArgs = {
        group: args.group ?? '',
        from: args.from ?? '',
        to: args.to ?? '',
        json: args.json === true,
        dryRun: args.dryRun === true
      }
      const io = {
        out: (line: string) => {
          process.stdout.write(line + '\n')
        },
        err: (line: string) => {
          process.stderr.write(line + '\n')
        }
      }
      const offsets = await import('./cli/offsets.ts')
      return args.command === 'failover'
        ? await offsets.failoverCommand(loaded, offsetsArgs, io)
        : await offsets.translateCommand(loaded, offsetsArgs, io)
    }
    watchLevelSignal(level, log)
    if (args.command === 'bench' && args.bench !== undefined) {
      return await (
        await import('./cli/bench.ts')
      ).benchCommand(
        loaded,
        { flow: args.flow ?? '', ...args.bench, json: args.json },
        {
          out: line => {
            process.stdout.write(line + '\n')
          },
          err: text => {
            process.stderr.write(text)
          },
          tty: process.stderr.isTTY === true
        }
      )
    }
    if (args.command === 'verify') {
      const io = {
        out: (line: string) => {
          process.stdout.write(line + '\n')
        },
        err: (line: string) => {
          process.stderr.write(line + '\n')
        }
      }
      return await (
        await import('./cli/verify.ts')
      ).verifyCommand(loaded, { flow: args.flow ?? '', topics: args.topics, json: args.json }, io)
    }
    return await (
      await import('./cli/run.ts')
    ).runCommand(loaded, { clusters: args.clusters, log, metricsPort: args.metricsPort })
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      fail(err.message, debug ? (err.stack ?? '') : undefined)
      return 2
    }
    if (err instanceof KafkaMirrorError) {
      fail(err.message, debug ? (err.stack ?? '') : undefined)
      return 1
    }
    fail(`unexpected error: ${(err as Error).message ?? String(err)}`, (err as Error).stack ?? '')
    return 1
  }
}

process.exitCode = await main(process.argv.slice(2))
