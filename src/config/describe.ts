/**
 * A human summary of a loaded config (for `validate` and the startup log): clusters, flows,
 * replication policy and the settings that matter. Secret values print as [redacted]; long PEM
 * bundles print as a count.
 */
import type { ClientProps, FlowConfig, Interval, MirrorConfig } from './model.ts'
import { transactionalIds } from './exactly-once.ts'
import { pairParts } from './what-runs.ts'

const list = (items: readonly string[]): string => (items.length === 0 ? '(none)' : items.join(', '))

function every(i: Interval): string {
  if (!i.enabled) return 'off'
  const s = i.intervalMs % 1000 === 0 ? `${i.intervalMs / 1000} s` : `${i.intervalMs} ms`
  return `every ${s}${i.explicit ? '' : ' (default)'}`
}

function props(p: ClientProps): string {
  const parts = Object.entries(p).map(([k, v]) => {
    if (typeof v !== 'string') return `${k}=${String(v)}` // a Secret prints as [redacted] (or its public summary)
    if (v.includes('-----BEGIN')) return `${k}=<${(v.match(/-----BEGIN/g) ?? []).length} PEM block(s)>`
    return `${k}=${v}`
  })
  return list(parts)
}

/**
 * The exactly-once mode of a pair: on or off, the transaction boundary and timeout, and the
 * transactional ids its copier tasks take on the target (an operator finds them with
 * kafka-transactions.sh, and grants them as Connect's ACLs name them).
 */
function exactlyOnce(f: FlowConfig): string {
  const e = f.exactlyOnce
  if (!e.enabled) return `exactly-once: off (${f.target}'s worker does not enable it): copied at-least-once`
  const on = `exactly-once: on (enabled on ${f.target}'s worker, ${e.required ? 'required' : 'requested'})`
  // Checkpoints, heartbeats and offset syncs are written outside transactions (docs/exactly-once-plan.md §3.2).
  if (!pairParts(f).copy) return `${on}, but this pair copies no records, so it writes no transactions`
  const boundary =
    e.boundary === 'poll'
      ? 'a transaction whenever nothing more is ready to send (transaction.boundary poll)'
      : `a transaction every ${e.intervalMs} ms (transaction.boundary interval)`
  return `${on}: ${boundary}, transaction.timeout.ms ${e.transactionTimeoutMs}, transactional ids ${transactionalIds(f)}`
}

function flow(f: FlowConfig): string[] {
  const p = f.replicationPolicy
  const parts = pairParts(f)
  const only = [parts.checkpoints ? 'checkpoints' : '', parts.heartbeats ? 'heartbeats' : ''].filter(p => p !== '')
  const what = parts.copy ? 'replicating' : only.length > 0 ? `${only.join(' and ')} only` : 'not replicating'
  return [
    `  ${f.name} (${what})`,
    `    topics: ${list(f.topics)}; exclude: ${list(f.topicsExclude)}`,
    `    groups: ${list(f.groups)}; exclude: ${list(f.groupsExclude)}`,
    `    policy: ${p.kind} (${p.className}), separator ${JSON.stringify(p.separator)}`,
    `    replication.factor ${f.replicationFactor}, tasks.max ${f.tasksMax}, offset.lag.max ${f.offsetLagMax}, positions stored at least every ${f.offsetFlushIntervalMs} ms`,
    `    refresh topics ${every(f.refreshTopics)}, refresh groups ${every(f.refreshGroups)}, topic configs ${every(f.syncTopicConfigs)}, ACLs ${every(f.syncTopicAcls)}`,
    `    checkpoints ${every(f.emitCheckpoints)}, group offset sync ${every(f.syncGroupOffsets)}, heartbeats ${every(f.emitHeartbeats)}`,
    `    offset syncs ${f.offsetSyncs.enabled ? `on the ${f.offsetSyncs.location} cluster` : 'off'}`,
    `    state: offsets topic ${f.naming.offsetsTopic}, group ${f.naming.workerGroupId}, connector ${f.naming.sourceConnectorName}`,
    `    ${exactlyOnce(f)}`,
    ...(Object.keys(f.extra).length === 0 ? [] : [`    not used by kafka-mirror: ${Object.keys(f.extra).join(', ')}`])
  ]
}

export function describeConfig(config: MirrorConfig): string {
  const o = config.origin
  const head =
    o.format === 'strimzi'
      ? `${o.file} (Strimzi ${o.apiVersion ?? ''} KafkaMirrorMaker2 ${o.name ?? ''})`
      : `${o.file} (mm2.properties)`
  const lines = [head, 'clusters:']
  for (const c of config.clusters.values()) {
    lines.push(`  ${c.alias}: ${c.bootstrapServers.join(', ')}`, `    ${props(c.connection)}`)
  }
  lines.push('flows:')
  for (const f of config.flows) lines.push(...flow(f))
  return lines.join('\n')
}
