/**
 * `kafka-mirror validate`: the plan a run would follow, without copying anything. Online it also
 * lists, per copying pair, the source topics that match now and their remote names, and
 * connects to every cluster a running part of a pair uses (config/what-runs.ts), heartbeat-only
 * and checkpoint-only pairs included, so a bad credential fails here and not later in `run`.
 */
import { pairClientId } from '../config/client-ids.ts'
import { describeConfig } from '../config/load.ts'
import type { ClientConfig, FlowConfig, LoadedConfig } from '../config/model.ts'
import { pairParts, runPlan, sidesInUse } from '../config/what-runs.ts'
import { KafkaAdmin } from '../kafka/admin.ts'
import { TopicSelection } from '../source/topic-selection.ts'

export async function validateCommand(
  loaded: LoadedConfig,
  opts: { offline: boolean; out: (line: string) => void }
): Promise<number> {
  const { config } = loaded
  opts.out(describeConfig(config))
  if (opts.offline) {
    opts.out('\n(offline: topics not listed)')
    return 0
  }
  let failures = 0
  for (const flow of runPlan(config).pairs) {
    const sides = sidesInUse(flow)
    if (pairParts(flow).copy) failures += await listTopics(flow, opts.out)
    else if (sides.source) failures += await checkCluster(flow, 'source', opts.out)
    if (sides.target) failures += await checkCluster(flow, 'target', opts.out)
  }
  return failures === 0 ? 0 : 1
}

/** The source topics a copying pair selects now; 1 when the source cannot be listed. */
async function listTopics(flow: FlowConfig, out: (line: string) => void): Promise<number> {
  const selection = new TopicSelection(flow)
  const admin = new KafkaAdmin(flow.clients.sourceAdmin, pairClientId(flow, 'validate'))
  try {
    const topics = selection.select(await admin.listTopics())
    out(`\n${flow.name}: ${topics.length} source topic(s) match now`)
    for (const t of topics) out(`  ${t} -> ${selection.remoteName(t)}`)
    return 0
  } catch (err) {
    out(
      `\n${flow.name}: cannot list topics of ${flow.source} (${flow.clients.sourceAdmin.bootstrapServers.join(',')}): ${(err as Error).message}`
    )
    return 1
  } finally {
    await admin.close()
  }
}

/** The cluster must accept the mirror's connection too (TLS trust, credentials); 1 when it does not. */
async function checkCluster(flow: FlowConfig, side: 'source' | 'target', out: (line: string) => void): Promise<number> {
  const cfg: ClientConfig = side === 'source' ? flow.clients.sourceAdmin : flow.clients.targetAdmin
  const admin = new KafkaAdmin(cfg, pairClientId(flow, 'validate'))
  try {
    await admin.clusterId()
    return 0
  } catch (err) {
    out(
      `\n${flow.name}: cannot connect to ${side} ${cfg.cluster} (${cfg.bootstrapServers.join(',')}): ${(err as Error).message}`
    )
    return 1
  } finally {
    await admin.close()
  }
}
