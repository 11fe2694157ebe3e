/**
 * The transactional clients of a flow's copier tasks in the exactly-once mode
 * (docs/exactly-once-plan.md §5.2-5.4): each task's session on the id Connect would give it, and
 * the fencing of all the flow's ids before a new set of tasks starts.
 */
import { taskTransactionalId, transactionalIds } from '../config/exactly-once.ts'
import type { FlowConfig } from '../config/model.ts'
import { KafkaError } from '../errors.ts'
import { TransactionalSession } from '../kafka/transactional-session.ts'
import { KafkaTransactions } from '../kafka/transactions.ts'
import type { WriteGate } from '../kafka/write-gate.ts'
import type { Logger } from '../observe/logger.ts'

/** How long taking one id may keep retrying (a coordinator moving or loading, an earlier transaction ending). */
const TAKE_FOR_MS = 60_000

/** Task `index`'s session on its own client (closed with the returned `close`). */
export function taskSession(
  flow: FlowConfig,
  index: number,
  clientId: string,
  gate: WriteGate | undefined
): { readonly session: TransactionalSession; readonly close: () => Promise<void> } {
  const client = new KafkaTransactions(flow.clients.targetProducer, clientId, { gate })
  const session = new TransactionalSession(client, {
    transactionalId: taskTransactionalId(flow, index),
    transactionTimeoutMs: flow.exactlyOnce.transactionTimeoutMs
  })
  return {
    session,
    close: async () => {
      await client.close()
    }
  }
}

/**
 * Takes every id the flow's tasks may have used (0 .. tasks.max-1), as Connect's leader fences a
 * connector's tasks before new task configs take effect (Admin.fenceProducers): a task of an
 * earlier layout, a crashed run or a paused instance, can then commit nothing, and whatever
 * transaction it left open is ended before this returns. Only when none of this flow's tasks
 * runs in this instance, and when this instance owns the whole flow (the group deals a flow in
 * this mode to one member), since it fences live holders too.
 */
export async function fenceTaskIds(
  flow: FlowConfig,
  clientId: string,
  gate: WriteGate | undefined,
  log: Logger
): Promise<void> {
  const client = new KafkaTransactions(flow.clients.targetProducer, clientId, { gate })
  try {
    const ids = [
      ...Array.from({ length: flow.tasksMax }, (_, i) => taskTransactionalId(flow, i)),
      ...(await leftOpenBeyondTasksMax(flow, client, log))
    ]
    const deadline = Date.now() + TAKE_FOR_MS
    const taken = await Promise.all(
      ids.map(async id => ({ id, r: await client.takeId(id, flow.exactlyOnce.transactionTimeoutMs, deadline) }))
    )
    const failed = taken.find(t => t.r.error !== undefined)
    if (failed?.r.error !== undefined)
      throw new KafkaError(
        `fencing the transactional id ${failed.id} of flow ${flow.name} failed: ${failed.r.error.name}`,
        { retriable: failed.r.error.kind === 'retriable', kafkaCode: failed.r.error.name }
      )
    log.info('fenced the transactional ids of the flow before starting its tasks', {
      flow: flow.name,
      ids: transactionalIds(flow),
      ...(ids.length > flow.tasksMax ? { beyondTasksMax: ids.slice(flow.tasksMax).join(', ') } : {})
    })
  } finally {
    await client.close()
  }
}

/**
 * Ids of this flow's naming at task indexes tasks.max and above that hold an open transaction: a
 * run with a higher tasks.max crashed or was paused mid-transaction. Connect fences by the task
 * count it stored for the connector; kafka-mirror keeps no such count, so it asks the brokers.
 * Left alone, such a transaction holds the last stable offset of its partitions (read_committed
 * consumers see nothing past it) until transaction.timeout.ms aborts it. A cluster that cannot
 * list transactions (before Kafka 3.0, or not allowed) only costs that wait: logged, not fatal.
 */
async function leftOpenBeyondTasksMax(flow: FlowConfig, client: KafkaTransactions, log: Logger): Promise<string[]> {
  const prefix = taskTransactionalId(flow, 0).slice(0, -1)
  try {
    return (await client.openTransactionalIds()).filter(id => {
      const index = id.startsWith(prefix) ? id.slice(prefix.length) : ''
      return /^\d+$/.test(index) && Number(index) >= flow.tasksMax
    })
  } catch (err) {
    log.warn(
      'could not list open transactions; a transaction left open by a run with a higher tasks.max ends only at its timeout',
      { flow: flow.name, error: err as Error }
    )
    return []
  }
}
