/** Messages between `kafka-mirror bench` and its load and reader processes (structured-clone safe). */
import type { ConfigSource } from '../config/model.ts'
import type { Codec } from '../kafka/record-batch.ts'
import type { LatencySummary } from './latency-histogram.ts'

export interface LoadWork {
  /** The config to load (secrets are never sent to another process) and the flow whose clients to use. */
  readonly config: ConfigSource
  readonly flow: string
  readonly topic: string
  readonly partitions: number
  /** Records in all (with a rate: rate x duration). */
  readonly records: number
  /** Value bytes per record, the send-time stamp included; keys are null. */
  readonly size: number
  /** Records per second; undefined: flat out. */
  readonly rate: number | undefined
  readonly compression: Codec
}

export interface ReadWork {
  readonly config: ConfigSource
  readonly flow: string
  /** The remote topic on the target. */
  readonly topic: string
  readonly partitions: number
  /** Records the load will write: their sequence numbers are 0 .. records - 1. */
  readonly records: number
}

export type FromLoad =
  | { readonly kind: 'progress'; readonly sent: number }
  | { readonly kind: 'done'; readonly sent: number; readonly seconds: number }
  | { readonly kind: 'failed'; readonly message: string }

export type FromReader =
  | { readonly kind: 'ready' }
  | { readonly kind: 'progress'; readonly received: number }
  /** `received` counts distinct records; `duplicates` the copies of records already received. */
  | {
      readonly kind: 'done'
      readonly received: number
      readonly duplicates: number
      readonly bytes: number
      readonly firstAt: number | undefined
      readonly lastAt: number | undefined
      readonly latency: LatencySummary | undefined
    }
  | { readonly kind: 'failed'; readonly message: string }

/** To the reader: stop once `expected` records were read (or now, with `expected` undefined). */
export interface ToReader {
  readonly expected: number | undefined
}
