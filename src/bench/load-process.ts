/**
 * The load process of `kafka-mirror bench`: writes stamped records (send time and sequence number
 * first in each value, JSON-like text after them: src/bench/synthetic-values.ts; null keys) to
 * the scratch topic on the source, round-robin over its partitions, flat out or at a fixed rate,
 * compressed as asked. Each request carries one encoded batch per partition and only the failed
 * partitions are sent again (KafkaProducer.sendBatches): the client's own retry of a whole
 * request would write the partitions that succeeded twice. A batch whose answer was lost can
 * still land twice; the reader tells such copies apart by their sequence numbers.
 */
import { pairClientId } from '../config/client-ids.ts'
import { loadConfig } from '../config/load.ts'
import { KafkaProducer } from '../kafka/producer.ts'
import { encodeBatch } from '../kafka/record-batch.ts'
import { childOf } from './bench-child.ts'
import type { FromLoad, LoadWork } from './bench-protocol.ts'
import { SyntheticValues } from './synthetic-values.ts'

const TICK_MS = 5
/**
 * Bytes of values per produce request, whatever the partition count: well under a broker's socket.request.max.bytes.
 */
const REQUEST_BYTES = 8 * 1024 * 1024

async function load(work: LoadWork, post: (m: FromLoad) => void): Promise<FromLoad> {
  /** Records per partition per request: a batch stays well under a broker's 1 MB message limit. */
  const perPartition = Math.max(1, Math.min(2000, Math.floor((512 * 1024) / work.size)))
  const perRequest = Math.max(1, Math.min(perPartition * work.partitions, Math.floor(REQUEST_BYTES / work.size)))
  const { config } = await loadConfig(work.config.path, { secretsDir: work.config.secretsDir, env: work.config.env })
  const flow = config.flows.find(f => f.name === work.flow)
  if (flow === undefined) throw new Error(`flow ${work.flow} is not in ${work.config.path}`)
  const producer = new KafkaProducer(flow.clients.sourceProducer, pairClientId(flow, 'bench-producer'))
  const values = new SyntheticValues()
  const started = Date.now()
  let sent = 0
  let sequence = 0
  // Where the next request's uneven share starts, so a slow rate still spreads over every partition.
  let first = 0
  let reportedAt = 0
  try {
    while (sequence < work.records) {
      const due =
        work.rate === undefined
          ? work.records
          : Math.min(work.records, Math.floor((work.rate * (Date.now() - started)) / 1000))
      const count = Math.min(due - sequence, perRequest)
      if (count > 0) {
        const stamp = Date.now()
        const perPartitionCount = Array.from(
          { length: work.partitions },
          (_, p) =>
            Math.floor(count / work.partitions) +
            ((p - first + work.partitions) % work.partitions < count % work.partitions ? 1 : 0)
        )
        first = (first + count) % work.partitions
        const pending = await Promise.all(
          perPartitionCount.map(async (n, partition) => {
            const records = Array.from({ length: n }, () => ({
              key: null,
              value: values.next(work.size, stamp, sequence++),
              headers: [],
              timestamp: BigInt(stamp)
            }))
            return { partition, n, batch: n === 0 ? undefined : await encodeBatch(records, work.compression) }
          })
        )
        let left = pending.filter(p => p.batch !== undefined)
        for (let attempt = 0; left.length > 0; attempt++) {
          const outcomes = await producer.sendBatches(
            left.map(p => ({ topic: work.topic, partition: p.partition, batch: p.batch as Buffer }))
          )
          const failed = left.filter((_, i) => outcomes[i]?.error !== undefined)
          sent += left.filter((_, i) => outcomes[i]?.error === undefined).reduce((s, p) => s + p.n, 0)
          const error = outcomes.find(o => o.error !== undefined)?.error
          if (error !== undefined && (!error.retriable || attempt >= 100)) throw error
          left = failed
          if (left.length > 0) await new Promise(resolve => setTimeout(resolve, 100))
        }
      }
      if (Date.now() - reportedAt >= 500) {
        post({ kind: 'progress', sent })
        reportedAt = Date.now()
      }
      if (work.rate !== undefined) await new Promise(resolve => setTimeout(resolve, TICK_MS))
    }
  } finally {
    await producer.close()
  }
  return { kind: 'done', sent, seconds: (Date.now() - started) / 1000 }
}

childOf<LoadWork, FromLoad>(load)
