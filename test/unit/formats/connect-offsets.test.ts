import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FormatError } from '../../../src/errors.ts'
import {
  decodeCheckpointOffsetKey,
  decodeConnectOffsetKey,
  decodeHeartbeatOffsetKey,
  decodeOffsetValue,
  decodeSourceOffsetKey,
  encodeCheckpointOffsetKey,
  encodeHeartbeatOffsetKey,
  encodeOffsetValue,
  encodeSourceOffsetKey,
  javaPartition,
  murmur2
} from '../../../src/formats/connect-offsets.ts'
import { toPositive } from '../../../src/formats/murmur2.ts'
import { jacksonString } from '../../../src/formats/java-json.ts'
import { golden, hex, unhex } from './golden-fixture.ts'

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8')

test('spec example source key, byte-exact', () => {
  const key = encodeSourceOffsetKey({ connector: 'MirrorSourceConnector', cluster: 'A', topic: 'orders', partition: 0 })
  assert.equal(key.toString('utf8'), '["MirrorSourceConnector",{"cluster":"A","partition":0,"topic":"orders"}]')
})

function testGoldenKeys<K>(
  kind: string,
  rows: ReadonlyArray<K & { key: string; text: string }>,
  encode: (k: K) => Buffer,
  decode: (b: Buffer) => K
): void {
  for (const { key, text, ...k } of rows) {
    test(`Java golden JsonConverter key, ${kind} ${text}`, () => {
      assert.equal(hex(encode(k as K)), key)
      assert.deepEqual(decode(unhex(key)), k)
    })
  }
}

testGoldenKeys('source', golden.connectKeys.source, encodeSourceOffsetKey, decodeSourceOffsetKey)
testGoldenKeys('checkpoint', golden.connectKeys.checkpoint, encodeCheckpointOffsetKey, decodeCheckpointOffsetKey)
testGoldenKeys('heartbeat', golden.connectKeys.heartbeat, encodeHeartbeatOffsetKey, decodeHeartbeatOffsetKey)

test('Java golden JsonConverter values {"offset":N}, exact beyond 2^53', () => {
  for (const g of golden.connectValues) {
    assert.equal(hex(encodeOffsetValue(BigInt(g.offset))), g.value, g.offset)
    assert.equal(decodeOffsetValue(unhex(g.value)), BigInt(g.offset), g.offset)
  }
})

test('Jackson string escaping', () => {
  const cases: Array<[string, string]> = [
    ['plain', '"plain"'],
    ['q"b\\s/', '"q\\"b\\\\s/"'],
    ['\b\t\n\f\r', '"\\b\\t\\n\\f\\r"'],
    ['\u0000\u001f\u007f', '"\\u0000\\u001F\u007f"'],
    ['é\u2028', '"é\u2028"'],
    ['😀', '"\\uD83D\\uDE00"'],
    ['x\ud800', '"x\\uD800"']
  ]
  for (const [input, want] of cases) assert.equal(jacksonString(input), want, JSON.stringify(input))
})

test('decoders accept any key order, whitespace and extra fields', () => {
  assert.deepEqual(
    decodeSourceOffsetKey(
      utf8('[ "c" , { "topic" : "t", "partition": 2, "cluster": "A", "extra": [1, {"x": null}] } ]')
    ),
    { connector: 'c', cluster: 'A', topic: 't', partition: 2 }
  )
  assert.deepEqual(decodeCheckpointOffsetKey(utf8('["c",{"group":"g","topic":"A.t","partition":0}]')), {
    connector: 'c',
    group: 'g',
    topic: 'A.t',
    partition: 0
  })
  assert.deepEqual(decodeHeartbeatOffsetKey(utf8('["c",{"targetClusterAlias":"B","sourceClusterAlias":"A"}]')), {
    connector: 'c',
    sourceClusterAlias: 'A',
    targetClusterAlias: 'B'
  })
  const any = decodeConnectOffsetKey(utf8('["c",{"partition":9007199254740993,"x":1.5}]'))
  assert.deepEqual(any, { connector: 'c', partition: { partition: 9007199254740993n, x: 1.5 } })
})

test('offset values: tombstones, missing offset, negatives, and bad shapes', () => {
  assert.equal(decodeOffsetValue(null), null)
  assert.equal(decodeOffsetValue(utf8('null')), null)
  assert.equal(decodeOffsetValue(utf8('{}')), null)
  assert.equal(decodeOffsetValue(utf8('{ "offset" : -1 }')), -1n)
  assert.equal(decodeOffsetValue(utf8('{"other":1,"offset":42}')), 42n)
  for (const bad of ['{"offset":1.5}', '{"offset":"1"}', '[1]', '{"offset":9223372036854775808}', '{', '']) {
    assert.throws(() => decodeOffsetValue(utf8(bad)), FormatError, bad)
  }
  assert.throws(() => encodeOffsetValue(2n ** 63n), FormatError)
  assert.throws(() => encodeOffsetValue(1 as unknown as bigint), FormatError)
})

test('bad keys throw FormatError', () => {
  const bad: Array<[string, (b: Buffer) => unknown]> = [
    ['{"a":1}', decodeConnectOffsetKey],
    ['["c"]', decodeConnectOffsetKey],
    ['[1,{}]', decodeConnectOffsetKey],
    ['["c",[]]', decodeConnectOffsetKey],
    ['not json', decodeConnectOffsetKey],
    ['["c",{"cluster":"A","topic":"t"}]', decodeSourceOffsetKey],
    ['["c",{"cluster":"A","topic":"t","partition":-1}]', decodeSourceOffsetKey],
    ['["c",{"cluster":"A","topic":"t","partition":2147483648}]', decodeSourceOffsetKey],
    ['["c",{"cluster":"A","topic":"t","partition":"0"}]', decodeSourceOffsetKey],
    ['["c",{"cluster":1,"topic":"t","partition":0}]', decodeSourceOffsetKey],
    ['["c",{"topic":"t","partition":0}]', decodeCheckpointOffsetKey],
    ['["c",{"sourceClusterAlias":"A"}]', decodeHeartbeatOffsetKey]
  ]
  for (const [text, decode] of bad) assert.throws(() => decode(utf8(text)), FormatError, text)
  assert.throws(() => decodeConnectOffsetKey(null), FormatError)
  assert.throws(() => encodeSourceOffsetKey({ connector: 'c', cluster: 'A', topic: 't', partition: -1 }), FormatError)
  assert.throws(
    () => encodeCheckpointOffsetKey({ connector: 'c', group: 'g', topic: 't', partition: 1.5 }),
    FormatError
  )
})

test('Java golden murmur2 and partitions (25, 7, 1)', () => {
  for (const g of golden.murmur2) {
    const key = unhex(g.key)
    assert.equal(murmur2(key), g.murmur2, g.key)
    assert.equal(javaPartition(key, 25), g.partition25, g.key)
    assert.equal(javaPartition(key, 7), g.partition7, g.key)
    assert.equal(javaPartition(key, 1), g.partition1, g.key)
  }
})

test('the partition of an encoded key matches Java for the same key bytes', () => {
  const g = golden.murmur2.find(m => unhex(m.key).toString('utf8').includes('"partition":1,'))
  assert.ok(g)
  const key = encodeSourceOffsetKey({ connector: 'MirrorSourceConnector', cluster: 'A', topic: 'orders', partition: 1 })
  assert.equal(javaPartition(key, 25), g.partition25)
})

test('toPositive clears the sign bit; javaPartition rejects bad partition counts', () => {
  assert.equal(toPositive(-1), 0x7fffffff)
  assert.equal(toPositive(-2147483648), 0)
  assert.equal(toPositive(5), 5)
  assert.throws(() => javaPartition(utf8('k'), 0), RangeError)
})
