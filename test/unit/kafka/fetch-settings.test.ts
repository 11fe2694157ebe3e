import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigError } from '../../../src/errors.ts'
import { copierReaderOptions, DEFAULT_FETCH_MAX_BYTES, fetchSettings } from '../../../src/kafka/fetch-settings.ts'

const cfg = (props: Record<string, string>) => ({ cluster: 'A', bootstrapServers: ['a:9092'], props })

const accepted: Array<[Record<string, string>, ReturnType<typeof fetchSettings>]> = [
  [{}, { maxBytes: DEFAULT_FETCH_MAX_BYTES, partitionMaxBytes: undefined, minBytes: 1, maxWaitMs: 500 }],
  [
    {
      'fetch.max.bytes': '1048576',
      'max.partition.fetch.bytes': ' 262144 ',
      'fetch.min.bytes': '65536',
      'fetch.max.wait.ms': '100'
    },
    { maxBytes: 1_048_576, partitionMaxBytes: 262_144, minBytes: 65_536, maxWaitMs: 100 }
  ],
  // Java accepts 0 for all four: one batch per fetch, an answer at once.
  [
    { 'fetch.max.bytes': '0', 'max.partition.fetch.bytes': '0', 'fetch.min.bytes': '0', 'fetch.max.wait.ms': '0' },
    { maxBytes: 0, partitionMaxBytes: 0, minBytes: 0, maxWaitMs: 0 }
  ],
  [
    { 'fetch.max.bytes': '2147483647' },
    { maxBytes: 2_147_483_647, partitionMaxBytes: undefined, minBytes: 1, maxWaitMs: 500 }
  ]
]
for (const [props, expected] of accepted) {
  test(`fetch settings: ${JSON.stringify(props)}`, () => {
    assert.deepEqual(fetchSettings(cfg(props)), expected)
  })
}

const refused: Array<[Record<string, string>, RegExp]> = [
  [
    { 'fetch.max.bytes': '4m' },
    /^cluster A \(a:9092\): consumer fetch.max.bytes="4m" is not supported; expected a number of bytes \(0 or more\)$/
  ],
  [{ 'max.partition.fetch.bytes': '-1' }, /max.partition.fetch.bytes="-1" .*a number of bytes \(0 or more\)/],
  [{ 'fetch.min.bytes': '1.5' }, /fetch.min.bytes="1.5"/],
  [{ 'fetch.max.wait.ms': '' }, /fetch.max.wait.ms="" .*a number of milliseconds \(0 or more\)/],
  [{ 'fetch.max.bytes': '2147483648' }, /fetch.max.bytes="2147483648"/]
]
for (const [props, message] of refused) {
  test(`fetch settings refused: ${JSON.stringify(props)}`, () => {
    assert.throws(
      () => fetchSettings(cfg(props)),
      (err: unknown) => err instanceof ConfigError && message.test(err.message)
    )
  })
}

test('a copier reader fetches per partition what one send carries unless max.partition.fetch.bytes says otherwise', () => {
  assert.deepEqual(copierReaderOptions(cfg({}), 16_384), {
    maxBytes: DEFAULT_FETCH_MAX_BYTES,
    partitionMaxBytes: 16_384,
    minBytes: 1,
    maxWaitMs: 500
  })
  assert.deepEqual(
    copierReaderOptions(cfg({ 'max.partition.fetch.bytes': '1048576', 'fetch.max.bytes': '2097152' }), 16_384),
    {
      maxBytes: 2_097_152,
      partitionMaxBytes: 1_048_576,
      minBytes: 1,
      maxWaitMs: 500
    }
  )
})
