/**
 * A file read again whenever it changes on disk (checked with `stat` at each use), so mounted
 * secrets that Kubernetes replaces in place (an atomic symlink swap) reach new connections
 * without a restart. After one good read, a failing re-read keeps the last good value: a file
 * caught half-way through an update must not break connecting.
 */
import { readFileSync, statSync } from 'node:fs'

export class FileReadError extends Error {}

export function liveFile<T>(path: string, parse: (bytes: Buffer) => T): () => T {
  let stamp = ''
  let value: { v: T } | undefined
  return () => {
    let now: string
    try {
      const s = statSync(path)
      now = `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`
    } catch (err) {
      if (value !== undefined) return value.v
      throw new FileReadError(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
    }
    if (value !== undefined && now === stamp) return value.v
    try {
      const v = parse(readFileSync(path))
      value = { v }
      stamp = now
      return v
    } catch (err) {
      if (value !== undefined) return value.v
      throw err
    }
  }
}
