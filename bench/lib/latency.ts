/**
 * End-to-end latency for the side-by-side bench's latency workload: each record's value starts
 * with its send time (Date.now() as a big-endian int64) and is zero-padded to its size; a reader
 * on the target subtracts that from the time it received the record. A histogram with 1 ms
 * buckets keeps the percentiles exact to the millisecond at any record count.
 */
import { Worker } from 'node:worker_threads'
import { LatencyHistogram } from '../../src/bench/latency-histogram.ts'
import { sendStamps } from '../../src/bench/send-stamps.ts'
import type { PartitionReader } from '../../src/kafka/partition-reader.ts'

export { LatencyHistogram, type LatencySummary, stampedValue } from '../../src/bench/latency-histogram.ts'

/**
 * Latencies of one paced run, split at `measuredFrom` (a send time, epoch ms): records sent before
 * it are the warm-up (a mirror just started, its JIT still cold, sends its first seconds slower),
 * the rest are the steady state the figures are about.
 */
export class SplitLatencies {
  readonly warmUp = new LatencyHistogram()
  readonly measured = new LatencyHistogram()
  readonly measuredFrom: number
  constructor(measuredFrom: number) {
    this.measuredFrom = measuredFrom
  }

  add(sentAt: number, receivedAt: number): void {
    ;(sentAt < this.measuredFrom ? this.warmUp : this.measured).add(receivedAt - sentAt)
  }

  get count(): number {
    return this.warmUp.count + this.measured.count
  }
}

/**
 * Polls `reader` (positioned by the caller) and adds each record's latency to `latencies`, until
 * `expected` records were read or `signal` aborts. The stamps are read from the batches' bytes
 * (sendStamps), not decoded records: the reader shares the machine with what it measures.
 */
export async function readLatencies(
  reader: PartitionReader,
  latencies: SplitLatencies,
  expected: number,
  signal: AbortSignal
): Promise<void> {
  while (latencies.count < expected && !signal.aborted) {
    let round
    try {
      round = await reader.pollBatches(signal)
    } catch {
      await new Promise(resolve => setTimeout(resolve, 100))
      continue
    }
    const receivedAt = Date.now()
    for (const fetched of round.fetched.values()) {
      for (const { batch, skip } of fetched.batches)
        if (!skip) for (const sentAt of sendStamps(batch, fetched.from)) latencies.add(sentAt, receivedAt)
    }
  }
}

export interface PacedOptions {
  readonly bootstrap: string
  readonly topic: string
  readonly partitions: number
  /** Records per second. */
  readonly rate: number
  /** Records in all (rate x duration). */
  readonly total: number
  /** Value bytes per record (the stamp included); keys are null. */
  readonly size: number
  /** How often a batch goes out. */
  readonly tickMs: number
}

export interface PacedResult {
  readonly sent: number
  readonly seconds: number
}

/**
 * Produces `total` stamped records at `rate` per second in a worker thread (so that producing
 * does not delay the reader's clock): every `tickMs` it sends the records due by then (acks=all,
 * uncompressed, our producer), round-robin over the partitions. Aborting stops it early
 * (undefined).
 */
export async function producePaced(options: PacedOptions, signal: AbortSignal): Promise<PacedResult | undefined> {
  if (signal.aborted) return undefined
  const worker = new Worker(new URL('./paced-producer-worker.ts', import.meta.url), { workerData: options })
  const stop = (): void => {
    void worker.terminate()
  }
  signal.addEventListener('abort', stop, { once: true })
  try {
    return await new Promise<PacedResult | undefined>((resolve, reject) => {
      worker.once('message', (result: PacedResult) => {
        resolve(result)
      })
      worker.once('error', reject)
      worker.once('exit', code => {
        if (signal.aborted) resolve(undefined)
        else reject(new Error(`paced producer stopped (exit ${code}) before it finished`))
      })
    })
  } finally {
    signal.removeEventListener('abort', stop)
    await worker.terminate()
  }
}
