/**
 * Fills the /status document (status-report.ts) from the running mirror's live state: the flows'
 * status, each copier task's per-partition counters, the checkpoint flows and heartbeat emitters.
 * Pure reading, no I/O: a request costs a walk over the partitions.
 */
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { taskTransactionalId } from '../config/exactly-once.ts'
import type { FlowConfig } from '../config/model.ts'
import { tpKey } from '../kafka/types.ts'
import type { Mirror } from '../mirror.ts'
import type { SourceFlowStatus } from '../source/source-flow.ts'
import { windowAvg, windowCountRate, windowMax, windowMin, windowRate } from './metrics-window.ts'
import type {
  CheckpointReport,
  ComponentState,
  DataLossCause,
  DataLossReport,
  FlowReport,
  HeartbeatEmitterReport,
  NotReadyReason,
  PartitionReport,
  StatusReport,
  TaskTransactionsReport,
  TopicReport,
  TransactionsReport
} from './status-report.ts'

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version
const STARTED_AT = Date.now() - Math.round(process.uptime() * 1000)
const RECENT_LOSSES = 20

/**
 * The cluster a not-ready reason is about: the client errors name it as `cluster <alias> (...)`
 * (kafka/security/cluster-label.ts), a group refusal as `group <id> on cluster <alias>; ...`
 * (group/java-member.ts); otherwise, while starting, nothing is known yet.
 */
export function reasonCluster(reason: string | undefined, aliases: readonly string[]): string | null {
  if (reason === undefined) return null
  for (const m of reason.matchAll(/cluster ([^\s:,;()]+)/g)) {
    const word = m[1] ?? ''
    // A sentence may end right after the alias (`on cluster B.`); an alias itself may hold dots.
    const alias = aliases.includes(word) ? word : word.replace(/\.+$/, '')
    if (aliases.includes(alias)) return alias
  }
  return null
}

function notReadyReason(
  component: string,
  flow: string,
  aliases: readonly string[],
  state: ComponentState,
  reason: string | undefined
): NotReadyReason | undefined {
  if (state === 'running') return undefined
  const why = reason ?? (state === 'starting' ? `starting: connecting to clusters ${aliases.join(' and ')}` : state)
  return { component: `${component} ${flow}`, flow, cluster: reasonCluster(reason, aliases), state, reason: why }
}

const num = (n: bigint): number => Number(n)
const orNull = (at: number): number | null => (at > 0 ? at : null)
const finite = (n: number): number | null => (Number.isFinite(n) ? n : null)

/** The flow's transactions, per task running here and summed; null when the flow is not in the exactly-once mode. */
function transactionsReport(flow: FlowConfig, st: SourceFlowStatus): TransactionsReport | null {
  if (!flow.exactlyOnce.enabled) return null
  const tasks: TaskTransactionsReport[] = st.perTask.map(({ task, stats }) => {
    // A worker thread's task posts its stats after it started: until then it has committed nothing.
    const t = stats.transactions
    const committed = t?.committed ?? 0
    return {
      task,
      transactionalId: t?.transactionalId ?? taskTransactionalId(flow, task),
      producerId: t?.producerId ?? null,
      epoch: t?.epoch ?? null,
      committed,
      aborted: t?.aborted ?? 0,
      fenced: t?.fenced ?? false,
      lastRecords: t !== undefined && committed > 0 ? t.lastRecords : null,
      lastCommitMs: t !== undefined && committed > 0 ? t.lastCommitMs : null
    }
  })
  const only = tasks.length === 1 ? tasks[0] : undefined
  return {
    transactionalIds: tasks.map(t => t.transactionalId),
    producerId: only?.producerId ?? null,
    epoch: only?.epoch ?? null,
    committed: tasks.reduce((n, t) => n + t.committed, 0),
    aborted: tasks.reduce((n, t) => n + t.aborted, 0),
    fenced: tasks.some(t => t.fenced),
    tasks
  }
}

function flowReport(st: SourceFlowStatus, flow: FlowConfig, now: number): FlowReport {
  const copier = st.copier
  const losses = copier?.dataLoss ?? []
  const byCause: Record<DataLossCause, number> = { expired: 0, recreated: 0, truncated: 0 }
  const lostByPartition = new Map<string, number>()
  let lostRecords = 0
  let unknown = 0
  for (const e of losses) {
    byCause[e.reason]++
    if (e.lost < 0n) {
      unknown++
      continue
    }
    lostRecords += num(e.lost)
    const k = `${e.topic}\0${e.partition}`
    lostByPartition.set(k, (lostByPartition.get(k) ?? 0) + num(e.lost))
  }
  const recent: DataLossReport[] = losses.slice(-RECENT_LOSSES).map(e => ({
    topic: e.topic,
    partition: e.partition,
    cause: e.reason,
    lost: e.lost < 0n ? null : num(e.lost),
    from: num(e.from),
    resumedAt: num(e.resumedAt),
    at: e.at
  }))
  const topics = new Map<string, { remote: string; partitions: PartitionReport[] }>()
  let recordRate = 0
  let byteRate = 0
  let lag = 0
  for (const { task, stats } of st.perTask) {
    for (const p of stats.partitions.values()) {
      const failure = stats.failures.get(tpKey(p.topic, p.partition))
      const behind = p.endOffset >= 0 ? Math.max(0, p.endOffset - p.copiedTo) : null
      const rate = windowCountRate(p.copyWindow, now)
      const bytesRate = windowRate(p.copyWindow, now)
      const latencyAvg = windowAvg(p.latencyWindow, now)
      recordRate += rate
      byteRate += bytesRate
      lag += behind ?? 0
      const report: PartitionReport = {
        partition: p.partition,
        task,
        sourceEndOffset: p.endOffset >= 0 ? p.endOffset : null,
        copiedTo: p.copiedTo,
        storedPosition: p.storedTo >= 0 ? p.storedTo : null,
        lag: behind,
        recordsCopied: p.records,
        bytesCopied: p.bytes,
        recordRate: rate,
        byteRate: bytesRate,
        replicationLatencyMs: Number.isNaN(latencyAvg)
          ? null
          : { min: windowMin(p.latencyWindow, now), avg: latencyAvg, max: windowMax(p.latencyWindow, now) },
        dataLossRecords: lostByPartition.get(`${p.topic}\0${p.partition}`) ?? 0,
        lastError:
          failure === undefined
            ? null
            : { offset: num(failure.offset), reason: failure.reason, since: failure.since, retryAt: failure.retryAt }
      }
      const t = topics.get(p.topic) ?? { remote: p.remote, partitions: [] }
      t.partitions.push(report)
      topics.set(p.topic, t)
    }
  }
  const topicReports: TopicReport[] = [...topics]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([topic, t]) => {
      const partitions = t.partitions.sort((a, b) => a.partition - b.partition)
      return {
        topic,
        remoteTopic: t.remote,
        lag: partitions.reduce((n, p) => n + (p.lag ?? 0), 0),
        recordRate: partitions.reduce((n, p) => n + p.recordRate, 0),
        partitions
      }
    })
  return {
    flow: st.flow,
    source: flow.source,
    target: flow.target,
    state: st.state,
    ready: st.state === 'running',
    reason: st.reason ?? null,
    tasks: st.tasks,
    threads: st.threads,
    recordsCopied: copier?.recordsCopied ?? 0,
    bytesCopied: copier?.bytesCopied ?? 0,
    rawBytesCopied: copier?.rawBytesCopied ?? 0,
    recordRate,
    byteRate,
    lag,
    lastCopyAt: orNull(copier?.lastCopyAt ?? 0),
    dataLoss: { records: lostRecords, events: losses.length, unknownEvents: unknown, byCause, recent },
    failingPartitions: copier?.failures.size ?? 0,
    heartbeats: st.heartbeats.map(h => ({
      topic: h.topic,
      origin: h.origin ?? null,
      hops: h.hops,
      latencyMs: h.latencyMs,
      emittedAt: h.emittedAt,
      landedAt: h.landedAt
    })),
    topics: topicReports,
    transactions: transactionsReport(flow, st)
  }
}

export function buildStatusReport(mirror: Mirror, now = Date.now()): StatusReport {
  const notReady: NotReadyReason[] = []
  const statuses = mirror.status()
  const flows = mirror.flows.flatMap((flow, i) => {
    const st = statuses[i]
    if (st === undefined) return []
    const f = flow.flow
    const why = notReadyReason('replication', f.name, [f.source, f.target], st.state, st.reason)
    if (why !== undefined) notReady.push(why)
    return [flowReport(st, f, now)]
  })
  const checkpoints: CheckpointReport[] = mirror.checkpoints.map(c => {
    const st = c.status()
    const f = c.flow
    const why = notReadyReason('checkpoints', f.name, [f.source, f.target], st.state, st.reason)
    if (why !== undefined) notReady.push(why)
    const last = orNull(st.stats.lastEmitAt)
    return {
      flow: f.name,
      source: f.source,
      target: f.target,
      state: st.state,
      ready: st.state === 'running',
      reason: st.reason ?? null,
      checkpointsTopic: st.checkpointsTopic,
      groups: st.stats.groups,
      checkpointsWritten: st.stats.checkpointsWritten,
      exact: st.stats.exact,
      fallback: st.stats.fallback,
      lastEmitAt: last,
      freshnessMs: last === null ? null : finite(now - last),
      groupOffsetsCommitted: st.stats.groupOffsetsCommitted
    }
  })
  const heartbeats: HeartbeatEmitterReport[] = mirror.heartbeats.map(h => {
    const st = h.status()
    const why = notReadyReason('heartbeats', h.flow.name, [h.flow.target], st.state, st.reason)
    if (why !== undefined) notReady.push(why)
    return {
      flow: st.flow,
      state: st.state,
      ready: st.state === 'running',
      reason: st.reason ?? null,
      cluster: st.cluster,
      topic: st.topic,
      emitted: st.emitted,
      lastEmittedAt: orNull(st.lastEmittedAt)
    }
  })
  return {
    version: 1,
    generatedAt: now,
    instance: {
      id: `${hostname()}:${process.pid}`,
      pid: process.pid,
      startedAt: STARTED_AT,
      uptimeMs: now - STARTED_AT,
      version: VERSION
    },
    ready: notReady.length === 0,
    notReady,
    flows,
    checkpoints,
    heartbeats,
    groups: mirror.groupStatus().map(g => ({ ...g, refusal: g.refusal ?? null }))
  }
}
