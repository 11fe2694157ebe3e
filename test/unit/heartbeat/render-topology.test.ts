import { test } from 'node:test'
import assert from 'node:assert/strict'
import { renderTopology, type TopologyReport } from '../../../src/cli/topology.ts'

const sample = {
  chain: ['B', 'A'],
  origin: 'A',
  hops: 2,
  emitter: 'B->A',
  emittedAt: 1_000,
  landedAt: 1_000,
  latencyMs: 0,
  ageMs: 1_500
}

test('text report: edges, then per cluster its heartbeats topics, upstreams with hops and newest heartbeats', () => {
  const report: TopologyReport = {
    at: '2026-01-01T00:00:00.000Z',
    edges: [
      { from: 'A', to: 'B' },
      { from: 'B', to: 'C' }
    ],
    clusters: [
      {
        alias: 'C',
        bootstrapServers: ['c:9092'],
        error: undefined,
        heartbeatTopics: ['B.A.heartbeats', 'heartbeats'],
        upstreams: [
          { alias: 'A', hops: 2 },
          { alias: 'B', hops: 1 }
        ],
        heartbeats: [
          { ...sample, topic: 'B.A.heartbeats' },
          { ...sample, topic: 'heartbeats', chain: [], origin: undefined, hops: 0, emitter: 'B->C', latencyMs: 40 }
        ]
      },
      {
        alias: 'D',
        bootstrapServers: ['d:9092'],
        error: 'listing topics on cluster D: connect ECONNREFUSED',
        heartbeatTopics: [],
        upstreams: [],
        heartbeats: []
      }
    ]
  }
  assert.deepEqual(renderTopology(report), [
    'Replication graph from heartbeats (2026-01-01T00:00:00.000Z)',
    '  A -> B',
    '  B -> C',
    '',
    'C (c:9092)',
    '  heartbeats topics: B.A.heartbeats, heartbeats',
    '  upstream clusters: A (2 hops), B (1 hop)',
    '  B.A.heartbeats: heartbeat B->A, from A -> B -> C, newest 1.5 s old',
    '  heartbeats: heartbeat B->C, written here, newest 1.5 s old, landed 40 ms after emission',
    '',
    'D (d:9092)',
    '  cannot read: listing topics on cluster D: connect ECONNREFUSED'
  ])
})
