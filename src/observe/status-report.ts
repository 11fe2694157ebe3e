/**
 * The shape of `GET /status`: one JSON document describing everything this instance runs, for
 * people (the status page renders it) and for scripts. Only types live here, so the page and the
 * endpoint agree on one definition; status-build.ts fills it from the running mirror.
 *
 * Conventions (the page relies on them):
 * - times are epoch milliseconds (`...At`), durations milliseconds (`...Ms`), `null` when unknown
 *   or never happened;
 * - offsets and counts are JSON numbers: Kafka offsets stay far below 2^53 in practice, and a
 *   page can do arithmetic on numbers, not on strings;
 * - rates are per second over the last minute (MM2's metric window: 2 samples of 30 s);
 * - nothing from the config appears beyond aliases, topic and group names: no bootstrap
 *   servers, no client properties, no secrets.
 */

/** MM2's component states as the Lifecycle reports them. */
export type ComponentState = 'starting' | 'running' | 'not-ready' | 'stopped'

/** Why data was lost (DATA LOSS in the log): records expired, topic deleted and re-created, partition truncated. */
export type DataLossCause = 'expired' | 'recreated' | 'truncated'

export interface StatusReport {
  /** Bumped when a field changes meaning or disappears (new fields do not bump it). */
  readonly version: 1
  readonly generatedAt: number
  readonly instance: InstanceReport
  /** Every flow, checkpoint flow and heartbeat emitter of this instance is ready (what /readyz answers). */
  readonly ready: boolean
  /** Why not ready, one line per component that is not (empty when ready). */
  readonly notReady: readonly NotReadyReason[]
  readonly flows: readonly FlowReport[]
  readonly checkpoints: readonly CheckpointReport[]
  readonly heartbeats: readonly HeartbeatEmitterReport[]
  /** The groups this instance shares its work in, and what it runs of each (docs/DESIGN.md, "Scale-out"). */
  readonly groups: readonly GroupReport[]
}

export interface GroupReport {
  readonly groupId: string
  /** The cluster alias the group lives on. */
  readonly cluster: string
  /** unjoined, joining, syncing, stable, refused or closed. */
  readonly state: string
  readonly memberId: string
  /** -1 before the first generation. */
  readonly generation: number
  readonly leader: boolean
  /** The units this instance runs, compact (`copy:A->B:orders:0-5`, `topics:A->B`). */
  readonly units: readonly string[]
  /** Why the group cannot be joined, while it cannot. */
  readonly refusal: string | null
}

export interface InstanceReport {
  /** Identifies this process among instances (host name and pid); what each instance owns is in its own report. */
  readonly id: string
  readonly pid: number
  readonly startedAt: number
  readonly uptimeMs: number
  /** `kafka-mirror` version from package.json. */
  readonly version: string
}

export interface NotReadyReason {
  /** `replication A->B`, `checkpoints A->B` or `heartbeats A->B`. */
  readonly component: string
  readonly flow: string
  /** The cluster alias the problem is with (the flow's source or target), when known. */
  readonly cluster: string | null
  readonly state: ComponentState
  readonly reason: string
}

/** What every long-running part of a flow reports first: which flow, its state, and why it is not ready. */
export interface ComponentReport {
  /** `source->target`. */
  readonly flow: string
  readonly state: ComponentState
  readonly ready: boolean
  readonly reason: string | null
}

export interface FlowReport extends ComponentReport {
  readonly source: string
  readonly target: string
  /** Copier tasks running, and the worker threads they run in (0: on the main thread). */
  readonly tasks: number
  readonly threads: number
  /** Totals over the flow (since this process started). */
  readonly recordsCopied: number
  readonly bytesCopied: number
  /** Of bytesCopied: record batches copied as bytes (raw path); the rest went record by record. */
  readonly rawBytesCopied: number
  readonly recordRate: number
  readonly byteRate: number
  /** Sum of the partitions' lag (records on the source not yet on the target). */
  readonly lag: number
  readonly lastCopyAt: number | null
  readonly dataLoss: DataLossSummary
  /** Partitions that cannot be copied now (refused by the target or not readable), with where and why. */
  readonly failingPartitions: number
  /** Replication latency shown by the heartbeats this flow copied, newest per topic and emitter. */
  readonly heartbeats: readonly HeartbeatLatencyReport[]
  readonly topics: readonly TopicReport[]
  /** The exactly-once mode's transactions of the copier tasks running here; null when the flow is not in the mode. */
  readonly transactions: TransactionsReport | null
}

/**
 * A flow's transactions in the exactly-once mode (docs/exactly-once-plan.md §5.6), over the copier
 * tasks this instance runs (other instances of a group report their own).
 */
export interface TransactionsReport {
  /** The tasks' transactional ids, as Connect names them (`<group.id>-<connector>-<task>`), by task. */
  readonly transactionalIds: readonly string[]
  /** The producer id and epoch of the one task running here; null with several (see `tasks`) or before the first. */
  readonly producerId: string | null
  readonly epoch: number | null
  /** Totals over the tasks (since each task started). */
  readonly committed: number
  readonly aborted: number
  /** A task was fenced: another producer took its transactional id, and it copies nothing until dealt again. */
  readonly fenced: boolean
  readonly tasks: readonly TaskTransactionsReport[]
}

export interface TaskTransactionsReport {
  readonly task: number
  readonly transactionalId: string
  /** As the transaction coordinator gave them (InitProducerId); null before. */
  readonly producerId: string | null
  readonly epoch: number | null
  readonly committed: number
  readonly aborted: number
  readonly fenced: boolean
  /** Records in the last committed transaction, and how long its commit took; null before the first commit. */
  readonly lastRecords: number | null
  readonly lastCommitMs: number | null
}

export interface DataLossSummary {
  /** Records lost in all (events whose count is unknown add nothing here; see unknownEvents). */
  readonly records: number
  readonly events: number
  /** Events whose lost count could not be known (a truncated partition). */
  readonly unknownEvents: number
  readonly byCause: Readonly<Record<DataLossCause, number>>
  /** The newest events, newest last (at most 20). */
  readonly recent: readonly DataLossReport[]
}

export interface DataLossReport {
  readonly topic: string
  readonly partition: number
  readonly cause: DataLossCause
  /** Records lost, or null when unknown. */
  readonly lost: number | null
  /** The position that could not be read, and where copying resumed. */
  readonly from: number
  readonly resumedAt: number
  readonly at: number
}

export interface TopicReport {
  /** The topic's name on the source, and on the target (`A.orders`). */
  readonly topic: string
  readonly remoteTopic: string
  readonly lag: number
  readonly recordRate: number
  readonly partitions: readonly PartitionReport[]
}

export interface PartitionReport {
  readonly partition: number
  /** The copier task that owns it. */
  readonly task: number
  /** The source's end offset (high watermark, or last stable offset when reading committed) as last seen. */
  readonly sourceEndOffset: number | null
  /** Every offset below this one is on the target. */
  readonly copiedTo: number | null
  /** The position last stored in the offsets topic (a restart resumes here). */
  readonly storedPosition: number | null
  /** sourceEndOffset - copiedTo. */
  readonly lag: number | null
  readonly recordsCopied: number
  readonly bytesCopied: number
  readonly recordRate: number
  readonly byteRate: number
  /**
   * Milliseconds from a record's timestamp to the target's acknowledgement, over the last minute; null without samples.
   */
  readonly replicationLatencyMs: LatencyReport | null
  readonly dataLossRecords: number
  /** Why this partition cannot be copied now, or null. */
  readonly lastError: PartitionErrorReport | null
}

export interface LatencyReport {
  readonly min: number
  readonly avg: number
  readonly max: number
}

export interface PartitionErrorReport {
  readonly offset: number
  readonly reason: string
  readonly since: number
  readonly retryAt: number
}

export interface HeartbeatLatencyReport {
  /** The heartbeats topic on the target, e.g. `A.heartbeats`. */
  readonly topic: string
  /** The cluster whose emitter wrote the heartbeat. */
  readonly origin: string | null
  readonly hops: number
  readonly latencyMs: number
  readonly emittedAt: number
  readonly landedAt: number
}

export interface CheckpointReport extends ComponentReport {
  readonly source: string
  readonly target: string
  readonly checkpointsTopic: string
  readonly groups: number
  readonly checkpointsWritten: number
  /** Of the translations: exact (the offset syncs prove the mapping) or fallback (MM2's rounding down). */
  readonly exact: number
  readonly fallback: number
  readonly lastEmitAt: number | null
  /** now - lastEmitAt: how fresh the newest checkpoints are. */
  readonly freshnessMs: number | null
  readonly groupOffsetsCommitted: number
}

export interface HeartbeatEmitterReport extends ComponentReport {
  /** The cluster the heartbeats are written to, and the topic. */
  readonly cluster: string
  readonly topic: string
  readonly emitted: number
  readonly lastEmittedAt: number | null
}
