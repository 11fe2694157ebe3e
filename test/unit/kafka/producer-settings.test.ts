import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MAX_PARTITION_BATCH_BYTES, producerSettings } from '../../../src/kafka/producer-settings.ts'
import { ConfigError } from '../../../src/errors.ts'

const cfg = (props: Record<string, string>) => ({ cluster: 'B', bootstrapServers: ['b:9092'], props })

const accepted: Array<
  [
    Record<string, string>,
    { compression: string; compressionSet: boolean; acksAll: boolean; partitionBatchBytes: number }
  ]
> = [
  [{}, { compression: 'none', compressionSet: false, acksAll: true, partitionBatchBytes: MAX_PARTITION_BATCH_BYTES }],
  [
    { 'compression.type': 'zstd' },
    { compression: 'zstd', compressionSet: true, acksAll: true, partitionBatchBytes: MAX_PARTITION_BATCH_BYTES }
  ],
  [
    { 'compression.type': 'LZ4 ' },
    { compression: 'lz4', compressionSet: true, acksAll: true, partitionBatchBytes: MAX_PARTITION_BATCH_BYTES }
  ],
  [
    { 'compression.type': 'gzip', acks: '-1' },
    { compression: 'gzip', compressionSet: true, acksAll: true, partitionBatchBytes: MAX_PARTITION_BATCH_BYTES }
  ],
  [
    { 'compression.type': 'snappy', acks: '1' },
    { compression: 'snappy', compressionSet: true, acksAll: false, partitionBatchBytes: MAX_PARTITION_BATCH_BYTES }
  ],
  [
    { 'batch.size': '16384', 'linger.ms': '10' },
    { compression: 'none', compressionSet: false, acksAll: true, partitionBatchBytes: 16384 }
  ],
  [
    { 'batch.size': String(4 * 1024 * 1024) },
    { compression: 'none', compressionSet: false, acksAll: true, partitionBatchBytes: MAX_PARTITION_BATCH_BYTES }
  ],
  [{ 'batch.size': '0' }, { compression: 'none', compressionSet: false, acksAll: true, partitionBatchBytes: 1 }]
]
for (const [props, expected] of accepted) {
  test(`producer settings: ${JSON.stringify(props)}`, () => {
    assert.deepEqual(producerSettings(cfg(props)), expected)
  })
}

const refused: Array<[Record<string, string>, RegExp]> = [
  [
    { 'compression.type': 'brotli' },
    /cluster B \(b:9092\): producer compression.type="brotli" is not supported; expected none, gzip, snappy, lz4, zstd/
  ],
  [{ acks: '0' }, /acks="0" .*no copied position could be stored safely/],
  [{ acks: 'leader' }, /acks="leader" is not supported; expected all, -1 or 1/],
  [{ 'batch.size': '-1' }, /batch.size="-1" .*a number of bytes \(0 or more\)/],
  [{ 'batch.size': '16k' }, /batch.size="16k"/],
  [{ 'linger.ms': '-5' }, /linger.ms="-5"/]
]
for (const [props, message] of refused) {
  test(`producer settings refused: ${JSON.stringify(props)}`, () => {
    assert.throws(
      () => producerSettings(cfg(props)),
      (err: Error) => err instanceof ConfigError && message.test(err.message)
    )
  })
}
