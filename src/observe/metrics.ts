/**
 * `GET /metrics`: the running mirror in Prometheus text format (prom-client), under the names
 * Java MM2's metrics get through Strimzi's JMX exporter rules, so Strimzi's "Kafka Mirror Maker 2"
 * Grafana dashboard and alerts written for MM2 work unchanged, plus our own `kafka_mirror_*`.
 *
 * Nothing is counted here: every value is read at scrape time from the flows' status (the copier
 * tasks count per batch and post their counters, see metrics-copy.ts), so a scrape costs the
 * copy nothing and an unscraped mirror pays only for those counters.
 *
 * What stands for what (the JMX MBean each name comes from is in its help text):
 * - MM2's per-partition MirrorSourceConnector metrics and MirrorCheckpointConnector's checkpoint
 *   latency, with MM2's labels and windows (metrics-window.ts);
 * - Connect's worker and task metrics: each copier task is a task of the flow's
 *   MirrorSourceConnector, the checkpoint and heartbeat flows one task of theirs;
 * - client metrics: a copier task's fetches are its replication consumer's, its sends the
 *   producer Connect would run for it; the "producer buffer" is the task's queue (what it can still
 *   take before fetching waits), the closest thing to the Java producer's buffer.memory;
 * - the dashboard's JVM row: Node's heap (area heap) and memory outside it (area nonheap), V8's
 *   garbage collections, and the process's threads (main thread plus copier worker threads).
 *   Container CPU comes from the kubelet (container_cpu_usage_seconds_total), not from us.
 * Label values stay within aliases, topic and group names, client ids and task numbers: no
 * config value, address or secret is ever a label.
 */
import { hostname } from 'node:os'
import { basename, extname } from 'node:path'
import { type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks'
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import { collectDefaultMetrics, Counter, Gauge, Registry, Summary } from 'prom-client'
import type { Mirror } from '../mirror.ts'
import { connectProducerClientId, jmxValue, mirrorTaskClientId, strimziPodLabels } from './metrics-names.ts'
import { windowAvg, windowCountRate, windowMax, windowMin, windowRate } from './metrics-window.ts'

/** Kafka Connect's worker client id as Strimzi's single-worker pods show it (the coordinator metrics' clientid). */
const WORKER_CLIENT_ID = 'connect-1'

export interface MirrorMetrics {
  readonly contentType: string
  /** The exposition text with every value read now. */
  render: () => Promise<string>
  /** Stops the GC observer (tests build several). */
  close: () => void
}

export interface MirrorMetricsOptions {
  /** strimzi_io_cluster: defaults to the resource's name, or the config file's name without extension. */
  readonly cluster?: string
  readonly podName?: string
  /**
   * prom-client's process_* and nodejs_* metrics (process_cpu_seconds_total is what Strimzi's newer dashboard plots).
   */
  readonly defaultMetrics?: boolean
}

const LOSS_CAUSES = ['expired', 'recreated', 'truncated'] as const

type Labels<K extends string> = Partial<Record<K, string | number>>

export function mirrorMetrics(mirror: Mirror, opts: MirrorMetricsOptions = {}): MirrorMetrics {
  const registry = new Registry()
  const cluster = opts.cluster ?? mirror.origin.name ?? basename(mirror.origin.file, extname(mirror.origin.file))
  registry.setDefaultLabels(strimziPodLabels(cluster, opts.podName ?? hostname()))
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry })
  const registers = [registry]
  /**
   * The metrics read from the mirror, emptied before each scrape so a partition or flow that went away disappears (the
   * GC summary and prom-client's own keep counting).
   */
  const fromMirror: Array<{ reset: () => void }> = []
  const gauge = <K extends string>(name: string, help: string, labelNames: readonly K[]): Gauge<K> => {
    const g = new Gauge({ name, help, labelNames, registers })
    fromMirror.push(g)
    return g
  }
  const counter = <K extends string>(name: string, help: string, labelNames: readonly K[]): Counter<K> => {
    const c = new Counter({ name, help, labelNames, registers })
    fromMirror.push(c)
    return c
  }

  // MirrorSourceConnector (kafka.connect.mirror:type=MirrorSourceConnector,source,target,topic,partition).
  const tpLabels = ['source', 'target', 'topic', 'partition'] as const
  const src = (attr: string, help: string): Gauge<(typeof tpLabels)[number]> =>
    gauge(
      `kafka_connect_mirror_mirrorsourceconnector_${attr}`,
      `${help} (MM2 MirrorSourceConnector ${attr.replaceAll('_', '-')}; topic is the remote topic)`,
      tpLabels
    )
  const recordCount = src('record_count', 'Records replicated to the target (acknowledged)')
  const recordRate = src('record_rate', 'Records replicated per second')
  const byteCount = src('byte_count', 'Bytes replicated: record values, or whole batches when copied as bytes')
  const byteRate = src('byte_rate', 'Bytes replicated per second')
  const age = src('record_age_ms', 'Age of the newest record fetched (now minus its timestamp)')
  const ageMin = src('record_age_ms_min', 'Min record age when fetched, from batch header timestamps')
  const ageMax = src('record_age_ms_max', 'Max record age when fetched, from batch header timestamps')
  const ageAvg = src('record_age_ms_avg', 'Average record age when fetched (batch midpoints weighted by records)')
  const latency = src('replication_latency_ms', 'Record timestamp to target acknowledgement, newest record')
  const latencyMin = src('replication_latency_ms_min', 'Min replication latency, from batch header timestamps')
  const latencyMax = src('replication_latency_ms_max', 'Max replication latency, from batch header timestamps')
  const latencyAvg = src(
    'replication_latency_ms_avg',
    'Average replication latency (batch midpoints weighted by records)'
  )

  // MirrorCheckpointConnector
  // (kafka.connect.mirror:type=MirrorCheckpointConnector,source,target,group,topic,partition).
  const cpLabels = ['source', 'target', 'group', 'topic', 'partition'] as const
  const cp = (attr: string, help: string): Gauge<(typeof cpLabels)[number]> =>
    gauge(
      `kafka_connect_mirror_mirrorcheckpointconnector_${attr}`,
      `${help} (MM2 MirrorCheckpointConnector ${attr.replaceAll('_', '-')})`,
      cpLabels
    )
  const cpLatency = cp('checkpoint_latency_ms', 'Group offsets read to checkpoint written, latest')
  const cpLatencyMin = cp('checkpoint_latency_ms_min', 'Min checkpoint latency')
  const cpLatencyMax = cp('checkpoint_latency_ms_max', 'Max checkpoint latency')
  const cpLatencyAvg = cp('checkpoint_latency_ms_avg', 'Average checkpoint latency')

  // Kafka Connect worker and task metrics (kafka.connect:type=connect-worker-metrics, connector-task-metrics,
  // source-task-metrics, ...).
  const connectorCount = gauge(
    'kafka_connect_worker_connector_count',
    'Connectors this worker runs: a source, checkpoint and heartbeat connector per flow that runs them (connect-worker-metrics)',
    []
  )
  const taskCount = gauge(
    'kafka_connect_worker_task_count',
    'Tasks this worker runs: copier tasks, one checkpoint and one heartbeat task per flow that runs them (connect-worker-metrics)',
    []
  )
  const runningTasks = gauge(
    'kafka_connect_worker_connector_running_task_count',
    'Running tasks of a connector (connect-worker-metrics,connector)',
    ['connector']
  )
  const failedTasks = gauge(
    'kafka_connect_worker_connector_failed_task_count',
    'Tasks of a connector not running because of an error (connect-worker-metrics,connector)',
    ['connector']
  )
  const status = gauge(
    'kafka_connect_connector_status',
    "A task's state, 1 for the state it is in: running, unassigned (starting) or failed (not ready: retrying a cluster; cleared when it recovers) (connector-task-metrics status)",
    ['connector', 'task', 'status']
  )
  const commitAvg = gauge(
    'kafka_connect_connector_task_offset_commit_avg_time_ms',
    "Average time to store the task's positions in the offsets topic (connector-task-metrics)",
    ['connector', 'task']
  )
  const commitMax = gauge(
    'kafka_connect_connector_task_offset_commit_max_time_ms',
    "Max time to store the task's positions (connector-task-metrics)",
    ['connector', 'task']
  )
  const active = gauge(
    'kafka_connect_source_task_source_record_active_count',
    'Records fetched and not yet acknowledged by the target (source-task-metrics)',
    ['connector', 'task']
  )
  const pollTotal = counter(
    'kafka_connect_source_task_source_record_poll_total',
    'Records fetched from the source (source-task-metrics)',
    ['connector', 'task']
  )
  const writeTotal = counter(
    'kafka_connect_source_task_source_record_write_total',
    'Records acknowledged by the target (source-task-metrics)',
    ['connector', 'task']
  )
  const assignedConnectors = gauge(
    'kafka_connect_coordinator_assigned_connectors',
    'Connectors assigned to this worker (connect-coordinator-metrics)',
    ['clientid']
  )
  const assignedTasks = gauge(
    'kafka_connect_coordinator_assigned_tasks',
    'Tasks assigned to this worker (connect-coordinator-metrics)',
    ['clientid']
  )
  const rebalancing = gauge(
    'kafka_connect_worker_rebalance_rebalancing',
    'Whether the worker is rebalancing: always 0, a kafka-mirror process deals its tasks itself (connect-worker-rebalance-metrics)',
    []
  )

  // Client metrics (kafka.consumer / kafka.producer, tagged by client-id).
  const recordsLag = gauge(
    'kafka_consumer_fetch_manager_records_lag',
    'Records on the source not yet on the target: source end offset minus copied-to (consumer-fetch-manager-metrics records-lag of the replication consumer)',
    ['clientid', 'topic', 'partition']
  )
  const incoming = counter(
    'kafka_consumer_incoming_byte_total',
    'Record batch bytes fetched by the replication consumer (consumer-metrics)',
    ['clientid']
  )
  const outgoing = counter(
    'kafka_producer_outgoing_byte_total',
    'Record batch bytes sent to the target, retries included (producer-metrics)',
    ['clientid']
  )
  const bufferAvailable = gauge(
    'kafka_producer_buffer_available_bytes',
    'Bytes the task can still queue before fetching waits (its queue limit minus what is queued; producer-metrics buffer-available-bytes)',
    ['clientid']
  )

  // The dashboard's JVM row, from Node.
  const memory = gauge(
    'jvm_memory_used_bytes',
    'Main thread memory: V8 heap used (area heap), memory outside the heap such as buffers (area nonheap)',
    ['area']
  )
  const threads = gauge(
    'jvm_threads_current',
    'Threads running JavaScript: the main thread plus copier worker threads',
    []
  )
  const gcTime = new Summary({
    name: 'jvm_gc_collection_seconds',
    help: 'Time spent in V8 garbage collection on the main thread, by kind',
    labelNames: ['gc'],
    percentiles: [],
    registers
  })
  const gcKinds: Record<number, string> = {
    1: 'scavenge',
    2: 'mark-sweep-compact',
    4: 'incremental-marking',
    8: 'weak-callbacks'
  }
  const gcObserver = new PerformanceObserver(list => {
    for (const e of list.getEntries()) {
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0
      gcTime.observe({ gc: gcKinds[kind] ?? 'other' }, e.duration / 1000)
    }
  })
  gcObserver.observe({ entryTypes: ['gc'] })

  // Our own.
  const flowReady = gauge(
    'kafka_mirror_flow_ready',
    '1 when the component of the flow is ready (replication, checkpoints, heartbeats), 0 otherwise',
    ['flow', 'component']
  )
  const lossRecords = counter(
    'kafka_mirror_data_loss_records_total',
    'Records lost before they could be copied (expired on the source, topic re-created, partition truncated; a loss of unknown size adds 0, see kafka_mirror_data_loss_events_total)',
    ['flow', 'topic', 'partition', 'cause']
  )
  const lossEvents = counter('kafka_mirror_data_loss_events_total', 'Data-loss events (each is a DATA LOSS log line)', [
    'flow',
    'topic',
    'partition',
    'cause'
  ])
  const refused = counter(
    'kafka_mirror_refused_records_total',
    'Distinct records the target refused (the partition is paused on each and retried)',
    ['flow', 'topic', 'partition']
  )
  const paused = gauge(
    'kafka_mirror_partition_paused',
    '1 while a partition cannot be copied (a record refused by the target, or the partition not readable)',
    ['flow', 'topic', 'partition']
  )
  const lag = gauge('kafka_mirror_lag_records', 'Records on the source not yet on the target, per source partition', [
    'flow',
    'topic',
    'partition'
  ])
  const copiedRecords = counter('kafka_mirror_copied_records_total', 'Records the target acknowledged', ['flow'])
  const copiedBytes = counter(
    'kafka_mirror_copied_bytes_total',
    'Bytes copied: path raw = record batches copied as bytes, record = record values re-encoded record by record',
    ['flow', 'path']
  )
  const heartbeatLatency = gauge(
    'kafka_mirror_heartbeat_replication_latency_ms',
    'Emission to target acknowledgement of the newest heartbeat copied, per heartbeats topic and emitting cluster',
    ['flow', 'topic', 'origin']
  )
  const translations = counter(
    'kafka_mirror_offset_translations_total',
    "Consumer group offsets translated into checkpoints: exact (the offset syncs prove the mapping) or fallback (MM2's rounding down)",
    ['flow', 'exactness']
  )
  const checkpointAge = gauge(
    'kafka_mirror_checkpoint_age_seconds',
    'Seconds since the flow last wrote checkpoints (NaN before the first)',
    ['flow']
  )

  // The exactly-once mode, per copier task (docs/exactly-once-plan.md §5.7): only for flows in the mode.
  const txnLabels = ['flow', 'task'] as const
  const txnCommitted = counter(
    'kafka_mirror_transactions_committed_total',
    "Transactions the copier task committed on the target (exactly-once mode): the round's records and positions, visible together to read_committed consumers",
    txnLabels
  )
  const txnAborted = counter(
    'kafka_mirror_transactions_aborted_total',
    'Transactions the copier task aborted or gave up after an unknown outcome (exactly-once mode): their partitions are copied again from the committed positions',
    txnLabels
  )
  const txnFenced = gauge(
    'kafka_mirror_transaction_fenced',
    "1 once another producer took the copier task's transactional id (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH): the task writes nothing, and takes the id again every 5 s while its instance still holds the flow; 0 otherwise",
    txnLabels
  )
  const txnLastRecords = gauge(
    'kafka_mirror_transaction_last_records',
    "Records in the copier task's last committed transaction (NaN before its first commit)",
    txnLabels
  )
  const txnLastCommitMs = gauge(
    'kafka_mirror_transaction_last_commit_ms',
    "Time the copier task's last commit took: writing its positions into the transaction, then EndTxn (NaN before its first commit)",
    txnLabels
  )

  /** A counter set to a total read from the mirror (reset before each scrape; equal labels add up). */
  const setCounter = <K extends string>(c: Counter<K>, labels: Labels<K>, value: number): void => {
    c.inc(labels, value)
  }

  /** Partitions between two yields to the event loop while the values are read. */
  const PARTITIONS_PER_SLICE = 100

  async function refresh(): Promise<void> {
    for (const m of fromMirror) m.reset()
    const now = Date.now()
    let connectors = 0
    let tasks = 0
    let workerThreads = 0
    const statuses = mirror.status()
    let sliced = 0
    for (const [i, flow] of mirror.flows.entries()) {
      const st = statuses[i]
      if (st === undefined) continue
      const f = flow.flow
      const connector = f.naming.sourceConnectorName
      const conn = jmxValue(connector)
      const [source, target] = [jmxValue(f.source), jmxValue(f.target)]
      connectors++
      tasks += st.tasks
      workerThreads += st.threads
      const ready = st.state === 'running'
      flowReady.set({ flow: f.name, component: 'replication' }, ready ? 1 : 0)
      // inc, not set: in dedicated mode (mm2.properties) every flow's connector has the same
      // name (MirrorSourceConnector), as in Java, so per-connector counts add up over the flows.
      runningTasks.inc({ connector: conn }, ready ? st.tasks : 0)
      failedTasks.inc({ connector: conn }, st.state === 'not-ready' ? Math.max(1, st.tasks) : 0)
      const copier = st.copier
      if (copier !== undefined) {
        setCounter(copiedRecords, { flow: f.name }, copier.recordsCopied)
        setCounter(copiedBytes, { flow: f.name, path: 'raw' }, copier.rawBytesCopied)
        setCounter(copiedBytes, { flow: f.name, path: 'record' }, copier.bytesCopied - copier.rawBytesCopied)
        for (const e of copier.dataLoss) {
          const l = { flow: f.name, topic: e.topic, partition: e.partition, cause: e.reason }
          setCounter(lossEvents, l, 1)
          setCounter(lossRecords, l, e.lost > 0n ? Number(e.lost) : 0)
        }
        for (const fail of copier.failures.values())
          paused.set({ flow: f.name, topic: fail.topic, partition: fail.partition }, 1)
      }
      if (st.tasks === 0)
        status.set({ connector: conn, task: 0, status: st.state === 'not-ready' ? 'failed' : 'unassigned' }, 1)
      for (const { task, stats } of st.perTask) {
        const state = st.state === 'running' ? 'running' : st.state === 'not-ready' ? 'failed' : 'unassigned'
        status.set({ connector: conn, task, status: state }, 1)
        const ct = { connector: conn, task }
        commitAvg.set(ct, windowAvg(stats.io.storeWindow, now))
        commitMax.set(ct, windowMax(stats.io.storeWindow, now))
        setCounter(pollTotal, ct, stats.io.fetchedRecords)
        let activeRecords = 0
        let written = 0
        const consumer = jmxValue(mirrorTaskClientId(f.source, f.target, connector, task, 'replication-consumer'))
        const producer = jmxValue(connectProducerClientId(connector, task))
        setCounter(incoming, { clientid: consumer }, stats.io.fetchedBytes)
        setCounter(outgoing, { clientid: producer }, stats.io.sentBytes)
        bufferAvailable.set({ clientid: producer }, Math.max(0, stats.io.queueLimitBytes - stats.io.queuedBytes))
        for (const p of stats.partitions.values()) {
          if (++sliced % PARTITIONS_PER_SLICE === 0) await yieldToLoop()
          activeRecords += p.active
          written += p.records
          const l = { source, target, topic: jmxValue(p.remote), partition: p.partition }
          recordCount.set(l, p.records)
          recordRate.set(l, windowCountRate(p.copyWindow, now))
          byteCount.set(l, p.bytes)
          byteRate.set(l, windowRate(p.copyWindow, now))
          age.set(l, p.lastAgeMs)
          ageMin.set(l, windowMin(p.ageWindow, now))
          ageMax.set(l, windowMax(p.ageWindow, now))
          ageAvg.set(l, windowAvg(p.ageWindow, now))
          latency.set(l, p.lastLatencyMs)
          latencyMin.set(l, windowMin(p.latencyWindow, now))
          latencyMax.set(l, windowMax(p.latencyWindow, now))
          latencyAvg.set(l, windowAvg(p.latencyWindow, now))
          const behind = p.endOffset >= 0 ? Math.max(0, p.endOffset - p.copiedTo) : NaN
          recordsLag.set({ clientid: consumer, topic: jmxValue(p.topic), partition: p.partition }, behind)
          lag.set({ flow: f.name, topic: p.topic, partition: p.partition }, behind)
          // At 0 from the start: increase() and rate() only see a counter's first rise when its series existed before.
          setCounter(refused, { flow: f.name, topic: p.topic, partition: p.partition }, p.refusedRecords)
          for (const cause of LOSS_CAUSES)
            setCounter(lossRecords, { flow: f.name, topic: p.topic, partition: p.partition, cause }, 0)
        }
        active.inc(ct, activeRecords)
        setCounter(writeTotal, ct, written)
        if (f.exactlyOnce.enabled) {
          // A worker thread's task posts its stats after it started: until then, nothing committed yet.
          const t = stats.transactions
          const tl = { flow: f.name, task }
          const committed = t?.committed ?? 0
          setCounter(txnCommitted, tl, committed)
          setCounter(txnAborted, tl, t?.aborted ?? 0)
          txnFenced.set(tl, t?.fenced === true ? 1 : 0)
          txnLastRecords.set(tl, t !== undefined && committed > 0 ? t.lastRecords : NaN)
          txnLastCommitMs.set(tl, t !== undefined && committed > 0 ? t.lastCommitMs : NaN)
        }
      }
      for (const h of st.heartbeats)
        heartbeatLatency.set({ flow: f.name, topic: h.topic, origin: h.origin ?? h.emitter }, h.latencyMs)
    }
    for (const c of mirror.checkpoints) {
      const st = c.status()
      const f = c.flow
      const conn = jmxValue(f.naming.checkpointConnectorName)
      connectors++
      tasks++
      const ready = st.state === 'running'
      flowReady.set({ flow: f.name, component: 'checkpoints' }, ready ? 1 : 0)
      runningTasks.inc({ connector: conn }, ready ? 1 : 0)
      failedTasks.inc({ connector: conn }, st.state === 'not-ready' ? 1 : 0)
      status.set(
        { connector: conn, task: 0, status: ready ? 'running' : st.state === 'not-ready' ? 'failed' : 'unassigned' },
        1
      )
      setCounter(translations, { flow: f.name, exactness: 'exact' }, st.stats.exact)
      setCounter(translations, { flow: f.name, exactness: 'fallback' }, st.stats.fallback)
      checkpointAge.set({ flow: f.name }, st.stats.lastEmitAt > 0 ? (now - st.stats.lastEmitAt) / 1000 : NaN)
      const [source, target] = [jmxValue(f.source), jmxValue(f.target)]
      for (const l of c.latency.values()) {
        const labels = { source, target, group: jmxValue(l.group), topic: jmxValue(l.topic), partition: l.partition }
        cpLatency.set(labels, l.last)
        cpLatencyMin.set(labels, windowMin(l.window, now))
        cpLatencyMax.set(labels, windowMax(l.window, now))
        cpLatencyAvg.set(labels, windowAvg(l.window, now))
      }
    }
    for (const h of mirror.heartbeats) {
      const st = h.status()
      const conn = jmxValue(h.flow.naming.heartbeatConnectorName)
      connectors++
      tasks++
      const ready = st.state === 'running'
      flowReady.set({ flow: h.flow.name, component: 'heartbeats' }, ready ? 1 : 0)
      runningTasks.inc({ connector: conn }, ready ? 1 : 0)
      failedTasks.inc({ connector: conn }, st.state === 'not-ready' ? 1 : 0)
      status.set(
        { connector: conn, task: 0, status: ready ? 'running' : st.state === 'not-ready' ? 'failed' : 'unassigned' },
        1
      )
    }
    connectorCount.set(connectors)
    taskCount.set(tasks)
    assignedConnectors.set({ clientid: WORKER_CLIENT_ID }, connectors)
    assignedTasks.set({ clientid: WORKER_CLIENT_ID }, tasks)
    rebalancing.set(0)
    const mem = process.memoryUsage()
    memory.set({ area: 'heap' }, mem.heapUsed)
    memory.set({ area: 'nonheap' }, mem.external)
    threads.set(1 + workerThreads)
  }

  /**
   * Reads the values and writes the text in slices (some partitions, one family), yielding in
   * between: with many partitions a scrape takes a few hundred ms, which would otherwise hold up
   * a copier task on the main thread. Scrapes run one after the other (they share the metrics).
   */
  async function renderNow(): Promise<string> {
    await refresh()
    const parts: string[] = []
    for (const m of registry.getMetricsAsArray()) {
      parts.push(await registry.getSingleMetricAsString(m.name))
      await yieldToLoop()
    }
    return `${parts.join('\n\n')}\n`
  }
  let queue: Promise<unknown> = Promise.resolve()

  return {
    contentType: registry.contentType,
    async render() {
      const next = queue.then(renderNow, renderNow)
      queue = next
      return await next
    },
    close() {
      gcObserver.disconnect()
    }
  }
}
