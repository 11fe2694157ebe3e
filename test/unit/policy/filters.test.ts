import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ConfigError } from '../../../src/errors.ts'
import {
  DEFAULT_CONFIG_PROPERTIES_EXCLUDE,
  DEFAULT_GROUPS,
  DEFAULT_GROUPS_EXCLUDE,
  DEFAULT_TOPICS,
  DEFAULT_TOPICS_EXCLUDE,
  DefaultConfigPropertyFilter,
  DefaultGroupFilter,
  DefaultTopicFilter,
  compilePatternList,
  createFilters,
  shouldReplicateTopic
} from '../../../src/policy/filters.ts'
import { DefaultReplicationPolicy, IdentityReplicationPolicy } from '../../../src/policy/replication-policy.ts'
import { golden } from '../formats/golden-fixture.ts'

/** How Java's ConfigDef parses a LIST default. */
const javaList = (s: string): string[] => (s.trim() === '' ? [] : s.trim().split(/\s*,\s*/))

test('default lists equal Java 4.3.1 constants', () => {
  const d = golden.filterDefaults
  assert.deepEqual(DEFAULT_TOPICS, javaList(d.topics))
  assert.deepEqual(DEFAULT_TOPICS_EXCLUDE, javaList(d.topicsExclude))
  assert.deepEqual(DEFAULT_GROUPS, javaList(d.groups))
  assert.deepEqual(DEFAULT_GROUPS_EXCLUDE, javaList(d.groupsExclude))
  assert.deepEqual(DEFAULT_CONFIG_PROPERTIES_EXCLUDE, javaList(d.configPropertiesExclude))
})

test('Java golden: default topic filter decisions', () => {
  const f = new DefaultTopicFilter()
  for (const [topic, want] of Object.entries(golden.filterDecisions.topics)) {
    assert.equal(f.shouldReplicateTopic(topic), want, topic)
  }
})

test('Java golden: default group filter decisions', () => {
  const f = new DefaultGroupFilter()
  for (const [group, want] of Object.entries(golden.filterDecisions.groups)) {
    assert.equal(f.shouldReplicateGroup(group), want, group)
  }
})

test('Java golden: config property filter decisions', () => {
  for (const g of golden.filterDecisions.configProperties) {
    const f = new DefaultConfigPropertyFilter(g.useDefaultsFrom === null ? {} : { useDefaultsFrom: g.useDefaultsFrom })
    for (const [p, want] of Object.entries(g.shouldReplicateConfigProperty)) {
      assert.equal(f.shouldReplicateConfigProperty(p), want, `${g.useDefaultsFrom} ${p}`)
    }
    for (const [p, want] of Object.entries(g.shouldReplicateSourceDefault)) {
      assert.equal(f.shouldReplicateSourceDefault(p), want, `${g.useDefaultsFrom} ${p}`)
    }
  }
})

/** Java patterns we refuse on purpose (no faithful translation). */
const REFUSED = new Set(['[a-z&&[^aeiou]]+', '[a[b]]', '\\p{javaLowerCase}', '\\p{InGreek}', '(?x) a b '])
/** Known, documented divergences: JS `i` folds non-ASCII letters, Java's (?i) without u does not. */
const DIVERGES: ReadonlyMap<string, readonly string[]> = new Map([['(?i)é', ['É']]])

for (const g of golden.regex) {
  const label = JSON.stringify(g.patterns)
  test(`Java golden regex list ${label}`, () => {
    if (g.patterns.some(p => REFUSED.has(p))) {
      assert.throws(
        () => compilePatternList(g.patterns, 'topics'),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError)
          assert.match(err.message, /^topics: regular expression ".*" /)
          return true
        }
      )
      return
    }
    const list = compilePatternList(g.patterns)
    const skip = DIVERGES.get(g.patterns[0] ?? '') ?? []
    for (const [input, want] of Object.entries(g.matches)) {
      if (skip.includes(input)) continue
      assert.equal(list.matches(input), want, `${label} on ${JSON.stringify(input)}`)
    }
  })
}

test('pattern lists: whole-name match, OR of entries, empty list matches nothing', () => {
  const cases: Array<[string[], string, boolean]> = [
    [['orders'], 'orders', true],
    [['orders'], 'orders2', false],
    [['orders'], 'my-orders', false],
    [['a', 'b.*'], 'bee', true],
    [['a', 'b.*'], 'ab', false],
    [[], '', false],
    [[], 'anything', false],
    [[''], '', true],
    [[''], 'x', false],
    // Java joins entries with "|" before compiling, so an inline flag reaches later entries.
    [['(?i)a', 'b'], 'B', true],
    [['(a', 'b)'], 'b', true]
  ]
  for (const [patterns, name, want] of cases) {
    assert.equal(compilePatternList(patterns).matches(name), want, `${JSON.stringify(patterns)} ${name}`)
  }
  assert.equal(compilePatternList([]).regex, null)
  assert.equal(compilePatternList(['a', 'b']).regex?.source, '^(?:a|b)$')
})

test('a bad entry is named in the error', () => {
  assert.throws(
    () => new DefaultTopicFilter({ topics: ['ok.*', '[a&&b]'] }),
    /^ConfigError: topics: regular expression "\[a&&b\]" uses a character class intersection/
  )
  assert.throws(
    () => new DefaultGroupFilter({ groupsExclude: ['x', '(?<=a+)?'] }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError)
      assert.match(err.message, /^groups\.exclude: /)
      return true
    }
  )
  assert.throws(() => compilePatternList(['(a)', '\\2x'], 'topics'), /topics: regular expression "\\2x" is not valid/)
})

test('createFilters builds the three filters from a flow', () => {
  const f = createFilters({
    topics: ['orders.*'],
    topicsExclude: ['.*-tmp'],
    groups: ['app-.*'],
    groupsExclude: [],
    configPropertiesExclude: ['retention\\.ms'],
    useDefaultsFrom: 'source'
  })
  assert.equal(f.topicFilter.shouldReplicateTopic('orders-1'), true)
  assert.equal(f.topicFilter.shouldReplicateTopic('orders-tmp'), false)
  assert.equal(f.topicFilter.shouldReplicateTopic('payments'), false)
  assert.equal(f.groupFilter.shouldReplicateGroup('app-1'), true)
  assert.equal(f.groupFilter.shouldReplicateGroup('console-consumer-1'), false)
  assert.equal(f.configPropertyFilter.shouldReplicateConfigProperty('retention.ms'), false)
  assert.equal(f.configPropertyFilter.shouldReplicateConfigProperty('min.insync.replicas'), true)
  assert.equal(f.configPropertyFilter.shouldReplicateSourceDefault('x'), true)
})

test('shouldReplicateTopic (MirrorSourceConnector.shouldReplicateTopic) for flow A->B', () => {
  const policy = new DefaultReplicationPolicy()
  const filter = new DefaultTopicFilter({ topics: ['orders.*'] })
  const sel = { filter, policy, targetAlias: 'B', heartbeatsReplicationEnabled: true }
  const cases: Array<[string, boolean, boolean]> = [
    // topic, with heartbeats replication, without
    ['orders', true, true],
    ['payments', false, false],
    ['heartbeats', true, false],
    ['C.heartbeats', true, false],
    ['B.heartbeats', false, false],
    ['C.B.orders', false, false],
    ['__orders', false, false],
    ['.orders', false, false],
    ['orders.replica', false, false]
  ]
  for (const [topic, withHb, withoutHb] of cases) {
    assert.equal(shouldReplicateTopic(topic, sel), withHb, `${topic} heartbeats on`)
    assert.equal(
      shouldReplicateTopic(topic, { ...sel, heartbeatsReplicationEnabled: false }),
      withoutHb,
      `${topic} heartbeats off`
    )
  }
  const identity = {
    ...sel,
    filter: new DefaultTopicFilter(),
    policy: new IdentityReplicationPolicy({ sourceClusterAlias: 'A' })
  }
  assert.equal(shouldReplicateTopic('B.x', identity), true, 'identity has no cycle detection for data topics')
  assert.equal(shouldReplicateTopic('B.heartbeats', identity), false, 'identity heartbeats stay cycle-safe')
})
