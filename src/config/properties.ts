/**
 * A Java `.properties` reader that gives the same keys and values as `java.util.Properties.load`,
 * plus the line each key starts on. MM2 reads mm2.properties this way, so anything else (inline
 * comments, trimmed trailing blanks) would make the same file mean different things to us and Java.
 */
import { configError } from './where.ts'

export interface PropertyEntry {
  readonly key: string
  readonly value: string
  /** 1-based line of the logical line's first physical line. */
  readonly line: number
}

// Properties.load treats only these as blanks; other Unicode spaces are ordinary characters.
const isBlank = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\f'

function skipBlanks(s: string, from = 0): number {
  let i = from
  while (i < s.length && isBlank(s[i])) i++
  return i
}

function withoutLeadingBlanks(s: string): string {
  return s.slice(skipBlanks(s))
}

function endsWithOddBackslashes(s: string): boolean {
  let n = 0
  for (let i = s.length - 1; i >= 0 && s[i] === '\\'; i--) n++
  return n % 2 === 1
}

/** Every entry in file order; a key written twice appears twice. */
export function parsePropertyEntries(text: string, file: string): PropertyEntry[] {
  const lines = text.split(/\r\n|\r|\n/)
  const entries: PropertyEntry[] = []
  let i = 0
  while (i < lines.length) {
    const startLine = i + 1
    let cur = withoutLeadingBlanks(lines[i] ?? '')
    i++
    // A comment is decided on the first physical line only: a continuation line starting with
    // `#` is part of the value, and a comment ending in `\` does not continue.
    if (cur === '' || cur[0] === '#' || cur[0] === '!') continue
    let logical = ''
    for (;;) {
      if (!endsWithOddBackslashes(cur)) {
        logical += cur
        break
      }
      logical += cur.slice(0, -1)
      if (i >= lines.length) break
      cur = withoutLeadingBlanks(lines[i] ?? '')
      i++
    }
    entries.push(splitEntry(logical, file, startLine))
  }
  return entries
}

/** The map `Properties` ends up with: a later key replaces an earlier one (and its line). */
export function parseProperties(text: string, file: string): Map<string, PropertyEntry> {
  const map = new Map<string, PropertyEntry>()
  for (const e of parsePropertyEntries(text, file)) {
    map.delete(e.key)
    map.set(e.key, e)
  }
  return map
}

function splitEntry(logical: string, file: string, line: number): PropertyEntry {
  let keyEnd = logical.length
  let valueStart = logical.length
  let hasSeparator = false
  let escaped = false
  for (let k = 0; k < logical.length; k++) {
    const c = logical[k]
    if (escaped) {
      escaped = false
      continue
    }
    if (c === '\\') {
      escaped = true
    } else if (c === '=' || c === ':') {
      keyEnd = k
      valueStart = k + 1
      hasSeparator = true
      break
    } else if (isBlank(c)) {
      keyEnd = k
      valueStart = k + 1
      break
    }
  }
  valueStart = skipBlanks(logical, valueStart)
  // `key = value`: the key ended at a blank; one `=` or `:` after the blanks is still the separator.
  if (!hasSeparator && (logical[valueStart] === '=' || logical[valueStart] === ':')) {
    valueStart = skipBlanks(logical, valueStart + 1)
  }
  return {
    key: unescape(logical.slice(0, keyEnd), file, line),
    value: unescape(logical.slice(valueStart), file, line),
    line
  }
}

function unescape(s: string, file: string, line: number): string {
  if (!s.includes('\\')) return s
  let out = ''
  for (let k = 0; k < s.length; k++) {
    const c = s[k]
    if (c !== '\\') {
      out += c
      continue
    }
    k++
    if (k >= s.length) break // a lone trailing backslash is dropped, as Java does at end of input
    const e = s[k]
    if (e === 'u') {
      const hex = s.slice(k + 1, k + 5)
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
        throw configError({ file, line }, 'malformed \\uXXXX escape (expected four hex digits after \\u)')
      }
      out += String.fromCharCode(parseInt(hex, 16))
      k += 4
    } else if (e === 't') out += '\t'
    else if (e === 'n') out += '\n'
    else if (e === 'r') out += '\r'
    else if (e === 'f') out += '\f'
    else out += e
  }
  return out
}
