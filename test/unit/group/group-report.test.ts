import assert from 'node:assert/strict'
import { test } from 'node:test'
import { encodeAssignment, encodeMemberMetadata, type MemberAssignment } from '../../../src/group/group-codec.ts'
import { groupReport, renderGroupReport, unreachableReport } from '../../../src/group/group-report.ts'
import type { DescribedGroup, DescribedMember } from '../../../src/kafka/group-wire.ts'

const place = {
  groupId: 'A-mm2',
  cluster: 'B',
  bootstrap: ['b1:9092', 'b2:9092'],
  singletons: ['topics:A->B', 'checkpoints:A->B', 'heartbeats:A->B']
}

const copies = (topic: string, partitions: number[]): string[] => partitions.map(p => `copy:A->B:${topic}:${p}`)

function assignment(a: Partial<MemberAssignment> & { generation: number }): Buffer {
  return encodeAssignment({
    units: new Set(),
    revoked: new Set(),
    handOver: new Map(),
    quiet: new Set(),
    tasks: new Map(),
    ...a
  })
}

function ours(instance: string, memberId: string, a: Buffer): DescribedMember {
  return {
    memberId,
    clientId: `A->B|kafka-mirror|group`,
    clientHost: `/10.0.0.${instance.length}`,
    metadata: encodeMemberMetadata({
      instance,
      flows: new Map([['A->B', { digest: 'd', tasksMax: 3, jobs: ['topics', 'checkpoints', 'heartbeats'] }]]),
      owned: new Set(),
      released: new Map(),
      topics: new Map()
    }),
    assignment: a
  }
}

function group(state: string, members: DescribedMember[], protocolType = 'kafka-mirror'): DescribedGroup {
  return { errorCode: 0, groupId: 'A-mm2', state, protocolType, protocolName: 'kafka-mirror-v1', members }
}

test('a stable group: members by instance, generation from the assignments, units by owner compact with quiet and revoked marks', () => {
  const described = group('Stable', [
    // Listed out of order: the report sorts by instance label.
    ours(
      'host-b/2',
      'm-b',
      assignment({
        generation: 7,
        units: new Set([...copies('orders', [3, 4, 5, 10]), 'checkpoints:A->B']),
        quiet: new Set(copies('orders', [10])),
        tasks: new Map([['A->B', 1]])
      })
    ),
    ours(
      'host-a/1',
      'm-a',
      assignment({
        generation: 7,
        units: new Set([...copies('orders', [0, 1, 2]), ...copies('payments', [0]), 'topics:A->B']),
        revoked: new Set(copies('orders', [6, 7])),
        tasks: new Map([['A->B', 2]])
      })
    )
  ])
  const r = groupReport(place, described)
  assert.equal(r.condition, 'running')
  assert.equal(r.generation, 7)
  assert.equal(r.leader, null)
  assert.equal(r.note, null)
  assert.equal(r.bootstrap, 'b1:9092,b2:9092')
  assert.deepEqual(r.unowned, ['heartbeats:A->B'])
  assert.deepEqual(
    r.members.map(m => [m.instance, m.memberId, m.generation, m.units, m.quiet, m.revoked, m.tasks, m.error]),
    [
      [
        'host-a/1',
        'm-a',
        7,
        ['topics:A->B', 'copy:A->B:orders:0-2', 'copy:A->B:payments:0'],
        [],
        ['copy:A->B:orders:6-7'],
        { 'A->B': 2 },
        null
      ],
      [
        'host-b/2',
        'm-b',
        7,
        ['checkpoints:A->B', 'copy:A->B:orders:3-5,10'],
        ['copy:A->B:orders:10'],
        [],
        { 'A->B': 1 },
        null
      ]
    ]
  )
  assert.deepEqual(renderGroupReport(r), [
    'group A-mm2 on cluster B (b1:9092,b2:9092): Stable, protocol kafka-mirror/kafka-mirror-v1, 2 members',
    '  generation 7; leader not reported by the coordinator',
    '  host-a/1  member m-a  client A->B|kafka-mirror|group  host /10.0.0.8',
    '    tasks  A->B 2',
    '    units  topics:A->B, copy:A->B:orders:0-2, copy:A->B:orders:6-7 (revoked), copy:A->B:payments:0',
    '  host-b/2  member m-b  client A->B|kafka-mirror|group  host /10.0.0.8',
    '    tasks  A->B 1',
    '    units  checkpoints:A->B, copy:A->B:orders:3-5, copy:A->B:orders:10 (quiet)',
    '  run by nobody: heartbeats:A->B'
  ])
})

test('members one generation apart: the newest is the group generation, the text shows both', () => {
  const r = groupReport(
    place,
    group('Stable', [
      ours('a', 'm-a', assignment({ generation: 4, units: new Set(['topics:A->B']) })),
      ours('b', 'm-b', assignment({ generation: 5 }))
    ])
  )
  assert.equal(r.generation, 5)
  assert.match(renderGroupReport(r).join('\n'), /generation 5 \(members report generations 4, 5\)/)
})

test('a rebalancing group: members without bytes, no generation, and a note saying why', () => {
  const empty = Buffer.alloc(0)
  const r = groupReport(place, {
    ...group('PreparingRebalance', [
      { memberId: 'm-a', clientId: 'c', clientHost: '/h', metadata: empty, assignment: empty }
    ]),
    protocolName: ''
  })
  assert.equal(r.condition, 'rebalancing')
  assert.equal(r.generation, null)
  assert.equal(r.protocolName, null)
  assert.deepEqual(r.unowned, [], 'unknown while no assignment is shown')
  assert.deepEqual(
    r.members.map(m => [m.memberId, m.instance, m.units, m.error]),
    [['m-a', null, [], null]]
  )
  const text = renderGroupReport(r)
  assert.match(text[1] ?? '', /is rebalancing \(state PreparingRebalance\): the coordinator shows no assignments/)
  assert.ok(text.includes('  (instance unknown)  member m-a  client c  host /h'))
  assert.ok(text.includes('    units  (none)'))
})

test('bytes that do not decode are reported on their member, with the codec message; the leader error too', () => {
  const r = groupReport(
    place,
    group('Stable', [
      {
        memberId: 'm-x',
        clientId: 'c',
        clientHost: '/h',
        metadata: Buffer.from([0, 9, 123, 125]),
        assignment: Buffer.from('garbage')
      },
      ours(
        'b',
        'm-b',
        assignment({ generation: 3, error: 'kafka-mirror member metadata: instance: expected a string' })
      )
    ])
  )
  const [b, x] = r.members
  assert.match(x?.error ?? '', /format version 9 is newer than this kafka-mirror reads/)
  assert.match(x?.error ?? '', /kafka-mirror assignment: format version/)
  assert.match(b?.error ?? '', /^the leader could not read its metadata: kafka-mirror member metadata: instance/)
  assert.match(renderGroupReport(r).join('\n'), /^ {4}cannot read: .*format version 9/m)
})

test('a Kafka Connect group (Java MM2) is reported as such, with client ids and hosts; its bytes are not read', () => {
  const connect = (id: string, host: string): DescribedMember => ({
    memberId: `${id}-uuid`,
    clientId: id,
    clientHost: host,
    metadata: Buffer.from('not ours'),
    assignment: Buffer.from('not ours')
  })
  const r = groupReport(place, group('Stable', [connect('A->B', '/10.0.0.7'), connect('A->B', '/10.0.0.8')], 'connect'))
  assert.equal(r.condition, 'foreign')
  assert.equal(r.protocolType, 'connect')
  assert.deepEqual(
    r.members.map(m => [m.memberId, m.clientId, m.clientHost, m.instance, m.error]),
    [
      ['A->B-uuid', 'A->B', '/10.0.0.7', null, null],
      ['A->B-uuid', 'A->B', '/10.0.0.8', null, null]
    ]
  )
  assert.equal(
    r.note,
    'group A-mm2 on cluster B is held by Kafka Connect (protocol type "connect", 2 members: client ids A->B; hosts /10.0.0.7, /10.0.0.8): Java MirrorMaker 2 is running this config\'s group, so no kafka-mirror instance can join it'
  )
  const text = renderGroupReport(r)
  assert.equal(
    text[0],
    'group A-mm2 on cluster B (b1:9092,b2:9092): Stable, protocol connect/kafka-mirror-v1, 2 members'
  )
  assert.ok(text.includes('  member A->B-uuid  client A->B  host /10.0.0.8'))
  const consumer = groupReport(place, group('Stable', [connect('app', '/h')], 'consumer'))
  assert.match(
    consumer.note ?? '',
    /is a consumer group \(protocol type "consumer", 1 member: client ids app; hosts \/h\)/
  )
})

test('an empty or never created group: no instance is running it', () => {
  for (const state of ['Empty', 'Dead']) {
    const r = groupReport(place, group(state, []))
    assert.equal(r.condition, 'empty')
    assert.deepEqual([r.generation, r.members, r.unowned], [null, [], place.singletons])
    assert.deepEqual(renderGroupReport(r), [
      `group A-mm2 on cluster B (b1:9092,b2:9092): ${state}, protocol kafka-mirror/kafka-mirror-v1, 0 members`,
      `  no instance is running this config's group A-mm2 on cluster B (state ${state})`
    ])
  }
  // Kafka 4.0's DescribeGroups v6 answers GROUP_ID_NOT_FOUND for a group that does not exist.
  const missing = groupReport(place, { ...group('Dead', []), errorCode: 69, protocolType: '', protocolName: '' })
  assert.equal(missing.condition, 'empty')
  assert.match(renderGroupReport(missing)[0] ?? '', /: Dead, no protocol, 0 members$/)
})

test('errors: a coordinator error and an unreachable cluster name the group, the cluster and its bootstrap', () => {
  const denied = groupReport(place, { ...group('', []), errorCode: 30 })
  assert.deepEqual([denied.condition, denied.state], ['error', null])
  assert.match(denied.note ?? '', /^group A-mm2 on cluster B could not be described: GROUP_AUTHORIZATION_FAILED$/)
  const down = unreachableReport(place, 'connect ECONNREFUSED 10.0.0.1:9092')
  assert.equal(down.condition, 'error')
  assert.deepEqual(renderGroupReport(down), [
    'group A-mm2 on cluster B (b1:9092,b2:9092)',
    '  cannot describe group A-mm2 on cluster B (bootstrap b1:9092,b2:9092): connect ECONNREFUSED 10.0.0.1:9092'
  ])
})
