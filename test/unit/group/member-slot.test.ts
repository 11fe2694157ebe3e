import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { takeMemberSlot } from '../../../src/group/member-slot.ts'

/** A plain file: nothing can be created under it. */
function tmpFile(): string {
  const f = join(dir(), 'a-file')
  writeFileSync(f, '')
  return f
}

function dir(): string {
  return mkdtempSync(join(tmpdir(), 'km-slot-'))
}

test('two instances of one group in one place take two slots and never share a member id', () => {
  const d = dir()
  const a = takeMemberSlot('b:9092|A-mm2', d)
  const b = takeMemberSlot('b:9092|A-mm2', d)
  a.remember('member-a')
  b.remember('member-b')
  assert.equal(a.memberId, '')
  assert.equal(b.memberId, '')
  assert.equal(readdirSync(d).filter(f => f.endsWith('.lock')).length, 2)
  // Another group has slots of its own.
  assert.equal(takeMemberSlot('b:9092|B-mm2', d).memberId, '')
})

test('a slot whose process is gone is taken over with the member id it recorded', () => {
  const d = dir()
  const first = takeMemberSlot('b:9092|A-mm2', d)
  first.remember('member-1')
  // The process that held it died (kill -9): its lock names a pid that no longer runs.
  const lock = readdirSync(d).find(f => f.endsWith('.lock'))
  assert.ok(lock !== undefined)
  writeFileSync(join(d, lock), '2147483646')
  // The slot is still marked held by this process (same process in the test): release the mark only.
  first.release()
  writeFileSync(join(d, lock), '2147483646')
  writeFileSync(join(d, lock.replace('.lock', '.id')), 'member-1')
  const next = takeMemberSlot('b:9092|A-mm2', d)
  assert.equal(next.memberId, 'member-1')
})

test('a slot held by a live process is skipped; a released slot is free with no id', () => {
  const d = dir()
  const s = takeMemberSlot('k', d)
  s.remember('m')
  const lock = readdirSync(d).find(f => f.endsWith('.lock'))
  assert.ok(lock !== undefined)
  s.release()
  // Held by a live process (pid 1 always runs).
  writeFileSync(join(d, lock), '1')
  const other = takeMemberSlot('k', d)
  assert.equal(other.memberId, '')
  assert.equal(readdirSync(d).filter(f => f.endsWith('.lock')).length, 2)
  other.release()
  assert.equal(readdirSync(d).filter(f => f.endsWith('.lock')).length, 1)
})

test('an unwritable directory gives a slot without a file: the instance joins as a new member', () => {
  const s = takeMemberSlot('k', join(tmpFile(), 'sub'))
  assert.equal(s.memberId, '')
  s.remember('x')
  s.release()
})
