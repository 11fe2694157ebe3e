/**
 * `kafka-mirror topology`: the replication graph as the heartbeats show it. For every cluster of
 * the config: its heartbeats topics, the clusters upstream of it with their hops (MirrorClient's
 * upstreamClusters / replicationHops), and how old the newest heartbeat from each emitter is.
 * Exit 1 when a cluster cannot be read (the others are still shown).
 */
import type { LoadedConfig } from '../config/model.ts'
import { type ClusterView, readClusterView } from '../heartbeat/cluster-view.ts'

export interface TopologyReport {
  readonly at: string
  /** Direct replication edges: `from` replicates into `to` (from heartbeats topics `from.heartbeats...`). */
  readonly edges: ReadonlyArray<{ readonly from: string; readonly to: string }>
  readonly clusters: ReadonlyArray<
    ClusterView & { readonly heartbeats: ReadonlyArray<ClusterView['heartbeats'][number] & { readonly ageMs: number }> }
  >
}

export async function topologyReport(loaded: LoadedConfig, now = Date.now): Promise<TopologyReport> {
  const views = await Promise.all(
    [...loaded.config.clusters.values()].map(async c => await readClusterView(loaded.config, c))
  )
  const t = now()
  const edges = new Map<string, { from: string; to: string }>()
  for (const v of views) {
    for (const u of v.upstreams) if (u.hops === 1) edges.set(`${u.alias}->${v.alias}`, { from: u.alias, to: v.alias })
  }
  return {
    at: new Date(t).toISOString(),
    edges: [...edges.values()].sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to)),
    clusters: views.map(v => ({ ...v, heartbeats: v.heartbeats.map(h => ({ ...h, ageMs: t - h.emittedAt })) }))
  }
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`

export function renderTopology(r: TopologyReport): string[] {
  const lines = [`Replication graph from heartbeats (${r.at})`]
  if (r.edges.length === 0) lines.push('  (none: no replicated heartbeats on the clusters that could be read)')
  for (const e of r.edges) lines.push(`  ${e.from} -> ${e.to}`)
  for (const c of r.clusters) {
    lines.push('', `${c.alias} (${c.bootstrapServers.join(',')})`)
    if (c.error !== undefined) {
      lines.push(`  cannot read: ${c.error}`)
      continue
    }
    lines.push(`  heartbeats topics: ${c.heartbeatTopics.length === 0 ? '(none)' : c.heartbeatTopics.join(', ')}`)
    const ups = c.upstreams.map(u => `${u.alias} (${u.hops} hop${u.hops === 1 ? '' : 's'})`)
    lines.push(`  upstream clusters: ${ups.length === 0 ? '(none)' : ups.join(', ')}`)
    for (const h of c.heartbeats) {
      const path = h.chain.length === 0 ? 'written here' : `from ${h.chain.toReversed().join(' -> ')} -> ${c.alias}`
      // A copy keeps the emission time as its record time; only LogAppendTime topics show a latency.
      const latency = h.latencyMs !== 0 ? `, landed ${h.latencyMs} ms after emission` : ''
      lines.push(`  ${h.topic}: heartbeat ${h.emitter}, ${path}, newest ${seconds(h.ageMs)} old${latency}`)
    }
  }
  return lines
}

export async function topologyCommand(
  loaded: LoadedConfig,
  opts: { json: boolean; out: (line: string) => void }
): Promise<number> {
  const report = await topologyReport(loaded)
  if (opts.json) opts.out(JSON.stringify(report, null, 2))
  else for (const line of renderTopology(report)) opts.out(line)
  return report.clusters.some(c => c.error !== undefined) ? 1 : 0
}
