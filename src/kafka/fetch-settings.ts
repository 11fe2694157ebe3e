/**
 * The Java consumer keys a user sets for the source consumer (`<source>.consumer.*`,
 * `<source>-><target>.consumer.*`, a resource's `config`; config/clients.ts resolves them as MM2
 * does) that shape how a copier task fetches, with the meaning Kafka's consumer gives them:
 * - `fetch.max.bytes`: the most one fetch answer brings (a larger first batch still comes whole,
 *   as brokers do since KIP-74; 0, which Java allows, means one batch at a time). It is also
 *   what a copier task queues before it stops fetching, so it is the knob for the copy's memory:
 *   the default is 4 MiB, not Java's 50 MiB, as one task's live data is its queue plus one
 *   answer per source leader. Less costs CPU per byte (more, smaller requests, more frequent
 *   collections; docs/DESIGN.md, "Memory bounded by settings", has the figures);
 * - `max.partition.fetch.bytes`: the most one partition brings per fetch (default: the target
 *   producer's `batch.size`, so that a partition's answer fills one produce request);
 * - `fetch.min.bytes` (default 1) and `fetch.max.wait.ms` (default 500): how long a broker may
 *   hold a fetch to gather more; a higher `fetch.min.bytes` means fewer, larger requests when
 *   records trickle in, at the price of latency up to `fetch.max.wait.ms`.
 * A bad value is a ConfigError naming the cluster, the key, the value and what is accepted.
 */
import type { ClientConfig } from '../config/model.ts'
import { ConfigError } from '../errors.ts'
import { reveal } from '../util/secret.ts'
import type { PartitionReaderOptions } from './partition-reader.ts'
import { clusterLabel } from './security/cluster-label.ts'

/** A copier task's default `fetch.max.bytes`: one fetch answer, and what the task queues before it waits. */
export const DEFAULT_FETCH_MAX_BYTES = 4 * 1024 * 1024
const DEFAULT_FETCH_MAX_WAIT_MS = 500
const BYTES = 'a number of bytes (0 or more)'
/** The protocol's fields are 32-bit signed integers. */
const INT32_MAX = 2_147_483_647

export interface FetchSettings {
  readonly maxBytes: number
  /** undefined: the caller's default (the target producer's batch size for a copier task). */
  readonly partitionMaxBytes: number | undefined
  readonly minBytes: number
  readonly maxWaitMs: number
}

export function fetchSettings(cfg: ClientConfig): FetchSettings {
  const count = (key: string, expected: string, min: number): number | undefined => {
    const raw = cfg.props[key]
    if (raw === undefined) return undefined
    const value = reveal(raw).trim()
    const n = Number(value)
    if (value === '' || !Number.isInteger(n) || n < min || n > INT32_MAX)
      throw new ConfigError(
        `${clusterLabel(cfg)}: consumer ${key}=${JSON.stringify(value)} is not supported; expected ${expected}`
      )
    return n
  }
  return {
    maxBytes: count('fetch.max.bytes', BYTES, 0) ?? DEFAULT_FETCH_MAX_BYTES,
    partitionMaxBytes: count('max.partition.fetch.bytes', BYTES, 0),
    minBytes: count('fetch.min.bytes', BYTES, 0) ?? 1,
    maxWaitMs: count('fetch.max.wait.ms', 'a number of milliseconds (0 or more)', 0) ?? DEFAULT_FETCH_MAX_WAIT_MS
  }
}

/**
 * A copier task's reader: the user's fetch settings, and per partition by default what one send
 * carries (the target producer's batch bytes), so nothing fetched is cut off and read again.
 */
export function copierReaderOptions(sourceConsumer: ClientConfig, partitionBatchBytes: number): PartitionReaderOptions {
  const fetch = fetchSettings(sourceConsumer)
  return {
    maxBytes: fetch.maxBytes,
    partitionMaxBytes: fetch.partitionMaxBytes ?? partitionBatchBytes,
    minBytes: fetch.minBytes,
    maxWaitMs: fetch.maxWaitMs
  }
}
