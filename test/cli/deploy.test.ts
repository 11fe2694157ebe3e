/**
 * deploy/ and the Containerfile against the binary: every manifest parses and says what the binary
 * needs (the config file and secrets where the args point, probes and scrape on the served port and
 * paths, a restricted security context), and the binary runs on real brokers with exactly the file
 * layout and arguments the Deployment gives it: the resource from the ConfigMap, each secret
 * mounted as Kubernetes mounts secrets (`..data` symlinks), TLS + SCRAM-SHA-512 to both clusters,
 * probes answering on the manifest's port and paths, records copied, a clean stop on SIGTERM.
 * No kustomize or container engine runs here: the test reads the files as they would.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { parseAllDocuments } from 'yaml'
import { parseCli } from '../../src/cli/args.ts'
import { startClusters } from '../harness/cluster.ts'
import { createTopic, produce, readAll, uniqueName, waitFor } from '../harness/helpers.ts'
import { spawnTracked } from '../harness/processes.ts'
import { SECURE_USERS, secureClusterOptions } from '../harness/secure-cluster.ts'
import { writeSecretVolume } from '../harness/k8s-secrets.ts'
import { createPki } from '../harness/tls.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const base = join(root, 'deploy', 'base')
const bin = join(root, 'bin', 'kafka-mirror.js')

type Doc = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

function documents(file: string): Doc[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'))
  for (const d of docs) assert.deepEqual(d.errors, [], `${file} parses`)
  return docs.map(d => d.toJS() as Doc).filter(d => d !== null)
}

/** What kustomize would render from deploy/base: its resources, and the generated ConfigMap's files. */
function render(): { kustomization: Doc; resources: Doc[]; generated: Map<string, Map<string, string>> } {
  const [kustomization] = documents(join(base, 'kustomization.yaml'))
  assert.ok(kustomization !== undefined)
  assert.equal(kustomization.kind, 'Kustomization')
  const resources = (kustomization.resources as string[]).flatMap(f => documents(join(base, f)))
  const generated = new Map<string, Map<string, string>>()
  for (const g of kustomization.configMapGenerator as Array<{ name: string; files: string[] }>) {
    generated.set(g.name, new Map(g.files.map(f => [f, readFileSync(join(base, f), 'utf8')])))
  }
  const listed = new Set([
    ...(kustomization.resources as string[]),
    ...[...generated.values()].flatMap(m => [...m.keys()]),
    'kustomization.yaml'
  ])
  assert.deepEqual(
    readdirSync(base).filter(f => !listed.has(f)),
    [],
    'every file of deploy/base is used'
  )
  return { kustomization, resources, generated }
}

/** Every `secretName` the resource refers to. */
function secretNames(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(secretNames)
  if (value === null || typeof value !== 'object') return []
  return Object.entries(value).flatMap(([k, v]) => (k === 'secretName' && typeof v === 'string' ? [v] : secretNames(v)))
}

interface Layout {
  readonly args: readonly string[]
  readonly port: number
  readonly configFile: string
  readonly configMapFile: string
  readonly configText: string
  readonly secretsDir: string
  readonly secrets: readonly string[]
  readonly liveness: string
  readonly readiness: string
  readonly graceSeconds: number
}

function deploymentLayout(): Layout {
  const { resources, generated, kustomization } = render()
  for (const r of resources) {
    assert.equal(typeof r.apiVersion, 'string', 'every resource has an apiVersion')
    assert.equal(typeof r.kind, 'string', 'every resource has a kind')
    assert.equal(typeof r.metadata?.name, 'string', `${r.kind as string} has a name`)
  }
  const deployment = resources.find(r => r.kind === 'Deployment')
  assert.ok(deployment !== undefined)
  assert.equal(deployment.apiVersion, 'apps/v1')
  assert.equal(deployment.spec.replicas, 1, 'one instance by default; more share the work')
  // Instances share the work through the group, so a rollout starts the new pod before it stops the old one.
  assert.equal(deployment.spec.strategy.type, 'RollingUpdate')
  assert.deepEqual(deployment.spec.strategy.rollingUpdate, { maxSurge: 1, maxUnavailable: 0 })
  const pod = deployment.spec.template.spec
  const labels = deployment.spec.template.metadata.labels as Record<string, string>
  for (const [k, v] of Object.entries(deployment.spec.selector.matchLabels as Record<string, string>))
    assert.equal(labels[k], v, `the selector matches the pod's ${k}`)
  const [container] = pod.containers
  assert.equal(pod.containers.length, 1)

  // Restricted pod security (Kubernetes Pod Security Standards, "restricted").
  assert.equal(pod.securityContext.runAsNonRoot, true)
  assert.notEqual(pod.securityContext.runAsUser, 0)
  assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault')
  assert.equal(container.securityContext.allowPrivilegeEscalation, false)
  assert.equal(container.securityContext.readOnlyRootFilesystem, true)
  assert.deepEqual(container.securityContext.capabilities.drop, ['ALL'])
  assert.equal(pod.automountServiceAccountToken, false)
  assert.ok(
    container.resources.requests.cpu !== undefined &&
      container.resources.requests.memory !== undefined &&
      container.resources.limits.memory !== undefined
  )

  // The arguments are the binary's own.
  const args = container.args as string[]
  const cli = parseCli(args)
  assert.equal(cli.command, 'run')
  const ports = container.ports as Array<{ name: string; containerPort: number }>
  const served = ports.find(p => p.containerPort === cli.metricsPort)
  assert.ok(served !== undefined, `the container declares the --metrics-port ${cli.metricsPort}`)
  for (const probe of [container.livenessProbe, container.readinessProbe])
    assert.equal(probe.httpGet.port, served.name, 'probes use the served port')
  assert.equal(container.livenessProbe.httpGet.path, '/healthz')
  assert.equal(container.readinessProbe.httpGet.path, '/readyz')

  // The config file comes from the generated ConfigMap, mounted where --config points.
  const mounts = container.volumeMounts as Array<{ name: string; mountPath: string; readOnly?: boolean }>
  const volumes = pod.volumes as Doc[]
  const configFile = cli.config ?? ''
  const configMount = mounts.find(m => configFile.startsWith(m.mountPath + '/'))
  assert.ok(configMount !== undefined, '--config lies in a mounted volume')
  const configVolume = volumes.find(v => v.name === configMount.name)
  const configMapFile = configFile.slice(configMount.mountPath.length + 1)
  const configText = generated.get(configVolume?.configMap?.name)?.get(configMapFile)
  assert.ok(configText !== undefined, `--config is ${configMapFile} of a generated ConfigMap`)
  assert.ok(
    mounts.some(m => m.mountPath === '/tmp') && !mounts.some(m => m.mountPath === '/tmp' && m.readOnly === true),
    'a writable /tmp for the compile cache'
  )

  // Every secret the resource names is mounted at <secrets-dir>/<secretName>.
  const secretsDir = cli.secretsDir ?? ''
  assert.ok(secretsDir !== '', '--secrets-dir is given')
  const [resource] = parseAllDocuments(configText).map(d => d.toJS() as Doc)
  assert.equal(resource?.kind, 'KafkaMirrorMaker2')
  assert.equal(
    labels['strimzi.io/cluster'],
    resource?.metadata.name,
    'the pod carries the resource name the dashboard filters on'
  )
  const secrets = [...new Set(secretNames(resource))]
  assert.ok(secrets.length >= 4, "both clusters' CA certificates and users")
  for (const name of secrets) {
    const mount = mounts.find(m => m.mountPath === join(secretsDir, name))
    assert.ok(
      mount !== undefined && mount.readOnly === true,
      `secret ${name} is mounted read-only at ${join(secretsDir, name)}`
    )
    assert.equal(volumes.find(v => v.name === mount.name)?.secret?.secretName, name)
  }

  // The scrape: the PodMonitor selects these pods on the served port's name and /metrics.
  const monitor = resources.find(r => r.kind === 'PodMonitor')
  assert.ok(monitor !== undefined)
  for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels as Record<string, string>))
    assert.equal(labels[k], v)
  assert.deepEqual(
    monitor.spec.podMetricsEndpoints.map((e: Doc) => [e.port, e.path]),
    [[served.name, '/metrics']]
  )
  // kustomize's labels with includeSelectors go on the pods and selectors alike.
  for (const pairs of kustomization.labels as Array<{ pairs: Record<string, string> }>)
    assert.ok(Object.keys(pairs.pairs).length > 0)

  return {
    args,
    port: cli.metricsPort,
    configFile,
    configMapFile,
    configText,
    secretsDir,
    secrets,
    liveness: container.livenessProbe.httpGet.path,
    readiness: container.readinessProbe.httpGet.path,
    graceSeconds: pod.terminationGracePeriodSeconds
  }
}

test("Containerfile: a non-root final image without build tools, whose default command uses the Deployment's layout", () => {
  const text = readFileSync(join(root, 'Containerfile'), 'utf8')
  const stages = text.split(/^FROM /m).slice(1)
  assert.ok(stages.length >= 2, 'a build stage and a final stage')
  const final = stages.at(-1) ?? ''
  assert.match(final, /^gcr\.io\/distroless\/nodejs24/, 'the final stage is Node 24 without a shell or npm')
  assert.doesNotMatch(final, /^RUN /m, 'nothing is built in the final stage')
  const user = /^USER (\d+)/m.exec(final)?.[1]
  assert.ok(user !== undefined && user !== '0', 'runs as a non-root user')
  const entrypoint = JSON.parse(/^ENTRYPOINT (.+)$/m.exec(final)?.[1] ?? '[]') as string[]
  assert.equal(entrypoint.at(-1), '/app/bin/kafka-mirror.js')
  const cmd = JSON.parse(/^CMD (.+)$/m.exec(final)?.[1] ?? '[]') as string[]
  const layout = deploymentLayout()
  const c = parseCli(cmd)
  assert.deepEqual([c.command, c.config, c.secretsDir], ['run', layout.configFile, layout.secretsDir])
  assert.equal(String(layout.port), /^EXPOSE (\d+)/m.exec(final)?.[1])
})

test("the binary runs with exactly the Deployment's files and arguments: secrets mounted as Kubernetes does, TLS + SCRAM to both clusters, probes, records copied, clean stop", async t => {
  const layout = deploymentLayout()
  const dir = mkdtempSync(join(tmpdir(), 'km-deploy-'))
  t.after(() => {
    rmSync(dir, { recursive: true, force: true })
  })
  const pkiS = createPki(join(dir, 'pki-src'))
  const pkiT = createPki(join(dir, 'pki-tgt'))
  const [S, T] = await startClusters([
    secureClusterOptions('deploy-src', pkiS),
    secureClusterOptions('deploy-tgt', pkiT)
  ])
  t.after(async () => {
    await Promise.all([S?.close(), T?.close()])
  })
  if (S === undefined || T === undefined) throw new Error('clusters did not start')

  // The pod's filesystem under `fsRoot`: the ConfigMap's file and each secret volume.
  const fsRoot = join(dir, 'pod')
  const inPod = (path: string): string => join(fsRoot, path)
  const resource = layout.configText
    .replace('my-cluster-source-kafka-bootstrap:9093', S.bootstrap('SASL_SSL'))
    .replace('my-cluster-target-kafka-bootstrap:9093', T.bootstrap('SASL_SSL'))
    .replaceAll('username: my-mirror', `username: ${SECURE_USERS.scram512.username}`)
  assert.notEqual(resource, layout.configText)
  mkdirSync(dirname(inPod(layout.configFile)), { recursive: true })
  writeFileSync(inPod(layout.configFile), resource)
  const secretData: Record<string, Record<string, string>> = {
    'my-cluster-source-cluster-ca-cert': {
      'ca.crt': readFileSync(pkiS.ca.crt, 'utf8'),
      'ca.password': pkiS.ca.password
    },
    'my-cluster-target-cluster-ca-cert': {
      'ca.crt': readFileSync(pkiT.ca.crt, 'utf8'),
      'ca.password': pkiT.ca.password
    },
    'my-mirror-source': { password: SECURE_USERS.scram512.password },
    'my-mirror-target': { password: SECURE_USERS.scram512.password }
  }
  assert.deepEqual(
    Object.keys(secretData).sort(),
    [...layout.secrets].sort(),
    'the test provides every secret the Deployment mounts'
  )
  for (const [name, data] of Object.entries(secretData)) writeSecretVolume(inPod(layout.secretsDir), name, data)

  const topic = uniqueName('deployed')
  await createTopic(S, topic, { partitions: 2 })
  const args = layout.args.map(a => (a === layout.configFile || a === layout.secretsDir ? inPod(a) : a))
  const mirror = spawnTracked('kafka-mirror', process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.after(async () => {
    await mirror.kill()
  })
  let output = ''
  mirror.child.stdout?.on('data', (c: Buffer) => {
    output += c.toString()
  })
  mirror.child.stderr?.on('data', (c: Buffer) => {
    output += c.toString()
  })

  const get = async (path: string): Promise<number> => (await fetch(`http://127.0.0.1:${layout.port}${path}`)).status
  await waitFor(async () => (await get(layout.liveness).catch(() => 0)) === 200, {
    timeoutMs: 60_000,
    what: `${layout.liveness} answering 200`
  })
  await waitFor(async () => (await get(layout.readiness).catch(() => 0)) === 200, {
    timeoutMs: 90_000,
    what: `${layout.readiness} answering 200 (output: ${output.slice(-2000)})`
  })
  await produce(
    S,
    topic,
    Array.from({ length: 100 }, (_, i) => ({ partition: i % 2, key: `k${i}`, value: `v${i}` }))
  )
  const copied = await waitFor(
    async () => {
      const r = await readAll(T, `my-cluster-source.${topic}`).catch(() => [])
      return r.length >= 100 ? r : undefined
    },
    { timeoutMs: 90_000, what: 'the records on the target' }
  )
  assert.deepEqual(
    new Set(copied.map(r => r.value?.toString())),
    new Set(Array.from({ length: 100 }, (_, i) => `v${i}`))
  )
  for (const line of output.split('\n').filter(l => l.trim() !== ''))
    assert.doesNotThrow(() => JSON.parse(line), `--log-format json: ${line}`)
  assert.ok(!output.includes(SECURE_USERS.scram512.password), 'no password in the output')

  const started = Date.now()
  mirror.child.kill('SIGTERM')
  const exit = await mirror.exited
  assert.equal(exit, 0, output.slice(-2000))
  assert.ok(Date.now() - started < layout.graceSeconds * 1000, 'stopped within terminationGracePeriodSeconds')
})
