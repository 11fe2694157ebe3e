import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FormatError } from '../../../src/errors.ts'
import {
  CHECKPOINT_VERSION,
  decodeCheckpoint,
  encodeCheckpoint,
  encodeCheckpointKey,
  encodeCheckpointValue,
  formatCheckpoint
} from '../../../src/formats/checkpoint.ts'
import type { Checkpoint } from '../../../src/formats/checkpoint.ts'
import { golden, hex, unhex } from './golden-fixture.ts'

test('spec example: g1 / A.orders / 3, upstream 1000, downstream 991, metadata ""', () => {
  const cp: Checkpoint = {
    group: 'g1',
    topic: 'A.orders',
    partition: 3,
    upstreamOffset: 1000n,
    downstreamOffset: 991n,
    metadata: ''
  }
  const { key, value } = encodeCheckpoint(cp)
  assert.equal(hex(key), '000267310008412e6f726465727300000003')
  assert.equal(hex(value), '0000' + '00000000000003e8' + '00000000000003df' + '0000')
  assert.equal(value.length, 20)
  assert.equal(CHECKPOINT_VERSION, 0)
  assert.deepEqual(decodeCheckpoint(key, value), cp)
  assert.equal(
    formatCheckpoint(cp),
    'Checkpoint{consumerGroupId=g1, topicPartition=A.orders-3, upstreamOffset=1000, downstreamOffset=991, metadata=}'
  )
})

for (const g of golden.checkpoint) {
  test(`Java golden Checkpoint ${JSON.stringify(g.group)} ${g.topic}-${g.partition}`, () => {
    const cp: Checkpoint = {
      group: g.group,
      topic: g.topic,
      partition: g.partition,
      upstreamOffset: BigInt(g.upstreamOffset),
      downstreamOffset: BigInt(g.downstreamOffset),
      metadata: g.metadata
    }
    assert.equal(hex(encodeCheckpointKey(cp)), g.key)
    assert.equal(hex(encodeCheckpointValue(cp)), g.value)
    // Java encodes an unpaired surrogate as '?', so that is what the group decodes to.
    assert.deepEqual(decodeCheckpoint(unhex(g.key), unhex(g.value)), { ...cp, group: cp.group.replace(/\ud800/, '?') })
    assert.equal(formatCheckpoint(cp), g.text)
  })
}

test('Java golden: a value with another version number (and trailing bytes) is read as v0', () => {
  const g = golden.checkpointOtherVersion
  assert.equal(g.value.slice(0, 4), '0007')
  assert.deepEqual(decodeCheckpoint(unhex(g.key), unhex(g.value)), {
    group: g.group,
    topic: g.topic,
    partition: g.partition,
    upstreamOffset: BigInt(g.upstreamOffset),
    downstreamOffset: BigInt(g.downstreamOffset),
    metadata: g.metadata
  })
})

test('decode rejects truncated input with FormatError', () => {
  const { key, value } = encodeCheckpoint({
    group: 'g1',
    topic: 'A.orders',
    partition: 3,
    upstreamOffset: 1n,
    downstreamOffset: 2n,
    metadata: 'md'
  })
  for (let n = 0; n < value.length; n++) {
    assert.throws(() => decodeCheckpoint(key, value.subarray(0, n)), FormatError, `value cut at ${n}`)
  }
  for (let n = 0; n < key.length; n++) {
    assert.throws(() => decodeCheckpoint(key.subarray(0, n), value), FormatError, `key cut at ${n}`)
  }
  assert.throws(() => decodeCheckpoint(key, unhex('0000' + '00'.repeat(16) + 'fffe')), /negative STRING length/)
})
