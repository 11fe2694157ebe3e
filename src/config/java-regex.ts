/**
 * MM2 topic and group filters are Java regexes (list joined with `|`, whole-name match). This
 * turns Java syntax into an equivalent JavaScript RegExp where one exists, and otherwise says
 * which construct has no JavaScript equivalent, so a filter never silently means something else.
 */

export type Translation =
  | { readonly ok: true, readonly source: string, readonly flags: string }
  | { readonly ok: false, readonly problem: string }

// Java's POSIX classes are ASCII-only unless UNICODE_CHARACTER_CLASS is on, so ASCII ranges are exact.
const POSIX: Readonly<Record<string, string>> = {
  Lower: 'a-z', Upper: 'A-Z', ASCII: '\\x00-\\x7F', Alpha: 'a-zA-Z', Digit: '0-9', Alnum: 'a-zA-Z0-9',
  Punct: '!-\\/:-@\\[-`{-~', Graph: '!-~', Print: ' -~', Blank: ' \\t', Cntrl: '\\x00-\\x1F\\x7F',
  XDigit: '0-9a-fA-F', Space: ' \\t\\n\\x0B\\f\\r'
}

// java.lang.Character predicates with a Unicode property equivalent (needs the `u` flag).
const JAVA_CHAR: Readonly<Record<string, string>> = {
  javaLowerCase: '\\p{Ll}', javaUpperCase: '\\p{Lu}', javaLetter: '\\p{L}', javaDigit: '\\p{Nd}',
  javaLetterOrDigit: '\\p{L}\\p{Nd}', javaAlphabetic: '\\p{Alphabetic}', javaWhitespace: '\\s'
}

const GENERAL_CATEGORY = /^(?:Is)?(?:L|Lu|Ll|Lt|Lm|Lo|M|Mn|Mc|Me|N|Nd|Nl|No|P|Pc|Pd|Ps|Pe|Pi|Pf|Po|S|Sm|Sc|Sk|So|Z|Zs|Zl|Zp|C|Cc|Cf|Co|Cs|Cn)$/

const HORIZONTAL_SPACE = ' \\t\\xA0\\u1680\\u180e\\u2000-\\u200a\\u202f\\u205f\\u3000'

function escapeLiteral (s: string, inClass: boolean): string {
  // Outside a class `-` is ordinary, and escaping it would be a syntax error under the `u` flag.
  return inClass ? s.replace(/[\\\]\[^-]/g, '\\$&') : s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')
}

/** Translates one Java pattern (already joined, if it was a list). */
export function translateJavaRegex (src: string): Translation {
  let out = ''
  let flags = ''
  let unicode = false
  let inClass = false
  let classStart = -1
  let i = 0
  const bad = (what: string): Translation => ({ ok: false, problem: `${what} (at position ${i}) has no JavaScript equivalent` })

  // Leading inline flags apply to the whole pattern, which JS expresses as RegExp flags.
  const lead = /^\(\?([a-zA-Z]+)\)/.exec(src)
  if (lead !== null) {
    for (const f of lead[1] ?? '') {
      if (f === 'i' || f === 'm' || f === 's') flags += flags.includes(f) ? '' : f
      else if (f !== 'd') return bad(`inline flag "${f}"`)
    }
    i = lead[0].length
  }

  while (i < src.length) {
    const c = src[i] ?? ''
    if (c === '\\') {
      const n = src[i + 1]
      if (n === undefined) return { ok: false, problem: 'the pattern ends with a lone backslash' }
      if (n === 'Q') {
        const end = src.indexOf('\\E', i + 2)
        const literal = src.slice(i + 2, end < 0 ? src.length : end)
        out += escapeLiteral(literal, inClass)
        i = end < 0 ? src.length : end + 2
        continue
      }
      if (n === 'p' || n === 'P') {
        const m = /^\{(\^?)([A-Za-z_]+)\}|^([A-Za-z])/.exec(src.slice(i + 2))
        if (m === null) return bad(`\\${n} without a property name`)
        const name = m[2] ?? m[3] ?? ''
        const negate = (n === 'P') !== (m[1] === '^')
        const posix = POSIX[name]
        const javaChar = JAVA_CHAR[name]
        let body: string
        if (posix !== undefined) {
          body = posix
        } else if (javaChar !== undefined) {
          body = javaChar
          unicode = true
        } else if (GENERAL_CATEGORY.test(name)) {
          body = `\\p{${name.replace(/^Is/, '')}}`
          unicode = true
        } else {
          return bad(`\\${n}{${name}}`)
        }
        if (inClass) {
          if (negate) return bad(`negated \\${n}{${name}} inside a character class`)
          out += body
        } else {
          out += negate ? `[^${body}]` : `[${body}]`
        }
        i += 2 + m[0].length
        continue
      }
      if (n === 'A' && !inClass) out += '^'
      else if ((n === 'z' || n === 'Z') && !inClass) out += '$'
      else if (n === 'h') out += inClass ? HORIZONTAL_SPACE : `[${HORIZONTAL_SPACE}]`
      else if (n === 'e') out += '\\x1B'
      else if (n === 'a') out += '\\x07'
      else if ('RXGHVvN'.includes(n) || (n === 'x' && src[i + 2] === '{') || n === '0') return bad(`\\${n}`)
      else if (/[A-Za-z0-9]/.test(n)) out += '\\' + n
      else out += escapeLiteral(n, inClass) // `\_`, `\-`, `\.`: an escaped symbol is that symbol in Java
      i += 2
      continue
    }
    if (inClass) {
      if (c === '[') return bad('a nested character class (union)')
      if (c === '&' && src[i + 1] === '&') return bad('a character class intersection (&&)')
      // A `]` right after `[` or `[^` closes nothing in JS either way; Java rejects it, so keep it for the compile check.
      if (c === ']' && i > classStart) inClass = false
      out += c
      i++
      continue
    }
    if (c === '[') {
      inClass = true
      out += c
      i++
      if (src[i] === '^') {
        out += '^'
        i++
      }
      classStart = i
      continue
    }
    if (c === '(' && src[i + 1] === '?') {
      const rest = src.slice(i + 2)
      if (rest.startsWith('>')) return bad('an atomic group (?>...)')
      const inline = /^([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])/.exec(rest)
      if (inline !== null && (inline[1] !== '' || inline[2] !== undefined)) {
        if (inline[3] === ')') return bad('an inline flag group in the middle of the pattern')
        const used = (inline[1] ?? '') + (inline[2] ?? '')
        if (/[^ims]/.test(used)) return bad(`inline flags "${used}"`)
      }
    }
    if ((c === '*' || c === '+' || c === '?' || c === '}') && src[i + 1] === '+') {
      return bad(`a possessive quantifier "${c}+"`)
    }
    out += c
    i++
  }
  if (unicode) flags += 'u'
  return { ok: true, source: out, flags }
}

/**
 * The filter MM2 builds from a list: entries joined with `|`, anchored at both ends. An empty list
 * is no pattern at all, which matches nothing (returns null). Throws an Error saying what is wrong.
 */
export function compileJavaPatternList (list: readonly string[]): RegExp | null {
  if (list.length === 0) return null
  const joined = list.join('|')
  const t = translateJavaRegex(joined)
  if (!t.ok) throw new Error(t.problem)
  try {
    return new RegExp(`^(?:${t.source})$`, t.flags)
  } catch (err) {
    throw new Error(`not a valid regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`)
  }
}
