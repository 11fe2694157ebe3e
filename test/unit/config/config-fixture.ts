/** Shared by the config tests: a v1 KafkaMirrorMaker2 builder and the ConfigError check. */
import assert from 'node:assert/strict'

/** A v1 CR; the fragments are indented YAML spliced in (`mirror` defaults to an empty sourceConnector). */
export function strimziV1(opts: { spec?: string; source?: string; mirror?: string } = {}): string {
  return `apiVersion: kafka.strimzi.io/v1
kind: KafkaMirrorMaker2
metadata:
  name: mm
spec:
  replicas: 1
${opts.spec ?? ''}  target:
    alias: b
    bootstrapServers: b:9093
    groupId: g
    configStorageTopic: c
    offsetStorageTopic: o
    statusStorageTopic: s
  mirrors:
  - source:
      alias: a
      bootstrapServers: a:9093
${opts.source ?? ''}${opts.mirror ?? '    sourceConnector: {}\n'}`
}

/** `fn` throws a ConfigError whose message includes `want` and shows no secret or PEM text. */
export function assertConfigError(fn: () => unknown, want: string): void {
  assert.throws(fn, (err: Error) => {
    assert.equal(err.name, 'ConfigError')
    assert.ok(err.message.includes(want), `${err.message}\n  should include\n${want}`)
    assert.ok(!err.message.includes('TopSecret') && !err.message.includes('BEGIN'), err.message)
    return true
  })
}
