/**
 * Names who holds a group that refused us. A non-empty classic group accepts a joiner only when
 * its protocol type matches the group's and one of its protocols is supported by every member
 * (Apache Kafka's ClassicGroup.supportsProtocols); otherwise the JoinGroup is answered
 * INCONSISTENT_GROUP_PROTOCOL. The usual culprit is Java MirrorMaker 2: its Kafka Connect workers
 * join the very group kafka-mirror uses (`<source>-mm2`, or a Strimzi resource's group) with
 * protocol type `connect`. The reverse holds too, so the two can never be members at once, and
 * this module turns the refusal into a message an operator can act on, from a DescribeGroups of
 * the group (raw member bytes, see group-wire.ts).
 */
import type { DescribedGroup } from '../kafka/group-wire.ts'

export interface GroupPlace {
  readonly groupId: string
  /** The cluster alias of the group's coordinator (the flow's target). */
  readonly cluster: string
  /** Our protocol type, to recognise another kafka-mirror version. */
  readonly protocolType: string
}

const SHOWN = 5

function listed(values: readonly string[]): string {
  const distinct = [...new Set(values.filter(v => v !== ''))]
  if (distinct.length === 0) return '(none given)'
  const shown = distinct.slice(0, SHOWN).join(', ')
  return distinct.length > SHOWN ? `${shown} and ${distinct.length - SHOWN} more` : shown
}

function membersText(group: DescribedGroup): string {
  const n = group.members.length
  return `${n} member${n === 1 ? '' : 's'}: client ids ${listed(group.members.map(m => m.clientId))}; hosts ${listed(group.members.map(m => m.clientHost))}`
}

const RENAME_HINT =
  'give kafka-mirror another group id (`<target>.group.id` in mm2.properties, `target.groupId` in a KafkaMirrorMaker2 resource)'

/** The reason the group refused us, for logs, status and /readyz. */
export function explainRefusal(group: DescribedGroup, place: GroupPlace): string {
  const where = `group ${place.groupId} on cluster ${place.cluster}`
  if (group.members.length === 0) {
    return `${where} refused kafka-mirror's protocol (INCONSISTENT_GROUP_PROTOCOL) but has no members now (state ${group.state}); it will be joined at the next attempt`
  }
  switch (group.protocolType) {
    case 'connect':
      // Connect names its client `<source>-><target>` in MM2's dedicated mode (MirrorMakerConfig), which points at the
      // pair.
      return (
        `Java MirrorMaker 2 (Kafka Connect protocol "connect", ${membersText(group)}) is running in ${where}; ` +
        `stop it before starting kafka-mirror on this config, or ${RENAME_HINT}`
      )
    case 'consumer':
      return `a consumer group (protocol type "consumer", ${membersText(group)}) already uses the id of ${where}; kafka-mirror cannot share it: ${RENAME_HINT}`
    case place.protocolType:
      return (
        `other kafka-mirror instances in ${where} speak protocol "${group.protocolName}", which this version does not (${membersText(group)}); ` +
        'run the same kafka-mirror version on every instance of a config'
      )
    default:
      return `${where} is used by another application (protocol type "${group.protocolType}", ${membersText(group)}); kafka-mirror cannot share it: ${RENAME_HINT}`
  }
}
