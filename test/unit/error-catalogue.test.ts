/**
 * docs/errors.md is the catalogue of kafka-mirror's error codes; this keeps it and the code in
 * step. From src/: the codes of the ErrorCode union, the class that carries each one
 * (`super('KM_...')` in src/errors.ts) and whether that class is raised anywhere in src/ (a
 * `new <Class>(` outside src/errors.ts). From the catalogue: its table rows. Every code raised
 * must be documented with the class it is raised as, and every documented code must be raised.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
const errorsTs = readFileSync(join(root, 'src/errors.ts'), 'utf8')
const catalogue = readFileSync(join(root, 'docs/errors.md'), 'utf8')

const sources = readdirSync(join(root, 'src'), { recursive: true, withFileTypes: true })
  .filter(e => e.isFile() && e.name.endsWith('.ts'))
  .map(e => join(e.parentPath, e.name))
  .filter(path => path !== join(root, 'src/errors.ts'))
  .map(path => readFileSync(path, 'utf8'))

/** The members of `export type ErrorCode = | 'KM_A' | 'KM_B'`. */
function unionCodes(): string[] {
  const union = /export type ErrorCode =([^]*?)\n\n/.exec(errorsTs)?.[1]
  assert.ok(union !== undefined, 'src/errors.ts declares the ErrorCode union')
  return [...union.matchAll(/'(KM_[A-Z_]+)'/g)].map(m => m[1] as string)
}

/** Class name by the code it passes to KafkaMirrorError. */
function classesByCode(): Map<string, string> {
  const classes = new Map<string, string>()
  for (const m of errorsTs.matchAll(/export class (\w+) extends KafkaMirrorError \{[^]*?super\('(KM_[A-Z_]+)'/g))
    classes.set(m[2] as string, m[1] as string)
  return classes
}

function raisedIn(source: string, cls: string, code: string): boolean {
  return source.includes(`new ${cls}(`) || source.includes(`new KafkaMirrorError('${code}'`)
}

/** Class name by code, from the catalogue's table rows: | `KM_X` | `SomeError` | ... */
function documented(): Map<string, string> {
  return new Map(
    [...catalogue.matchAll(/^\| `(KM_[A-Z_]+)` \| `(\w+)` \|/gm)].map(m => [m[1] as string, m[2] as string])
  )
}

test('every error code is carried by one error class', () => {
  const classes = classesByCode()
  assert.deepEqual([...classes.keys()].sort(), unionCodes().sort())
})

test('every code raised in src/ is in docs/errors.md, as the class it is raised as', () => {
  const docs = documented()
  const raised = [...classesByCode()].filter(([code, cls]) => sources.some(s => raisedIn(s, cls, code)))
  assert.ok(raised.length > 0, 'the scan finds raised codes at all')
  for (const [code, cls] of raised)
    assert.equal(
      docs.get(code),
      cls,
      `${code} (${cls}) is raised in src/ but docs/errors.md does not list it as ${cls}`
    )
})

test('every code in docs/errors.md is raised somewhere in src/', () => {
  const classes = classesByCode()
  for (const [code, cls] of documented()) {
    assert.equal(classes.get(code), cls, `docs/errors.md lists ${code} as ${cls}, src/errors.ts does not`)
    assert.ok(
      sources.some(s => raisedIn(s, cls, code)),
      `docs/errors.md lists ${code}, but nothing in src/ raises ${cls}`
    )
  }
})
