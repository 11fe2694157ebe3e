import { test } from 'node:test'
import assert from 'node:assert/strict'
import { resolveValue } from '../../../src/config/providers.ts'
import { Secret, reveal } from '../../../src/util/secret.ts'
import { assertConfigError } from './config-fixture.ts'

const SECRETS = 'test/fixtures/config/secrets'
const where = { file: 'f.properties', line: 3, key: 'k' }
const ctx = { env: { PW: 'TopSecretEnv42' }, secretsDir: SECRETS }

const cases: Array<[string, string, string]> = [
  ['env', '${env:PW}', 'TopSecretEnv42'],
  ['strimzienv', '${strimzienv:PW}', 'TopSecretEnv42'],
  ['file', '${file:test/fixtures/config/provided.properties:pw.key}', 'TopSecretFromFile42'],
  ['strimzifile', '${strimzifile:test/fixtures/config/provided.properties:pw.key}', 'TopSecretFromFile42'],
  ['directory', `\${directory:${SECRETS}/scram-user:password}`, 'TopSecretScram42'],
  ['strimzidir', `\${strimzidir:${SECRETS}/scram-user:password}`, 'TopSecretScram42'],
  ['strimzisecrets without namespace dir', '${strimzisecrets:ns9/scram-user:password}', 'TopSecretScram42'],
  [
    'several references in one value',
    'u="a" p="${env:PW}" q="${env:PW}"',
    'u="a" p="TopSecretEnv42" q="TopSecretEnv42"'
  ]
]

for (const [name, raw, want] of cases) {
  test(`providers: ${name}`, () => {
    const v = resolveValue(raw, 'some.key', where, ctx)
    assert.ok(v instanceof Secret, 'anything that came through a reference is a Secret')
    assert.equal(reveal(v), want)
  })
}

test('providers: plain values stay strings unless the key is sensitive', () => {
  assert.equal(resolveValue('x', 'topics', where, ctx), 'x')
  assert.ok(resolveValue('x', 'ssl.key.password', where, ctx) instanceof Secret)
  assert.ok(resolveValue('x', 'A.sasl.jaas.config', where, ctx) instanceof Secret)
})

const failures: Array<[string, string]> = [
  ['${env:NOPE}', 'f.properties:3 k: cannot resolve ${env:NOPE}: environment variable NOPE is not set'],
  [
    '${file:/nonexistent/x.properties:a}',
    'cannot resolve ${file:/nonexistent/x.properties:a}: cannot read /nonexistent/x.properties (ENOENT)'
  ],
  [
    '${file:test/fixtures/config/provided.properties:nokey}',
    'key "nokey" not found in test/fixtures/config/provided.properties'
  ],
  [
    '${strimzisecrets:ns1/missing:password}',
    `secret "missing" key "password" not found (tried ${SECRETS}/ns1/missing/password, ${SECRETS}/missing/password)`
  ],
  ['${strimzisecrets:justsecret:password}', 'expected ${strimzisecrets:<namespace>/<secret>:<key>}'],
  ['${directory:/nonexistent:x}', 'cannot read /nonexistent/x (ENOENT)'],
  ['${nope:a:b}', 'unknown config provider "nope"']
]

for (const [raw, want] of failures) {
  test(`providers error: ${raw}`, () => {
    assertConfigError(() => resolveValue(raw, 'k', where, ctx), want)
  })
}
