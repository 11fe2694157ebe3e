/** Worker thread of producePaced (latency.ts): sends stamped records at a steady rate, then posts { sent, seconds }. */
import { parentPort, workerData } from 'node:worker_threads'
import { KafkaProducer } from '../../src/kafka/producer.ts'
import { roundRobinBatches } from './batches.ts'
import { type PacedOptions, stampedValue } from './latency.ts'

const options = workerData as PacedOptions
const producer = new KafkaProducer(
  { cluster: 'source', bootstrapServers: [options.bootstrap], props: {} },
  'bench-paced-producer'
)

/**
 * Records per send at most: a producer that fell behind catches up in sends a broker accepts (1 MB default request
 * limit).
 */
const MAX_PER_SEND = 4000

const started = Date.now()
let sent = 0
try {
  while (sent < options.total) {
    const tickStart = Date.now()
    const count = Math.min(
      MAX_PER_SEND,
      Math.min(options.total, Math.floor((options.rate * (tickStart - started)) / 1000)) - sent
    )
    if (count > 0) {
      const value = stampedValue(options.size)
      await producer.send(
        roundRobinBatches(options.topic, options.partitions, sent, count, () => ({ key: null, value, headers: [] }))
      )
      sent += count
    }
    await new Promise(resolve => setTimeout(resolve, Math.max(0, options.tickMs - (Date.now() - tickStart))))
  }
} finally {
  await producer.close()
}
parentPort?.postMessage({ sent, seconds: (Date.now() - started) / 1000 })
