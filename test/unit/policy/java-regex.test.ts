import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ConfigError } from '../../../src/errors.ts'
import { translateJavaRegex } from '../../../src/policy/java-regex.ts'

test('translations to JS (u flag) source', () => {
  const cases: Array<[string, string]> = [
    ['.*', '.*'],
    ['a|b', 'a|b'],
    ['\\Qa.b\\E.*', 'a\\.b.*'],
    ['\\Q(x)', '\\(x\\)'],
    ['[\\Q]^\\E]', '[\\]\\^]'],
    ['a*+', '(?:(?=(a*))\\1)'],
    ['(a)b++', '(a)(?:(?=(b+))\\2)'],
    ['a?+', '(?:(?=(a?))\\1)'],
    ['a*?', 'a*?'],
    ['(?>x|xy)', '(?:(?=(x|xy))\\1)'],
    ['(?i)ab', '(?i:ab)'],
    ['a(?i)b|c', 'a(?i:b)|(?i:c)'],
    ['(?i-s:x)', '(?i-s:x)'],
    ['(?iu)x', '(?i:x)'],
    ['(?u)x', 'x'],
    ['x{2,}', 'x{2,}'],
    ['[]a]', '[\\]a]'],
    ['a]b}', 'a\\]b\\}'],
    ['\\-\\_\\#', '-_#'],
    ['\\p{Digit}\\P{Upper}[\\p{Lower}_]', '[0-9][^A-Z][a-z_]'],
    ['\\p{IsLu}\\P{L}', '\\p{Lu}\\P{L}'],
    ['\\x41\\x{1F600}\\0101\\cA\\a\\e', '\\u{41}\\u{1F600}\\u{41}\\u{1}\\x07\\x1B'],
    ['\\s\\S', '[\\t\\n\\x0B\\f\\r ][^\\t\\n\\x0B\\f\\r ]'],
    ['\\Aa\\z', '(?<![\\s\\S])a(?![\\s\\S])'],
    ['(?<name>a)\\k<name>', '(?<name>a)\\k<name>'],
    ['(a)\\1', '(a)(?:\\1)'],
    ['(a)\\12', '(a)(?:\\1)2'],
    ['(?=a)(?!b)(?<=c)(?<!d)', '(?=a)(?!b)(?<=c)(?<!d)'],
    ['é😀', 'é😀'],
    ['a/b', 'a\\/b']
  ]
  for (const [java, js] of cases) {
    assert.equal(translateJavaRegex(java), js, java)
    void new RegExp(js, 'u')
  }
})

test('untranslatable Java syntax is refused with a message quoting the pattern', () => {
  const cases: Array<[string, RegExp]> = [
    ['[a-z&&[^b]]', /intersection/],
    ['[a[b]]', /nested character class/],
    ['\\p{InGreek}', /Unicode property \\p\{InGreek\}/],
    ['\\p{javaLowerCase}', /Unicode property/],
    ['(?x)a b', /inline flag "x"/],
    ['(?d).', /inline flag "d"/],
    ['\\Ga', /escape \\G/],
    ['\\X', /escape \\X/],
    ['\\b{g}', /\\b\{\.\.\.\}/],
    ['a{', /repetition/],
    ['a{x}', /repetition/],
    ['*a', /dangling quantifier/],
    ['(a', /unclosed group/],
    ['a)', /unmatched "\)"/],
    ['[ab', /unclosed character class/],
    ['a\\', /lone backslash/],
    ['a\\Eb', /escape \\E/],
    ['(a)\\1b*+', /numbered back-references with possessive/],
    ['(?<1a>x)', /unknown group construct/],
    ['[\\P{Alpha}]', /negates the POSIX class/]
  ]
  for (const [java, msg] of cases) {
    assert.throws(
      () => translateJavaRegex(java),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError, java)
        assert.ok(err.message.includes(`"${java}"`), `${java}: ${err.message}`)
        assert.match(err.message, msg, java)
        return true
      },
      java
    )
  }
})
