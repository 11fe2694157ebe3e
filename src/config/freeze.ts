/**
 * Deep-freezes a loaded config so nothing downstream can change it by accident. Maps cannot be
 * frozen by Object.freeze, so their mutators are replaced by ones that throw.
 */
import { Secret } from '../util/secret.ts'

const refuse = (): never => {
  throw new TypeError('the loaded config is frozen')
}

export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || value instanceof Secret || Object.isFrozen(value)) return value
  if (value instanceof Map) {
    for (const [k, v] of value) {
      deepFreeze(k)
      deepFreeze(v)
    }
    Object.defineProperties(value, { set: { value: refuse }, delete: { value: refuse }, clear: { value: refuse } })
  }
  for (const v of Object.values(value)) deepFreeze(v)
  return Object.freeze(value)
}
