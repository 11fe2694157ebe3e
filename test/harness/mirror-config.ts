/** Writes mm2.properties files for tests, pointing at harness clusters. */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { KafkaCluster } from './cluster.ts'

/**
 * `clusters` maps alias -> cluster. Single-broker defaults are set for every replication factor
 * (MM2's defaults of 2 and 3 need more brokers). `extra` lines are appended verbatim.
 */
export function writeMm2Properties(
  clusters: Readonly<Record<string, KafkaCluster>>,
  extra: Readonly<Record<string, string>> = {}
): string {
  const dir = mkdtempSync(join(tmpdir(), 'km-config-'))
  const lines = [`clusters = ${Object.keys(clusters).join(', ')}`]
  for (const [alias, c] of Object.entries(clusters)) lines.push(`${alias}.bootstrap.servers = ${c.bootstrap()}`)
  lines.push(
    'replication.factor = 1',
    'offset-syncs.topic.replication.factor = 1',
    'checkpoints.topic.replication.factor = 1',
    'heartbeats.topic.replication.factor = 1',
    'offset.storage.replication.factor = 1',
    'config.storage.replication.factor = 1',
    'status.storage.replication.factor = 1'
  )
  for (const [k, v] of Object.entries(extra)) lines.push(`${k} = ${v}`)
  const file = join(dir, 'mm2.properties')
  writeFileSync(file, lines.join('\n') + '\n')
  return file
}

/** A->B copying `topic` and nothing else: no B->A, no heartbeats, no checkpoints. */
export function writeCopyOnlyProperties(
  clusters: { A: KafkaCluster; B: KafkaCluster },
  topic: string,
  extra: Readonly<Record<string, string>> = {}
): string {
  return writeMm2Properties(clusters, {
    'A->B.enabled': 'true',
    'A->B.topics': topic,
    'B->A.enabled': 'false',
    'emit.heartbeats.enabled': 'false',
    'emit.checkpoints.enabled': 'false',
    ...extra
  })
}

/**
 * `source->target` copying `topic` and nothing else (no reverse flow, heartbeats, checkpoints or
 * ACL sync), positions stored every second, topics refreshed every 2 s, under aliases the caller
 * names: the tests that run Java MM2 next to kafka-mirror give each case aliases of its own, so
 * that its group, internal topics and transactional ids are its own on shared brokers.
 */
export function writeOneFlowProperties(
  source: { alias: string; cluster: KafkaCluster },
  target: { alias: string; cluster: KafkaCluster },
  topic: string,
  extra: Readonly<Record<string, string>> = {}
): string {
  const [s, t] = [source.alias, target.alias]
  return writeMm2Properties(
    { [s]: source.cluster, [t]: target.cluster },
    {
      [`${s}->${t}.enabled`]: 'true',
      [`${s}->${t}.topics`]: topic,
      [`${t}->${s}.enabled`]: 'false',
      [`${t}.offset.flush.interval.ms`]: '1000',
      'emit.heartbeats.enabled': 'false',
      'emit.checkpoints.enabled': 'false',
      'sync.topic.acls.enabled': 'false',
      'refresh.topics.interval.seconds': '2',
      ...extra
    }
  )
}

/**
 * A->B copying `topic` with checkpoints every second and groups/topics refreshed every second;
 * no heartbeats, no B->A, no ACL sync: what the checkpoint and group-sync tests run.
 */
export function writeCheckpointFlowProperties(
  clusters: { A: KafkaCluster; B: KafkaCluster },
  topic: string,
  extra: Readonly<Record<string, string>> = {}
): string {
  return writeMm2Properties(clusters, {
    'A->B.enabled': 'true',
    'A->B.topics': topic,
    'B->A.enabled': 'false',
    'B.offset.flush.interval.ms': '500',
    'emit.heartbeats.enabled': 'false',
    'emit.checkpoints.interval.seconds': '1',
    'refresh.groups.interval.seconds': '1',
    'refresh.topics.interval.seconds': '1',
    'sync.topic.acls.enabled': 'false',
    ...extra
  })
}
