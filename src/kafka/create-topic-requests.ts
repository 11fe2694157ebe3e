/**
 * How many topics one CreateTopics request may carry. A KRaft controller refuses a request that
 * would write more than 10,000 metadata records at once (QuorumController's
 * MAX_RECORDS_PER_USER_OP, KAFKA-14996): every topic of it fails with POLICY_VIOLATION "Unable to
 * perform excessively large batch operation.", so 1,000 new remote topics of 10 partitions each
 * would never be created. A topic costs one record, one per partition and one per config.
 */

/** Half the controller's limit: room for records it adds that we do not count. */
export const CREATE_RECORDS_PER_REQUEST = 5_000

export interface TopicToCreate {
  readonly partitions: number
  readonly configs: Readonly<Record<string, string>>
}

/** The metadata records creating `topic` writes on the controller. */
export function creationRecords(topic: TopicToCreate): number {
  return 1 + Math.max(1, topic.partitions) + Object.keys(topic.configs).length
}

/**
 * `topics` in order, cut into runs of at most `maxRecords` creation records each. A topic larger
 * than that on its own goes alone (the controller then says why it refuses it).
 */
export function createRequests<T extends TopicToCreate>(
  topics: readonly T[],
  maxRecords = CREATE_RECORDS_PER_REQUEST
): T[][] {
  const requests: T[][] = []
  let current: T[] = []
  let records = 0
  for (const topic of topics) {
    const cost = creationRecords(topic)
    if (current.length > 0 && records + cost > maxRecords) {
      requests.push(current)
      current = []
      records = 0
    }
    current.push(topic)
    records += cost
  }
  if (current.length > 0) requests.push(current)
  return requests
}

/** The controller's answer to a request too large: worth sending again in smaller parts. */
export function isTooLargeForController(code: string, message: string): boolean {
  return code === 'POLICY_VIOLATION' && /excessively large/i.test(message)
}
