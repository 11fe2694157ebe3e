/**
 * The entry point of config loading: reads a file, decides from its content whether it is a
 * Strimzi KafkaMirrorMaker2 resource (YAML/JSON) or an mm2.properties file, loads it and returns
 * a deep-frozen model plus the warnings and infos to print once.
 */
import { readFile } from 'node:fs/promises'
import type { LoadedConfig } from './model.ts'
import { deepFreeze } from './freeze.ts'
import { identityCycleWarnings } from './identity-cycles.ts'
import { loadMm2Properties } from './mm2-properties.ts'
import { loadStrimzi } from './strimzi.ts'
import { configError } from './where.ts'

export { describeConfig } from './describe.ts'

export interface LoadConfigOptions {
  /** Directory holding `<secretName>/<key>` files (a Kubernetes Secret volume layout). */
  readonly secretsDir?: string | undefined
  /** Environment for `${env:...}` references; defaults to process.env. */
  readonly env?: NodeJS.ProcessEnv | undefined
}

/**
 * A Kubernetes resource starts with `apiVersion:`/`kind:` keys, a `---` marker or a JSON object;
 * none of those is a sensible first line of a .properties file.
 */
export function looksLikeResource (text: string): boolean {
  let first = true
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    if (first && (line.startsWith('---') || line.startsWith('{'))) return true
    first = false
    if (/^(apiVersion|kind)\s*:/.test(raw)) return true
  }
  return false
}

export async function loadConfig (path: string, opts: LoadConfigOptions = {}): Promise<LoadedConfig> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw configError({ file: path }, `cannot read the config file (${(err as NodeJS.ErrnoException).code ?? 'error'})`, err)
  }
  const loadOpts = { file: path, env: opts.env ?? process.env, secretsDir: opts.secretsDir }
  const loaded = looksLikeResource(text) ? loadStrimzi(text, loadOpts) : loadMm2Properties(text, loadOpts)
  return deepFreeze({ ...loaded, warnings: [...loaded.warnings, ...identityCycleWarnings(loaded.config)] })
}
