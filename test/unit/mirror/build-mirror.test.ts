/**
 * What buildMirror runs for a config and `--clusters` (no connection is opened by building).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadMm2Properties } from '../../../src/config/mm2-properties.ts'
import { UsageError } from '../../../src/errors.ts'
import { buildMirror } from '../../../src/mirror.ts'
import { createLogger } from '../../../src/observe/logger.ts'

const quiet = createLogger('test', () => {})
const load = (text: string) =>
  loadMm2Properties(text, { file: 'mm2.properties', env: {}, secretsDir: undefined }).config
const oneWay = 'clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\nA->B.enabled = true\n'

test('--clusters A on a config that only enables A->B runs only B->A heartbeats, as MM2 does', () => {
  const mirror = buildMirror(load(oneWay), quiet, { targets: ['A'] })
  assert.deepEqual(
    mirror.flows.map(f => f.flow.name),
    []
  )
  assert.deepEqual(
    mirror.checkpoints.map(c => c.flow.name),
    []
  )
  assert.deepEqual(
    mirror.heartbeats.map(h => h.flow.name),
    ['B->A']
  )
})

test('without --clusters: replication, checkpoints and heartbeats of both pairs', () => {
  const mirror = buildMirror(load(oneWay), quiet)
  assert.deepEqual(
    mirror.flows.map(f => f.flow.name),
    ['A->B']
  )
  assert.deepEqual(
    mirror.checkpoints.map(c => c.flow.name),
    ['A->B']
  )
  assert.deepEqual(mirror.heartbeats.map(h => h.flow.name).sort(), ['A->B', 'B->A'])
})

test('nothing to run for the listed targets is a usage error; an unknown alias too', () => {
  const noHeartbeats = load(oneWay + 'emit.heartbeats.enabled = false\n')
  assert.throws(
    () => buildMirror(noHeartbeats, quiet, { targets: ['A'] }),
    (err: unknown) => err instanceof UsageError && /No source->target replication flows/.test(err.message)
  )
  assert.throws(
    () => buildMirror(noHeartbeats, quiet, { targets: ['C'] }),
    (err: unknown) => err instanceof UsageError && /--clusters C: no cluster with that alias/.test(err.message)
  )
})
