/**
 * Strict, located reading of a YAML document for the Strimzi loader: every mapping is checked
 * against the fields it may have, so a misspelt or mis-indented field is an error naming its line
 * (a half-read security config is worse than none), and every value read knows where it came from.
 */
import { isMap, isScalar, isSeq } from 'yaml'
import type { LineCounter, Node, YAMLMap } from 'yaml'
import { closest } from './suggest.ts'
import type { Where } from './where.ts'
import { configError } from './where.ts'

export interface Shape {
  readonly fields: readonly string[]
  readonly required?: readonly string[]
  /** Fields that exist in other API versions or places, with what to tell the user instead. */
  readonly elsewhere?: Readonly<Record<string, string>>
  /** Accepted but not interpreted; the caller decides what to say about them. */
  readonly ignored?: readonly string[]
}

export class YamlSource {
  readonly file: string
  readonly #lines: LineCounter
  constructor(file: string, lines: LineCounter) {
    this.file = file
    this.#lines = lines
  }

  lineOf(node: Node | null | undefined, fallback?: number): number | undefined {
    const offset = node?.range?.[0]
    return offset === undefined ? fallback : this.#lines.linePos(offset).line
  }
}

interface Field {
  readonly name: string
  readonly line: number | undefined
  readonly value: Node | null
}

const isNothing = (node: Node | null): boolean => node === null || (isScalar(node) && node.value === null)

const describe = (node: Node | null): string =>
  isNothing(node)
    ? 'nothing'
    : isMap(node)
      ? 'a mapping'
      : isSeq(node)
        ? 'a list'
        : JSON.stringify(isScalar(node) ? node.value : '?')

/** `a mapping` or `a mapping with a, b` (the shape's required fields). */
const mappingOf = (shape: Shape | undefined): string =>
  shape?.required !== undefined && shape.required.length > 0
    ? `a mapping with ${shape.required.join(', ')}`
    : 'a mapping'

/** A YAML mapping at a known path (`spec.clusters[0]`). */
export class YamlObject {
  readonly src: YamlSource
  readonly path: string
  readonly line: number | undefined
  readonly #fields = new Map<string, Field>()

  constructor(src: YamlSource, map: YAMLMap, path: string, line: number | undefined) {
    this.src = src
    this.path = path
    this.line = line
    for (const pair of map.items) {
      const keyNode = pair.key as Node | null
      const name = isScalar(keyNode) ? String(keyNode.value) : ''
      if (!isScalar(keyNode))
        throw configError(
          { file: src.file, line: src.lineOf(keyNode, line), key: path },
          'expected plain field names, got a complex key'
        )
      this.#fields.set(name, { name, line: src.lineOf(keyNode, line), value: (pair.value ?? null) as Node | null })
    }
  }

  static from(src: YamlSource, node: Node | null, path: string, line: number | undefined, shape?: Shape): YamlObject {
    if (!isMap(node))
      throw configError({ file: src.file, line, key: path }, `expected ${mappingOf(shape)}, got ${describe(node)}`)
    return new YamlObject(src, node, path, line)
  }

  names(): string[] {
    return [...this.#fields.keys()]
  }

  has(name: string): boolean {
    return this.#fields.has(name)
  }

  child(name: string): string {
    return this.path === '' ? name : `${this.path}.${name}`
  }

  where(name?: string): Where {
    if (name === undefined)
      return { file: this.src.file, line: this.line, key: this.path === '' ? undefined : this.path }
    return { file: this.src.file, line: this.#fields.get(name)?.line ?? this.line, key: this.child(name) }
  }

  /**
   * Rejects fields the shape does not know and missing required ones. An unknown field that
   * belongs under an empty sibling (`metadata:` then `name:` at the same indent) is reported as
   * the indentation mistake it is.
   */
  check(shape: Shape, nested: Readonly<Record<string, Shape>> = {}): void {
    for (const f of this.#fields.values()) {
      if (shape.fields.includes(f.name) || shape.ignored?.includes(f.name) === true) continue
      const owner = [...this.#fields.values()].find(
        s => isNothing(s.value) && nested[s.name]?.fields.includes(f.name) === true
      )
      if (owner !== undefined) {
        throw configError(
          this.where(owner.name),
          `expected ${mappingOf(nested[owner.name])}, got nothing — is \`${f.name}:\` indented under it?`
        )
      }
      const hint = shape.elsewhere?.[f.name]
      if (hint !== undefined) throw configError(this.where(f.name), hint)
      const near = closest(f.name, [...shape.fields, ...(shape.ignored ?? [])])
      throw configError(
        this.where(f.name),
        near === undefined
          ? `unknown field (expected one of: ${shape.fields.join(', ')})`
          : `unknown field (did you mean "${near}"?)`
      )
    }
    for (const name of shape.required ?? []) {
      if (!this.#fields.has(name)) throw this.#missing(name)
    }
  }

  #missing(name: string): Error {
    return configError(
      { ...this.where(), key: this.child(name) },
      `required field is missing${this.path === '' ? '' : ` in ${this.path}`}`
    )
  }

  node(name: string): Node | null | undefined {
    return this.#fields.get(name)?.value
  }

  /** A nested mapping; `field:` with nothing after it is an error (use `field: {}`). */
  obj(name: string, shape: Shape, nested: Readonly<Record<string, Shape>> = {}): YamlObject | undefined {
    const f = this.#fields.get(name)
    if (f === undefined) return undefined
    if (isNothing(f.value)) {
      // In Kubernetes a null field is dropped, so `sourceConnector:` alone would mean "absent".
      throw configError(
        this.where(name),
        `expected ${mappingOf(shape)}, got nothing (write \`${name}: {}\` for an empty one)`
      )
    }
    const o = YamlObject.from(this.src, f.value, this.child(name), f.line, shape)
    o.check(shape, nested)
    return o
  }

  str(name: string, required = false): string | undefined {
    const f = this.#fields.get(name)
    if (f === undefined || (isNothing(f.value) && !required)) {
      if (required) throw this.#missing(name)
      return undefined
    }
    if (!isScalar(f.value) || typeof f.value.value !== 'string' || f.value.value === '') {
      throw configError(this.where(name), `expected a non-empty string, got ${describe(f.value)}`)
    }
    return f.value.value
  }

  int(name: string, min: number): number | undefined {
    const f = this.#fields.get(name)
    if (f === undefined) return undefined
    const v = isScalar(f.value) ? f.value.value : undefined
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
      throw configError(this.where(name), `expected an integer of at least ${min}, got ${describe(f.value)}`)
    return v
  }

  bool(name: string): boolean | undefined {
    const f = this.#fields.get(name)
    if (f === undefined) return undefined
    const v = isScalar(f.value) ? f.value.value : undefined
    if (typeof v !== 'boolean') throw configError(this.where(name), `expected true or false, got ${describe(f.value)}`)
    return v
  }

  /** A list of mappings, each checked against `shape`. */
  list(name: string, shape: Shape, nested: Readonly<Record<string, Shape>> = {}): YamlObject[] | undefined {
    const f = this.#fields.get(name)
    if (f === undefined) return undefined
    if (!isSeq(f.value)) throw configError(this.where(name), `expected a list, got ${describe(f.value)}`)
    return f.value.items.map((item, i) => {
      const node = item as Node | null
      const o = YamlObject.from(this.src, node, `${this.child(name)}[${i}]`, this.src.lineOf(node, f.line), shape)
      o.check(shape, nested)
      return o
    })
  }

  /** A map of scalars (Strimzi `config`): values as strings, each with its own location. */
  scalars(name: string): Array<{ key: string; value: string; where: Where }> {
    const f = this.#fields.get(name)
    if (f === undefined || isNothing(f.value)) return []
    if (!isMap(f.value))
      throw configError(this.where(name), `expected a mapping of keys to values, got ${describe(f.value)}`)
    const inner = new YamlObject(this.src, f.value, this.child(name), f.line)
    return inner.names().map(k => {
      const node = inner.node(k) ?? null
      const where = inner.where(k)
      if (!isScalar(node) || node.value === null || typeof node.value === 'object') {
        throw configError(where, `expected a string, number or boolean, got ${describe(node)}`)
      }
      return { key: k, value: String(node.value), where }
    })
  }
}
