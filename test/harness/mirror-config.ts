/** Writes mm2.properties files for tests, pointing at harness clusters. */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { KafkaCluster } from './cluster.ts'

/**
 * `clusters` maps alias -> cluster. Single-broker defaults are set for every replication factor
 * (MM2's defaults of 2 and 3 need more brokers). `extra` lines are appended verbatim.
 */
export function writeMm2Properties (clusters: Readonly<Record<string, KafkaCluster>>, extra: Readonly<Record<string, string>> = {}): string {
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
