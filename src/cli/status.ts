/**
 * `kafka-mirror status --config F [--clusters A,B] [--json]`: for each group the config's
 * instances share their work in (config/run-groups.ts: one per target and worker group id), who
 * is in it and who runs what, read with a raw DescribeGroups on the group's coordinator
 * (kafka/group-wire.ts) and decoded with the group's codec (group/group-report.ts). It does not
 * join the group, so looking never moves a unit.
 *
 * Exit 0 when every group could be described (an empty group, or one held by Kafka Connect, is
 * described: it is reported, not a failure); 1 when a cluster could not be reached or its
 * coordinator answered with an error: the line names the group, the cluster alias and its
 * bootstrap servers, never a credential.
 *
 * `--json` prints one object (stable shape; `group/group-report.ts` documents each field):
 *   {
 *     "groups": [{
 *       "groupId": "A-mm2", "cluster": "B", "bootstrap": "b1:9092,b2:9092",
 *       "condition": "running" | "rebalancing" | "empty" | "foreign" | "error",
 *       "state": "Stable" | "PreparingRebalance" | "CompletingRebalance" | "Empty" | "Dead" | null,
 *       "protocolType": "kafka-mirror" | "connect" | ... | null, "protocolName": "kafka-mirror-v1" | null,
 *       "generation": 7 | null,            (from the members' assignments; DescribeGroups has none)
 *       "leader": null,                    (the coordinator does not name it)
 *       "members": [{
 *         "memberId": "...", "clientId": "...", "clientHost": "/10.0.0.7",
 *         "instance": "host-a/4711" | null, "generation": 7 | null,
 *         "units": ["topics:A->B", "copy:A->B:orders:0-5"],   (compact, quiet ones included)
 *         "quiet": [...], "revoked": [...], "tasks": { "A->B": 2 },
 *         "error": null | "why its bytes could not be read"
 *       }],
 *       "unowned": ["checkpoints:A->B"],   (singletons of the config nobody runs)
 *       "note": null | "no instance is running this config's group A-mm2 on cluster B (state Empty)" | ...
 *     }]
 *   }
 */
import { pairClientId } from '../config/client-ids.ts'
import type { LoadedConfig } from '../config/model.ts'
import { type RunGroup, runGroups } from '../config/run-groups.ts'
import { runPlan } from '../config/what-runs.ts'
import { groupReport, type GroupReport, renderGroupReport, unreachableReport } from '../group/group-report.ts'
import { singletonUnitId } from '../group/units.ts'
import { type DescribedGroup, GroupErrorCode, groupErrorName, KafkaGroupWire } from '../kafka/group-wire.ts'
import { toKafkaError } from '../kafka/errors.ts'
import { sleep } from '../util/abortable.ts'

export interface StatusArgs {
  readonly clusters: readonly string[]
  readonly json: boolean
}

export interface StatusIo {
  out: (line: string) => void
}

/** Codes that say "ask again in a moment" (the coordinator is loading or moved), as Java's admin retries them. */
const TRANSIENT: ReadonlySet<number> = new Set([
  GroupErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  GroupErrorCode.COORDINATOR_NOT_AVAILABLE,
  GroupErrorCode.NOT_COORDINATOR
])
/** How long transient answers are retried before the group is reported as not described. */
const TRANSIENT_RETRY_MS = 15_000
const RETRY_PAUSE_MS = 250

export async function statusCommand(loaded: LoadedConfig, args: StatusArgs, io: StatusIo): Promise<number> {
  const groups = runGroups(runPlan(loaded.config, args.clusters))
  const reports = await Promise.all(groups.map(async g => await describeGroup(g)))
  if (args.json) io.out(JSON.stringify({ groups: reports }, null, 2))
  else if (reports.length === 0) io.out('no pair of this config runs anything: there is no group to describe')
  else
    reports.forEach((r, i) => {
      if (i > 0) io.out('')
      for (const line of renderGroupReport(r)) io.out(line)
    })
  return reports.some(r => r.condition === 'error') ? 1 : 0
}

/** The singleton units the group's pairs run: what some member should hold. */
function singletons(group: RunGroup): string[] {
  return group.pairs.flatMap(p => p.jobs.map(job => singletonUnitId(job, p.flow.name)))
}

async function describeGroup(group: RunGroup): Promise<GroupReport> {
  const place = {
    groupId: group.groupId,
    cluster: group.cluster,
    bootstrap: group.clients.bootstrapServers,
    singletons: singletons(group)
  }
  const first = group.pairs[0]
  const clientId = first === undefined ? 'kafka-mirror|status' : pairClientId(first.flow, 'status')
  // The request timeout is the admin's; JoinGroup's long timeout is never used here.
  const wire = new KafkaGroupWire(group.clients, clientId, {
    rebalanceTimeoutMs: group.timeouts.rebalanceTimeoutMs,
    requestTimeoutMs: Math.min(group.timeouts.sessionTimeoutMs * 3, 30_000)
  })
  try {
    const described = await describeWithRetry(wire, group.groupId)
    if (typeof described === 'string') return unreachableReport(place, described)
    return groupReport(place, described)
  } catch (err) {
    return unreachableReport(place, toKafkaError(`describing group ${group.groupId}`, err).message)
  } finally {
    await wire.close().catch(() => {})
  }
}

/** The described group, or why the coordinator would not describe it. */
async function describeWithRetry(wire: KafkaGroupWire, groupId: string): Promise<DescribedGroup | string> {
  const deadline = Date.now() + TRANSIENT_RETRY_MS
  while (true) {
    const found = await wire.findCoordinator(groupId)
    let why: string
    if (found.coordinator === undefined) {
      const detail = found.errorMessage === null || found.errorMessage === '' ? '' : ` (${found.errorMessage})`
      why = `finding the group's coordinator: ${groupErrorName(found.errorCode)}${detail}`
      if (!TRANSIENT.has(found.errorCode)) return why
    } else {
      const answer = await wire.describe(found.coordinator, groupId)
      if (!TRANSIENT.has(answer.errorCode)) return answer
      why = `the coordinator ${found.coordinator.host}:${found.coordinator.port} answered ${groupErrorName(answer.errorCode)}`
    }
    if (Date.now() >= deadline) return `${why} for ${TRANSIENT_RETRY_MS / 1000} s`
    await sleep(RETRY_PAUSE_MS)
  }
}
