/**
 * The Java producer keys a user sets for the target producer (`<target>.producer.*`,
 * `producer.override.*`, a resource's `config`) that change how records are written:
 * - `compression.type`: none, gzip, snappy, lz4, zstd (Java's names), applied to every batch;
 * - `acks`: all / -1 (the default, as Kafka Connect sets for source tasks) or 1. Not 0: without an
 *   acknowledgement no position could ever be stored safely, so it is refused at start;
 * - `batch.size`: the most bytes one partition contributes to one produce request (Java's
 *   per-partition batch; 0, no batching, means one record), capped at MAX_PARTITION_BATCH_BYTES
 *   so a batch stays under a topic's default `max.message.bytes` (1 MB);
 * - `linger.ms` is accepted and has nothing to wait for: a fetched round is one batch per
 *   partition already and is sent at once.
 * A bad value is a ConfigError naming the cluster, the key, the value and what is accepted.
 */
import type { ClientConfig } from '../config/model.ts'
import { ConfigError } from '../errors.ts'
import { reveal } from '../util/secret.ts'
import { clusterLabel } from './security/cluster-label.ts'

/** Largest batch (bytes of keys, values and headers) one partition contributes to one send. */
export const MAX_PARTITION_BATCH_BYTES = 900 * 1024

export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
const COMPRESSIONS: readonly Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']

export interface ProducerSettings {
  readonly compression: Compression
  /** The user set `compression.type` (raw batches then keep only batches already compressed so). */
  readonly compressionSet: boolean
  /** true: every in-sync replica (acks=all); false: the leader only (acks=1). */
  readonly acksAll: boolean
  readonly partitionBatchBytes: number
}

export function producerSettings(cfg: ClientConfig): ProducerSettings {
  const prop = (key: string): string | undefined => {
    const v = cfg.props[key]
    return v === undefined ? undefined : reveal(v).trim()
  }
  const fail = (key: string, value: string, expected: string): never => {
    throw new ConfigError(
      `${clusterLabel(cfg)}: producer ${key}=${JSON.stringify(value)} is not supported; expected ${expected}`
    )
  }

  const compressionValue = prop('compression.type')?.toLowerCase() ?? 'none'
  const compression =
    COMPRESSIONS.find(c => c === compressionValue) ??
    fail('compression.type', compressionValue, COMPRESSIONS.join(', '))

  const acks = prop('acks') ?? 'all'
  let acksAll = true
  if (acks === '1') acksAll = false
  else if (acks === '0')
    fail(
      'acks',
      acks,
      'all (or -1) or 1: with acks=0 the target never confirms a write, so no copied position could be stored safely'
    )
  else if (acks !== 'all' && acks !== '-1') fail('acks', acks, 'all, -1 or 1')

  const batch = prop('batch.size')
  let partitionBatchBytes = MAX_PARTITION_BATCH_BYTES
  if (batch !== undefined) {
    const n = Number(batch)
    if (!Number.isInteger(n) || n < 0) fail('batch.size', batch, 'a number of bytes (0 or more)')
    // 0 is Java's "no batching": one record per partition per request.
    partitionBatchBytes = Math.max(1, Math.min(n, MAX_PARTITION_BATCH_BYTES))
  }

  const linger = prop('linger.ms')
  if (linger !== undefined && !(Number.isFinite(Number(linger)) && Number(linger) >= 0))
    fail('linger.ms', linger, 'a number of milliseconds (0 or more)')

  return { compression, compressionSet: prop('compression.type') !== undefined, acksAll, partitionBatchBytes }
}
