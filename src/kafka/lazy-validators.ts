/**
 * Start-up: the Kafka client library (@platformatic/kafka) creates its Ajv instance in
 * `dist/utils.js` and compiles the option schemas of its clients as its modules load, in every
 * thread that imports it: the main thread and each copier worker. Measured on 4 December, a
 * mirror that started and copied 2,000 records spent 0.8-1.0 CPU-s in all; with the schemas
 * compiled on first use, 0.6-0.8 (four runs each, bench/side-by-side.bench.ts --records 2000).
 *
 * `deferLibraryValidatorCompilation` registers a module resolve hook (node:module registerHooks)
 * that gives that one import of the library the Ajv2020 of lazy-ajv.ts, whose validators compile
 * on their first call. Call it before anything imports the library: the launcher does, before
 * it loads main.ts, and so does a copier worker's entry. Where the hook API is missing (it came in
 * Node 22.15), nothing changes but the start-up cost.
 *
 * This module must not import the library itself.
 */
import nodeModule from 'node:module'

/** The library module whose `ajv/dist/2020.js` import is routed to lazy-ajv.ts. */
const LIBRARY_UTILS = '/node_modules/@platformatic/kafka/dist/utils.js'
const AJV_2020 = 'ajv/dist/2020.js'
const LAZY_AJV_URL = new URL('./lazy-ajv.ts', import.meta.url).href

let registered = false

/** Registers the hook once per thread; true when it is in place. */
export function deferLibraryValidatorCompilation(): boolean {
  if (registered) return true
  if (typeof nodeModule.registerHooks !== 'function') return false
  nodeModule.registerHooks({
    resolve(specifier, context, nextResolve) {
      if (specifier === AJV_2020 && context.parentURL?.endsWith(LIBRARY_UTILS) === true) {
        return { url: LAZY_AJV_URL, shortCircuit: true }
      }
      return nextResolve(specifier, context)
    }
  })
  registered = true
  return true
}
