/**
 * The messages between the main thread and a copier task's worker thread (copier-thread.ts on
 * the main side, copier-worker.ts in the worker). Everything here is plain data that survives
 * structured cloning: Maps and bigints do, Buffers arrive as Uint8Arrays, functions and class
 * instances (Secrets, clients) do not, which is why the worker loads the config itself.
 *
 * Order of a worker's life: workerData → `ready` (config loaded, clients built, positions read) →
 * `assign`/`assigned` and `release`/`released` any number of times → `run` → periodic `stats`
 * (and `heartbeats`, `log`) →
 * `stop` → `stopped` (copier stopped, in-flight sends finished, positions stored) → terminated.
 * `error` reports a failure: fatal ones end the worker (the main thread restarts it).
 */
import type { ConfigSource } from '../config/model.ts'
import type { Level } from '../observe/logger.ts'
import type { CopierStats } from './copier.ts'
import type { ReplicatedTopic } from './topic-sync.ts'

/** What a worker is started with. */
export interface CopierWorkerData {
  readonly config: ConfigSource
  /** The FlowConfig (`S->T`) the worker copies for. */
  readonly flow: string
  readonly task: number
  /**
   * The group's write lease (src/group/lease.ts): the worker reads it through a LeaseView on the
   * same shared memory and gates its producers with it. Absent: writes are not gated.
   */
  readonly gate?: { readonly buffer: SharedArrayBuffer; readonly groupId: string } | undefined
  /** This instance's label: positions carry `<owner> <generation>` (generation from the gate) in their owner header. */
  readonly owner?: string | undefined
}

/** A stored position (the last copied offset) of one source partition. */
export type Position = readonly [topic: string, partition: number, offset: bigint]

export type ToWorker =
  /**
   * The partitions this task owns from now on, with the topics they belong to. `positions`: the
   * newest positions the main thread knows were stored (from earlier tasks' `stopped`), used when
   * the offsets topic read at start did not show them yet.
   */
  | {
      readonly type: 'assign'
      readonly id: number
      readonly topics: readonly ReplicatedTopic[]
      readonly partitions: ReadonlyArray<readonly [topic: string, partition: number]>
      readonly positions: readonly Position[]
      /**
       * Read the offsets topic again before starting the new partitions: another instance may
       * have copied them since the worker read it at start.
       */
      readonly reread?: boolean
    }
  /**
   * Gives up these partitions while the others keep copying (RecordCopier.release): answered by
   * `released` once their in-flight sends finished and their positions were stored.
   */
  | {
      readonly type: 'release'
      readonly id: number
      readonly partitions: ReadonlyArray<readonly [topic: string, partition: number]>
    }
  | { readonly type: 'run' }
  | { readonly type: 'stop' }

export type FromWorker =
  | { readonly type: 'ready'; readonly threadId: number }
  | { readonly type: 'assigned'; readonly id: number; readonly assigned: number; readonly error?: string }
  | { readonly type: 'stats'; readonly stats: CopierStats; readonly assigned: number }
  /** `positions`: what is stored for the released partitions (the last copied offset of each). */
  | {
      readonly type: 'released'
      readonly id: number
      readonly assigned: number
      readonly positions: readonly Position[]
      readonly error?: string
    }
  /** Acknowledged records of a heartbeats topic (`topic`: its name on the target), for the flow's latency tracker. */
  | {
      readonly type: 'heartbeats'
      readonly topic: string
      readonly records: ReadonlyArray<{
        readonly key: Uint8Array | null
        readonly value: Uint8Array | null
        readonly timestamp: bigint
      }>
      readonly ackedAt: number
    }
  /** A log line of the worker, fields already reduced by the logger's safeValue (a Secret prints as [redacted]). */
  | {
      readonly type: 'log'
      readonly level: Level
      readonly scope: string | undefined
      readonly message: string
      readonly fields: Readonly<Record<string, string | number | boolean | null>> | undefined
    }
  | { readonly type: 'stopped'; readonly stats: CopierStats; readonly positions: readonly Position[] }
  | { readonly type: 'error'; readonly message: string; readonly fatal: boolean }
