/**
 * Translates a java.util.regex pattern into an equivalent JavaScript pattern (for the `u` flag),
 * so the regex lists users wrote for Java MM2 (`topics`, `groups`, ...) select the same names.
 *
 * Invariants:
 * - Output is meant for `new RegExp(out, 'u')`; callers anchor it themselves.
 * - Java-only syntax that has an exact JS equivalent is rewritten: `\Q..\E` quoting, `\A \z \Z`,
 *   `\h \H \v \V \R \e \a \cX \0oct \x{h}`, `\s` (ASCII in Java), POSIX `\p{Alpha}` etc.,
 *   general categories `\p{IsLu}`, a literal `]` first in a class, unescaped `]` / `}` outside one,
 *   escaped punctuation JS `u` mode refuses (`\-`, `\_`), and inline flags `(?i)` / `(?i:..)`
 *   (rewritten as JS modifier groups, closed and reopened around each `|`).
 * - Possessive quantifiers `X*+` and atomic groups `(?>X)` are emulated exactly with a capturing
 *   lookahead plus a back-reference, `(?:(?=(X*))\N)`, because a JS lookahead never backtracks.
 *   This adds capturing groups, so a pattern that also uses numbered back-references is refused.
 * - Anything else Java-only (class union/intersection, `\G`, `\X`, `\b{g}`, `\N{..}`, block and
 *   script properties, flags d/x/U, ...) throws a ConfigError that quotes the pattern.
 * - Known remaining differences, all outside Kafka's legal topic-name alphabet: under `(?i)` JS
 *   folds non-ASCII letters (Java needs `(?iu)` for that); `\S`, `\w` and `.` inside Unicode
 *   corner cases (U+0085, Unicode spaces inside a class) may differ.
 */
import { ConfigError } from '../errors.ts'

const SYNTAX_CHARS = new Set('^$\\.*+?()[]{}|/')
const CLASS_SYNTAX_CHARS = new Set('\\]^-[')

const WHITESPACE = '\\t\\n\\x0B\\f\\r '
const HSPACE = ' \\t\\xA0\\u1680\\u180E\\u2000-\\u200A\\u202F\\u205F\\u3000'
const VSPACE = '\\n\\x0B\\f\\r\\x85\\u2028\\u2029'
const LINE_TERMINATOR = '(?:\\r\\n|[\\n\\r\\x85\\u2028\\u2029])'

/** Java POSIX character classes (US-ASCII only), as JS class contents. */
const POSIX: Readonly<Record<string, string>> = {
  Lower: 'a-z',
  Upper: 'A-Z',
  ASCII: '\\x00-\\x7F',
  Alpha: 'a-zA-Z',
  Digit: '0-9',
  Alnum: 'a-zA-Z0-9',
  Punct: '!-\\/:-@\\[-`{-~',
  Graph: '!-~',
  Print: ' -~',
  Blank: ' \\t',
  Cntrl: '\\x00-\\x1F\\x7F',
  XDigit: '0-9a-fA-F',
  Space: WHITESPACE
}

const CATEGORIES = new Set([
  'L',
  'LC',
  'Lu',
  'Ll',
  'Lt',
  'Lm',
  'Lo',
  'M',
  'Mn',
  'Mc',
  'Me',
  'N',
  'Nd',
  'Nl',
  'No',
  'P',
  'Pc',
  'Pd',
  'Ps',
  'Pe',
  'Pi',
  'Pf',
  'Po',
  'S',
  'Sm',
  'Sc',
  'Sk',
  'So',
  'Z',
  'Zs',
  'Zl',
  'Zp',
  'C',
  'Cc',
  'Cf',
  'Cs',
  'Co',
  'Cn'
])

interface Frame {
  /** Output index where this group's `(` starts. */
  readonly outStart: number
  /** Capturing groups in the output before this group. */
  readonly capturesBefore: number
  /** Output group number of the emulation group, for `(?>..)`; 0 otherwise. */
  readonly atomicGroup: number
  /** JS modifier groups opened by inline `(?flags)` at this level, still open. */
  readonly modifiers: string[]
}

interface Atom {
  readonly start: number
  readonly capturesBefore: number
}

class Translator {
  readonly #src: string
  #i = 0
  #out = ''
  /** Capturing groups in the output (user groups plus emulation groups). */
  #captures = 0
  /** Capturing groups of the Java pattern (what a numeric back-reference counts). */
  #javaCaptures = 0
  #usesEmulation = false
  #usesNumericBackref = false
  #lastAtom: Atom | null = null
  readonly #frames: Frame[] = [{ outStart: 0, capturesBefore: 0, atomicGroup: 0, modifiers: [] }]

  constructor(src: string) {
    this.#src = src
  }

  run(): string {
    while (this.#i < this.#src.length) this.#step()
    if (this.#frames.length > 1) this.#fail('has an unclosed group "("')
    this.#closeModifiers(this.#frames[0]!)
    if (this.#usesEmulation && this.#usesNumericBackref) {
      this.#fail('combines numbered back-references with possessive quantifiers or atomic groups')
    }
    return this.#out
  }

  #fail(what: string): never {
    throw new ConfigError(
      `regular expression "${this.#src}" ${what}, which kafka-mirror cannot translate from Java regex syntax`
    )
  }

  #peek(offset = 0): string | undefined {
    return this.#src[this.#i + offset]
  }

  /** The code point at the cursor, as a string (one or two UTF-16 units). */
  #codePoint(): string {
    return String.fromCodePoint(this.#src.codePointAt(this.#i)!)
  }

  #atom(text: string): void {
    this.#lastAtom = { start: this.#out.length, capturesBefore: this.#captures }
    this.#out += text
  }

  /** Emits a zero-width assertion; a quantifier right after it is refused as dangling. */
  #anchor(text: string): void {
    this.#lastAtom = null
    this.#out += text
  }

  #step(): void {
    const c = this.#codePoint()
    switch (c) {
      case '\\':
        this.#escape()
        return
      case '[':
        this.#charClass()
        return
      case '(':
        this.#openGroup()
        return
      case ')':
        this.#closeGroup()
        return
      case '|':
        this.#alternation()
        return
      case '*':
      case '+':
      case '?':
        this.#i++
        this.#quantifier(c)
        return
      case '{':
        this.#braces()
        return
      case '^':
      case '$':
        this.#i++
        this.#anchor(c)
        return
      case '.':
        this.#i++
        this.#atom('.')
        return
      default:
        this.#i += c.length
        this.#atom(literal(c))
    }
  }

  #braces(): void {
    const m = /^\{(\d+)(?:(,)(\d*))?\}/.exec(this.#src.slice(this.#i))
    if (m === null) this.#fail('has a "{" that is not a repetition like {n}, {n,} or {n,m} (escape it as \\{)')
    this.#i += m[0].length
    this.#quantifier(m[0])
  }

  #quantifier(q: string): void {
    const atom = this.#lastAtom
    if (atom === null) this.#fail(`has a dangling quantifier "${q}"`)
    this.#lastAtom = null
    const next = this.#peek()
    if (next === '?') {
      this.#i++
      this.#out += q + '?'
    } else if (next === '+') {
      // Possessive: match the greedy repetition once, inside a lookahead (atomic in JS), then
      // consume exactly what it matched.
      this.#i++
      const body = this.#out.slice(atom.start)
      const n = atom.capturesBefore + 1
      this.#out = this.#out.slice(0, atom.start) + `(?:(?=(${body}${q}))\\${n})`
      this.#captures++
      this.#usesEmulation = true
    } else {
      this.#out += q
    }
  }

  #openGroup(): void {
    const rest = this.#src.slice(this.#i)
    const frame = (atomicGroup = 0): Frame => ({
      outStart: this.#out.length,
      capturesBefore: this.#captures,
      atomicGroup,
      modifiers: []
    })
    this.#lastAtom = null
    if (!rest.startsWith('(?')) {
      this.#frames.push(frame())
      this.#i++
      this.#out += '('
      this.#captures++
      this.#javaCaptures++
      return
    }
    for (const prefix of ['(?:', '(?=', '(?!', '(?<=', '(?<!']) {
      if (rest.startsWith(prefix)) {
        this.#frames.push(frame())
        this.#i += prefix.length
        this.#out += prefix
        return
      }
    }
    const named = /^\(\?<([a-zA-Z][a-zA-Z0-9]*)>/.exec(rest)
    if (named !== null) {
      this.#frames.push(frame())
      this.#i += named[0].length
      this.#out += named[0]
      this.#captures++
      this.#javaCaptures++
      return
    }
    if (rest.startsWith('(?>')) {
      const f = frame(this.#captures + 1)
      this.#frames.push(f)
      this.#i += 3
      this.#out += '(?:(?=('
      this.#captures++
      this.#usesEmulation = true
      return
    }
    const flags = /^\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])/.exec(rest)
    if (flags === null) this.#fail(`has an unknown group construct "${rest.slice(0, 4)}"`)
    this.#i += flags[0].length
    const mod = this.#modifier(flags[1]!, flags[2] ?? '')
    const top = this.#frames[this.#frames.length - 1]!
    if (flags[3] === ')') {
      // (?flags) applies to the rest of the enclosing group: open a JS modifier group there.
      if (mod !== '') {
        this.#out += `(?${mod}:`
        top.modifiers.push(mod)
      }
    } else {
      this.#frames.push(frame())
      this.#out += mod === '' ? '(?:' : `(?${mod}:`
    }
  }

  /** Java inline flags -> JS modifier text (`i`, `i-s`, ...), or "" when nothing is left. */
  #modifier(on: string, off: string): string {
    const keep = (flags: string): string => {
      let out = ''
      for (const f of flags) {
        if (f === 'i' || f === 'm' || f === 's') {
          if (!out.includes(f)) out += f
        } else if (f !== 'u') {
          this.#fail(`uses the inline flag "${f}"`)
        }
      }
      return out
    }
    const add = keep(on)
    const remove = keep(off)
    return remove === '' ? add : `${add}-${remove}`
  }

  #closeModifiers(f: Frame): void {
    this.#out += ')'.repeat(f.modifiers.length)
  }

  #closeGroup(): void {
    if (this.#frames.length === 1) this.#fail('has an unmatched ")"')
    const f = this.#frames.pop()!
    this.#i++
    this.#closeModifiers(f)
    this.#out += f.atomicGroup === 0 ? ')' : `))\\${f.atomicGroup})`
    this.#lastAtom = { start: f.outStart, capturesBefore: f.capturesBefore }
  }

  #alternation(): void {
    const f = this.#frames[this.#frames.length - 1]!
    this.#i++
    this.#closeModifiers(f)
    this.#out += '|'
    for (const m of f.modifiers) this.#out += `(?${m}:`
    this.#lastAtom = null
  }

  /** Reads `\Q...\E` (the cursor is after `\Q`); returns the quoted code points. */
  #quoted(): string[] {
    const end = this.#src.indexOf('\\E', this.#i)
    const text = end === -1 ? this.#src.slice(this.#i) : this.#src.slice(this.#i, end)
    this.#i = end === -1 ? this.#src.length : end + 2
    return [...text]
  }

  /** Escapes with the same meaning inside and outside a class; returns null if not one of them. */
  #commonEscape(c: string): string | null {
    switch (c) {
      case 't':
      case 'n':
      case 'r':
      case 'f':
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        return '\\' + c
      case 'a':
        return '\\x07'
      case 'e':
        return '\\x1B'
      case 'u': {
        const m = /^[0-9a-fA-F]{4}/.exec(this.#src.slice(this.#i))
        if (m === null) this.#fail('has a malformed \\u escape')
        this.#i += 4
        return '\\u' + m[0]
      }
      case 'x': {
        const m = /^(?:([0-9a-fA-F]{2})|\{([0-9a-fA-F]+)\})/.exec(this.#src.slice(this.#i))
        if (m === null) this.#fail('has a malformed \\x escape')
        this.#i += m[0].length
        const cp = parseInt(m[1] ?? m[2]!, 16)
        if (cp > 0x10ffff) this.#fail('has a \\x{...} escape beyond U+10FFFF')
        return codePointEscape(cp)
      }
      case '0': {
        const m = /^(?:[0-3][0-7]{2}|[0-7]{1,2})/.exec(this.#src.slice(this.#i))
        if (m === null) this.#fail('has a malformed octal escape \\0')
        this.#i += m[0].length
        return codePointEscape(parseInt(m[0], 8))
      }
      case 'c': {
        const x = this.#peek()
        if (x === undefined) this.#fail('ends inside a \\c escape')
        this.#i++
        return codePointEscape(x.charCodeAt(0) ^ 64)
      }
      default:
        return null
    }
  }

  /** Reads the code point after a backslash (the cursor is on the backslash). */
  #escaped(): string {
    this.#i++
    if (this.#i >= this.#src.length) this.#fail('ends with a lone backslash')
    const c = this.#codePoint()
    this.#i += c.length
    return c
  }

  #escape(): void {
    const c = this.#escaped()
    const common = this.#commonEscape(c)
    if (common !== null) {
      this.#atom(common)
      return
    }
    switch (c) {
      case 'Q':
        for (const q of this.#quoted()) this.#atom(literal(q))
        return
      case 's':
        this.#atom(`[${WHITESPACE}]`)
        return
      case 'S':
        this.#atom(`[^${WHITESPACE}]`)
        return
      case 'h':
        this.#atom(`[${HSPACE}]`)
        return
      case 'H':
        this.#atom(`[^${HSPACE}]`)
        return
      case 'v':
        this.#atom(`[${VSPACE}]`)
        return
      case 'V':
        this.#atom(`[^${VSPACE}]`)
        return
      case 'R':
        this.#atom(`(?:\\r\\n|[${VSPACE}])`)
        return
      case 'b':
      case 'B':
        if (this.#peek() === '{') this.#fail('uses \\b{...} boundaries')
        this.#anchor('\\' + c)
        return
      case 'A':
        this.#anchor('(?<![\\s\\S])')
        return
      case 'z':
        this.#anchor('(?![\\s\\S])')
        return
      case 'Z':
        this.#anchor(`(?=${LINE_TERMINATOR}?(?![\\s\\S]))`)
        return
      case 'p':
      case 'P':
        this.#atom(this.#property(c === 'P', false))
        return
      case 'k': {
        const m = /^<([a-zA-Z][a-zA-Z0-9]*)>/.exec(this.#src.slice(this.#i))
        if (m === null) this.#fail('has a malformed \\k<name> back-reference')
        this.#i += m[0].length
        this.#atom('\\k' + m[0])
        return
      }
    }
    if (c >= '1' && c <= '9') {
      // Java takes more digits only while the number still names an existing group.
      let n = Number(c)
      for (
        let d = this.#peek();
        d !== undefined && d >= '0' && d <= '9' && n * 10 + Number(d) <= this.#javaCaptures;
        d = this.#peek()
      ) {
        n = n * 10 + Number(d)
        this.#i++
      }
      this.#usesNumericBackref = true
      this.#atom(`(?:\\${n})`)
      return
    }
    if (/^[a-zA-Z]$/.test(c)) this.#fail(`uses the escape \\${c}`)
    this.#atom(literal(c))
  }

  /** `\p{..}` / `\P{..}` / `\pL` (the cursor is after the p). Returns a class or class contents. */
  #property(negated: boolean, inClass: boolean): string {
    let name: string
    if (this.#peek() === '{') {
      const end = this.#src.indexOf('}', this.#i)
      if (end === -1) this.#fail('has an unclosed \\p{')
      name = this.#src.slice(this.#i + 1, end)
      this.#i = end + 1
    } else {
      name = this.#peek() ?? ''
      if (name === '') this.#fail('ends inside a \\p escape')
      this.#i++
    }
    const posix = POSIX[name]
    if (posix !== undefined) {
      if (inClass) {
        if (negated) this.#fail(`negates the POSIX class \\P{${name}} inside a character class`)
        return posix
      }
      return negated ? `[^${posix}]` : `[${posix}]`
    }
    const category = name.startsWith('Is') && CATEGORIES.has(name.slice(2)) ? name.slice(2) : name
    if (CATEGORIES.has(category)) return `\\${negated ? 'P' : 'p'}{${category}}`
    this.#fail(`uses the Unicode property \\${negated ? 'P' : 'p'}{${name}}`)
  }

  #charClass(): void {
    const start = this.#out.length
    const capturesBefore = this.#captures
    this.#i++
    let out = '['
    if (this.#peek() === '^') {
      out += '^'
      this.#i++
    }
    if (this.#peek() === ']') {
      out += '\\]'
      this.#i++
    }
    for (;;) {
      if (this.#i >= this.#src.length) this.#fail('has an unclosed character class "["')
      const c = this.#codePoint()
      if (c === ']') {
        this.#i++
        break
      }
      if (c === '[') this.#fail('uses a nested character class (union)')
      if (c === '&' && this.#peek(1) === '&') this.#fail('uses a character class intersection "&&"')
      if (c !== '\\') {
        this.#i += c.length
        out += c
        continue
      }
      const e = this.#escaped()
      const common = this.#commonEscape(e)
      if (common !== null) {
        out += common
        continue
      }
      switch (e) {
        case 'Q':
          for (const q of this.#quoted()) out += classLiteral(q)
          continue
        case 's':
          out += WHITESPACE
          continue
        case 'S':
          out += '\\S'
          continue
        case 'h':
          out += HSPACE
          continue
        case 'v':
          out += VSPACE
          continue
        case 'p':
        case 'P':
          out += this.#property(e === 'P', true)
          continue
      }
      if (/^[a-zA-Z0-9]$/.test(e)) this.#fail(`uses the escape \\${e} inside a character class`)
      out += classLiteral(e)
    }
    this.#out += out + ']'
    this.#lastAtom = { start, capturesBefore }
  }
}

function literal(c: string): string {
  return SYNTAX_CHARS.has(c) ? '\\' + c : c
}

function classLiteral(c: string): string {
  return CLASS_SYNTAX_CHARS.has(c) ? '\\' + c : c
}

function codePointEscape(cp: number): string {
  return `\\u{${cp.toString(16).toUpperCase()}}`
}

/**
 * The JS (`u` flag) source equivalent to a Java regex. Throws ConfigError naming the pattern when
 * it uses Java syntax that has no faithful JS translation.
 */
export function translateJavaRegex(pattern: string): string {
  return new Translator(pattern).run()
}
