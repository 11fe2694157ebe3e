/**
 * The exactly-once keys of a flow (docs/exactly-once-plan.md §1.3, §1.4, §5.6), read the same
 * way from mm2.properties and from a Strimzi resource: the target's Connect worker key
 * `exactly.once.source.support` (DistributedConfig) and the source connector's
 * `exactly.once.support`, `transaction.boundary`, `transaction.boundary.interval.ms`
 * (SourceConnectorConfig), checked as Connect's DistributedHerder and MirrorSourceConnector
 * check them when they validate a connector.
 *
 * With the target's worker key `enabled`, a flow's copier tasks copy in Kafka transactions
 * (src/source/copier.ts, src/source/task-transactions.ts), whether the flow `requested` the
 * mode (the default) or `required` it; `required` only adds Connect's checks.
 */
import { reveal } from '../util/secret.ts'
import type { ExactlyOnceConfig, FlowConfig } from './model.ts'
import type { ConnectorMap } from './flow-settings.ts'
import type { ConfigEntry } from './values.ts'
import { parseChoice, parseInteger, text } from './values.ts'
import { configError, located, shown } from './where.ts'

/** The source connector's exactly-once keys (SourceConnectorConfig); Java reads them per connector only. */
export const EXACTLY_ONCE_CONNECTOR_KEYS: readonly string[] = [
  'exactly.once.support',
  'transaction.boundary',
  'transaction.boundary.interval.ms'
]

/** The Connect worker key (DistributedConfig.EXACTLY_ONCE_SOURCE_SUPPORT_CONFIG). */
export const EXACTLY_ONCE_WORKER_KEY = 'exactly.once.source.support'

/** The Java producer's default `transaction.timeout.ms`, which Connect leaves as it is. */
const DEFAULT_TRANSACTION_TIMEOUT_MS = 60_000

const WORKER_VALUES = ['disabled', 'preparing', 'enabled'] as const

export interface ExactlyOnceInput {
  /** `S->T` */
  readonly flow: string
  /** The target worker's `exactly.once.source.support`, if set. */
  readonly worker: ConfigEntry | undefined
  /** How the user turns the worker key on in this format, for messages (`B.exactly.once.source.support = enabled`). */
  readonly workerKeyHint: string
  /** The flow's connector-config map: the exactly-once keys and the target producer keys. */
  readonly connector: ConnectorMap
  readonly clients: FlowConfig['clients']
  /** The target worker's `offset.flush.interval.ms`: Connect's default transaction interval. */
  readonly offsetFlushIntervalMs: number
}

export interface ExactlyOnceOutput {
  readonly exactlyOnce: ExactlyOnceConfig
  readonly warnings: string[]
  readonly infos: string[]
}

export function readExactlyOnce(input: ExactlyOnceInput): ExactlyOnceOutput {
  const { flow, connector: map } = input
  const warnings: string[] = []
  const infos: string[] = []

  const workerSupport = readWorker(input.worker)
  if (workerSupport === 'preparing' && input.worker !== undefined)
    infos.push(
      located(
        input.worker.where,
        `${flow}: preparing only makes a Connect leader write its config topic transactionally; kafka-mirror keeps no such topic, so this is the same as disabled here`
      )
    )
  const enabled = workerSupport === 'enabled'

  const supportEntry = map.get('exactly.once.support')
  const required = supportEntry === undefined ? false : readSupport(supportEntry) === 'required'

  const boundaryEntry = map.get('transaction.boundary')
  const boundary = boundaryEntry === undefined ? 'poll' : readBoundary(boundaryEntry)

  const intervalEntry = map.get('transaction.boundary.interval.ms')
  // ConfigDef LONG with Connect's atLeastZero check; unset means the worker's offset.flush.interval.ms.
  const intervalMs =
    intervalEntry === undefined
      ? input.offsetFlushIntervalMs
      : parseInteger(intervalEntry, { what: 'an integer number of milliseconds', min: 0 })
  if (intervalEntry !== undefined && boundary !== 'interval')
    infos.push(
      located(intervalEntry.where, `used only with transaction.boundary = interval (this flow uses ${boundary})`)
    )

  const producer = (key: string): ConfigEntry | undefined =>
    // The precedence of clients.ts for the target producer, highest first.
    map.get(`producer.override.${key}`) ?? map.get(`target.producer.${key}`) ?? map.get(`producer.${key}`)
  const timeoutEntry = producer('transaction.timeout.ms')
  const transactionTimeoutMs =
    timeoutEntry === undefined
      ? DEFAULT_TRANSACTION_TIMEOUT_MS
      : parseInteger(timeoutEntry, { what: 'an integer number of milliseconds', min: 1, max: 2147483647 })

  // DistributedHerder.validateSourceConnectorExactlyOnceSupport: `required` needs the worker's mode.
  if (required && !enabled)
    throw configError(
      supportEntry?.where ?? { file: 'defaults' },
      `required, but exactly-once source support is not enabled on the worker of the target cluster (set ${input.workerKeyHint}); Connect refuses the connector ("This worker does not have exactly-once source support enabled.")`
    )

  if (enabled) {
    // Connect's exactly-once task producer is idempotent, which the Java producer allows only with acks=all.
    const acks = producer('acks')
    const acksValue = acks === undefined ? undefined : text(acks).trim()
    if (acks !== undefined && acksValue !== 'all' && acksValue !== '-1')
      throw configError(
        acks.where,
        `expected all (or -1) with exactly-once source support enabled (a transactional producer is idempotent, which needs acks=all), got ${shown(acks.value)}`
      )
    if (boundary === 'interval' && intervalMs >= transactionTimeoutMs)
      warnings.push(
        located(
          intervalEntry?.where ?? boundaryEntry?.where ?? { file: 'defaults' },
          `${flow}: transactions last ${intervalMs} ms (transaction.boundary.interval.ms) but the target producer's transaction.timeout.ms is ${transactionTimeoutMs}: the coordinator would abort every transaction`
        )
      )
  }

  // MirrorSourceConnector.exactlyOnceSupport: SUPPORTED only when the source consumer is set to
  // read_committed (compared exactly, blanks around it aside), so that aborted source records are not copied.
  const isolation = input.clients.sourceConsumer.props['isolation.level']
  const isolationValue = isolation === undefined ? undefined : reveal(isolation).trim()
  if (required && isolationValue !== undefined && isolationValue !== 'read_committed')
    throw configError(
      supportEntry?.where ?? { file: 'defaults' },
      `required, but the source consumer's isolation.level is ${shown(isolation)}: MirrorSourceConnector can only provide exactly-once guarantees when its source consumer is configured with isolation.level set to 'read_committed'; otherwise, records from aborted and uncommitted transactions will be replicated from the source cluster to the target cluster`
    )
  if (required && isolationValue === undefined && supportEntry !== undefined)
    warnings.push(
      located(
        supportEntry.where,
        `${flow}: Java MM2 refuses required unless the source consumer sets isolation.level = read_committed explicitly (its default is read_uncommitted; kafka-mirror reads committed records by default)`
      )
    )
  if (enabled && !required && isolationValue === 'read_uncommitted' && input.worker !== undefined)
    warnings.push(
      located(
        input.worker.where,
        `${flow}: the source consumer reads read_uncommitted, so records of aborted source transactions would be copied even in exactly-once mode`
      )
    )

  return {
    exactlyOnce: { enabled, required, boundary, intervalMs, transactionTimeoutMs },
    warnings,
    infos
  }
}

/** DistributedConfig's check is case-sensitive (ConfigDef.ValidString); the value is trimmed. */
function readWorker(e: ConfigEntry | undefined): (typeof WORKER_VALUES)[number] {
  if (e === undefined) return 'disabled'
  const v = text(e).trim()
  const hit = WORKER_VALUES.find(w => w === v)
  if (hit === undefined)
    throw configError(e.where, `expected one of ${WORKER_VALUES.join(', ')} (lower case), got ${shown(e.value)}`)
  return hit
}

/** SourceConnectorConfig: case-insensitive, trimmed. */
function readSupport(e: ConfigEntry): 'requested' | 'required' {
  const v = text(e).trim().toLowerCase()
  if (v === 'enabled' || v === 'disabled' || v === 'preparing')
    throw configError(
      e.where,
      `expected requested or required, got ${shown(e.value)} (${v} is a value of the worker key exactly.once.source.support, set on the target cluster)`
    )
  return parseChoice(e, ['requested', 'required'] as const)
}

function readBoundary(e: ConfigEntry): 'poll' | 'interval' {
  const v = parseChoice(e, ['poll', 'interval', 'connector'] as const)
  // DistributedHerder.validateSourceConnectorTransactionBoundary: MirrorSourceConnector does not
  // override canDefineTransactionBoundaries, so Connect refuses `connector` for it.
  if (v === 'connector')
    throw configError(
      e.where,
      'MirrorSourceConnector does not define transaction boundaries, so Connect refuses connector for it; use poll (the default) or interval'
    )
  return v
}

/**
 * The transactional ids a flow's copier tasks use, as Connect names them
 * (Worker.taskTransactionalId: `<group.id>-<connector name>-<task index>`), one per task index up
 * to tasks.max - 1 (fewer partitions than tasks.max means fewer tasks, so the last ids may go unused).
 */
export function transactionalIds(flow: FlowConfig): string {
  const first = taskTransactionalId(flow, 0)
  return flow.tasksMax === 1 ? first : `${first} .. ${taskTransactionalId(flow, flow.tasksMax - 1)}`
}

/** The transactional id of copier task `index` of the flow (Worker.taskTransactionalId). */
export function taskTransactionalId(flow: FlowConfig, index: number): string {
  return `${flow.naming.workerGroupId}-${flow.naming.sourceConnectorName}-${index}`
}
