import { test } from 'node:test'
import assert from 'node:assert/strict'
import { identityCycleWarnings } from '../../../src/config/identity-cycles.ts'
import { loadMm2Properties } from '../../../src/config/mm2-properties.ts'

const IDENTITY = 'org.apache.kafka.connect.mirror.IdentityReplicationPolicy'

function warningsFor(lines: string[]): string[] {
  const text = [
    'clusters = A, B, C',
    'A.bootstrap.servers = a:9092',
    'B.bootstrap.servers = b:9092',
    'C.bootstrap.servers = c:9092',
    ...lines
  ].join('\n')
  return identityCycleWarnings(loadMm2Properties(text, { file: 'mm2.properties', env: {} }).config)
}

test('identity both ways: one warning naming the loop', () => {
  const w = warningsFor(['A->B.enabled = true', 'B->A.enabled = true', `replication.policy.class = ${IDENTITY}`])
  assert.equal(w.length, 1)
  assert.match(
    w[0] ?? '',
    /^mm2\.properties: flows A->B, B->A form a loop and A->B, B->A use IdentityReplicationPolicy, which cannot detect cycles/
  )
})

test('identity on one flow of a three-cluster loop', () => {
  const w = warningsFor([
    'A->B.enabled = true',
    'B->C.enabled = true',
    'C->A.enabled = true',
    `B->C.replication.policy.class = ${IDENTITY}`
  ])
  assert.equal(w.length, 1)
  assert.match(w[0] ?? '', /flows B->C, C->A, A->B form a loop and B->C uses IdentityReplicationPolicy/)
})

test('no warning: one-way identity migration, chains, default active/active, a disabled way back', () => {
  assert.deepEqual(warningsFor(['A->B.enabled = true', `replication.policy.class = ${IDENTITY}`]), [])
  assert.deepEqual(
    warningsFor(['A->B.enabled = true', 'B->C.enabled = true', `replication.policy.class = ${IDENTITY}`]),
    []
  )
  assert.deepEqual(warningsFor(['A->B.enabled = true', 'B->A.enabled = true']), [])
  assert.deepEqual(
    warningsFor(['A->B.enabled = true', 'B->A.enabled = false', `replication.policy.class = ${IDENTITY}`]),
    []
  )
})
