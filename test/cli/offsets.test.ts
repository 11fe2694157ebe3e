/**
 * The `offsets translate` and `failover` commands of the real binary, for what needs no broker:
 * usage and config errors exit 2 with a message that says what to fix. (Their work on real
 * brokers is tested in test/integration/checkpoints.test.ts.)
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'kafka-mirror.js')

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

test('offsets translate / failover: missing options and unknown flows exit 2 with the reason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-offsets-'))
  const file = join(dir, 'mm2.properties')
  writeFileSync(
    file,
    'clusters = A, B\nA.bootstrap.servers = 127.0.0.1:1\nB.bootstrap.servers = 127.0.0.1:2\nA->B.enabled = true\n'
  )
  const noGroup = cli(['offsets', 'translate', '--config', file, '--from', 'A', '--to', 'B'])
  assert.equal(noGroup.code, 2)
  assert.match(noGroup.stderr, /offsets translate: --group G is required/)
  const noFlow = cli(['failover', '--config', file, '--group', 'g', '--from', 'B', '--to', 'A'])
  assert.equal(noFlow.code, 2)
  assert.match(noFlow.stderr, /no flow B->A in the config \(flows: A->B\)/)
  const help = cli(['--help'])
  assert.match(help.stdout, /failover   Commit those translated offsets/)
})
