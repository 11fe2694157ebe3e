/**
 * What a file read as a KafkaMirrorMaker2 resource must hold; said when it holds nothing or
 * something else. In a module of its own so that config/load.ts can name it without loading
 * config/strimzi.ts and the YAML parser, which an mm2.properties config never needs.
 */
export const EXPECTED_RESOURCE =
  'a Strimzi KafkaMirrorMaker2 resource (a YAML or JSON mapping with apiVersion kafka.strimzi.io/v1beta2, v1 or v1alpha1, kind KafkaMirrorMaker2, metadata.name and spec)'
