/**
 * Reads Kubernetes-style Secrets from a directory laid out the way Kubernetes mounts a Secret
 * volume: `<dir>/<secretName>/<key>`, or `<dir>/<namespace>/<secretName>/<key>` (tried first).
 * Messages name the secret, the key and the paths tried; they never include file contents.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { Where } from './where.ts'
import { configError } from './where.ts'

export interface SecretRef {
  readonly secretName: string
  readonly key: string
  readonly namespace?: string | undefined
}

function candidateDirs(dir: string, secretName: string, namespace: string | undefined): string[] {
  const dirs = namespace === undefined || namespace === '' ? [] : [join(dir, namespace, secretName)]
  dirs.push(join(dir, secretName))
  return dirs
}

/** The secret's value, or why it could not be read (a sentence naming secret, key and paths). */
export function findSecretKey(dir: string | undefined, ref: SecretRef): { value: string } | { problem: string } {
  const what = `secret "${ref.secretName}" key "${ref.key}"`
  if (dir === undefined || dir === '')
    return { problem: `${what} is needed but no secrets directory was given (--secrets-dir)` }
  if (ref.key.includes('/') || ref.key.includes('\\') || ref.key === '..' || ref.key === '.') {
    return { problem: `${what}: a key must be a file name, not a path` }
  }
  const tried = candidateDirs(dir, ref.secretName, ref.namespace).map(d => join(d, ref.key))
  for (const path of tried) {
    try {
      return { value: readFileSync(path, 'utf8') }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'ENOENT' && code !== 'ENOTDIR')
        return { problem: `${what}: cannot read ${path} (${code ?? 'error'})` }
    }
  }
  return { problem: `${what} not found (tried ${tried.join(', ')})` }
}

export function readSecretKey(dir: string | undefined, ref: SecretRef, where: Where): string {
  const r = findSecretKey(dir, ref)
  if ('problem' in r) throw configError(where, r.problem)
  return r.value
}

/**
 * The key names of a secret, sorted. Kubernetes volumes also hold `..data` and timestamped
 * `..2024_...` entries for atomic updates; those are not keys.
 */
export function listSecretKeys(
  dir: string | undefined,
  secretName: string,
  namespace: string | undefined,
  where: Where
): string[] {
  const what = `secret "${secretName}"`
  if (dir === undefined || dir === '')
    throw configError(where, `${what} is needed but no secrets directory was given (--secrets-dir)`)
  const tried = candidateDirs(dir, secretName, namespace)
  for (const d of tried) {
    let names: string[]
    try {
      names = readdirSync(d)
    } catch {
      continue
    }
    return names
      .filter(n => !n.startsWith('..'))
      .filter(n => {
        try {
          return statSync(join(d, n)).isFile()
        } catch {
          return false
        }
      })
      .sort()
  }
  throw configError(where, `${what} not found (tried ${tried.join(', ')})`)
}
