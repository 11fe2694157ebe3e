/** Secrets laid out as the kubelet mounts them, for tests of `--secrets-dir`. */
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Writes (version 1) or updates (version 2, 3, ...) secret `name` under `root` as a Kubernetes
 * secret volume: each key is a symlink into `..data`, itself a symlink to a versioned folder that
 * is swapped atomically on update, the previous folder then removed.
 */
export function writeSecretVolume(
  root: string,
  name: string,
  data: Readonly<Record<string, string>>,
  version = 1
): void {
  const secretDir = join(root, name)
  mkdirSync(join(secretDir, `..v${version}`), { recursive: true })
  for (const [k, v] of Object.entries(data)) writeFileSync(join(secretDir, `..v${version}`, k), v)
  symlinkSync(`..v${version}`, join(secretDir, '..data_tmp'))
  renameSync(join(secretDir, '..data_tmp'), join(secretDir, '..data'))
  for (const k of Object.keys(data)) {
    try {
      symlinkSync(join('..data', k), join(secretDir, k))
    } catch {
      /* exists from the previous version */
    }
  }
  if (version > 1) rmSync(join(secretDir, `..v${version - 1}`), { recursive: true, force: true })
}
