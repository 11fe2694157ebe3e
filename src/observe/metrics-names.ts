/**
 * How Java MM2's metrics look once Strimzi's JMX exporter rules turned them into Prometheus
 * series (Strimzi's packaging/examples/metrics/kafka-mirror-maker-2-metrics.yaml, with
 * lowercaseOutputName and lowercaseOutputLabelNames): the label values are the MBean's tag values
 * as JMX prints them, so a value JMX quotes keeps its quotes (Strimzi's Grafana dashboard
 * matches `clientid=~".*replication-consumer\""` and `connector=~"\".*SourceConnector\""`), and
 * the client ids are the ones Java MM2 and Kafka Connect give their clients.
 */
import { mirrorClientId } from '../config/client-ids.ts'

/**
 * A tag value as Kafka's JmxReporter writes it into an ObjectName (Sanitizer.jmxSanitize): as it
 * is when it only has word characters, `-`, `%`, `.`, space and tab, otherwise quoted the way
 * javax.management.ObjectName.quote does (`"`, `*`, `?` and `\` escaped with `\`, a newline as `\n`).
 */
export function jmxValue(value: string): string {
  if (/^[\w\-%. \t]*$/.test(value)) return value
  return `"${value.replace(/[\\"*?]/g, c => `\\${c}`).replace(/\n/g, '\\n')}"`
}

/**
 * The client id Java MM2 (3.5+, KAFKA-14838) gives a task-side client:
 * `<source>-><target>|<connector>-<task>|<role>`, e.g. `A->B|MirrorSourceConnector-0|replication-consumer`.
 */
export function mirrorTaskClientId(
  source: string,
  target: string,
  connector: string,
  task: number,
  role: string
): string {
  return mirrorClientId(source, target, `${connector}-${task}`, role)
}

/**
 * The producer Kafka Connect's worker runs for a source task (WorkerSourceTask):
 * `connector-producer-<connector>-<task>`.
 */
export function connectProducerClientId(connector: string, task: number): string {
  return `connector-producer-${connector}-${task}`
}

/** The labels Strimzi's example PodMonitor copies from the pod, which the dashboard filters every panel on. */
export interface StrimziPodLabels {
  readonly strimzi_io_kind: string
  readonly strimzi_io_cluster: string
  readonly strimzi_io_name: string
  readonly kubernetes_pod_name: string
}

/**
 * Set on every series, so the stock dashboard finds them when the scrape adds no pod labels
 * (outside Kubernetes, or a plain scrape config). Under Strimzi's PodMonitor the pod's own labels
 * win (Prometheus keeps ours as exported_*), and they carry the same values there.
 * `cluster`: the KafkaMirrorMaker2 resource's name; for an mm2.properties, the file's name without extension.
 */
export function strimziPodLabels(cluster: string, podName: string): StrimziPodLabels {
  return {
    strimzi_io_kind: 'KafkaMirrorMaker2',
    strimzi_io_cluster: cluster,
    strimzi_io_name: `${cluster}-mirrormaker2`,
    kubernetes_pod_name: podName
  }
}
