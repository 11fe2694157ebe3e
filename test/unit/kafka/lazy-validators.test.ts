// The library must be loaded only after the hook is registered, so this file imports it
// dynamically and nothing here imports it statically (each test file runs in its own process).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { deferLibraryValidatorCompilation } from '../../../src/kafka/lazy-validators.ts'
import { Ajv2020 as LazyAjv2020 } from '../../../src/kafka/lazy-ajv.ts'

test('a deferred validator compiles on its first call and then answers as the compiled one', () => {
  const ajv = new LazyAjv2020({ allErrors: true, strict: true })
  const validate = ajv.compile({
    type: 'object',
    properties: { port: { type: 'integer', minimum: 1 } },
    required: ['port']
  })
  assert.equal(ajv.compiledCount, 0, 'nothing compiled before the first call')
  assert.equal(validate({ port: 9092 }), true)
  assert.equal(ajv.compiledCount, 1)
  assert.equal(validate({ port: 0 }), false)
  assert.match(ajv.errorsText(validate.errors), /port must be >= 1/)
  assert.equal(validate({}), false)
  assert.match(ajv.errorsText(validate.errors), /must have required property 'port'/)
  assert.equal(validate({ port: 1 }), true)
  assert.equal(validate.errors, null, 'errors are cleared by a valid call, as Ajv does')
  assert.equal(ajv.compiledCount, 1, 'compiled once')
})

test('a schema Ajv refuses is refused at the first call instead of at compile', () => {
  const ajv = new LazyAjv2020({ strict: true })
  const validate = ajv.compile({ type: 'object', notAKeyword: true })
  assert.throws(() => validate({}), /unknown keyword: "notAKeyword"/)
})

test('with the hook, the Kafka client gets the deferring Ajv and still validates strict options', async () => {
  assert.equal(deferLibraryValidatorCompilation(), true)
  const kafka = await import('@platformatic/kafka')
  assert.ok(kafka.ajv instanceof LazyAjv2020, 'the library uses lazy-ajv.ts')
  const ajv = kafka.ajv as LazyAjv2020
  assert.ok(ajv.compiledCount <= 1, `loading compiled ${ajv.compiledCount} schemas`)

  // strict: true makes the client validate its options: the deferred validators still refuse.
  assert.throws(
    () => new kafka.Admin({ clientId: 'lazy-test', bootstrapBrokers: ['127.0.0.1:1'], strict: true, retries: -3 }),
    (e: Error) => e instanceof kafka.UserError && /retries/.test(e.message)
  )
  const admin = new kafka.Admin({ clientId: 'lazy-test', bootstrapBrokers: ['127.0.0.1:1'], strict: true })
  await admin.close()
  assert.ok(ajv.compiledCount >= 1, 'the validators used were compiled')
})
