import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describeConfig, loadConfig, looksLikeResource } from '../../../src/config/load.ts'
import { strimziV1 } from './config-fixture.ts'

const examples: Array<[string, string]> = [
  ['examples/mm2.properties', 'properties'],
  ['examples/strimzi-v1alpha1.yaml', 'strimzi'],
  ['examples/strimzi-v1beta2.yaml', 'strimzi'],
  ['examples/strimzi-v1.yaml', 'strimzi']
]

for (const [file, format] of examples) {
  test(`load: ${file} loads without warnings`, async () => {
    const r = await loadConfig(file, { secretsDir: 'examples/secrets', env: {} })
    assert.equal(r.config.origin.format, format)
    assert.deepEqual(r.warnings, [])
    assert.ok(r.config.flows.some(f => f.name === 'my-cluster-source->my-cluster-target' && f.enabled))
    assert.match(describeConfig(r.config), /my-cluster-source->my-cluster-target \(replicating\)/)
  })
}

test('load: the result is deep-frozen, Maps included', async () => {
  const { config } = await loadConfig('examples/mm2.properties', { env: {} })
  assert.ok(Object.isFrozen(config))
  assert.ok(Object.isFrozen(config.flows[0]?.clients.sourceConsumer.props))
  assert.throws(() => {
    ;(config.flows as unknown as unknown[]).push(1)
  }, TypeError)
  assert.throws(() => {
    ;(config.clusters as Map<string, unknown>).set('x', 1)
  }, TypeError)
})

const detect: Array<[string, boolean]> = [
  ['apiVersion: kafka.strimzi.io/v1\nkind: KafkaMirrorMaker2\n', true],
  ['# comment\n---\nkind: KafkaMirrorMaker2\n', true],
  ['{"apiVersion": "kafka.strimzi.io/v1"}', true],
  ['clusters = A, B\nA.bootstrap.servers = a:1\n', false],
  ['# kind: KafkaMirrorMaker2\nclusters = A\n', false]
]

for (const [text, want] of detect) {
  test(`load: format detection ${JSON.stringify(text.slice(0, 30))}`, () => {
    assert.equal(looksLikeResource(text), want)
  })
}

test('load: missing file is a ConfigError naming the file', async () => {
  await assert.rejects(
    loadConfig('/nonexistent/mm2.properties', {}),
    /ConfigError: \/nonexistent\/mm2\.properties: cannot read the config file \(ENOENT\)/
  )
})

test('describeConfig never shows secrets', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-config-'))
  const file = join(dir, 'mm2.properties')
  writeFileSync(
    file,
    [
      'clusters = A, B',
      'A.bootstrap.servers = a:1',
      'B.bootstrap.servers = b:1',
      'A->B.enabled = true',
      'A.security.protocol = SASL_SSL',
      'A.sasl.mechanism = PLAIN',
      'A.sasl.jaas.config = org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="TopSecretInline42";',
      'B.ssl.truststore.password = ${env:KM_TEST_PW}'
    ].join('\n')
  )
  const { config } = await loadConfig(file, { env: { KM_TEST_PW: 'TopSecretEnv42' } })
  const text = describeConfig(config)
  assert.ok(!text.includes('TopSecret'), text)
  assert.match(text, /sasl\.jaas\.config=\[redacted\]/)
  assert.match(text, /ssl\.truststore\.password=\[redacted\]/)
  assert.match(text, /A: a:1/)
})

test('describeConfig of a Strimzi CR summarises PEM bundles and hides keys', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-config-'))
  const file = join(dir, 'mm2.yaml')
  writeFileSync(
    file,
    strimziV1({
      source: `      tls:
        trustedCertificates:
        - secretName: cluster-ca
          pattern: "*.crt"
      authentication:
        type: tls
        certificateAndKey:
          secretName: user-secret
          certificate: user.crt
          key: user.key
`
    })
  )
  const { config } = await loadConfig(file, { secretsDir: 'test/fixtures/config/secrets' })
  const text = describeConfig(config)
  assert.ok(!text.includes('PRIVATE KEY') && !text.includes('BEGIN'), text)
  assert.match(text, /ssl\.truststore\.certificates=<2 PEM block\(s\)>/)
  assert.match(text, /ssl\.keystore\.key=\[redacted\]/)
})

test('load: the config records where it came from, and loading it again yields the same flows (what a copier worker thread does)', async () => {
  for (const [file] of examples) {
    const first = await loadConfig(file, { secretsDir: 'examples/secrets', env: { X: '1' } })
    const from = first.config.loadedFrom
    assert.ok(from !== undefined)
    assert.equal(from.path, join(process.cwd(), file))
    assert.equal(from.secretsDir, join(process.cwd(), 'examples/secrets'))
    assert.deepEqual(from.env, { X: '1' })
    assert.doesNotThrow(() => structuredClone(from), 'plain data: it is sent to worker threads')
    const again = await loadConfig(from.path, { secretsDir: from.secretsDir, env: from.env })
    // Secrets print as [redacted] in JSON; their values are compared below.
    assert.equal(JSON.stringify(again.config.flows), JSON.stringify(first.config.flows), file)
    for (const [i, f] of first.config.flows.entries()) {
      const props = (flow: typeof f): string[] =>
        Object.values(flow.clients).flatMap(c =>
          Object.entries(c.props).map(([k, v]) => `${k}=${typeof v === 'string' ? v : v.reveal()}`)
        )
      const other = again.config.flows[i]
      assert.ok(other !== undefined)
      assert.deepEqual(props(other), props(f))
    }
  }
  const plain = await loadConfig('examples/mm2.properties')
  assert.equal(plain.config.loadedFrom?.env, undefined, 'process.env is not copied: a worker thread shares it')
})
