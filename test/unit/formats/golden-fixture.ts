/**
 * Loads test/fixtures/formats/golden.json: values printed by Java Kafka 4.3.1 itself
 * (test/java/GoldenFormats.java). Hex strings are lowercase without separators; 64-bit numbers
 * are decimal strings.
 */
import { readFileSync } from 'node:fs'

export interface GoldenPolicyTopic {
  topic: string
  formatRemoteTopic: string
  topicSource: string | null
  upstreamTopic: string | null
  originalTopic: string
  isHeartbeatsTopic: boolean
  isCheckpointsTopic: boolean
  isMM2InternalTopic: boolean
  isInternalTopic: boolean
  isCycleAtoB: boolean
  shouldReplicateAtoB: boolean
  shouldReplicateAtoBNoHeartbeats: boolean
}

export interface Golden {
  kafkaVersion: string
  offsetSync: Array<{
    topic: string
    partition: number
    upstreamOffset: string
    downstreamOffset: string
    key: string
    value: string
    text: string
  }>
  checkpoint: Array<{
    group: string
    topic: string
    partition: number
    upstreamOffset: string
    downstreamOffset: string
    metadata: string
    key: string
    value: string
    text: string
  }>
  checkpointOtherVersion: {
    key: string
    value: string
    group: string
    topic: string
    partition: number
    upstreamOffset: string
    downstreamOffset: string
    metadata: string
  }
  heartbeat: Array<{
    sourceClusterAlias: string
    targetClusterAlias: string
    timestamp: string
    key: string
    value: string
    text: string
  }>
  connectKeys: {
    source: Array<{ connector: string; cluster: string; topic: string; partition: number; key: string; text: string }>
    checkpoint: Array<{ connector: string; group: string; topic: string; partition: number; key: string; text: string }>
    heartbeat: Array<{
      connector: string
      sourceClusterAlias: string
      targetClusterAlias: string
      key: string
      text: string
    }>
  }
  connectValues: Array<{ offset: string; value: string }>
  murmur2: Array<{ key: string; murmur2: number; partition25: number; partition1: number; partition7: number }>
  policies: Array<{
    name: string
    config: Record<string, string>
    heartbeatsTopic: string
    offsetSyncsTopicB: string
    checkpointsTopicA: string
    topics: GoldenPolicyTopic[]
  }>
  filterDefaults: {
    topics: string
    topicsExclude: string
    groups: string
    groupsExclude: string
    configPropertiesExclude: string
  }
  filterDecisions: {
    topics: Record<string, boolean>
    groups: Record<string, boolean>
    configProperties: Array<{
      useDefaultsFrom: 'source' | 'target' | null
      shouldReplicateConfigProperty: Record<string, boolean>
      shouldReplicateSourceDefault: Record<string, boolean>
    }>
  }
  regex: Array<{ patterns: string[]; javaPattern: string | null; matches: Record<string, boolean> }>
  offsetSyncRule: Array<{ offsetLagMax: string; steps: Array<[string, string, boolean]> }>
}

export const golden: Golden = JSON.parse(
  readFileSync(new URL('../../fixtures/formats/golden.json', import.meta.url), 'utf8')
) as Golden

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex')
}

export function unhex(s: string): Buffer {
  return Buffer.from(s.replace(/[\s|]/g, ''), 'hex')
}
