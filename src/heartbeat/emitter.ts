/**
 * MirrorHeartbeatConnector/Task for one source->target pair (Heartbeat): creates
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
import { connectorClientIds } from '../config/client-ids.ts'
import { flowRules } from '../config/flow-rules.ts'
import type { FlowConfig } from '../config/model.ts'
import { encodeHeartbeat } from '../formats/heartbeat.ts'
import { KafkaAdmin } from '../kafka/admin.ts'
import { KafkaProducer } from '../kafka/producer.ts'
import { ensureCompactedTopic } from '../kafka/state-topic.ts'
import type { Logger } from '../observe/logger.ts'
import { Lifecycle, type LifecycleState } from '../util/lifecycle.ts'

export type EmitterState = LifecycleState

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
  readonly #life: Lifecycle
  #emitted = 0
  #lastEmittedAt = 0
  #clients: { admin: KafkaAdmin; producer: KafkaProducer } | undefined

  /**
   * `waitingFor`: while this part has not started, why it cannot yet (an instance in a group
   * starts it when the group deals it here; until then the group's trouble is its reason).
   */
  constructor(flow: FlowConfig, log: Logger, opts: { readonly waitingFor?: () => string | undefined } = {}) {
    this.flow = flow
    this.topic = flowRules(flow).policy.heartbeatsTopic()
    this.#log = log.child(`${flow.name} heartbeats`)
    this.#life = new Lifecycle({ log: this.#log, what: 'heartbeats', logRetryIn: true, waitingFor: opts.waitingFor })
  }

  status(): HeartbeatEmitterStatus {
    return {
      flow: this.flow.name,
      state: this.#life.state,
      reason: this.#life.reason,
      topic: this.topic,
      cluster: this.flow.target,
      emitted: this.#emitted,
      lastEmittedAt: this.#lastEmittedAt
    }
  }

  start(): void {
    this.#life.start(async () => {
      await this.#run()
    })
  }

  /** Emits at once, then every interval; no separate build, so the first emission also connects. */
  async #run(): Promise<void> {
    const intervalMs = this.flow.emitHeartbeats.intervalMs
    let topicReady = false
    await this.#life.every(
      'heartbeat emission',
      intervalMs,
      async () => {
        try {
          if (!topicReady) {
            await this.#ensureTopic()
            topicReady = true
          }
          await this.#emitOne()
        } catch (err) {
          // The lifecycle closes the clients after this failure (fresh connections next time).
          this.#clients = undefined
          throw err
        }
      },
      {
        firstPassAtOnce: true,
        closeClientsOnFailure: true,
        announce: {
          message: 'emitting heartbeats',
          fields: { topic: this.topic, cluster: this.flow.target, everyMs: intervalMs }
        }
      }
    )
  }

  #ensureClients(): { admin: KafkaAdmin; producer: KafkaProducer } {
    const id = connectorClientIds(this.flow, 'heartbeat')
    this.#clients ??= {
      admin: this.#life.own(new KafkaAdmin(this.flow.clients.targetAdmin, id('heartbeats-admin'))),
      producer: this.#life.own(new KafkaProducer(this.flow.clients.targetProducer, id('heartbeats-producer')))
    }
    return this.#clients
  }

  async #ensureTopic(): Promise<void> {
    const { admin } = this.#ensureClients()
    const outcome = await ensureCompactedTopic(admin, {
      name: this.topic,
      partitions: 1,
      replicationFactor: this.flow.heartbeatsReplicationFactor
    })
    if (outcome === 'created')
      this.#log.info('created heartbeats topic', { topic: this.topic, cluster: this.flow.target })
  }

  async #emitOne(): Promise<void> {
    const { producer } = this.#ensureClients()
    const now = Date.now()
    const { key, value } = encodeHeartbeat({
      sourceClusterAlias: this.flow.source,
      targetClusterAlias: this.flow.target,
      timestamp: BigInt(now)
    })
    await producer.send([
      { topic: this.topic, partition: 0, records: [{ key, value, headers: [], timestamp: BigInt(now) }] }
    ])
    this.#emitted++
    this.#lastEmittedAt = now
  }

  async close(): Promise<void> {
    await this.#life.close()
  }
}
