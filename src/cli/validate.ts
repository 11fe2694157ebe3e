/**
 * `kafka-mirror validate`: the plan a run would follow, without copying anything. Online it also
 * lists, per flow, the source topics that match now and their remote names.
 */
import { describeConfig } from '../config/load.ts'
import type { FlowConfig, LoadedConfig } from '../config/model.ts'
import { KafkaAdmin } from '../kafka/admin.ts'
import { TopicSelection } from '../source/topic-selection.ts'

export async function validateCommand (loaded: LoadedConfig, opts: { offline: boolean, out: (line: string) => void }): Promise<number> {
  const { config } = loaded
  opts.out(describeConfig(config))
  if (opts.offline) {
    opts.out('\n(offline: topics not listed)')
    return 0
  }
  let failures = 0
  for (const flow of config.flows.filter(f => f.enabled)) {
    const selection = new TopicSelection(flow)
    const admin = new KafkaAdmin(flow.clients.sourceAdmin, `${flow.name}|validate`)
    try {
      const topics = selection.select(await admin.listTopics())
      opts.out(`\n${flow.name}: ${topics.length} source topic(s) match now`)
      for (const t of topics) opts.out(`  ${t} -> ${selection.remoteName(t)}`)
    } catch (err) {
      failures++
      opts.out(`\n${flow.name}: cannot list topics of ${flow.source} (${flow.clients.sourceAdmin.bootstrapServers.join(',')}): ${(err as Error).message}`)
    } finally {
      await admin.close()
    }
    failures += await checkTarget(flow, opts.out)
  }
  return failures === 0 ? 0 : 1
}

/** The target must accept the mirror's connection too (TLS trust, credentials); 1 when it does not. */
async function checkTarget (flow: FlowConfig, out: (line: string) => void): Promise<number> {
  const admin = new KafkaAdmin(flow.clients.targetAdmin, `${flow.name}|validate`)
  try {
    await admin.clusterId()
    return 0
  } catch (err) {
    out(`\n${flow.name}: cannot connect to target ${flow.target} (${flow.clients.targetAdmin.bootstrapServers.join(',')}): ${(err as Error).message}`)
    return 1
  } finally {
    await admin.close()
  }
}
