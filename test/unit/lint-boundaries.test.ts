/**
 * The lint config keeps the layers of docs/DESIGN.md: each boundary the code once crossed (issue
 * 15) is linted here as a one-line file that crosses it, and must fail, next to an import that
 * the layers allow, which must pass. ESLint runs with the project's own eslint.config.js; the
 * snippets are linted as if they were files at the given paths (they are not written anywhere).
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { ESLint } from 'eslint'

const root = fileURLToPath(new URL('../..', import.meta.url))
const eslint = new ESLint({ cwd: root })
const BOUNDARY_RULES = new Set([
  'import-x/no-restricted-paths',
  'import-x/no-cycle',
  'no-restricted-imports',
  '@typescript-eslint/no-restricted-imports'
])

/** The boundary errors ESLint reports for `code` as the file `path` (relative to the project). */
async function boundaryErrors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, path) })
  assert.ok(result !== undefined)
  const fatal = result.messages.filter(m => m.fatal === true)
  assert.deepEqual(fatal, [], `${path} did not parse`)
  return result.messages
    .filter(m => m.ruleId !== null && BOUNDARY_RULES.has(m.ruleId))
    .map(m => `${m.ruleId}: ${m.message}`)
}

interface Case {
  readonly boundary: string
  readonly path: string
  /** An import across the boundary: lint must fail with `rule`. */
  readonly crossing: string
  readonly rule: string
  /** An import the layers allow from the same file: lint must pass. */
  readonly allowed: string
}

const CASES: readonly Case[] = [
  {
    boundary: 'policy/ does not import config/ (the policy/config cycle)',
    path: 'src/policy/probe.ts',
    crossing: "import type { FlowConfig } from '../config/model.ts'\nexport type X = FlowConfig\n",
    rule: 'import-x/no-restricted-paths',
    allowed: "import { decodeHeartbeat } from '../formats/heartbeat.ts'\nexport const x = decodeHeartbeat\n"
  },
  {
    boundary: 'config/ imports policy/, never the other way round',
    path: 'src/config/probe.ts',
    crossing: "import { KafkaAdmin } from '../kafka/admin.ts'\nexport const x = KafkaAdmin\n",
    rule: 'import-x/no-restricted-paths',
    allowed: "import { createFilters } from '../policy/filters.ts'\nexport const x = createFilters\n"
  },
  {
    boundary: 'source/ does not import heartbeat/ (engines do not import each other)',
    path: 'src/source/probe.ts',
    crossing: "import { HeartbeatEmitter } from '../heartbeat/emitter.ts'\nexport const x = HeartbeatEmitter\n",
    rule: 'import-x/no-restricted-paths',
    allowed:
      "import { HeartbeatLatencyTracker } from '../policy/heartbeat-latency.ts'\nexport const x = HeartbeatLatencyTracker\n"
  },
  {
    boundary: 'checkpoint/ does not import source/',
    path: 'src/checkpoint/probe.ts',
    crossing: "import { OffsetSyncWriter } from '../source/offset-sync-writer.ts'\nexport const x = OffsetSyncWriter\n",
    rule: 'import-x/no-restricted-paths',
    allowed:
      "import { offsetSyncsLocation } from '../config/offset-syncs-topic.ts'\nexport const x = offsetSyncsLocation\n"
  },
  {
    boundary: 'heartbeat/ does not import checkpoint/',
    path: 'src/heartbeat/probe.ts',
    crossing: "import { CheckpointFlow } from '../checkpoint/checkpoint-flow.ts'\nexport const x = CheckpointFlow\n",
    rule: 'import-x/no-restricted-paths',
    allowed: "import { KafkaProducer } from '../kafka/producer.ts'\nexport const x = KafkaProducer\n"
  },
  {
    boundary: 'kafka/security/ does not import the rest of kafka/ (the errors/security-errors cycle)',
    path: 'src/kafka/security/probe.ts',
    crossing: "import { toKafkaError } from '../errors.ts'\nexport const x = toKafkaError\n",
    rule: 'import-x/no-restricted-paths',
    allowed: "import { errorTree } from '../../util/error-tree.ts'\nexport const x = errorTree\n"
  },
  {
    boundary: 'kafka/ does not import an engine',
    path: 'src/kafka/probe.ts',
    crossing: "import { TopicSelection } from '../source/topic-selection.ts'\nexport const x = TopicSelection\n",
    rule: 'import-x/no-restricted-paths',
    allowed: "import { clientOptions } from './security/client-options.ts'\nexport const x = clientOptions\n"
  },
  {
    boundary: 'an engine uses the observe/ instruments, not the server that reads the mirror',
    path: 'src/source/probe.ts',
    crossing: "import { mirrorRoutes } from '../observe/routes.ts'\nexport const x = mirrorRoutes\n",
    rule: 'import-x/no-restricted-paths',
    allowed: "import { newTaskIo } from '../observe/metrics-copy.ts'\nexport const x = newTaskIo\n"
  },
  {
    boundary: 'util/ is below everything but the errors and the logger',
    path: 'src/util/probe.ts',
    crossing:
      "import { createReplicationPolicy } from '../policy/replication-policy.ts'\nexport const x = createReplicationPolicy\n",
    rule: 'import-x/no-restricted-paths',
    allowed: "import type { Logger } from '../observe/logger.ts'\nexport type X = Logger\n"
  },
  {
    boundary: 'mirror.ts assembles the engines and is below the commands',
    path: 'src/mirror.ts',
    crossing: "import { runCommand } from './cli/run.ts'\nexport const x = runCommand\n",
    rule: 'import-x/no-restricted-paths',
    allowed: "import { SourceFlow } from './source/source-flow.ts'\nexport const x = SourceFlow\n"
  },
  {
    boundary: 'files of one unit do not import each other in a cycle',
    // kafka/admin.ts imports kafka/errors.ts, so errors.ts importing admin.ts closes a cycle
    // (type-only imports do not count: they are gone at run time).
    path: 'src/kafka/errors.ts',
    crossing: "import { KafkaAdmin } from './admin.ts'\nexport const x = KafkaAdmin\n",
    rule: 'import-x/no-cycle',
    allowed: "import { errorTree } from '../util/error-tree.ts'\nexport const x = errorTree\n"
  },
  {
    boundary: 'src/ does not import test code (HarnessError lives in test/harness/)',
    path: 'src/kafka/probe.ts',
    crossing: "import { HarnessError } from '../../test/harness/errors.ts'\nexport const x = HarnessError\n",
    rule: 'import-x/no-restricted-paths',
    allowed: "import { KafkaError } from '../errors.ts'\nexport const x = KafkaError\n"
  },
  {
    boundary: 'only src/kafka/ imports the Kafka client library',
    path: 'src/source/probe.ts',
    crossing: "import { Admin } from '@platformatic/kafka'\nexport const x = Admin\n",
    rule: 'no-restricted-imports',
    allowed: "import { KafkaAdmin } from '../kafka/admin.ts'\nexport const x = KafkaAdmin\n"
  },
  {
    boundary: 'src/ takes node:http with process.getBuiltinModule (its ESM import loads undici at start-up)',
    path: 'src/observe/probe.ts',
    crossing: "import { createServer } from 'node:http'\nexport const x = createServer\n",
    rule: '@typescript-eslint/no-restricted-imports',
    allowed: "import type { Server } from 'node:http'\nexport type X = Server\n"
  },
  {
    boundary: 'test code goes through src/kafka/ too, except the harness operator',
    path: 'test/harness/probe.ts',
    crossing: "import { Admin } from '@platformatic/kafka'\nexport const x = Admin\n",
    rule: 'no-restricted-imports',
    allowed: "import { KafkaAdmin } from '../../src/kafka/admin.ts'\nexport const x = KafkaAdmin\n"
  }
]

for (const c of CASES) {
  test(`lint: ${c.boundary}`, async () => {
    const crossing = await boundaryErrors(c.path, c.crossing)
    assert.ok(
      crossing.some(e => e.startsWith(`${c.rule}: `)),
      `${c.path}: ${c.crossing.split('\n')[0]} should fail with ${c.rule}, got ${JSON.stringify(crossing)}`
    )
    assert.deepEqual(await boundaryErrors(c.path, c.allowed), [], `${c.path}: ${c.allowed.split('\n')[0]} should pass`)
  })
}

test('lint: the client library is allowed in src/kafka/ and test/harness/operator.ts only', async () => {
  const code = "import { Admin } from '@platformatic/kafka'\nexport const x = Admin\n"
  assert.deepEqual(await boundaryErrors('src/kafka/probe.ts', code), [])
  assert.deepEqual(await boundaryErrors('test/harness/operator.ts', code), [])
  assert.ok((await boundaryErrors('test/integration/probe.test.ts', code)).length > 0)
})

/** Every file under `dir`, relative to the project root. */
function filesUnder(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter(e => e.isFile())
    .map(e => relative(root, join(e.parentPath, e.name)))
}

test('lint: the layer table names real units and covers every source file', async () => {
  const { LAYERS } = (await import(new URL('../../eslint.config.js', import.meta.url).href)) as {
    LAYERS: readonly (readonly string[])[]
  }
  const units = LAYERS.flat()
  // A unit that no longer exists (a renamed folder) would silently stop being checked.
  for (const unit of units) assert.ok(existsSync(join(root, unit)), `${unit} in eslint.config.js LAYERS does not exist`)
  const unitOf = (file: string): string | undefined =>
    units.filter(u => file === u || file.startsWith(`${u}/`)).sort((a, b) => b.length - a.length)[0]
  const uncovered = filesUnder('src').filter(f => /\.(ts|js)$/.test(f) && unitOf(f) === undefined)
  assert.deepEqual(uncovered, [], 'every source file belongs to a unit of a layer')
})
