import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { test } from 'node:test'
import { type HelperChild, startHelper } from '../../../src/bench/helper-process.ts'

type Msg = { kind: 'done'; n: number } | { kind: 'progress' }

/** A process whose events the test emits in the order it wants. */
class ScriptedChild extends EventEmitter {
  connected = true
  exitCode: number | null = null
  signalCode: NodeJS.Signals | null = null
  sent: unknown[] = []
  send(message: unknown): boolean {
    this.sent.push(message)
    return true
  }
  kill(): boolean {
    return true
  }
  exit(code: number): void {
    this.exitCode = code
    this.emit('exit', code, null)
  }
  closeChannel(): void {
    this.connected = false
    this.emit('disconnect')
  }
}

function scripted(): { child: ScriptedChild; start: () => HelperChild } {
  const child = new ScriptedChild()
  return { child, start: (): HelperChild => child }
}

test('a done read after the exit event still ends the helper well: its end waits for the channel to close', async () => {
  const { child, start } = scripted()
  const helper = startHelper<Msg>(new URL('file:///reader.ts'), 'reader', { records: 1 }, start)
  assert.deepEqual(child.sent, [{ work: { records: 1 } }])
  const done = helper.done()
  child.exit(0)
  // The channel is read in a later turn of the event loop than the one that saw the exit.
  await new Promise(resolve => setImmediate(resolve))
  child.emit('message', { kind: 'done', n: 7 })
  child.closeChannel()
  assert.deepEqual(await done, { kind: 'done', n: 7 })
})

test('a helper that exits and closes its channel without done fails with how it ended', async () => {
  const { child, start } = scripted()
  const helper = startHelper<Msg>(new URL('file:///reader.ts'), 'reader', {}, start)
  const done = helper.done()
  child.emit('message', { kind: 'progress' })
  child.exit(0)
  child.closeChannel()
  await assert.rejects(done, /^KafkaError: bench: the reader process ended \(exit 0\)$/)
})

test('real processes: done sent right before exiting arrives; an exit without done and a failure are reported', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-helper-'))
  try {
    const script = (name: string, body: string): URL => {
      const path = join(dir, name)
      writeFileSync(path, `process.on('message', m => { ${body} })\n`)
      return pathToFileURL(path)
    }
    const good = script('good.mjs', "process.send({ kind: 'done', n: m.work.n * 2 }, () => process.exit(0))")
    for (let i = 0; i < 5; i++)
      assert.deepEqual(await startHelper<Msg>(good, 'load', { n: i }).done(), { kind: 'done', n: i * 2 })
    const silent = script('silent.mjs', 'process.exit(0)')
    await assert.rejects(startHelper<Msg>(silent, 'load', {}).done(), /the load process ended \(exit 0\)/)
    const failing = script('failing.mjs', "process.send({ kind: 'failed', message: 'no READ' }, () => process.exit(1))")
    await assert.rejects(startHelper<Msg>(failing, 'reader', {}).done(), /bench: the reader: no READ/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
