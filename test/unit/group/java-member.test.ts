import assert from 'node:assert/strict'
import { test } from 'node:test'
import { explainRefusal } from '../../../src/group/java-member.ts'
import type { DescribedGroup, DescribedMember } from '../../../src/kafka/group-wire.ts'

const place = { groupId: 'A-mm2', cluster: 'B', protocolType: 'kafka-mirror' }

function member(clientId: string, clientHost: string): DescribedMember {
  return { memberId: `${clientId}-x`, clientId, clientHost, metadata: Buffer.alloc(0), assignment: Buffer.alloc(0) }
}

function group(protocolType: string, members: DescribedMember[], protocolName = 'p'): DescribedGroup {
  return { errorCode: 0, groupId: 'A-mm2', state: 'Stable', protocolType, protocolName, members }
}

test('refusal messages name who holds the group, the group, the cluster and what to do', () => {
  const rows: Array<[string, DescribedGroup, RegExp[]]> = [
    [
      'Connect workers (Java MM2)',
      group('connect', [member('A->B', '/10.0.0.7'), member('A->B', '/10.0.0.8')]),
      [
        /^Java MirrorMaker 2 \(Kafka Connect protocol "connect", 2 members: client ids A->B; hosts \/10\.0\.0\.7, \/10\.0\.0\.8\) is running in group A-mm2 on cluster B/,
        /stop it before starting kafka-mirror on this config, or give kafka-mirror another group id \(`<target>\.group\.id` in mm2\.properties, `target\.groupId` in a KafkaMirrorMaker2 resource\)$/
      ]
    ],
    [
      'a consumer group',
      group('consumer', [member('app', '/h1')]),
      [
        /^a consumer group \(protocol type "consumer", 1 member: client ids app; hosts \/h1\)/,
        /group A-mm2 on cluster B; kafka-mirror cannot share it: give kafka-mirror another group id/
      ]
    ],
    [
      'another kafka-mirror version',
      group('kafka-mirror', [member('km', '/h1')], 'kafka-mirror-v2'),
      [/speak protocol "kafka-mirror-v2"/, /same kafka-mirror version/]
    ],
    [
      'someone else',
      group('streams-x', [member('s', '/h')]),
      [/used by another application \(protocol type "streams-x"/]
    ],
    ['emptied meanwhile', group('connect', []), [/has no members now/, /next attempt/]]
  ]
  for (const [what, described, patterns] of rows) {
    const text = explainRefusal(described, place)
    for (const p of patterns) assert.match(text, p, what)
  }
})

test('long member lists are cut after five distinct values', () => {
  const many = Array.from({ length: 8 }, (_, i) => member(`w${i}`, `/h${i % 2}`))
  const text = explainRefusal(group('connect', many), place)
  assert.match(text, /8 members: client ids w0, w1, w2, w3, w4 and 3 more; hosts \/h0, \/h1\)/)
})
