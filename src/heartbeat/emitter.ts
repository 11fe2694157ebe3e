/**
 * MirrorHeartbeatConnector/Task for one source->target pair (mm2-spec §3.2, §4.4, §8): creates
 * `heartbeats` on the target (1 partition, compact, heartbeats.topic.replication.factor) and
 * writes Heartbeat(source, target, now) to its partition 0 every emit.heartbeats.interval.
 *
 * Runs whether or not the pair replicates (MM2's heartbeat connector ignores `enabled`): the
 * heartbeat the reverse pair T->S writes into S's `heartbeats` is what S->T replicates as
 * `S.heartbeats`, the signal `topology` and the latency tracker read.
 *
 * Lifecycle as SourceFlow: `start()` returns at once; while the target is unreachable or the
 * topic cannot be created or written, the status is `not-ready` with the reason and it retries
 * with backoff, recovering by itself. `close()` is idempotent.
 */
import type { FlowConfig } from '../config/model.ts'
import { encodeHeartbeat } from '../formats/heartbeat.ts'
import { KafkaAdmin } from '../kafka/admin.ts'
import { KafkaProducer } from '../kafka/producer.ts'
import type { Logger } from '../observe/logger.ts'
import { createReplicationPolicy } from '../policy/replication-policy.ts'
import { backoffMs, sleep } from '../util/abortable.ts'

export type EmitterState = 'starting' | 'running' | 'not-ready' | 'stopped'

export interface HeartbeatEmitterStatus {
  readonly flow: string
  readonly state: EmitterState
  readonly reason: string | undefined
  /** Where the heartbeats go: `heartbeats` on the target cluster. */
  readonly topic: string
  readonly cluster: string
  readonly emitted: number
  /** Epoch ms of the last acknowledged heartbeat (0 = none yet). */
  readonly lastEmittedAt: number
}

export class HeartbeatEmitter {
  readonly flow: FlowConfig
  readonly topic: string
  readonly #log: Logger
  readonly #abort = new AbortController()
  #state: EmitterState = 'starting'
  #reason: string | undefined
  #emitted = 0
  #lastEmittedAt = 0
  #running: Promise<void> | undefined
  #clients: { admin: KafkaAdmin, producer: KafkaProducer } | undefined

  constructor (flow: FlowConfig, log: Logger) {
    this.flow = flow
    this.topic = createReplicationPolicy(flow.replicationPolicy, flow.source).heartbeatsTopic()
    this.#log = log.child(`${flow.name} heartbeats`)
  }

  status (): HeartbeatEmitterStatus {
    return { flow: this.flow.name, state: this.#state, reason: this.#reason, topic: this.topic, cluster: this.flow.target, emitted: this.#emitted, lastEmittedAt: this.#lastEmittedAt }
  }

  start (): void {
    this.#running ??= this.#run().catch(err => {
      this.#state = 'stopped'
      this.#reason = (err as Error).message
      this.#log.error('heartbeats stopped after an unexpected error', { error: err as Error })
    })
  }

  async #run (): Promise<void> {
    const signal = this.#abort.signal
    const intervalMs = this.flow.emitHeartbeats.intervalMs
    let failures = 0
    let topicReady = false
    while (!signal.aborted) {
      try {
        if (!topicReady) {
          await this.#ensureTopic()
          topicReady = true
        }
        await this.#emitOne()
        if (failures > 0 || this.#state !== 'running') this.#log.info('emitting heartbeats', { topic: this.topic, cluster: this.flow.target, everyMs: intervalMs })
        failures = 0
        this.#state = 'running'
        this.#reason = undefined
      } catch (err) {
        failures++
        this.#state = 'not-ready'
        this.#reason = (err as Error).message
        this.#log.warn('heartbeats not ready; retrying', { attempt: failures, retryInMs: backoffMs(failures), reason: (err as Error).message })
        // Fresh clients next time: a client that lost its cluster may keep stale connections.
        await this.#closeClients()
      }
      await sleep(failures > 0 ? backoffMs(failures) : intervalMs, signal)
    }
  }

  #ensureClients (): { admin: KafkaAdmin, producer: KafkaProducer } {
    const id = (role: string): string => `${this.flow.source}->${this.flow.target}|${this.flow.naming.heartbeatConnectorName}|${role}`
    this.#clients ??= {
      admin: new KafkaAdmin(this.flow.clients.targetAdmin, id('heartbeats-admin')),
      producer: new KafkaProducer(this.flow.clients.targetProducer, id('heartbeats-producer'))
    }
    return this.#clients
  }

  /** MM2 swallows "exists" and authorisation errors (assuming the topic exists); we check that it does. */
  async #ensureTopic (): Promise<void> {
    const { admin } = this.#ensureClients()
    const outcome = await admin.createTopic({ name: this.topic, partitions: 1, replicationFactor: this.flow.heartbeatsReplicationFactor, configs: { 'cleanup.policy': 'compact' } })
    if (outcome.status === 'created') this.#log.info('created heartbeats topic', { topic: this.topic, cluster: this.flow.target })
    if (outcome.status === 'failed' && !(await admin.describeTopics([this.topic])).has(this.topic)) throw outcome.error
  }

  async #emitOne (): Promise<void> {
    const { producer } = this.#ensureClients()
    const now = Date.now()
    const { key, value } = encodeHeartbeat({ sourceClusterAlias: this.flow.source, targetClusterAlias: this.flow.target, timestamp: BigInt(now) })
    await producer.send([{ topic: this.topic, partition: 0, records: [{ key, value, headers: [], timestamp: BigInt(now) }] }])
    this.#emitted++
    this.#lastEmittedAt = now
  }

  async #closeClients (): Promise<void> {
    const c = this.#clients
    this.#clients = undefined
    if (c !== undefined) await Promise.all([c.admin.close(), c.producer.close()])
  }

  async close (): Promise<void> {
    if (!this.#abort.signal.aborted) this.#abort.abort()
    await this.#running
    await this.#closeClients()
    this.#state = 'stopped'
  }
}
