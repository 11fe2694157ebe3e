/**
 * Kafka config-provider references inside config values: `${file:path:key}`, `${env:NAME}`,
 * `${directory:dir:file}`, and Strimzi's `${strimzifile|strimzienv|strimzidir:...}` and
 * `${strimzisecrets:ns/secret:key}`. Java MM2 and Strimzi resolve these at runtime; we resolve them
 * once at load time and fail fast, naming the reference but never the value it resolved to.
 * Anything that came through a reference, and any value of a sensitive key, becomes a Secret.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Secret, isSensitiveKey } from '../util/secret.ts'
import type { MaybeSecret } from '../util/secret.ts'
import { parseProperties } from './properties.ts'
import type { PropertyEntry } from './properties.ts'
import { findSecretKey } from './secrets.ts'
import type { Where } from './where.ts'
import { configError, located } from './where.ts'

export type ProviderKind = 'file' | 'env' | 'directory' | 'secrets'

/** Names usable without declaring them: Kafka's usual names and the ones Strimzi always registers. */
const BUILT_IN: ReadonlyMap<string, ProviderKind> = new Map([
  ['file', 'file'],
  ['env', 'env'],
  ['directory', 'directory'],
  ['strimzifile', 'file'],
  ['strimzienv', 'env'],
  ['strimzidir', 'directory'],
  ['strimzisecrets', 'secrets']
])

const BY_CLASS: ReadonlyMap<string, ProviderKind> = new Map([
  ['org.apache.kafka.common.config.provider.FileConfigProvider', 'file'],
  ['org.apache.kafka.common.config.provider.EnvVarConfigProvider', 'env'],
  ['org.apache.kafka.common.config.provider.DirectoryConfigProvider', 'directory'],
  ['io.strimzi.kafka.KubernetesSecretConfigProvider', 'secrets']
])

export interface ProviderContext {
  readonly env: NodeJS.ProcessEnv
  readonly secretsDir?: string | undefined
  /** Names declared with `config.providers` (mm2.properties); built-in names need no declaration. */
  readonly providers?: ReadonlyMap<string, ProviderKind> | undefined
  /** Parsed `${file:...}` targets, so a file referenced many times is read once. */
  readonly fileCache?: Map<string, Map<string, PropertyEntry>>
}

// Java ConfigTransformer's pattern: ${provider:[path:]key}, each part free of `}`.
const REFERENCE = /\$\{([^}]*?):(?:([^}]*?):)?([^}]*?)\}/g

/**
 * Reads `config.providers=a,b` and `config.providers.a.class=...` so user-chosen names map to a
 * provider we implement. Unknown classes give a warning; their references then fail when used.
 */
export function declaredProviders(
  props: ReadonlyMap<string, { value: string; line: number }>,
  file: string,
  warnings: string[]
): Map<string, ProviderKind> {
  const out = new Map<string, ProviderKind>()
  const list = props.get('config.providers')
  if (list === undefined) return out
  for (const name of list.value
    .split(',')
    .map(s => s.trim())
    .filter(s => s !== '')) {
    const cls = props.get(`config.providers.${name}.class`)
    const kind = cls === undefined ? undefined : BY_CLASS.get(cls.value.trim())
    if (kind !== undefined) {
      out.set(name, kind)
    } else if (!BUILT_IN.has(name)) {
      const where = { file, line: cls?.line ?? list.line, key: `config.providers.${name}.class` }
      warnings.push(
        located(
          where,
          `config provider class ${JSON.stringify(cls?.value ?? '')} is not one kafka-mirror implements (FileConfigProvider, EnvVarConfigProvider, DirectoryConfigProvider, KubernetesSecretConfigProvider); \${${name}:...} references will fail`
        )
      )
    }
  }
  return out
}

/**
 * Replaces every reference in `raw`. `key` is the config key the value belongs to; it decides
 * whether a plain value is sensitive.
 */
export function resolveValue(raw: string, key: string, where: Where, ctx: ProviderContext): MaybeSecret {
  let referenced = false
  const resolve = (c: ProviderContext): string =>
    raw.replace(REFERENCE, (whole, provider: string, path: string | undefined, name: string) => {
      referenced = true
      return lookup(whole, provider, path, name, where, c)
    })
  const resolved = resolve(ctx)
  if (!referenced) return isSensitiveKey(key) ? new Secret(resolved) : resolved
  // Re-resolved (files read afresh, no cache) whenever the client reads it: mounted secrets rotate.
  const fresh: ProviderContext = { ...ctx, fileCache: undefined }
  return new Secret(resolved, () => resolve(fresh))
}

function lookup(
  ref: string,
  provider: string,
  path: string | undefined,
  name: string,
  where: Where,
  ctx: ProviderContext
): string {
  const kind = ctx.providers?.get(provider) ?? BUILT_IN.get(provider)
  const fail = (why: string): never => {
    throw configError(where, `cannot resolve ${ref}: ${why}`)
  }
  if (kind === undefined) return fail(`unknown config provider "${provider}"`)
  switch (kind) {
    case 'env': {
      const v = ctx.env[name]
      return v === undefined ? fail(`environment variable ${name} is not set`) : v
    }
    case 'file': {
      if (path === undefined || path === '') return fail('expected ${' + provider + ':<file>:<key>}')
      const props = readPropsFile(path, ctx, fail)
      const e = props.get(name)
      return e === undefined ? fail(`key "${name}" not found in ${path}`) : e.value
    }
    case 'directory': {
      if (path === undefined || path === '') return fail('expected ${' + provider + ':<directory>:<file>}')
      if (name.includes('/') || name === '..') return fail('the file must be a name inside the directory')
      const file = join(path, name)
      try {
        return readFileSync(file, 'utf8')
      } catch (err) {
        return fail(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
      }
    }
    case 'secrets': {
      const parts = (path ?? '').split('/')
      if (parts.length !== 2 || parts[0] === '' || parts[1] === '')
        return fail('expected ${' + provider + ':<namespace>/<secret>:<key>}')
      const r = findSecretKey(ctx.secretsDir, { namespace: parts[0], secretName: parts[1] ?? '', key: name })
      return 'problem' in r ? fail(r.problem) : r.value
    }
  }
}

function readPropsFile(path: string, ctx: ProviderContext, fail: (why: string) => never): Map<string, PropertyEntry> {
  const cached = ctx.fileCache?.get(path)
  if (cached !== undefined) return cached
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    return fail(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
  }
  const props = parseProperties(text, path)
  ctx.fileCache?.set(path, props)
  return props
}
