/**
 * A Strimzi `KafkaMirrorMaker2` custom resource (kafka.strimzi.io/v1alpha1, v1beta2 in the old
 * and the 0.49+ layout, v1) → MirrorConfig. The old layout is normalised to the v1 layout first
 * (Strimzi's KafkaMirrorMaker2 documentation); each mirror's connector configs are merged into one connector-config map
 * and read by the same interpreter as mm2.properties. Names of kept state follow what a
 * Strimzi-run Connect cluster uses, so kafka-mirror can take over its positions.
 */
import { LineCounter, isMap, isScalar, isSeq, parseAllDocuments } from 'yaml'
import type { Document, Node } from 'yaml'
import type { ClusterConfig, FlowConfig, LoadedConfig } from './model.ts'
import { reveal } from '../util/secret.ts'
import { buildClients } from './clients.ts'
import { EXACTLY_ONCE_CONNECTOR_KEYS, EXACTLY_ONCE_WORKER_KEY, readExactlyOnce } from './exactly-once.ts'
import { groupTimeouts, interpretConnectorKeys, offsetFlushIntervalMs } from './flow-settings.ts'
import type { LoadOptions } from './mm2-properties.ts'
import { propertiesMarker } from './mm2-properties.ts'
import { resolveValue } from './providers.ts'
import type { ClusterResult, SecretsContext } from './strimzi-cluster.ts'
import { CLUSTER_FIELDS, TARGET_FIELDS, TLS_SHAPE, readCluster } from './strimzi-cluster.ts'
import type { ConfigEntry } from './values.ts'
import { configError, located } from './where.ts'
import { EXPECTED_RESOURCE } from './resource-expected.ts'
import { YamlObject, YamlSource } from './yaml-reader.ts'
import type { Shape } from './yaml-reader.ts'

const GROUP = 'kafka.strimzi.io'
const VERSIONS = ['v1alpha1', 'v1beta2', 'v1'] as const
type Version = (typeof VERSIONS)[number]

/** Fields that only matter to Kubernetes or the JVM; accepted and reported once. */
const KUBERNETES_ONLY = [
  'version',
  'replicas',
  'image',
  'resources',
  'livenessProbe',
  'readinessProbe',
  'jvmOptions',
  'jmxOptions',
  'affinity',
  'tolerations',
  'metrics',
  'metricsConfig',
  'logging',
  'clientRackInitImage',
  'rack',
  'tracing',
  'template',
  'externalConfiguration'
]

const METADATA: Shape = {
  fields: [
    'name',
    'namespace',
    'labels',
    'annotations',
    'uid',
    'resourceVersion',
    'generation',
    'creationTimestamp',
    'deletionTimestamp',
    'deletionGracePeriodSeconds',
    'managedFields',
    'ownerReferences',
    'finalizers',
    'generateName',
    'selfLink'
  ],
  required: ['name']
}
const TOP: Shape = {
  fields: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
  required: ['apiVersion', 'kind', 'metadata', 'spec']
}

const V1_NO_OLD =
  'is not part of kafka.strimzi.io/v1; describe the target in spec.target and each source in spec.mirrors[].source'
function specShape(v: Version): Shape {
  const fields =
    v === 'v1alpha1'
      ? ['connectCluster', 'clusters', 'mirrors']
      : v === 'v1beta2'
        ? ['connectCluster', 'clusters', 'target', 'mirrors']
        : ['target', 'mirrors']
  return {
    fields,
    ignored: KUBERNETES_ONLY,
    required: ['mirrors'],
    elsewhere:
      v === 'v1alpha1'
        ? { target: 'spec.target needs apiVersion kafka.strimzi.io/v1beta2 (Strimzi 0.49+) or v1' }
        : v === 'v1'
          ? { connectCluster: V1_NO_OLD, clusters: V1_NO_OLD }
          : {}
  }
}

function mirrorShape(v: Version): Shape {
  const v1 = [
    'source',
    'sourceConnector',
    'checkpointConnector',
    'topicsPattern',
    'topicsExcludePattern',
    'groupsPattern',
    'groupsExcludePattern'
  ]
  const old = [
    'sourceCluster',
    'targetCluster',
    'sourceConnector',
    'checkpointConnector',
    'heartbeatConnector',
    'topicsPattern',
    'topicsBlacklistPattern',
    'groupsPattern',
    'groupsBlacklistPattern'
  ]
  if (v === 'v1alpha1') {
    return {
      fields: old,
      elsewhere: {
        topicsExcludePattern: 'needs kafka.strimzi.io/v1beta2; in v1alpha1 use topicsBlacklistPattern',
        groupsExcludePattern: 'needs kafka.strimzi.io/v1beta2; in v1alpha1 use groupsBlacklistPattern',
        source: 'mirrors[].source needs kafka.strimzi.io/v1beta2 (Strimzi 0.49+) or v1'
      }
    }
  }
  if (v === 'v1beta2') return { fields: [...new Set([...old, ...v1])] }
  return {
    fields: v1,
    required: ['source'],
    elsewhere: {
      sourceCluster: V1_NO_OLD,
      targetCluster: V1_NO_OLD,
      heartbeatConnector:
        'was removed in kafka.strimzi.io/v1 (run heartbeats in a mirror going the other way, or use v1beta2)',
      topicsBlacklistPattern: 'is not part of kafka.strimzi.io/v1; use topicsExcludePattern',
      groupsBlacklistPattern: 'is not part of kafka.strimzi.io/v1; use groupsExcludePattern'
    }
  }
}

const CONNECTOR: Shape = {
  fields: ['tasksMax', 'config', 'pause', 'state', 'autoRestart', 'listOffsets', 'alterOffsets', 'version']
}
const CLUSTER: Shape = { fields: [...CLUSTER_FIELDS], required: ['alias', 'bootstrapServers'] }
const TARGET: Shape = {
  fields: [...TARGET_FIELDS],
  required: ['alias', 'bootstrapServers', 'groupId', 'configStorageTopic', 'offsetStorageTopic', 'statusStorageTopic']
}
const CLUSTER_NESTED = { tls: TLS_SHAPE, authentication: { fields: ['type'], required: ['type'] } }

/** Keys Strimzi removes from a connector `config` because it sets them itself. */
const CONNECTOR_FORBIDDEN = ['name', 'connector.class', 'tasks.max', 'connector.plugin.version']

/** Keys the source and checkpoint connectors must agree on; we use one value per flow. */
const SHARED_KEYS = ['replication.policy.class', 'replication.policy.separator', 'offset-syncs.topic.location']

type ConnectorKind = 'sourceConnector' | 'checkpointConnector' | 'heartbeatConnector'

/** A connector of a mirror, as far as the flow needs it. */
interface Connector {
  readonly running: boolean
  readonly tasksMax: number | undefined
  readonly config: Map<string, ConfigEntry>
}

export function loadStrimzi(text: string, opts: LoadOptions): LoadedConfig {
  const { file } = opts
  const warnings: string[] = []
  const infos: string[] = []
  const lines = new LineCounter()
  const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true })
  const all: Document[] = Array.isArray(docs) ? docs : []
  // With no apiVersion or kind anywhere this is not a resource with a mistake in it but some
  // other file, so every error says what was expected instead.
  const resourceLike = all.some(d => isMap(d.contents) && (d.contents.has('apiVersion') || d.contents.has('kind')))
  const notResource = resourceLike ? '' : `; expected ${EXPECTED_RESOURCE}${propertiesHint(text)}`
  for (const d of all) {
    const err = d.errors[0]
    if (err !== undefined)
      throw configError(
        { file, line: err.linePos?.[0].line },
        `YAML syntax error: ${syntaxError(err.message) || err.code}${notResource}`
      )
  }
  const src = new YamlSource(file, lines)
  if (!resourceLike) {
    const first = all.find(d => !isNothing(d.contents))?.contents ?? null
    throw configError(
      { file, line: src.lineOf(first) },
      `expected ${EXPECTED_RESOURCE}, got ${topLevel(first)}${propertiesHint(text)}`
    )
  }
  const kindOf = (d: Document): unknown => (isMap(d.contents) ? d.get('kind') : undefined)
  const picked = all.filter(d => kindOf(d) === 'KafkaMirrorMaker2')
  if (picked.length !== 1) {
    const kinds = all.map(kindOf).filter(k => k !== undefined)
    const withKind = all.find(d => kindOf(d) !== undefined)
    const kindPair = isMap(withKind?.contents)
      ? withKind.contents.items.find(p => isScalar(p.key) && p.key.value === 'kind')
      : undefined
    const line = src.lineOf((kindPair?.key ?? all[0]?.contents ?? null) as Node | null)
    if (picked.length > 1)
      throw configError(
        { file, line: src.lineOf(picked[1]?.contents) },
        'more than one KafkaMirrorMaker2 in this file; kafka-mirror runs one'
      )
    throw configError(
      { file, line, key: 'kind' },
      `expected KafkaMirrorMaker2, got ${kinds.length === 0 ? 'nothing' : kinds.map(k => JSON.stringify(k)).join(', ')}${kinds.includes('KafkaMirrorMaker') ? ' (MirrorMaker 1 is not supported)' : ''}`
    )
  }
  for (const d of all)
    if (d !== picked[0] && kindOf(d) !== undefined)
      infos.push(located({ file, line: src.lineOf(d.contents) }, `ignoring a ${String(kindOf(d))} document`))

  const doc = picked[0] as Document
  const top = YamlObject.from(src, doc.contents as never, '', src.lineOf(doc.contents))
  const apiVersion = top.str('apiVersion', true) ?? ''
  const version = VERSIONS.find(v => apiVersion === `${GROUP}/${v}`)
  if (version === undefined)
    throw configError(
      top.where('apiVersion'),
      `expected ${VERSIONS.map(v => `${GROUP}/${v}`).join(', ')}, got ${JSON.stringify(apiVersion)}`
    )
  const spec0 = specShape(version)
  top.check(TOP, { metadata: METADATA, spec: spec0 })
  const metadata = top.obj('metadata', METADATA) as YamlObject
  const name = metadata.str('name', true) ?? ''
  const namespace = metadata.str('namespace')
  const spec = top.obj('spec', spec0, { target: TARGET }) as YamlObject
  const k8s = KUBERNETES_ONLY.filter(f => spec.has(f))
  if (k8s.length > 0) infos.push(located(spec.where(), `ignoring Kubernetes-only fields: ${k8s.join(', ')}`))

  const ctx: SecretsContext = { env: opts.env, secretsDir: opts.secretsDir, namespace, fileCache: new Map() }
  const cluster = (o: YamlObject, pulled?: readonly string[]): ClusterResult => {
    const auth = o.node('authentication')
    if (version === 'v1' && isMap(auth) && auth.get('type') === 'oauth')
      throw configError(
        o.where('authentication'),
        'oauth authentication is not part of kafka.strimzi.io/v1; use type: custom'
      )
    return readCluster(o, ctx, warnings, infos, pulled)
  }

  // Normalise: find the target (Connect) cluster and its state names.
  let target: ClusterResult
  let groupId: string
  let offsetsTopic: string
  let oldClusters: Map<string, YamlObject> | undefined
  const targetObj = spec.obj('target', TARGET, CLUSTER_NESTED)
  if (targetObj !== undefined) {
    target = cluster(targetObj)
    groupId = targetObj.str('groupId', true) ?? ''
    offsetsTopic = targetObj.str('offsetStorageTopic', true) ?? ''
    // Required by the CRD; we keep no Connect config or status topics, so they are only checked.
    targetObj.str('configStorageTopic', true)
    targetObj.str('statusStorageTopic', true)
  } else {
    if (version === 'v1')
      throw configError({ ...spec.where(), key: 'spec.target' }, 'required field is missing in spec')
    const connectCluster = spec.str('connectCluster', true) ?? ''
    const list = spec.list('clusters', CLUSTER, CLUSTER_NESTED)
    if (list === undefined || list.length === 0)
      throw configError({ ...spec.where(), key: 'spec.clusters' }, 'expected at least one cluster (or use spec.target)')
    oldClusters = new Map()
    for (const c of list) {
      const alias = c.str('alias', true) ?? ''
      if (oldClusters.has(alias)) throw configError(c.where('alias'), `duplicate cluster alias "${alias}"`)
      oldClusters.set(alias, c)
    }
    const t = oldClusters.get(connectCluster)
    if (t === undefined)
      throw configError(
        spec.where('connectCluster'),
        `connectCluster with alias "${connectCluster}" cannot be found in spec.clusters (aliases: ${[...oldClusters.keys()].join(', ')})`
      )
    const cfg = new Map(t.scalars('config').map(e => [e.key, e]))
    groupId = cfg.get('group.id')?.value ?? 'mirrormaker2-cluster'
    offsetsTopic = cfg.get('offset.storage.topic')?.value ?? 'mirrormaker2-cluster-offsets'
    target = cluster(t, ['group.id', 'offset.storage.topic', 'config.storage.topic', 'status.storage.topic'])
  }

  const clusters = new Map<string, ClusterConfig>([[target.alias, toClusterConfig(target)]])
  const mirrors = spec.list('mirrors', mirrorShape(version), {
    sourceConnector: CONNECTOR,
    checkpointConnector: CONNECTOR,
    heartbeatConnector: CONNECTOR,
    source: CLUSTER
  })
  if (mirrors === undefined || mirrors.length === 0)
    throw configError(
      { ...spec.where(), key: 'spec.mirrors' },
      'expected at least one mirror (.spec.mirrors section is required)'
    )

  const flows: FlowConfig[] = []
  for (const m of mirrors) {
    let source: ClusterResult
    const inline = m.obj('source', CLUSTER, CLUSTER_NESTED)
    if (inline !== undefined) {
      source = cluster(inline)
    } else {
      if (oldClusters === undefined)
        throw configError({ ...m.where(), key: `${m.path}.source` }, `required field is missing in ${m.path}`)
      const alias = m.str('sourceCluster', true) ?? ''
      const c = oldClusters.get(alias)
      if (c === undefined)
        throw configError(
          m.where('sourceCluster'),
          `no cluster with alias "${alias}" in spec.clusters (aliases: ${[...oldClusters.keys()].join(', ')})`
        )
      source = cluster(c)
      const tc = m.str('targetCluster', true) ?? ''
      if (tc !== target.alias)
        throw configError(
          m.where('targetCluster'),
          `must be the connectCluster "${target.alias}" (MirrorMaker 2 on Strimzi writes only to the Connect cluster), got "${tc}"`
        )
    }
    if (source.alias === target.alias)
      throw configError(
        m.where(inline !== undefined ? 'source' : 'sourceCluster'),
        `the source alias "${source.alias}" is also the target's alias`
      )
    const flowName = `${source.alias}->${target.alias}`
    if (flows.some(f => f.name === flowName))
      throw configError(m.where(), `a second mirror ${flowName}; its connector names would clash with the first`)
    clusters.set(source.alias, toClusterConfig(source))
    const flow = buildFlow(m, source, target, { groupId, offsetsTopic }, ctx, { warnings, infos })
    if (flow !== undefined) flows.push(flow)
  }
  if (flows.length === 0)
    throw configError({ ...spec.where(), key: 'spec.mirrors' }, 'no mirror has a connector, so there is nothing to run')

  const origin = { file, format: 'strimzi' as const, apiVersion, name }
  return { config: { origin, clusters, flows }, warnings, infos }
}

const isNothing = (node: unknown): boolean => node === null || (isScalar(node) && node.value === null)

/** A document's top level, described without its content (which may hold secrets). */
function topLevel(node: Node | null): string {
  if (isNothing(node)) return 'nothing'
  if (isMap(node)) return 'a mapping without apiVersion or kind'
  if (isSeq(node)) return 'a list'
  return isScalar(node) ? `a ${typeof node.value}` : 'an alias'
}

/**
 * The parser's message without its position and without the text it quotes after `: `: that text
 * can be a secret (an mm2.properties file named .yaml holds passwords inline); the line points at it.
 */
function syntaxError(message: string): string {
  return (message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '').replace(/: .*$/, '')
}

/** A file named as YAML that reads like mm2.properties was most likely just misnamed. */
function propertiesHint(text: string): string {
  const m = propertiesMarker(text)
  return m === undefined
    ? ''
    : `; this looks like mm2.properties (\`${m.key}\` on line ${m.line}): name the file .properties to load it as one`
}

function toClusterConfig(c: ClusterResult): ClusterConfig {
  return { alias: c.alias, bootstrapServers: c.bootstrapServers, connection: c.connection }
}

function buildFlow(
  m: YamlObject,
  source: ClusterResult,
  target: ClusterResult,
  names: { groupId: string; offsetsTopic: string },
  ctx: SecretsContext,
  out: { warnings: string[]; infos: string[] }
): FlowConfig | undefined {
  const { warnings, infos } = out
  const name = `${source.alias}->${target.alias}`
  const map = new Map<string, ConfigEntry>()
  // Strimzi 0.49+ order: cluster-derived keys first, then the user's connector config, then patterns.
  for (const [side, c] of [
    ['source', source],
    ['target', target]
  ] as const) {
    map.set(`${side}.cluster.bootstrap.servers`, { value: c.bootstrapServers.join(','), where: { file: m.src.file } })
    for (const [k, v] of Object.entries(c.connection))
      map.set(`${side}.cluster.${k}`, { value: v, where: { file: m.src.file } })
  }
  // The target's `config` is the Connect worker config: its producer.*/consumer.*/admin.* shape the
  // worker's own clients, which is where the data-plane producer lives.
  for (const r of target.roles) map.set(`target.${r.key}`, { value: r.value, where: r.where })
  for (const r of source.roles)
    infos.push(located(r.where, 'has no effect on a source cluster in Strimzi; set it in the connector config instead'))

  const present: Partial<Record<ConnectorKind, Connector>> = {}
  for (const kind of ['heartbeatConnector', 'checkpointConnector', 'sourceConnector'] as const) {
    const c = m.obj(kind, CONNECTOR)
    if (c === undefined) continue
    const state = c.str('state')
    if (state !== undefined && !['running', 'paused', 'stopped'].includes(state))
      throw configError(c.where('state'), `expected running, paused or stopped, got "${state}"`)
    const running = (state ?? (c.bool('pause') === true ? 'paused' : 'running')) === 'running'
    if (!running) infos.push(located(c.where(), `${kind} is ${state ?? 'paused'}; kafka-mirror will not run it`))
    const ignored = ['autoRestart', 'listOffsets', 'alterOffsets', 'version'].filter(f => c.has(f))
    if (ignored.length > 0) infos.push(located(c.where(), `ignoring operator-only fields: ${ignored.join(', ')}`))
    const config = new Map<string, ConfigEntry>()
    for (const { key, value, where } of c.scalars('config')) {
      if (CONNECTOR_FORBIDDEN.includes(key)) {
        infos.push(located(where, `dropped: Strimzi sets ${key} itself${key === 'tasks.max' ? ' (use tasksMax)' : ''}`))
        continue
      }
      config.set(key, { value: resolveValue(value, key, where, ctx), where })
    }
    present[kind] = { running, tasksMax: c.int('tasksMax', 1), config }
  }
  if (
    present.sourceConnector === undefined &&
    present.checkpointConnector === undefined &&
    present.heartbeatConnector === undefined
  ) {
    warnings.push(
      located(
        m.where(),
        `mirror ${name} has no sourceConnector, checkpointConnector or heartbeatConnector; nothing runs for it`
      )
    )
    return undefined
  }
  warnConnectorDisagreement(m, present, warnings)
  for (const kind of ['heartbeatConnector', 'checkpointConnector', 'sourceConnector'] as const) {
    for (const [k, e] of present[kind]?.config ?? []) map.set(k, e)
  }
  exactlyOnceFromSource(present, map, warnings)
  patterns(m, map, warnings)
  const tasksMax = present.sourceConnector?.tasksMax ?? present.checkpointConnector?.tasksMax
  if (tasksMax !== undefined)
    map.set('tasks.max', {
      value: String(tasksMax),
      where: m.where(present.sourceConnector?.tasksMax !== undefined ? 'sourceConnector' : 'checkpointConnector')
    })

  const { enabledKey, ...rest } = interpretConnectorKeys(map, warnings)
  const runs = (k: ConnectorKind): boolean => present[k]?.running === true
  const enabled = runs('sourceConnector') && enabledKey !== false
  const clients = buildClients(map, source, target)
  const flushMs = offsetFlushIntervalMs(target.worker.get('offset.flush.interval.ms'))
  const onSource = source.worker.get(EXACTLY_ONCE_WORKER_KEY)
  if (onSource !== undefined)
    warnings.push(
      located(
        onSource.where,
        `has no effect on a source cluster: the Connect worker is the target's; set it in the config of target cluster ${target.alias}`
      )
    )
  const eos = readExactlyOnce({
    flow: name,
    worker: target.worker.get(EXACTLY_ONCE_WORKER_KEY),
    workerKeyHint: `${EXACTLY_ONCE_WORKER_KEY}: enabled in the config of target cluster ${target.alias}`,
    connector: map,
    clients,
    offsetFlushIntervalMs: flushMs
  })
  warnings.push(...eos.warnings)
  infos.push(...eos.infos)
  return {
    name,
    source: source.alias,
    target: target.alias,
    ...rest,
    enabled,
    emitCheckpoints: { ...rest.emitCheckpoints, enabled: rest.emitCheckpoints.enabled && runs('checkpointConnector') },
    syncGroupOffsets: {
      ...rest.syncGroupOffsets,
      enabled: rest.syncGroupOffsets.enabled && runs('checkpointConnector')
    },
    emitHeartbeats: { ...rest.emitHeartbeats, enabled: rest.emitHeartbeats.enabled && runs('heartbeatConnector') },
    offsetFlushIntervalMs: flushMs,
    group: groupTimeouts(k => target.worker.get(k)),
    clients,
    exactlyOnce: eos.exactlyOnce,
    naming: {
      style: 'strimzi',
      offsetsTopic: names.offsetsTopic,
      workerGroupId: names.groupId,
      sourceConnectorName: `${name}.MirrorSourceConnector`,
      checkpointConnectorName: `${name}.MirrorCheckpointConnector`,
      heartbeatConnectorName: `${name}.MirrorHeartbeatConnector`
    }
  }
}

/**
 * The exactly-once connector keys are the source connector's (SourceConnectorConfig; Connect checks
 * them for MirrorSourceConnector): set only in another connector's config, they do not shape the copy.
 */
function exactlyOnceFromSource(
  present: Partial<Record<ConnectorKind, Connector>>,
  map: Map<string, ConfigEntry>,
  warnings: string[]
): void {
  for (const key of EXACTLY_ONCE_CONNECTOR_KEYS) {
    const own = present.sourceConnector?.config.get(key)
    if (own !== undefined) {
      map.set(key, own)
      continue
    }
    map.delete(key)
    for (const kind of ['checkpointConnector', 'heartbeatConnector'] as const) {
      const e = present[kind]?.config.get(key)
      if (e !== undefined)
        warnings.push(located(e.where, `only the sourceConnector's ${key} shapes how records are copied; set it there`))
    }
  }
}

/**
 * Mirror patterns become connector keys and win over the connectors' own config (Strimzi's KafkaMirrorMaker2
 * documentation).
 */
function patterns(m: YamlObject, map: Map<string, ConfigEntry>, warnings: string[]): void {
  const set = (key: string, field: string): void => {
    const v = m.str(field)
    if (v !== undefined) map.set(key, { value: v, where: m.where(field) })
  }
  set('topics', 'topicsPattern')
  set('groups', 'groupsPattern')
  for (const [key, current, old] of [
    ['topics.exclude', 'topicsExcludePattern', 'topicsBlacklistPattern'],
    ['groups.exclude', 'groupsExcludePattern', 'groupsBlacklistPattern']
  ] as const) {
    if (m.has(old)) {
      warnings.push(
        located(
          m.where(old),
          m.has(current) ? `deprecated and ignored because ${current} is also set` : `deprecated; use ${current}`
        )
      )
      if (!m.has(current)) set(key, old)
    }
    set(key, current)
  }
}

function warnConnectorDisagreement(
  m: YamlObject,
  present: Partial<Record<ConnectorKind, Connector>>,
  warnings: string[]
): void {
  const s = present.sourceConnector
  const c = present.checkpointConnector
  if (s === undefined || c === undefined) return
  for (const key of SHARED_KEYS) {
    const a = s.config.get(key)
    const b = c.config.get(key)
    const av = a === undefined ? undefined : reveal(a.value).trim()
    const bv = b === undefined ? undefined : reveal(b.value).trim()
    if (av === bv) continue
    const show = (v: string | undefined): string => (v === undefined ? 'unset' : JSON.stringify(v))
    warnings.push(
      located(
        m.where(),
        `${key} is ${show(av)} in sourceConnector but ${show(bv)} in checkpointConnector; Strimzi would run the two with different values (checkpoints for the wrong topics). kafka-mirror uses ${av === undefined ? "checkpointConnector's" : "sourceConnector's"} value for the whole flow`
      )
    )
  }
}
