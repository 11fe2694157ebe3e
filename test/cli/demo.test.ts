/** The README's main-job command runs end to end and cleans up after itself. */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

test('npm run demo (--once): two local clusters, the mirror, records read back from the remote topic', () => {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'demo.ts'), '--once'], { encoding: 'utf8', timeout: 180_000 })
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /read back from my-cluster-target, topic my-cluster-source\.mytopic/)
  for (const value of ['hello', 'from', 'my-cluster-source']) assert.match(r.stdout, new RegExp(`value=${value} headers=demo:true`))
  assert.match(r.stdout, /\[demo\] done/)
  const left = spawnSync('pgrep', ['-f', 'my-cluster-(source|target)-[0-9a-f]+/server.properties'], { encoding: 'utf8' })
  assert.equal(left.stdout.trim(), '', 'no broker left running')
})
