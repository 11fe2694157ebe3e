/** The README's main-job command runs end to end and cleans up after itself. */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

test('npm run demo: two local clusters, the mirror, records read back from the remote topic, then each new record printed once as it arrives', () => {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'demo.ts'), '--ticks', '4'], {
    encoding: 'utf8',
    timeout: 180_000
  })
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /read back from my-cluster-target, topic my-cluster-source\.mytopic/)
  for (const value of ['hello', 'from', 'my-cluster-source'])
    assert.match(r.stdout, new RegExp(`value=${value} headers=demo:true`))
  assert.match(r.stdout, /status page of the mirror: http:\/\/127\.0\.0\.1:9404\//)
  // Each new record once, on the partition it was sent to (tick n goes to partition n % 3).
  const mirrored = [...r.stdout.matchAll(/mirrored: partition (\d) offset \d+ key=tick-(\d+) value=tick \d+ at/g)].map(
    m => [Number(m[1]), Number(m[2])]
  )
  assert.deepEqual(
    mirrored,
    [1, 2, 3, 4].map(n => [n % 3, n]),
    r.stdout
  )
  assert.match(r.stdout, /\[demo\] done/)
  const left = spawnSync('pgrep', ['-f', 'my-cluster-(source|target)-[0-9a-f]+/server.properties'], {
    encoding: 'utf8'
  })
  assert.equal(left.stdout.trim(), '', 'no broker left running')
})
