import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FormatError } from '../../../src/errors.ts'
import {
  decodeOffsetSync,
  encodeOffsetSync,
  encodeOffsetSyncKey,
  encodeOffsetSyncValue,
  formatOffsetSync
} from '../../../src/formats/offset-sync.ts'
import { golden, hex, unhex } from './golden-fixture.ts'

test('spec example: orders/3 upstream 1000 downstream 990', () => {
  const sync = { topic: 'orders', partition: 3, upstreamOffset: 1000n, downstreamOffset: 990n }
  const { key, value } = encodeOffsetSync(sync)
  assert.equal(hex(key), '00066f726465727300000003')
  assert.equal(hex(value), '00000000000003e8' + '00000000000003de')
  assert.equal(value.length, 16)
  assert.deepEqual(decodeOffsetSync(key, value), sync)
})

for (const g of golden.offsetSync) {
  test(`Java golden OffsetSync ${JSON.stringify(g.topic.slice(0, 20))}-${g.partition}`, () => {
    const sync = {
      topic: g.topic,
      partition: g.partition,
      upstreamOffset: BigInt(g.upstreamOffset),
      downstreamOffset: BigInt(g.downstreamOffset)
    }
    assert.equal(hex(encodeOffsetSyncKey(sync)), g.key)
    assert.equal(hex(encodeOffsetSyncValue(sync)), g.value)
    assert.deepEqual(decodeOffsetSync(unhex(g.key), unhex(g.value)), sync)
    assert.equal(formatOffsetSync(sync), g.text)
  })
}

test('decode ignores trailing bytes and rejects truncated or null input', () => {
  const key = unhex('00066f726465727300000003')
  const value = unhex('00000000000003e800000000000003de')
  assert.equal(
    decodeOffsetSync(Buffer.concat([key, unhex('ff')]), Buffer.concat([value, unhex('00')])).downstreamOffset,
    990n
  )
  assert.throws(() => decodeOffsetSync(key.subarray(0, 10), value), FormatError)
  assert.throws(() => decodeOffsetSync(key, value.subarray(0, 15)), /OffsetSync value: truncated reading field offset/)
  assert.throws(() => decodeOffsetSync(null, value), /OffsetSync key: is null/)
  assert.throws(() => decodeOffsetSync(key, null), FormatError)
})
