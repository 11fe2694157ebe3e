/**
 * The entry of a copier task's worker thread (copier-thread.ts starts it; the work is in
 * copier-worker-run.ts). It first turns on Node's compile cache for this thread, as the launcher
 * does for the main one: a worker compiles the sources and the Kafka client again (about a second
 * of CPU without the cache), and a restarted mirror must copy again quickly. It also defers
 * the Kafka client's schema compilation to first use, as the launcher does for the main thread
 * (src/kafka/lazy-validators.ts).
 */
import nodeModule from 'node:module'
import { deferLibraryValidatorCompilation } from '../kafka/lazy-validators.ts'

nodeModule.enableCompileCache?.()
deferLibraryValidatorCompilation()
await import('./copier-worker-run.ts')
