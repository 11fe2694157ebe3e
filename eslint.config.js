// Lint rules that keep the architecture honest (docs/DESIGN.md, "Layers"):
// - only src/kafka/ may talk to the Kafka client library, so a client swap or a raw-batch fast
//   path stays inside one folder;
// - src/ is built in layers, and a file imports only its own unit and lower layers.
//
// The layers are checked with eslint-plugin-import-x's no-restricted-paths rather than core
// no-restricted-imports: its zones name folders from the project root and are matched against
// the file an import resolves to, so `../source/x.ts`, `../../source/x.ts` and `./x.ts` are
// judged alike and the table below reads as the layering itself. import-x/no-cycle also catches
// files of one unit that import each other.
import importX, { createNodeResolver } from 'eslint-plugin-import-x'
import tseslint from 'typescript-eslint'

/**
 * The units of src/, bottom layer first. A unit is a folder or a file; a unit nested in a folder
 * of a higher layer (kafka/security/ in kafka/, the observe/ instruments in observe/) counts as
 * its own unit. Units of one layer do not import each other.
 */
export const LAYERS = [
  ['src/errors.ts', 'src/observe/logger.ts', 'src/observe/metrics-window.ts'],
  ['src/util'],
  ['src/formats', 'src/tls'],
  ['src/policy'],
  ['src/config'],
  ['src/kafka/security'],
  ['src/kafka'],
  ['src/observe/metrics-copy.ts'],
  ['src/group'],
  ['src/source', 'src/checkpoint', 'src/heartbeat'],
  ['src/group-work.ts'],
  ['src/verify', 'src/bench', 'src/mirror.ts'],
  ['src/observe'],
  ['src/cli'],
  ['src/main.ts']
]

const inside = (path, folder) => path.startsWith(`${folder}/`)

/** One no-restricted-paths zone per unit: every unit of its layer and above is off limits. */
function layerZones() {
  const units = LAYERS.flatMap((layer, level) => layer.map(unit => ({ unit, level })))
  return units
    .map(({ unit, level }) => {
      const forbidden = units.filter(u => u.level >= level && u.unit !== unit && !inside(u.unit, unit))
      // A folder of a higher layer still holds lower units (observe/ holds the logger): those stay allowed.
      const allowedInside = from =>
        units.filter(u => inside(u.unit, from) && !forbidden.includes(u)).map(u => `./${u.unit.slice(from.length + 1)}`)
      return forbidden.map(({ unit: from }) => ({
        target: unit,
        from,
        except: allowedInside(from),
        message: `${unit} may import only its own files and lower layers (docs/DESIGN.md, "Layers").`
      }))
    })
    .flat()
}

const CLIENT_ONLY_IN_KAFKA = 'Only src/kafka/ may import the Kafka client; use its adapters.'
// An ESM import of node:http evaluates every export, including the lazy WebSocket and EventSource
// ones that load undici: about 45 ms of CPU on every start and in every copier thread.
const HTTP_BY_GETBUILTIN =
  "Take node:http(s) with process.getBuiltinModule('node:http'): an ESM import of it loads undici at start-up."

export default tseslint.config(
  { ignores: ['node_modules/**', 'coverage/**', '.tmp/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      // prettier (prettier.config.js) wraps code at 120 columns but leaves comments as written.
      'max-len': [
        'error',
        {
          code: 120,
          ignoreStrings: true,
          ignoreTemplateLiterals: true,
          ignoreRegExpLiterals: true,
          ignoreUrls: true,
          ignorePattern: 'eslint-disable'
        }
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: '@platformatic/kafka', message: CLIENT_ONLY_IN_KAFKA }],
          patterns: [{ group: ['@platformatic/kafka/*'], message: CLIENT_ONLY_IN_KAFKA }]
        }
      ]
    }
  },
  {
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver()],
      // Without these, import-x reads only .js files when it follows imports, and no-cycle sees nothing.
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] }
    },
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          basePath: import.meta.dirname,
          zones: [
            ...layerZones(),
            // The harness, the benchmarks and the scripts use src/, never the other way round.
            {
              target: 'src',
              from: ['test', 'bench', 'scripts'],
              message: 'src/ does not import test, benchmark or script code.'
            }
          ]
        }
      ],
      'import-x/no-cycle': 'error',
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: ['node:http', 'node:https', 'http', 'https'].map(name => ({
            name,
            allowTypeImports: true,
            message: HTTP_BY_GETBUILTIN
          }))
        }
      ]
    }
  },
  {
    files: ['src/kafka/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' }
  },
  {
    // The harness deletes topics and records as an operator or retention would; the mirror never
    // does, so that is no adapter of src/kafka/ (see the file's header).
    files: ['test/harness/operator.ts'],
    rules: { 'no-restricted-imports': 'off' }
  },
  {
    // The status page's script runs in the browser as it is (no build step).
    files: ['src/observe/page/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: {
        document: 'readonly',
        fetch: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        AbortController: 'readonly',
        Intl: 'readonly'
      }
    },
    rules: { 'no-undef': 'error' }
  }
)
