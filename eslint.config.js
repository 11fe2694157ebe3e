// Lint rules that keep the architecture honest (see docs/DESIGN.md): only src/kafka/ may talk to
// the Kafka client library, so a client swap or a raw-batch fast path stays inside one folder.
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['node_modules/**', 'coverage/**', '.tmp/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', {
        paths: [{ name: '@platformatic/kafka', message: 'Only src/kafka/ may import the Kafka client; use its adapters.' }],
        patterns: [{ group: ['@platformatic/kafka/*'], message: 'Only src/kafka/ may import the Kafka client; use its adapters.' }]
      }]
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
      globals: { document: 'readonly', fetch: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', AbortController: 'readonly', Intl: 'readonly' }
    },
    rules: { 'no-undef': 'error' }
  }
)
