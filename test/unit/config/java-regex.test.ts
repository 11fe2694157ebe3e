import { test } from 'node:test'
import assert from 'node:assert/strict'
import { compileJavaPatternList, translateJavaRegex } from '../../../src/config/java-regex.ts'

// [list, matches, does not match]
const ok: Array<[string[], string[], string[]]> = [
  [['.*'], ['a', ''], []],
  [['foo.*', 'bar'], ['foo', 'foo1', 'bar'], ['bar1', 'xfoo']],
  [['.*[\\-\\.]internal', '.*\\.replica', '__.*'], ['x.internal', 'x-internal', 'a.replica', '__c'], ['internal', 'xinternal']],
  [['\\Qa.b\\E'], ['a.b'], ['axb']],
  [['\\p{Lower}+'], ['abc'], ['aBc']],
  [['\\p{javaLowerCase}+'], ['abcé'], ['A']],
  [['(?i)orders'], ['ORDERS', 'orders'], ['order']],
  [['(?i:ab)c'], ['ABc'], ['ABC']],
  [['a\\z'], ['a'], []],
  [['x\\_y'], ['x_y'], []],
  [['(a', 'b)'], ['a', 'b'], ['ab']]
]

for (const [list, yes, no] of ok) {
  test(`java regex: ${list.join(', ')}`, () => {
    const re = compileJavaPatternList(list)
    assert.ok(re !== null)
    for (const s of yes) assert.ok(re.test(s), `${s} should match`)
    for (const s of no) assert.ok(!re.test(s), `${s} should not match`)
  })
}

test('java regex: an empty list is no pattern (matches nothing)', () => {
  assert.equal(compileJavaPatternList([]), null)
})

const unsupported: Array<[string, RegExp]> = [
  ['a*+', /possessive quantifier "\*\+"/],
  ['a{1,2}+', /possessive quantifier "\}\+"/],
  ['(?>a)', /atomic group/],
  ['a(?i)b', /inline flag group in the middle/],
  ['[a-z&&[^b]]', /nested character class|intersection/],
  ['(?x)a b', /inline flag "x"/],
  ['\\p{InGreek}', /\\p\{InGreek\}/],
  ['\\R', /\\R/]
]

for (const [src, why] of unsupported) {
  test(`java regex unsupported: ${src}`, () => {
    const t = translateJavaRegex(src)
    assert.equal(t.ok, false)
    if (!t.ok) assert.match(t.problem, why)
    assert.throws(() => compileJavaPatternList([src]), why)
  })
}

test('java regex: invalid syntax is reported', () => {
  assert.throws(() => compileJavaPatternList(['(abc']), /not a valid regular expression/)
})
