import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FormatError } from '../../../src/errors.ts'
import { StructReader, StructWriter, javaUtf8, javaUtf8Length } from '../../../src/formats/struct.ts'
import { hex, unhex } from './golden-fixture.ts'

test('writer: big-endian integers and INT16-length UTF-8 strings', () => {
  const cases: Array<[string, (w: StructWriter) => StructWriter, string]> = [
    ['int16 0', w => w.int16('f', 0), '0000'],
    ['int16 -1', w => w.int16('f', -1), 'ffff'],
    ['int16 max', w => w.int16('f', 32767), '7fff'],
    ['int32 3', w => w.int32('f', 3), '00000003'],
    ['int32 min', w => w.int32('f', -2147483648), '80000000'],
    ['int64 1000', w => w.int64('f', 1000n), '00000000000003e8'],
    ['int64 min', w => w.int64('f', -(2n ** 63n)), '8000000000000000'],
    ['string empty', w => w.string('f', ''), '0000'],
    ['string orders', w => w.string('f', 'orders'), '00066f7264657273'],
    ['string é', w => w.string('f', 'é'), '0002c3a9'],
    ['string emoji', w => w.string('f', '😀'), '0004f09f9880'],
    // Java: '?' for the unpaired surrogate, plus the zero bytes its sizing leaves at the end.
    ['string lone high surrogate', w => w.string('f', 'a\ud800b'), '0003613f62' + '0000'],
    ['string lone low surrogate', w => w.string('f', 'a\udc00').int16('g', 1), '0002613f' + '0001' + '0000'],
    ['string lone high surrogate last', w => w.string('f', '\ud800'), '00013f' + '000000'],
    ['string lone high surrogate before é', w => w.string('f', '\ud800é'), '00033fc3a9' + '00'],
    // Past the writer's first buffer: earlier bytes are kept, later fields land after them.
    [
      'fields after a long string',
      w => w.string('f', 'x'.repeat(70)).int16('a', 1).int32('b', 2).int64('c', 3n),
      '0046' + '78'.repeat(70) + '0001' + '00000002' + '0000000000000003'
    ],
    [
      'lone surrogate padding after a long string',
      w => w.string('f', 'y'.repeat(62) + '\ud800'),
      '003f' + '79'.repeat(62) + '3f' + '000000'
    ]
  ]
  for (const [name, write, want] of cases) {
    assert.equal(hex(write(new StructWriter('T')).toBuffer()), want, name)
  }
})

test('writer: values that cannot be encoded throw FormatError', () => {
  const bad: Array<[string, (w: StructWriter) => unknown]> = [
    ['int16 too big', w => w.int16('f', 32768)],
    ['int32 fraction', w => w.int32('f', 1.5)],
    ['int32 too big', w => w.int32('f', 2 ** 31)],
    ['int64 too big', w => w.int64('f', 2n ** 63n)],
    ['int64 number', w => w.int64('f', 5 as unknown as bigint)],
    ['string null', w => w.string('f', null as unknown as string)],
    ['string too long', w => w.string('f', 'x'.repeat(32768))]
  ]
  for (const [name, write] of bad) {
    assert.throws(() => write(new StructWriter('T')), FormatError, name)
  }
  assert.equal(new StructWriter('T').string('f', 'x'.repeat(32767)).toBuffer().length, 32769)
})

test('reader: reads fields in order and ignores trailing bytes', () => {
  const r = new StructReader('T', unhex('0006 6f72646572 73 00000003 00000000000003e8 ffff dead'))
  assert.equal(r.string('topic'), 'orders')
  assert.equal(r.int32('partition'), 3)
  assert.equal(r.int64('offset'), 1000n)
  assert.equal(r.int16('v'), -1)
  assert.equal(r.remaining, 2)
})

test('reader: reads from a Uint8Array view with an offset', () => {
  const backing = unhex('ff ff 0001 41 ff')
  const r = new StructReader('T', new Uint8Array(backing.buffer, backing.byteOffset + 2, 3))
  assert.equal(r.string('s'), 'A')
})

test('reader: truncation, negative lengths and null throw FormatError naming the field', () => {
  const cases: Array<[string, Uint8Array | null, (r: StructReader) => unknown, RegExp]> = [
    [
      'empty int16',
      unhex(''),
      r => r.int16('version'),
      /T: truncated reading field version \(INT16\) at byte 0: need 2 bytes, 0 left/
    ],
    ['short int32', unhex('000000'), r => r.int32('partition'), /partition \(INT32\).*need 4 bytes, 3 left/],
    ['short int64', unhex('00000000000000'), r => r.int64('offset'), /offset \(INT64\)/],
    ['string body', unhex('0005616263'), r => r.string('topic'), /topic \(STRING\) at byte 2: need 5 bytes, 3 left/],
    ['string length', unhex('00'), r => r.string('topic'), /topic \(STRING length\)/],
    ['negative length', unhex('ffff'), r => r.string('topic'), /negative STRING length -1/],
    ['null', null, () => undefined, /T: is null/]
  ]
  for (const [name, bytes, read, msg] of cases) {
    assert.throws(
      () => read(new StructReader('T', bytes)),
      (err: unknown) => {
        assert.ok(err instanceof FormatError, name)
        assert.equal(err.code, 'KM_FORMAT')
        assert.match(err.message, msg, name)
        return true
      },
      name
    )
  }
})

test('javaUtf8 replaces only unpaired surrogates, like String.getBytes(UTF_8)', () => {
  assert.equal(javaUtf8('\udc00x\ud83d\ude00\ud800').toString('latin1'), '?x\xf0\x9f\x98\x80?')
  assert.equal(hex(javaUtf8('plain')), '706c61696e')
})

test('javaUtf8Length counts like Java Utils.utf8Length', () => {
  const cases: Array<[string, number]> = [
    ['', 0],
    ['abc', 3],
    ['é', 2],
    ['€', 3],
    ['😀', 4],
    ['\ud800', 4],
    ['\ud800x', 4],
    ['\udc00', 3],
    ['a\ud800bc', 6]
  ]
  for (const [s, n] of cases) assert.equal(javaUtf8Length(s), n, JSON.stringify(s))
})
