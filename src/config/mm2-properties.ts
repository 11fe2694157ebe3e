/**
 * mm2.properties → MirrorConfig, following the MM2 driver (MirrorMakerConfig): which
 * pairs get a herder, how cluster and top-level keys are inherited into each flow's connector
 * config, and what a dedicated-mode MM2 calls its state. Every key is accounted for: used,
 * knowingly ignored (with the reason), or reported as unknown with the closest known key.
 */
import type { ClusterConfig, FlowConfig, LoadedConfig } from './model.ts'
import type { MaybeSecret } from '../util/secret.ts'
import { buildClients } from './clients.ts'
import { EXACTLY_ONCE_WORKER_KEY, readExactlyOnce } from './exactly-once.ts'
import { groupTimeouts, interpretConnectorKeys, offsetFlushIntervalMs } from './flow-settings.ts'
import {
  ALL_CONNECTOR_KEYS,
  DRIVER_KEYS,
  FLOW_ONLY_KEYS,
  MODELLED_CONNECTOR_KEYS,
  TOP_LEVEL_WORKER_PREFIXES,
  WORKER_KEYS,
  isClientKey,
  isConnectorKey
} from './keys.ts'
import { parseProperties } from './properties.ts'
import type { ProviderContext } from './providers.ts'
import { declaredProviders, resolveValue } from './providers.ts'
import { closest, didYouMean } from './suggest.ts'
import type { ConfigEntry } from './values.ts'
import { parseBoolean, parseBootstrapServers, parseLenientBoolean, parseList, text as plainText } from './values.ts'
import { configError, located } from './where.ts'

export interface LoadOptions {
  readonly file: string
  readonly env: NodeJS.ProcessEnv
  readonly secretsDir?: string | undefined
}

type Entries = Map<string, ConfigEntry>

/** What an mm2.properties file must hold at least; said when a file meant as one holds nothing or something else. */
export const EXPECTED_PROPERTIES =
  "an mm2.properties file (at least `clusters = A, B` and each cluster's `A.bootstrap.servers = host:port`)"

/**
 * Where a file shows itself as mm2.properties, for a hint when it was named as YAML: a `clusters`
 * key with a value, or a first line `key = value` (YAML reads such lines as one string). Only the
 * key is returned: a value may be a secret.
 */
export function propertiesMarker(text: string): { line: number; key: string } | undefined {
  const lines = text.split(/\r\n|\r|\n/)
  const clusters = lines.findIndex(l => /^clusters\s*(=|:\s*\S)/.test(l))
  if (clusters >= 0) return { line: clusters + 1, key: 'clusters' }
  const first = lines.findIndex(l => !/^\s*([#!].*)?$/.test(l))
  const key = /^\s*([^\s=:#!]+)\s*=/.exec(lines[first] ?? '')?.[1]
  return key === undefined ? undefined : { line: first + 1, key }
}

export function loadMm2Properties(text: string, opts: LoadOptions): LoadedConfig {
  const { file } = opts
  const warnings: string[] = []
  const infos: string[] = []
  warnNonAscii(text, file, warnings)

  const raw = parseProperties(text, file)
  const ctx: ProviderContext = {
    env: opts.env,
    secretsDir: opts.secretsDir,
    providers: declaredProviders(raw, file, warnings),
    fileCache: new Map()
  }
  const all: Entries = new Map()
  for (const [key, e] of raw) {
    const where = { file, line: e.line, key }
    const value = key.startsWith('config.providers') ? e.value : resolveValue(e.value, key, where, ctx)
    all.set(key, { value, where })
  }

  const clustersEntry = all.get('clusters')
  if (clustersEntry === undefined)
    throw configError(
      { file, key: 'clusters' },
      'required key is missing (list the cluster aliases, e.g. clusters = A, B)'
    )
  const aliases = [...new Set(parseList(clustersEntry))]
  if (aliases.length === 0 || aliases.some(a => a === ''))
    throw configError(clustersEntry.where, 'expected a comma-separated list of cluster aliases')
  const byLength = [...aliases].sort((a, b) => b.length - a.length)

  const top: Entries = new Map()
  const perCluster = new Map<string, Entries>(aliases.map(a => [a, new Map()]))
  const perFlow = new Map<string, Entries>()
  for (const [key, e] of all) {
    const flow = splitFlowKey(key, byLength, aliases, e)
    if (flow !== undefined) {
      if (flow.source === flow.target) {
        warnings.push(located(e.where, 'a cluster cannot replicate to itself; ignored'))
        continue
      }
      const name = `${flow.source}->${flow.target}`
      if (!perFlow.has(name)) perFlow.set(name, new Map())
      perFlow.get(name)?.set(flow.rest, e)
      continue
    }
    const alias = byLength.find(a => key.startsWith(`${a}.`))
    if (alias !== undefined) perCluster.get(alias)?.set(key.slice(alias.length + 1), e)
    else top.set(key, { ...e, topLevel: true })
  }

  const { connectorDefaults, workerTop } = classifyTopLevel(top, aliases, warnings)
  const topClient = new Map([...top].filter(([k]) => isClientKey(k)))
  const props = new Map(aliases.map(a => [a, clusterProps(perCluster.get(a) ?? new Map(), topClient, a, warnings)]))

  const flows: FlowConfig[] = []
  const used = new Set<string>()
  for (const s of aliases) {
    for (const t of aliases) {
      if (s === t) continue
      const name = `${s}->${t}`
      const flowKeys = perFlow.get(name) ?? new Map<string, ConfigEntry>()
      const herderEnabled = flowKeys.has('enabled') && parseLenientBoolean(flowKeys.get('enabled') as ConfigEntry)
      const hbEntry = flowKeys.get('emit.heartbeats.enabled') ?? connectorDefaults.get('emit.heartbeats.enabled')
      const heartbeats = hbEntry === undefined ? true : parseBoolean(hbEntry)
      if (!herderEnabled && !heartbeats) {
        const unused = [...flowKeys.keys()].filter(k => k !== 'enabled' && k !== 'emit.heartbeats.enabled')
        if (unused.length > 0)
          warnings.push(
            located(
              { file },
              `${name}: not enabled and emits no heartbeats, so MM2 runs nothing for it; unused: ${unused.join(', ')}`
            )
          )
        continue
      }
      used.add(s)
      used.add(t)
      flows.push(buildFlow(s, t, flowKeys, connectorDefaults, workerTop, props, file, { warnings, infos }))
    }
  }
  if (flows.length === 0)
    throw configError(
      { file },
      `no source->target replication flows (clusters = ${aliases.join(', ')}); set <source>-><target>.enabled = true`
    )

  const clusters = new Map<string, ClusterConfig>()
  for (const a of aliases) {
    const p = props.get(a) ?? new Map()
    if (!used.has(a) && !p.has('bootstrap.servers')) continue
    clusters.set(a, { alias: a, bootstrapServers: bootstrapOf(a, p, file), connection: connectionOf(p) })
  }
  return { config: { origin: { file, format: 'properties' }, clusters, flows }, warnings, infos }
}

/** `S->T.rest` with S and T matched against the declared aliases (aliases may contain dots). */
function splitFlowKey(
  key: string,
  byLength: readonly string[],
  aliases: readonly string[],
  e: ConfigEntry
): { source: string; target: string; rest: string } | undefined {
  const arrow = key.indexOf('->')
  if (arrow <= 0) return undefined
  const source = byLength.find(a => key.startsWith(`${a}->`))
  const after = source === undefined ? key.slice(arrow + 2) : key.slice(source.length + 2)
  const target = byLength.find(a => after.startsWith(`${a}.`))
  if (source === undefined || target === undefined) {
    const unknown = source === undefined ? key.slice(0, arrow) : (after.split('.')[0] ?? after)
    if (!after.includes('.')) throw configError(e.where, 'expected <source>-><target>.<key>')
    throw configError(
      e.where,
      `unknown cluster alias "${unknown}"${didYouMean(unknown, aliases)} (clusters = ${aliases.join(', ')})`
    )
  }
  return { source, target, rest: after.slice(target.length + 1) }
}

/** Sorts top-level keys: connector defaults, worker keys MM2 copies, driver keys; warns about the rest. */
function classifyTopLevel(
  top: Entries,
  aliases: readonly string[],
  warnings: string[]
): { connectorDefaults: Entries; workerTop: Entries } {
  const connectorDefaults: Entries = new Map()
  const workerTop: Entries = new Map()
  const example = `${aliases[0] ?? 'A'}->${aliases[1] ?? 'B'}`
  for (const [key, e] of top) {
    if (DRIVER_KEYS.includes(key) || key.startsWith('config.providers.') || isClientKey(key)) continue
    if (FLOW_ONLY_KEYS.includes(key)) {
      warnings.push(
        located(
          e.where,
          `ignored at top level (Java MM2 only copies connector ConfigDef keys); set it per flow, e.g. ${example}.${key}`
        )
      )
    } else if (isConnectorKey(key)) {
      connectorDefaults.set(key, e)
      if (TOP_LEVEL_WORKER_PREFIXES.some(p => key.startsWith(p))) workerTop.set(key, e)
    } else if (TOP_LEVEL_WORKER_PREFIXES.some(p => key.startsWith(p))) {
      workerTop.set(key, e)
    } else if (WORKER_KEYS.includes(key)) {
      warnings.push(
        located(
          e.where,
          `ignored at top level (MM2 only copies offset.storage*, config.storage*, status.storage*, *converter*, task*, worker*); set it per target cluster, e.g. ${aliases[1] ?? 'B'}.${key}`
        )
      )
    } else if (/^(consumer|producer|admin)\./.test(key)) {
      warnings.push(
        located(
          e.where,
          `ignored at top level by MM2; set it per cluster (${aliases[0] ?? 'A'}.${key}) or per flow (${example}.${key})`
        )
      )
    } else {
      warnings.push(
        located(e.where, `unknown key${didYouMean(key, [...DRIVER_KEYS, ...ALL_CONNECTOR_KEYS, ...WORKER_KEYS])}`)
      )
    }
  }
  return { connectorDefaults, workerTop }
}

/** MirrorMakerConfig.clusterProps: `A.consumer.k` > `A.k` > top-level `k`. */
function clusterProps(own: Entries, topClient: Entries, alias: string, warnings: string[]): Entries {
  const out: Entries = new Map(own)
  for (const [k, e] of own) {
    if (isClientKey(k)) {
      for (const r of ['producer', 'consumer', 'admin']) if (!out.has(`${r}.${k}`)) out.set(`${r}.${k}`, e)
    } else if (MODELLED_CONNECTOR_KEYS.includes(k)) {
      warnings.push(
        located(
          e.where,
          `connector keys are not read per cluster; set it per flow (${alias}-><target>.${k}) or at top level`
        )
      )
    } else if (!/^(consumer|producer|admin)\./.test(k) && !WORKER_KEYS.includes(k)) {
      // Any Kafka client or Connect worker key is legal here, so only flag near-misses of the important ones.
      const near = closest(k, ['bootstrap.servers', 'security.protocol', ...WORKER_KEYS])
      if (near !== undefined) warnings.push(located(e.where, `unknown key (did you mean "${near}"?)`))
    }
  }
  for (const [k, e] of topClient) {
    for (const key of [`producer.${k}`, `consumer.${k}`, `admin.${k}`, k]) if (!out.has(key)) out.set(key, e)
  }
  return out
}

function bootstrapOf(alias: string, props: Entries, file: string): string[] {
  const e = props.get('bootstrap.servers')
  if (e === undefined)
    throw configError({ file, key: `${alias}.bootstrap.servers` }, `required for cluster "${alias}", which a flow uses`)
  return parseBootstrapServers(e)
}

function connectionOf(props: Entries): Record<string, MaybeSecret> {
  const out: Record<string, MaybeSecret> = {}
  for (const [k, e] of props) if (isClientKey(k) && k !== 'bootstrap.servers') out[k] = e.value
  return out
}

/** MirrorMakerConfig.connectorBaseConfig, then interpreted. */
function buildFlow(
  s: string,
  t: string,
  flowKeys: Entries,
  connectorDefaults: Entries,
  workerTop: Entries,
  props: Map<string, Entries>,
  file: string,
  out: { warnings: string[]; infos: string[] }
): FlowConfig {
  const { warnings } = out
  const sp = props.get(s) ?? new Map()
  const tp = props.get(t) ?? new Map()
  const source = { alias: s, bootstrapServers: bootstrapOf(s, sp, file) }
  const target = { alias: t, bootstrapServers: bootstrapOf(t, tp, file) }
  const map = new Map<string, ConfigEntry>(connectorDefaults)
  for (const [side, p] of [
    ['source', sp],
    ['target', tp]
  ] as const) {
    for (const [k, e] of p) map.set(/^(consumer|producer|admin)\./.test(k) ? `${side}.${k}` : `${side}.cluster.${k}`, e)
  }
  for (const [k, e] of flowKeys) map.set(k, e)
  const { enabledKey, ...rest } = interpretConnectorKeys(map, warnings)
  const clients = buildClients(map, source, target)
  const flushMs = offsetFlushIntervalMs(tp.get('offset.flush.interval.ms'))
  // The worker key counts only from the target's cluster settings: MirrorMakerConfig.workerConfig
  // does not copy it from the top level (classifyTopLevel warns about that).
  const eos = readExactlyOnce({
    flow: `${s}->${t}`,
    worker: tp.get(EXACTLY_ONCE_WORKER_KEY),
    workerKeyHint: `${t}.${EXACTLY_ONCE_WORKER_KEY} = enabled`,
    connector: map,
    clients,
    offsetFlushIntervalMs: flushMs
  })
  warnings.push(...eos.warnings)
  out.infos.push(...eos.infos)
  return {
    name: `${s}->${t}`,
    source: s,
    target: t,
    enabled: enabledKey ?? false,
    ...rest,
    offsetFlushIntervalMs: flushMs,
    group: groupTimeouts(k => tp.get(k)),
    clients,
    exactlyOnce: eos.exactlyOnce,
    naming: {
      style: 'dedicated',
      // Worker config: clusterProps(T), then the copied top-level offset.storage* keys, then defaults.
      offsetsTopic:
        plain(workerTop.get('offset.storage.topic') ?? tp.get('offset.storage.topic')) ?? `mm2-offsets.${s}.internal`,
      workerGroupId: plain(tp.get('group.id')) ?? `${s}-mm2`,
      sourceConnectorName: 'MirrorSourceConnector',
      checkpointConnectorName: 'MirrorCheckpointConnector',
      heartbeatConnectorName: 'MirrorHeartbeatConnector'
    }
  }
}

function plain(e: ConfigEntry | undefined): string | undefined {
  return e === undefined ? undefined : plainText(e).trim()
}

function warnNonAscii(text: string, file: string, warnings: string[]): void {
  const lines: number[] = []
  text.split(/\r\n|\r|\n/).forEach((l, i) => {
    if (/[^\x00-\x7F]/.test(l)) lines.push(i + 1)
  })
  if (lines.length > 0) {
    warnings.push(
      located(
        { file, line: lines[0] },
        `non-ASCII characters on line(s) ${lines.join(', ')}: kafka-mirror reads the file as UTF-8 but Java MM2 reads .properties as ISO-8859-1 and would see other characters; write them as \\uXXXX escapes`
      )
    )
  }
}
