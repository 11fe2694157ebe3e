import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Buffer } from 'node:buffer'
import { FormatError } from '../../../src/errors.ts'
import {
  decodeAssignment,
  decodeMemberMetadata,
  encodeAssignment,
  encodeMemberMetadata,
  type MemberMetadata
} from '../../../src/group/group-codec.ts'
import { fixtureAssignment, fixtureMetadata, groupGolden } from './codec-fixture.ts'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const framed = (json: string, version = 1): Buffer => {
  const body = Buffer.from(json, 'utf8')
  const out = Buffer.alloc(2 + body.length)
  out.writeInt16BE(version, 0)
  body.copy(out, 2)
  return out
}

/** Metadata compared as values: sets and maps by content, jobs in any order. */
function plainMetadata(m: MemberMetadata): unknown {
  return {
    instance: m.instance,
    flows: [...m.flows].map(([name, f]) => [name, { ...f, jobs: [...f.jobs].sort() }]).sort(),
    owned: [...m.owned].sort(),
    released: [...m.released].sort(),
    topics: [...m.topics].map(([flow, view]) => [flow, [...view].sort()]).sort()
  }
}

for (const g of groupGolden.metadata) {
  test(`golden member metadata: ${g.name}`, () => {
    const value = fixtureMetadata(g.value)
    assert.equal(hex(encodeMemberMetadata(value)), g.hex)
    const decoded = decodeMemberMetadata(Buffer.from(g.hex, 'hex'))
    assert.deepEqual(plainMetadata(decoded), plainMetadata(value))
  })
}

for (const g of groupGolden.assignment) {
  test(`golden assignment: ${g.name}`, () => {
    const value = fixtureAssignment(g.value)
    assert.equal(hex(encodeAssignment(value)), g.hex)
    assert.deepEqual(decodeAssignment(Buffer.from(g.hex, 'hex')), value)
  })
}

test('the bytes are a version then readable JSON with partition ranges', () => {
  const bytes = encodeMemberMetadata(fixtureMetadata(groupGolden.metadata[1]!.value))
  assert.equal(bytes.readInt16BE(0), 1)
  const text = bytes.subarray(2).toString('utf8')
  assert.match(text, /"owned":\["topics:A->B","copy:A->B:orders:0-2,5","copy:A->B:pay:0"\]/)
  assert.match(text, /"copy:A->B:orders:6":"1041"/)
})

test('equal values give equal bytes whatever the insertion order', () => {
  const a = fixtureMetadata({
    instance: 'x',
    flows: {},
    owned: ['copy:A->B:t:2', 'topics:A->B', 'copy:A->B:t:1'],
    released: { 'copy:A->B:t:9': '1', 'copy:A->B:t:10': null },
    topics: { 'A->B': { z: 1, a: 2 } }
  })
  const b = fixtureMetadata({
    instance: 'x',
    flows: {},
    owned: ['topics:A->B', 'copy:A->B:t:1', 'copy:A->B:t:2'],
    released: { 'copy:A->B:t:10': null, 'copy:A->B:t:9': '1' },
    topics: { 'A->B': { a: 2, z: 1 } }
  })
  assert.equal(hex(encodeMemberMetadata(a)), hex(encodeMemberMetadata(b)))
})

test('a view of 10,000 partitions encodes in a few hundred bytes', () => {
  const owned = Array.from({ length: 10_000 }, (_, p) => `copy:A->B:big:${p}`)
  const bytes = encodeMemberMetadata(
    fixtureMetadata({ instance: 'x', flows: {}, owned, released: {}, topics: { 'A->B': { big: 10_000 } } })
  )
  assert.ok(bytes.length < 200, `${bytes.length} bytes`)
  assert.equal(decodeMemberMetadata(bytes).owned.size, 10_000)
})

test('decode errors say what is wrong', () => {
  const cases: Array<[Uint8Array, RegExp]> = [
    [Buffer.alloc(0), /member metadata: 0 bytes, too short for the INT16 version/],
    [framed('{}', 2), /format version 2 is newer than this kafka-mirror reads \(1\)/],
    [framed('{}', 0), /format version 0 is not a kafka-mirror format/],
    [framed('{"instance":'), /the body after the version is not JSON/],
    [framed('[1]'), /body: expected an object, got \[1\]/],
    [framed('{"flows":{}}'), /instance: expected a string, got nothing/],
    [framed('{"instance":"x","flows":[]}'), /flows: expected an object, got \[\]/],
    [
      framed('{"instance":"x","flows":{"A->B":{"digest":"d","tasksMax":0,"jobs":[]}}}'),
      /flows\["A->B"\]\.tasksMax: expected an integer >= 1, got 0/
    ],
    [
      framed('{"instance":"x","flows":{"A->B":{"digest":"d","tasksMax":1,"jobs":["copy"]}}}'),
      /flows\["A->B"\]\.jobs\[0\]: expected one of topics, checkpoints, heartbeats, got "copy"/
    ],
    [
      framed('{"instance":"x","flows":{},"owned":["copy:A->B:t:1-x"]}'),
      /owned\[0\] "copy:A->B:t:1-x": partition must be a number/
    ],
    [framed('{"instance":"x","flows":{},"owned":[3]}'), /owned\[0\]: expected a string, got 3/],
    [
      framed('{"instance":"x","flows":{},"owned":[],"released":{"topics:A->B":12}}'),
      /released\["topics:A->B"\]: expected an offset >= 0 as a decimal string, got 12/
    ],
    [framed('{"instance":"x","flows":{},"owned":[],"released":{"nonsense":null}}'), /released key: expected copy:/],
    [
      framed('{"instance":"x","flows":{},"owned":[],"released":{"copy:A->B:t:1":"9223372036854775808"}}'),
      /expected an offset >= 0/
    ],
    [
      framed('{"instance":"x","flows":{},"owned":[],"released":{},"topics":{"A->B":{"t":-1}}}'),
      /topics\["A->B"\]\["t"\]: expected an integer >= 0, got -1/
    ],
    [
      framed('{"instance":"x","flows":{},"owned":[],"released":{},"topics":{"A->B":{"a:b":1}}}'),
      /topics\["A->B"\]: "a:b" is not a Kafka topic name/
    ],
    [framed('{"instance":"x","flows":{"":{"digest":"d","tasksMax":1,"jobs":[]}}}'), /flows: a flow without a name/]
  ]
  for (const [bytes, message] of cases) {
    assert.throws(
      () => decodeMemberMetadata(bytes),
      (err: unknown) =>
        err instanceof FormatError &&
        message.test(err.message) &&
        err.message.startsWith('kafka-mirror member metadata: '),
      message.source
    )
  }
})

test('assignment decode errors say what is wrong', () => {
  const ok =
    '"generation":1,"units":["copy:A->B:t:0-1"],"revoked":["copy:A->B:t:2"],"handOver":{},"quiet":[],"tasks":{}'
  assert.equal(decodeAssignment(framed(`{${ok}}`)).units.size, 2)
  const cases: Array<[string, RegExp]> = [
    ['{"generation":-1}', /generation: expected an integer >= 0, got -1/],
    [
      `{${ok.replace('"revoked":["copy:A->B:t:2"]', '"revoked":["copy:A->B:t:1"]')}}`,
      /copy:A->B:t:1 is both in units and in revoked/
    ],
    [
      `{${ok.replace('"handOver":{}', '"handOver":{"copy:A->B:t:5":"3"}')}}`,
      /handOver names copy:A->B:t:5, which is not in units/
    ],
    [`{${ok.replace('"quiet":[]', '"quiet":["copy:A->B:t:2"]')}}`, /quiet names copy:A->B:t:2, which is not in units/],
    [`{${ok.replace('"tasks":{}', '"tasks":{"A->B":"2"}')}}`, /tasks\["A->B"\]: expected an integer >= 0, got "2"/],
    [`{${ok},"error":5}`, /error: expected a string, got 5/]
  ]
  for (const [json, message] of cases) {
    assert.throws(
      () => decodeAssignment(framed(json)),
      (err: unknown) =>
        err instanceof FormatError && message.test(err.message) && err.message.startsWith('kafka-mirror assignment: '),
      message.source
    )
  }
})

test('unknown fields are ignored (a later version 1 writer may add some)', () => {
  const a = decodeAssignment(
    framed('{"generation":3,"units":[],"revoked":[],"handOver":{},"quiet":[],"tasks":{},"hint":"x"}')
  )
  assert.equal(a.generation, 3)
})
