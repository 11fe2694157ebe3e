import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { headComment } from '../../../bench/lib/args.ts'

const script = fileURLToPath(new URL('../../../bench/new-topics.bench.ts', import.meta.url))

test('headComment: the first block comment, markers and indentation removed', () => {
  const source =
    "#!/usr/bin/env node\n/**\n * What it measures.\n *\n *   npm run x -- [--a 1]\n */\nimport x from 'y'\n/** later */\n"
  assert.equal(headComment(source), 'What it measures.\n\n  npm run x -- [--a 1]')
  assert.equal(headComment('const a = 1\n'), '')
})

test('a bench script: --help prints its head comment; an unknown option is named, exit 2, before any broker starts', () => {
  const help = spawnSync(process.execPath, [script, '--help'], { encoding: 'utf8', timeout: 60_000 })
  assert.equal(help.status, 0, help.stderr)
  assert.match(help.stdout, /^Start-up at scale: /)
  assert.match(help.stdout, /npm run bench:new-topics -- \[--topics 100\] \[--partitions 10\]/)

  const wrong = spawnSync(process.execPath, [script, '--topic', '5'], { encoding: 'utf8', timeout: 60_000 })
  assert.equal(wrong.status, 2)
  assert.equal(wrong.stderr, "new-topics.bench.ts: Unknown option '--topic'\n(--help describes the options)\n")
  assert.equal(wrong.stdout, '')
})
