// Formatting is prettier's, as in @platformatic/kafka (our client library): 120 columns, no
// semicolons, single quotes. `npm run format` applies it; `npm run lint` checks it. Strings and
// comments are not wrapped by prettier: eslint's max-len keeps comments within the limit.
export default { printWidth: 120, semi: false, singleQuote: true, trailingComma: 'none', arrowParens: 'avoid' }
