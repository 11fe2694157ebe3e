/**
 * Warns when a config replicates in a loop (A->B and B->A, or A->B->C->A) and a flow of that loop
 * uses IdentityReplicationPolicy: identity keeps topic names, so MM2's cycle check cannot tell a
 * topic that came from the target, and records would go round the loop forever (MirrorSourceConnector cycle detection).
 * Heartbeats are not affected (they keep their prefixes), so only enabled flows count.
 */
import type { FlowConfig, MirrorConfig } from './model.ts'
import { located } from './where.ts'

/** One warning per loop that contains an identity flow, naming the loop. */
export function identityCycleWarnings(config: MirrorConfig): string[] {
  const enabled = config.flows.filter(f => f.enabled)
  const next = Map.groupBy(enabled, f => f.source)
  const warnings: string[] = []
  const reported = new Set<string>()
  for (const start of enabled.filter(f => f.replicationPolicy.kind === 'identity')) {
    const loop = pathBack(start, next)
    if (loop === undefined) continue
    const names = loop.map(f => f.name)
    // The same loop found from another of its identity flows: report once.
    const id = [...names].sort().join(',')
    if (reported.has(id)) continue
    reported.add(id)
    const identity = loop.filter(f => f.replicationPolicy.kind === 'identity').map(f => f.name)
    warnings.push(
      located(
        { file: config.origin.file },
        `flows ${names.join(', ')} form a loop and ${identity.join(', ')} ${identity.length === 1 ? 'uses' : 'use'} IdentityReplicationPolicy, which cannot detect cycles: records would be replicated back and forth forever. Use DefaultReplicationPolicy for active/active, or make topics/topics.exclude break the loop.`
      )
    )
  }
  return warnings
}

/** The shortest chain of enabled flows start, ..., X->start.source (breadth-first), if any. */
function pathBack(start: FlowConfig, next: ReadonlyMap<string, readonly FlowConfig[]>): FlowConfig[] | undefined {
  const home = start.source
  let frontier: FlowConfig[][] = [[start]]
  const seen = new Set<string>([start.target])
  while (frontier.length > 0) {
    const wider: FlowConfig[][] = []
    for (const path of frontier) {
      const last = path[path.length - 1] as FlowConfig
      if (last.target === home) return path
      for (const f of next.get(last.target) ?? []) {
        if (f.target !== home && seen.has(f.target)) continue
        seen.add(f.target)
        wider.push([...path, f])
      }
    }
    frontier = wider
  }
  return undefined
}
