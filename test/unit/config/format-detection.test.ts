/**
 * How loadConfig decides between a KafkaMirrorMaker2 resource and mm2.properties: the extension
 * first, then the content; and what it says when a file is empty, binary or not the format its
 * name promises.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../../src/config/load.ts'
import { strimziV1 } from './config-fixture.ts'

const PROPERTIES = 'clusters = A, B\nA.bootstrap.servers = a:1\nB.bootstrap.servers = b:1\nA->B.enabled = true\n'

function write(name: string, content: string | Uint8Array): string {
  const file = join(mkdtempSync(join(tmpdir(), 'km-format-')), name)
  writeFileSync(file, content)
  return file
}

/** loadConfig rejects with a ConfigError (exit 2 through the CLI) whose message has every `want`. */
async function rejectsWith(
  file: string,
  want: readonly (string | RegExp)[],
  never: readonly RegExp[] = []
): Promise<string> {
  let message = ''
  await assert.rejects(loadConfig(file, { env: {} }), (err: Error & { code?: string }) => {
    assert.equal(err.name, 'ConfigError')
    assert.equal(err.code, 'KM_CONFIG_INVALID')
    message = err.message
    return true
  })
  for (const w of want) {
    if (typeof w === 'string') assert.ok(message.includes(w), `${message}\n  should include\n${w}`)
    else assert.match(message, w)
  }
  for (const n of never) assert.doesNotMatch(message, n)
  return message
}

/** What a YAML-named file must never be told: the mm2.properties loader's own errors. */
const NO_PROPERTIES_ERROR = [/required key is missing/, /e\.g\. clusters = A, B/]
const RESOURCE =
  'expected a Strimzi KafkaMirrorMaker2 resource (a YAML or JSON mapping with apiVersion kafka.strimzi.io/v1beta2, v1 or v1alpha1, kind KafkaMirrorMaker2, metadata.name and spec)'
const PROPS =
  "expected an mm2.properties file (at least `clusters = A, B` and each cluster's `A.bootstrap.servers = host:port`)"

test('format: an empty .yaml file says it is empty and that a KafkaMirrorMaker2 resource was expected', async () => {
  const file = write('mm2.yaml', '')
  await rejectsWith(file, [`${file}: the file is empty; ${RESOURCE}`], NO_PROPERTIES_ERROR)
})

test('format: a .yaml file of blank lines and comments is empty too', async () => {
  const file = write('mm2.yaml', '\n  \n# a comment\n---\n   # another\n')
  await rejectsWith(file, [`${file}: the file has only comments and blank lines; ${RESOURCE}`], NO_PROPERTIES_ERROR)
})

test('format: a binary .yaml file is not a text file; the message gives the offset of the first NUL byte', async () => {
  const bytes = Uint8Array.from([0x6b, 0x69, 0x6e, 0x64, 0x0a, 0x9f, 0x00, 0x41, 0xff, 0x10, 0x00, 0x7f])
  const file = write('mm2.yaml', bytes)
  await rejectsWith(
    file,
    [`${file}:2: not a UTF-8 text file (byte 0x9f at offset 5); ${RESOURCE}`],
    NO_PROPERTIES_ERROR
  )
  const nul = write('mm2.yaml', Uint8Array.from([0x61, 0x3a, 0x20, 0x62, 0x00, 0x0a]))
  await rejectsWith(nul, [`${nul}:1: not a UTF-8 text file (byte 0x00 at offset 4); ${RESOURCE}`], NO_PROPERTIES_ERROR)
})

test('format: an invalid UTF-8 .yml file (Latin-1) names the first bad byte, its offset and line', async () => {
  const text = Buffer.from('apiVersion: kafka.strimzi.io/v1\n# caf\u00e9\n', 'latin1')
  const file = write('mirror.yml', text)
  await rejectsWith(
    file,
    [`${file}:2: not a UTF-8 text file (byte 0xe9 at offset 37); ${RESOURCE}`],
    NO_PROPERTIES_ERROR
  )
})

test('format: a U+FFFD written in the file is valid UTF-8; the bad byte after it is still found at its offset', async () => {
  const file = write('mm2.yaml', Buffer.concat([Buffer.from('# \ufffd\n', 'utf8'), Buffer.from([0xc3, 0x28])]))
  await rejectsWith(file, [`${file}:2: not a UTF-8 text file (byte 0xc3 at offset 6)`])
})

test('format: mm2.properties text named .yaml gets the YAML error and a hint to name it .properties, never a properties error', async () => {
  const file = write('mm2.yaml', `# MM2\n${PROPERTIES}`)
  await rejectsWith(
    file,
    [
      `${file}:2: ${RESOURCE}, got a string; this looks like mm2.properties (\`clusters\` on line 2): name the file .properties to load it as one`
    ],
    NO_PROPERTIES_ERROR
  )
})

test('format: mm2.properties with a YAML syntax error named .yaml: the syntax error, its line, the expectation and the hint', async () => {
  const file = write('mm2.yaml', 'clusters = A, B\nA.bootstrap.servers = a:1\n  A.security.protocol: SSL\n')
  await rejectsWith(
    file,
    [
      /:1: YAML syntax error: /,
      RESOURCE,
      'this looks like mm2.properties (`clusters` on line 1): name the file .properties'
    ],
    NO_PROPERTIES_ERROR
  )
})

test('format: a YAML syntax error never quotes the file: mm2.properties named .yaml holds passwords inline', async () => {
  const file = write(
    'mm2.yaml',
    'clusters = A, B\n# the source\nA.sasl.jaas.config = org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="TopSecret42";\n'
  )
  await rejectsWith(
    file,
    [
      /:3: YAML syntax error: Unexpected scalar token in YAML stream; expected a Strimzi/,
      'this looks like mm2.properties'
    ],
    [/TopSecret/, /PlainLoginModule/]
  )
})

test('format: colon-separated mm2.properties named .json is a mapping without apiVersion or kind, with the hint', async () => {
  const file = write('mm2.json', 'clusters: A, B\nA.bootstrap.servers: a:1\n')
  await rejectsWith(
    file,
    [`${file}:1: ${RESOURCE}, got a mapping without apiVersion or kind; this looks like mm2.properties`],
    NO_PROPERTIES_ERROR
  )
})

test('format: a YAML list or scalar in .yaml is not a mapping; no properties hint for YAML that does not look like it', async () => {
  const list = write('mm2.yaml', '# list\n- apiVersion: kafka.strimzi.io/v1\n- kind: KafkaMirrorMaker2\n')
  await rejectsWith(
    list,
    [`${list}:2: ${RESOURCE}, got a list`],
    [...NO_PROPERTIES_ERROR, /looks like mm2\.properties/]
  )
  const scalar = write('mm2.yaml', 'just some words\n')
  await rejectsWith(
    scalar,
    [`${scalar}:1: ${RESOURCE}, got a string`],
    [...NO_PROPERTIES_ERROR, /looks like mm2\.properties/]
  )
})

test('format: a KafkaMirrorMaker2 resource in a .properties file gets a hint to name it .yaml', async () => {
  const file = write('mm2.properties', `# the mirror\n${strimziV1()}`)
  await rejectsWith(file, [
    `${file}:2: ${PROPS}, but this looks like a Kubernetes resource (\`apiVersion:\` on line 2): name the file .yaml to load it as a KafkaMirrorMaker2 resource`
  ])
})

test('format: an empty .properties file says what mm2.properties needs', async () => {
  const file = write('mm2.properties', '# nothing yet\n! nor here\n\n')
  await rejectsWith(
    file,
    [`${file}: the file has only comments and blank lines; ${PROPS}`],
    [/required key is missing/]
  )
  const empty = write('mm2.properties', '')
  await rejectsWith(empty, [`${empty}: the file is empty; ${PROPS}`], [/required key is missing/])
})

test('format: an empty file without an extension names both formats', async () => {
  const file = write('mirror-config', '\n')
  await rejectsWith(file, [`${file}: the file is empty; ${PROPS} or ${RESOURCE.replace(/^expected /, '')}`])
})

test('format: a binary .properties file says an mm2.properties file was expected', async () => {
  const file = write('mm2.properties', Uint8Array.from([0x00, 0x01, 0x02]))
  await rejectsWith(file, [`${file}:1: not a UTF-8 text file (byte 0x00 at offset 0); ${PROPS}`])
})

test('format: without an extension the content decides, as before (resource and mm2.properties)', async () => {
  const cr = await loadConfig(write('mirror', strimziV1()), { env: {} })
  assert.equal(cr.config.origin.format, 'strimzi')
  const props = await loadConfig(write('mirror', PROPERTIES), { env: {} })
  assert.equal(props.config.origin.format, 'properties')
  assert.deepEqual(
    props.config.flows.filter(f => f.enabled).map(f => f.name),
    ['A->B']
  )
})

test('format: other extensions decide from the content; the extension is case-insensitive', async () => {
  assert.equal((await loadConfig(write('mirror.conf', PROPERTIES), { env: {} })).config.origin.format, 'properties')
  assert.equal((await loadConfig(write('mirror.txt', strimziV1()), { env: {} })).config.origin.format, 'strimzi')
  assert.equal((await loadConfig(write('MIRROR.YAML', strimziV1()), { env: {} })).config.origin.format, 'strimzi')
  await rejectsWith(write('MM2.YML', PROPERTIES), ['looks like mm2.properties'], NO_PROPERTIES_ERROR)
})

test('format: a UTF-8 byte order mark does not hide a resource', async () => {
  const { config } = await loadConfig(write('mm2.yaml', `\ufeff${strimziV1()}`), { env: {} })
  assert.equal(config.origin.format, 'strimzi')
})

test('format: a Latin-1 mm2.properties loads as Java reads it (ISO-8859-1), with the non-ASCII warning', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-latin1-'))
  const file = join(dir, 'mm2.properties')
  writeFileSync(
    file,
    Buffer.concat([
      Buffer.from('# r'),
      Buffer.from([0xe9]),
      Buffer.from(
        'sum\nclusters = A, B\nA.bootstrap.servers = a:9092\nB.bootstrap.servers = b:9092\nA->B.enabled = true\n'
      )
    ])
  )
  const loaded = await loadConfig(file)
  assert.deepEqual([...loaded.config.clusters.keys()], ['A', 'B'])
  assert.ok(
    loaded.warnings.some(w => /non-ASCII characters on line\(s\) 1/.test(String(w))),
    loaded.warnings.join('\n')
  )
})
