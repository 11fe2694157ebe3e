/**
 * The entry point of config loading: reads a file, decides from its extension (or, when that
 * names no format, its content) whether it is a Strimzi KafkaMirrorMaker2 resource (YAML/JSON)
 * or an mm2.properties file, loads it and returns a deep-frozen model plus the warnings and infos
 * to print once.
 */
import { readFile } from 'node:fs/promises'
import { extname, resolve } from 'node:path'
import type { ConfigSource, LoadedConfig } from './model.ts'
import { deepFreeze } from './freeze.ts'
import { identityCycleWarnings } from './identity-cycles.ts'
import { EXPECTED_PROPERTIES, loadMm2Properties } from './mm2-properties.ts'
import { EXPECTED_RESOURCE } from './resource-expected.ts'
import { configError } from './where.ts'

export { describeConfig } from './describe.ts'

export interface LoadConfigOptions {
  /** Directory holding `<secretName>/<key>` files (a Kubernetes Secret volume layout). */
  readonly secretsDir?: string | undefined
  /** Environment for `${env:...}` references; defaults to process.env. */
  readonly env?: NodeJS.ProcessEnv | undefined
}

type Format = 'resource' | 'properties'

/**
 * The name is the user's statement of intent, so it wins over the content: a .yaml file that
 * does not parse gets a YAML error, never an mm2.properties one.
 */
const BY_EXTENSION: Readonly<Record<string, Format>> = {
  '.yaml': 'resource',
  '.yml': 'resource',
  '.json': 'resource',
  '.properties': 'properties'
}

function formatOfName(path: string): Format | undefined {
  return BY_EXTENSION[extname(path).toLowerCase()]
}

function expected(format: Format | undefined): string {
  if (format === 'resource') return EXPECTED_RESOURCE
  if (format === 'properties') return EXPECTED_PROPERTIES
  return `${EXPECTED_PROPERTIES} or ${EXPECTED_RESOURCE}`
}

/**
 * The line showing a file is a Kubernetes resource: a first `---` marker or JSON object, or an
 * `apiVersion:`/`kind:` key; none of those is a sensible line of a .properties file.
 */
export function resourceMarker(text: string): { line: number; marker: string } | undefined {
  let first = true
  let n = 0
  for (const raw of text.split(/\r\n|\r|\n/)) {
    n++
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    if (first && (line.startsWith('---') || line.startsWith('{')))
      return { line: n, marker: line.startsWith('---') ? '---' : '{' }
    first = false
    const key = /^(apiVersion|kind)\s*:/.exec(raw)?.[1]
    if (key !== undefined) return { line: n, marker: `${key}:` }
  }
  return undefined
}

export function looksLikeResource(text: string): boolean {
  return resourceMarker(text) !== undefined
}

const UTF8 = new TextDecoder('utf-8', { fatal: true })

/**
 * The file as text. A NUL byte, or bytes that are not UTF-8 in a YAML file, mean a binary file
 * or another encoding; decoding leniently would turn it into replacement characters and a misleading error
 * further on, so the error names the first such byte.
 */
function decodeText(bytes: Buffer, file: string, format: Format | undefined): string {
  let text: string | undefined
  try {
    text = UTF8.decode(bytes)
  } catch {
    text = undefined
  }
  const nul = bytes.indexOf(0)
  if (text !== undefined && nul < 0) return text
  // Java reads a .properties file as ISO-8859-1, so a Latin-1 file (an accent in a comment) is a
  // valid mm2.properties for MM2; read it the same way (the loader warns about non-ASCII lines).
  if (nul < 0 && format !== 'resource') return bytes.toString('latin1')
  const at = Math.min(...[nul, text === undefined ? firstInvalidUtf8(bytes) : -1].filter(o => o >= 0))
  const line = bytes.subarray(0, at).filter(b => b === 0x0a).length + 1
  const byte = (bytes[at] ?? 0).toString(16).padStart(2, '0')
  throw configError(
    { file, line },
    `not a UTF-8 text file (byte 0x${byte} at offset ${at}); expected ${expected(format)}`
  )
}

/**
 * The offset where the first ill-formed UTF-8 sequence starts. The lenient decoder puts one U+FFFD
 * there; a U+FFFD that is really in the file stands on its own three bytes.
 */
function firstInvalidUtf8(bytes: Buffer): number {
  const lenient = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes)
  for (let i = lenient.indexOf('\ufffd'); i >= 0; i = lenient.indexOf('\ufffd', i + 1)) {
    const at = Buffer.byteLength(lenient.slice(0, i))
    if (bytes[at] !== 0xef || bytes[at + 1] !== 0xbf || bytes[at + 2] !== 0xbd) return at
  }
  return -1
}

/** Lines that hold nothing: comments and document markers in YAML, `#` and `!` comments in .properties. */
const NOTHING: Readonly<Record<Format, RegExp>> = { resource: /^(---|\.\.\.)?\s*(#.*)?$/, properties: /^([#!].*)?$/ }

/** An empty file would otherwise fail on its first missing key, which says nothing about the format. */
function checkHasContent(text: string, file: string, format: Format | undefined): void {
  const formats: readonly Format[] = format === undefined ? ['resource', 'properties'] : [format]
  const blank = (line: string): boolean => formats.some(f => NOTHING[f].test(line.trim()))
  if (!text.split(/\r\n|\r|\n/).every(blank)) return
  const what = text.trim() === '' ? 'the file is empty' : 'the file has only comments and blank lines'
  throw configError({ file }, `${what}; expected ${expected(format)}`)
}

/** A resource named .properties would fail as properties on `clusters`; say it was misnamed. */
function checkNotAResource(text: string, file: string): void {
  const m = resourceMarker(text)
  if (m === undefined) return
  throw configError(
    { file, line: m.line },
    `expected ${EXPECTED_PROPERTIES}, but this looks like a Kubernetes resource (\`${m.marker}\` on line ${m.line}): name the file .yaml to load it as a KafkaMirrorMaker2 resource`
  )
}

export async function loadConfig(path: string, opts: LoadConfigOptions = {}): Promise<LoadedConfig> {
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (err) {
    throw configError(
      { file: path },
      `cannot read the config file (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      err
    )
  }
  const named = formatOfName(path)
  const text = decodeText(bytes, path, named)
  checkHasContent(text, path, named)
  if (named === 'properties') checkNotAResource(text, path)
  const format = named ?? (looksLikeResource(text) ? 'resource' : 'properties')
  const loadOpts = { file: path, env: opts.env ?? process.env, secretsDir: opts.secretsDir }
  // The YAML parser is loaded only for a resource (about 40 ms of CPU at each start and in each copier thread).
  const loaded =
    format === 'resource'
      ? (await import('./strimzi.ts')).loadStrimzi(text, loadOpts)
      : loadMm2Properties(text, loadOpts)
  const config = { ...loaded.config, loadedFrom: configSource(path, opts) }
  return deepFreeze({ ...loaded, config, warnings: [...loaded.warnings, ...identityCycleWarnings(config)] })
}

/**
 * What loading `path` again needs: a relative path made absolute (a worker may not share the cwd's meaning later), the
 * env copied only when one was given.
 */
function configSource(path: string, opts: LoadConfigOptions): ConfigSource {
  const env =
    opts.env === undefined
      ? undefined
      : Object.fromEntries(Object.entries(opts.env).filter((e): e is [string, string] => e[1] !== undefined))
  return { path: resolve(path), secretsDir: opts.secretsDir === undefined ? undefined : resolve(opts.secretsDir), env }
}
