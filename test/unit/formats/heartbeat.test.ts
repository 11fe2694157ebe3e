import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FormatError } from '../../../src/errors.ts'
import {
  HEARTBEAT_VERSION,
  decodeHeartbeat,
  encodeHeartbeat,
  encodeHeartbeatKey,
  encodeHeartbeatValue,
  formatHeartbeat
} from '../../../src/formats/heartbeat.ts'
import { golden, hex, unhex } from './golden-fixture.ts'

test('spec example: A -> B at 1700000000000', () => {
  const hb = { sourceClusterAlias: 'A', targetClusterAlias: 'B', timestamp: 1700000000000n }
  const { key, value } = encodeHeartbeat(hb)
  assert.equal(hex(key), '000141000142')
  assert.equal(hex(value), '0000' + '0000018bcfe56800')
  assert.equal(HEARTBEAT_VERSION, 0)
  assert.deepEqual(decodeHeartbeat(key, value), hb)
})

for (const g of golden.heartbeat) {
  test(`Java golden Heartbeat ${JSON.stringify(g.sourceClusterAlias)} -> ${JSON.stringify(g.targetClusterAlias)} @ ${g.timestamp}`, () => {
    const hb = {
      sourceClusterAlias: g.sourceClusterAlias,
      targetClusterAlias: g.targetClusterAlias,
      timestamp: BigInt(g.timestamp)
    }
    assert.equal(hex(encodeHeartbeatKey(hb)), g.key)
    assert.equal(hex(encodeHeartbeatValue(hb)), g.value)
    assert.deepEqual(decodeHeartbeat(unhex(g.key), unhex(g.value)), hb)
    assert.equal(formatHeartbeat(hb), g.text)
  })
}

test('any version is read as v0; truncated input throws FormatError', () => {
  assert.equal(decodeHeartbeat(unhex('000141000142'), unhex('0003 0000018bcfe56800 99')).timestamp, 1700000000000n)
  assert.throws(() => decodeHeartbeat(unhex('000141000142'), unhex('0000 0000018bcfe568')), FormatError)
  assert.throws(
    () => decodeHeartbeat(unhex('0001410001'), unhex('0000 0000018bcfe56800')),
    /Heartbeat key: truncated reading field targetClusterAlias/
  )
})
