/** The json-lz4 workload's payload file, from the order events `kafka-mirror bench` writes too. */
import { writeFileSync } from 'node:fs'
import { orderEvent } from '../../src/bench/order-events.ts'
import { seededRandom } from '../../src/util/seeded-random.ts'

/** `count` distinct order events of `size` bytes each, one per line (ProducerPerformance's --payload-file). */
export function writeJsonPayloads(file: string, count: number, size: number): void {
  const random = seededRandom(20_250_314)
  writeFileSync(file, Array.from({ length: count }, (_, i) => orderEvent(i, size, random)).join('\n') + '\n')
}
