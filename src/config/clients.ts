/**
 * Resolves the six client roles of a flow from its connector-config map, exactly the way MM2's
 * MirrorConnectorConfig does (MirrorMakerConfig): `<side>.cluster.*` filtered to client keys, then
 * flow-level `<role>.*`, then `<side>.<role>.*`; the data-plane producer also takes Connect's
 * `producer.override.*` (likewise admin/consumer overrides on the target).
 */
import type { MaybeSecret } from '../util/secret.ts'
import { reveal } from '../util/secret.ts'
import type { ClientConfig, FlowConfig } from './model.ts'
import type { ConnectorMap } from './flow-settings.ts'
import { isClientKey } from './keys.ts'
import { splitList } from './values.ts'

type Side = 'source' | 'target'
type Role = 'consumer' | 'producer' | 'admin'

function stripped(
  map: ConnectorMap,
  prefix: string,
  into: Record<string, MaybeSecret>,
  keep: (k: string) => boolean = () => true
): void {
  for (const [key, e] of map) {
    if (!key.startsWith(prefix)) continue
    const k = key.slice(prefix.length)
    if (k !== '' && keep(k)) into[k] = e.value
  }
}

interface ClusterRef {
  readonly alias: string
  readonly bootstrapServers: readonly string[]
}

function client(map: ConnectorMap, side: Side, role: Role, cluster: ClusterRef): ClientConfig {
  const props: Record<string, MaybeSecret> = {}
  stripped(map, `${side}.cluster.`, props, isClientKey)
  // `consumer.override.*` is Connect's, not a client key; `consumer.poll.timeout.ms` is a connector key
  // that Java leaks into the consumer as an unknown `poll.timeout.ms` — harmless there, noise here.
  stripped(map, `${role}.`, props, k => !k.startsWith('override.') && !(role === 'consumer' && k === 'poll.timeout.ms'))
  stripped(map, `${side}.${role}.`, props)
  if (side === 'target') stripped(map, `${role}.override.`, props)
  if (role === 'consumer') {
    props['enable.auto.commit'] = 'false'
    props['auto.offset.reset'] ??= 'earliest'
  }
  const bs = props['bootstrap.servers']
  return {
    cluster: cluster.alias,
    bootstrapServers: bs === undefined ? cluster.bootstrapServers : splitList(reveal(bs)),
    props
  }
}

export function buildClients(map: ConnectorMap, source: ClusterRef, target: ClusterRef): FlowConfig['clients'] {
  return {
    sourceConsumer: client(map, 'source', 'consumer', source),
    sourceAdmin: client(map, 'source', 'admin', source),
    sourceProducer: client(map, 'source', 'producer', source),
    targetProducer: client(map, 'target', 'producer', target),
    targetAdmin: client(map, 'target', 'admin', target),
    targetConsumer: client(map, 'target', 'consumer', target)
  }
}
