import { test } from 'node:test'
import assert from 'node:assert/strict'
import { OffsetSyncRule } from '../../../src/formats/offset-sync-rule.ts'
import { golden } from './golden-fixture.ts'

for (const [i, g] of golden.offsetSyncRule.entries()) {
  test(`Java golden PartitionState sequence #${i} (offset.lag.max=${g.offsetLagMax})`, () => {
    const rule = new OffsetSyncRule(BigInt(g.offsetLagMax))
    const got = g.steps.map(([up, down]) => rule.update(BigInt(up), BigInt(down)))
    assert.deepEqual(
      got,
      g.steps.map(s => s[2])
    )
  })
}

test('each due condition on its own', () => {
  const cases: Array<[string, number, Array<[number, number]>, boolean[]]> = [
    ['first record is due', 100, [[7, 3]], [true]],
    [
      'steady traffic: one per offset.lag.max + 1',
      2,
      [
        [0, 0],
        [1, 1],
        [2, 2],
        [3, 3],
        [4, 4],
        [5, 5],
        [6, 6]
      ],
      [true, false, false, true, false, false, true]
    ],
    [
      'upstream gap (compaction, markers)',
      100,
      [
        [0, 0],
        [1, 1],
        [5, 2],
        [6, 3]
      ],
      [true, false, true, false]
    ],
    [
      'upstream repeat (restart re-read) is a gap',
      100,
      [
        [0, 0],
        [0, 1]
      ],
      [true, true]
    ],
    [
      'downstream went back',
      100,
      [
        [0, 10],
        [1, 11],
        [2, 5],
        [3, 6]
      ],
      [true, false, true, false]
    ],
    [
      'offset.lag.max 0: every record',
      0,
      [
        [0, 0],
        [1, 1],
        [2, 2]
      ],
      [true, true, true]
    ]
  ]
  for (const [name, lag, steps, want] of cases) {
    const rule = new OffsetSyncRule(lag)
    assert.deepEqual(
      steps.map(([u, d]) => rule.update(BigInt(u), BigInt(d))),
      want,
      name
    )
  }
})

test('state tracks prevUp, prevDown and lastSyncDown', () => {
  const rule = new OffsetSyncRule(100n)
  assert.deepEqual(rule.state, { prevUp: -1n, prevDown: -1n, lastSyncDown: -1n })
  rule.update(10n, 50n)
  rule.update(11n, 51n)
  assert.deepEqual(rule.state, { prevUp: 11n, prevDown: 51n, lastSyncDown: 50n })
  assert.equal(rule.offsetLagMax, 100n)
})
