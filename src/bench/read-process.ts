/**
 * The reader process of `kafka-mirror bench`: reads the remote scratch topic on the target from its
 * start (it exists once the mirror created it) and takes each record's end-to-end latency
 * (receive time minus the send time stamped in the value) until told how many to expect and all
 * arrived, or told to stop.
 */
import { pairClientId } from '../config/client-ids.ts'
import { loadConfig } from '../config/load.ts'
import { PartitionReader } from '../kafka/partition-reader.ts'
import { childOf } from './bench-child.ts'
import type { FromReader, ReadWork, ToReader } from './bench-protocol.ts'
import { LatencyHistogram } from './latency-histogram.ts'
import { SEQUENCE_END, sequenceOf } from './synthetic-values.ts'

async function read(
  work: ReadWork,
  post: (m: FromReader) => void,
  onMessage: (listener: (m: ToReader) => void) => void
): Promise<FromReader> {
  let expected = Number.POSITIVE_INFINITY
  let stop = false
  onMessage(m => {
    if (m.expected === undefined) stop = true
    else expected = m.expected
  })
  const { config } = await loadConfig(work.config.path, { secretsDir: work.config.secretsDir, env: work.config.env })
  const flow = config.flows.find(f => f.name === work.flow)
  if (flow === undefined) throw new Error(`flow ${work.flow} is not in ${work.config.path}`)
  const reader = new PartitionReader(
    {
      ...flow.clients.targetConsumer,
      props: { ...flow.clients.targetConsumer.props, 'isolation.level': 'read_uncommitted' }
    },
    pairClientId(flow, 'bench-reader'),
    { maxWaitMs: 100 }
  )
  const histogram = new LatencyHistogram()
  // One bit per sequence number: a record seen again (a retried send, a re-copy) is a duplicate,
  // not progress, so the run ends only when every distinct record arrived.
  const seen = new Uint8Array(Math.ceil(work.records / 8))
  let duplicates = 0
  let bytes = 0
  let firstAt: number | undefined
  let lastAt: number | undefined
  let reportedAt = 0
  try {
    for (let partition = 0; partition < work.partitions; partition++) reader.seek(work.topic, partition, 0n)
    let ready = false
    while (!stop && histogram.count < expected) {
      const round = await reader.poll()
      // The load starts only once the reader reads, so no record waits for the reader's start.
      if (!ready) {
        post({ kind: 'ready' })
        ready = true
      }
      const now = Date.now()
      for (const records of round.records.values()) {
        for (const r of records) {
          if (r.value === null || r.value.length < SEQUENCE_END) continue
          const sequence = sequenceOf(r.value)
          const bit = 1 << (sequence & 7)
          const at = sequence >>> 3
          if (sequence < 0 || sequence >= work.records) continue
          if (((seen[at] ?? 0) & bit) !== 0) {
            duplicates++
            continue
          }
          seen[at] = (seen[at] ?? 0) | bit
          histogram.add(now - Number(r.value.readBigInt64BE(0)))
          bytes += r.value.length
          firstAt ??= now
          lastAt = now
        }
      }
      if (now - reportedAt >= 500) {
        post({ kind: 'progress', received: histogram.count })
        reportedAt = now
      }
      // Let the stop message in between rounds.
      await new Promise(resolve => setImmediate(resolve))
    }
  } finally {
    await reader.close()
  }
  return { kind: 'done', received: histogram.count, duplicates, bytes, firstAt, lastAt, latency: histogram.summary() }
}

childOf<ReadWork, FromReader, ToReader>(read)
