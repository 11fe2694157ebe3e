import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parsePropertyEntries, parseProperties } from '../../../src/config/properties.ts'

const cases: Array<[string, string, Array<[string, string, number]>]> = [
  ['key = value', 'key = value', [['key', 'value', 1]]],
  ['colon separator', 'key:value', [['key', 'value', 1]]],
  ['whitespace separator', 'key value', [['key', 'value', 1]]],
  ['blank then separator', 'key   =   value', [['key', 'value', 1]]],
  ['only the first separator counts', 'a=b=c', [['a', 'b=c', 1]]],
  ['no inline comments', 'topics = .*   # all', [['topics', '.*   # all', 1]]],
  ['trailing whitespace kept', 'k = v  ', [['k', 'v  ', 1]]],
  ['leading whitespace of line ignored', '   k=v', [['k', 'v', 1]]],
  ['hash comment', '# c\nk=v', [['k', 'v', 2]]],
  ['bang comment', '  ! c\nk=v', [['k', 'v', 2]]],
  ['hash not at start is part of value', 'k=#v', [['k', '#v', 1]]],
  ['blank lines skipped', '\n\n  \nk=v', [['k', 'v', 4]]],
  ['key without value', 'k', [['k', '', 1]]],
  ['key with separator only', 'k=', [['k', '', 1]]],
  ['continuation drops leading whitespace', 'k = a,\\\n     b', [['k', 'a,b', 1]]],
  ['continuation line starting with # is value', 'k = a\\\n#b', [['k', 'a#b', 1]]],
  ['comment ending with backslash does not continue', '# c \\\nk=v', [['k', 'v', 2]]],
  [
    'even backslashes do not continue',
    'k = a\\\\\nj=b',
    [
      ['k', 'a\\', 1],
      ['j', 'b', 2]
    ]
  ],
  [
    'continuation then blank line ends value',
    'k=a\\\n\nj=b',
    [
      ['k', 'a', 1],
      ['j', 'b', 3]
    ]
  ],
  ['escapes', 'k=\\t\\n\\r\\f\\\\\\u0041\\x', [['k', '\t\n\r\f\\Ax', 1]]],
  ['escaped separators in key', 'a\\=b\\:c\\ d = v', [['a=b:c d', 'v', 1]]],
  [
    'CRLF line endings',
    'a=1\r\nb=2\r\n',
    [
      ['a', '1', 1],
      ['b', '2', 2]
    ]
  ],
  [
    'CR line endings',
    'a=1\rb=2',
    [
      ['a', '1', 1],
      ['b', '2', 2]
    ]
  ],
  ['form feed is whitespace', '\fk\f=\fv', [['k', 'v', 1]]],
  ['A->B keys', 'A->B.enabled = true', [['A->B.enabled', 'true', 1]]]
]

for (const [name, text, want] of cases) {
  test(`properties: ${name}`, () => {
    assert.deepEqual(
      parsePropertyEntries(text, 'f').map(e => [e.key, e.value, e.line]),
      want
    )
  })
}

test('properties: later keys override earlier ones and keep their line', () => {
  const m = parseProperties('a=1\nb=2\na=3', 'f')
  assert.equal(m.get('a')?.value, '3')
  assert.equal(m.get('a')?.line, 3)
})

test('properties: malformed \\u escape names the line', () => {
  assert.throws(
    () => parsePropertyEntries('a=1\nb=\\u12g4', 'mm2.properties'),
    /^ConfigError: mm2\.properties:2: malformed \\uXXXX/
  )
})
