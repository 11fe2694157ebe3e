/**
 * The Ajv2020 the Kafka client library gets instead of Ajv's own (lazy-validators.ts routes its
 * import here): the same class, except that `compile` returns a validator that compiles its
 * schema on its first call. The library compiles every option schema of its clients when its
 * modules load and validates options only when a client is created with `strict: true`, which
 * kafka-mirror never sets; eager compilation cost each thread that loads the library about
 * 150 ms of CPU per start, for validators that were then never called.
 *
 * A deferred validator behaves as the compiled one when called: it returns the same result and
 * carries the same `errors` afterwards (the library formats them with `ajv.errorsText`). A schema
 * Ajv would refuse is refused at the first call instead of at load.
 */
import { Ajv2020 as EagerAjv2020 } from 'ajv/dist/2020.js'
import type { AnySchema, ErrorObject } from 'ajv/dist/2020.js'

/** What the library uses of a compiled validator: the call and its `errors`. */
export interface DeferredValidator {
  (data: unknown): boolean
  errors?: ErrorObject[] | null
}

export class Ajv2020 extends EagerAjv2020 {
  /** How many schemas were actually compiled: their validators were called (tests, diagnostics). */
  compiledCount = 0

  constructor(...options: ConstructorParameters<typeof EagerAjv2020>) {
    super(...options)
    const eagerCompile = this.compile.bind(this)
    // Set on the instance: Ajv's compile has generic overloads a subclass method cannot restate,
    // and Ajv itself never calls `compile` on its own schemas (it compiles through internals).
    Object.defineProperty(this, 'compile', {
      value: (schema: AnySchema): DeferredValidator => {
        let compiled: (((data: unknown) => boolean) & { errors?: ErrorObject[] | null }) | undefined
        const validate: DeferredValidator = (data: unknown): boolean => {
          if (compiled === undefined) {
            compiled = eagerCompile(schema)
            this.compiledCount++
          }
          const valid = compiled(data)
          validate.errors = compiled.errors
          return valid
        }
        return validate
      }
    })
  }
}
