/**
 * The main thread's side of a copier task in a worker thread, without brokers: a worker that
 * cannot start (its config file is gone, its flow is not in the config) is reported as the
 * task's lastError and started again after the backoff; stop() terminates it, and a closed task
 * leaves no thread running.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { createLogger } from '../../../src/observe/logger.ts'
import { CopierThread, processHeapLimitMb } from '../../../src/source/copier-thread.ts'
import { workerThreadsSource } from '../../../src/source/source-flow.ts'
import { waitFor } from '../../harness/helpers.ts'

function collect(): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = []
  return {
    lines,
    log: createLogger(
      'test',
      line => {
        lines.push(line)
      },
      'debug'
    )
  }
}

test('a worker that cannot load its config is reported and restarted with backoff; stop terminates it', async () => {
  const { lines, log } = collect()
  const missing = join(mkdtempSync(join(tmpdir(), 'km-thread-')), 'gone.properties')
  const attempts: number[] = []
  const task = new CopierThread({
    config: { path: missing },
    flow: 'A->B',
    task: 0,
    log,
    restartBackoffMs: n => {
      attempts.push(n)
      return 20
    }
  })
  try {
    await task
      .assign([{ topic: 't', partition: 0, replicated: { source: 't', remote: 'A.t', partitions: 1 } }], [])
      .then(
        () => assert.fail('assign should fail while the worker cannot start'),
        (err: Error) => {
          assert.match(err.message, /cannot read the config file/)
        }
      )
    await waitFor(() => attempts.length >= 2, { timeoutMs: 20_000, what: 'two restarts' })
    assert.match(task.stats.lastError ?? '', /copier task 0 failed: .*cannot read the config file/)
    assert.ok(
      lines.some(
        l =>
          l.includes('ERROR') &&
          l.includes('copier task thread stopped unexpectedly; starting it again') &&
          l.includes('attempt=1')
      ),
      lines.join('\n')
    )
  } finally {
    await task.stop()
  }
  assert.equal(task.threadId, undefined, 'no thread after stop')
  const restarts = attempts.length
  await new Promise(resolve => setTimeout(resolve, 200))
  assert.equal(attempts.length, restarts, 'no restart after stop')
  assert.deepEqual(await task.stop(), [], 'stop is idempotent')
})

test('a worker whose flow is not in the config says so', async () => {
  const { log } = collect()
  const file = join(mkdtempSync(join(tmpdir(), 'km-thread-')), 'mm2.properties')
  writeFileSync(
    file,
    'clusters = A, B\nA.bootstrap.servers = 127.0.0.1:1\nB.bootstrap.servers = 127.0.0.1:1\nA->B.enabled = true\n'
  )
  const task = new CopierThread({ config: { path: file }, flow: 'B->C', task: 1, log, restartBackoffMs: () => 60_000 })
  try {
    await waitFor(() => task.stats.lastError, { timeoutMs: 20_000, what: 'the failure reported' })
    assert.match(task.stats.lastError ?? '', /copier task 1 failed: the config .* no longer has the flow B->C/)
  } finally {
    await task.close()
  }
})

test('worker threads unless KAFKA_MIRROR_WORKER_THREADS=0 or the config was built in code', () => {
  const source = { path: '/x/mm2.properties' }
  assert.equal(workerThreadsSource(source, {}), source)
  assert.equal(workerThreadsSource(source, { KAFKA_MIRROR_WORKER_THREADS: '1' }), source)
  assert.equal(workerThreadsSource(source, { KAFKA_MIRROR_WORKER_THREADS: '0' }), undefined)
  assert.equal(workerThreadsSource(undefined, {}), undefined)
})

test('the heap limit a worker gets is the process old-space limit (launcher flag or NODE_OPTIONS)', () => {
  assert.equal(processHeapLimitMb(['--max-old-space-size=512'], ''), 512)
  assert.equal(processHeapLimitMb([], '--max_old_space_size=300 --enable-source-maps'), 300)
  assert.equal(
    processHeapLimitMb(['--max-old-space-size=200'], '--max-old-space-size=300'),
    200,
    'a flag on the command line wins over NODE_OPTIONS, as in Node'
  )
  assert.equal(processHeapLimitMb([], ''), undefined)
})
