/**
 * The latest checkpoint per (group, target topic, partition), as in `<S>.checkpoints.internal`.
 * Loaded from that topic at start (Java's CheckpointStore) so a restart never
 * emits a checkpoint behind one already written, and updated with every checkpoint we emit.
 * Records that do not decode are skipped, as Java does.
 */
import type { ClientConfig } from '../config/model.ts'
import { type Checkpoint, decodeCheckpoint } from '../formats/checkpoint.ts'
import type { KafkaAdmin } from '../kafka/admin.ts'
import { readTopic } from '../kafka/read-topic.ts'

const keyOf = (group: string, topic: string, partition: number): string => JSON.stringify([group, topic, partition])

export class CheckpointStore {
  readonly #latest = new Map<string, Checkpoint>()

  get size(): number {
    return this.#latest.size
  }

  get(group: string, topic: string, partition: number): Checkpoint | undefined {
    return this.#latest.get(keyOf(group, topic, partition))
  }

  set(cp: Checkpoint): void {
    this.#latest.set(keyOf(cp.group, cp.topic, cp.partition), cp)
  }

  /** Checkpoints grouped by consumer group. */
  byGroup(): Map<string, Checkpoint[]> {
    return Map.groupBy(this.#latest.values(), cp => cp.group)
  }

  /** Reads the checkpoints topic once from the beginning; returns the records read (0 if it does not exist). */
  async load(
    admin: KafkaAdmin,
    readerConfig: ClientConfig,
    topic: string,
    clientId: string,
    groups?: (group: string) => boolean
  ): Promise<number> {
    const records = await readTopic(admin, readerConfig, topic, clientId)
    for (const r of records ?? []) {
      if (r.partition !== 0) continue
      let cp: Checkpoint
      try {
        cp = decodeCheckpoint(r.key, r.value)
      } catch {
        continue
      }
      if (groups === undefined || groups(cp.group)) this.set(cp)
    }
    return records?.length ?? 0
  }
}
