/** Runs kafka-mirror inside the test process, from an mm2.properties file, closed when the test ends. */
import { loadConfig } from '../../src/config/load.ts'
import { buildMirror, type Mirror } from '../../src/mirror.ts'
import { createLogger, type Logger } from '../../src/observe/logger.ts'

/** The mirror's log, printed to stderr when KM_TEST_LOG is set (quiet otherwise). */
export function testLogger (): Logger {
  return createLogger('kafka-mirror', line => { if (process.env.KM_TEST_LOG !== undefined) process.stderr.write(line + '\n') })
}

export async function startMirror (t: { after: (fn: () => Promise<void>) => void }, file: string, log: Logger = testLogger()): Promise<Mirror> {
  const mirror = buildMirror((await loadConfig(file)).config, log)
  t.after(async () => { await mirror.close() })
  mirror.start()
  return mirror
}
