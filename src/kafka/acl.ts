/**
 * ACL bindings with our own string types, and the conversion from and to the client library's
 * numeric enums. Kept apart from admin.ts so the ACL vocabulary is in one place.
 */
import { AclOperations, AclPermissionTypes, ResourcePatternTypes, ResourceTypes } from '@platformatic/kafka'

export type AclResourceType = keyof typeof ResourceTypes
export type AclPatternType = keyof typeof ResourcePatternTypes
export type AclOperation = keyof typeof AclOperations
export type AclPermission = keyof typeof AclPermissionTypes

/** One ACL binding: a resource pattern plus one access control entry. */
export interface AclBinding {
  readonly resourceType: AclResourceType
  readonly resourceName: string
  readonly patternType: AclPatternType
  /** `User:alice` */
  readonly principal: string
  /** `*` = any host */
  readonly host: string
  readonly operation: AclOperation
  readonly permission: AclPermission
}

function labelOf<T extends Record<string, number>>(values: T, n: number): keyof T {
  for (const [label, value] of Object.entries(values)) if (value === n) return label
  return 'UNKNOWN'
}

/** Converts a described resource + entry from the library to our binding. */
export function fromLibrary(
  resource: { resourceType: number; resourceName: string; resourcePatternType: number },
  entry: { principal: string; host: string; operation: number; permissionType: number }
): AclBinding {
  return {
    resourceType: labelOf(ResourceTypes, resource.resourceType),
    resourceName: resource.resourceName,
    patternType: labelOf(ResourcePatternTypes, resource.resourcePatternType),
    principal: entry.principal,
    host: entry.host,
    operation: labelOf(AclOperations, entry.operation),
    permission: labelOf(AclPermissionTypes, entry.permissionType)
  }
}

export function toLibrary(b: AclBinding): {
  resourceType: (typeof ResourceTypes)[AclResourceType]
  resourceName: string
  resourcePatternType: (typeof ResourcePatternTypes)[AclPatternType]
  principal: string
  host: string
  operation: (typeof AclOperations)[AclOperation]
  permissionType: (typeof AclPermissionTypes)[AclPermission]
} {
  return {
    resourceType: ResourceTypes[b.resourceType],
    resourceName: b.resourceName,
    resourcePatternType: ResourcePatternTypes[b.patternType],
    principal: b.principal,
    host: b.host,
    operation: AclOperations[b.operation],
    permissionType: AclPermissionTypes[b.permission]
  }
}

/** A stable text form of a binding, for sets and log lines. */
export function aclKey(b: AclBinding): string {
  return `${b.resourceType}:${b.patternType}:${b.resourceName}|${b.principal}|${b.host}|${b.permission}|${b.operation}`
}
