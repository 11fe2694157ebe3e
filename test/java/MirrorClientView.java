// Java MM2's own view of one cluster's replication graph, to compare with `kafka-mirror topology`:
// RemoteClusterUtils' heartbeat topics, upstream clusters and hops, and every record of each
// heartbeats topic decoded with Java's Heartbeat class.
// Usage: java -cp '<kafka libs>/*' MirrorClientView.java <bootstrap>
// Prints: `topics <t1,t2,...>` (sorted), `upstream <alias> <hops>` per upstream (sorted), and per
// heartbeats topic `decoded <topic> <records> <newest Heartbeat.toString() per emitter, sorted>`.
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.connect.mirror.Heartbeat;
import org.apache.kafka.connect.mirror.RemoteClusterUtils;

public class MirrorClientView {
  public static void main(String[] args) throws Exception {
    Map<String, Object> props = new HashMap<>();
    props.put("bootstrap.servers", args[0]);
    TreeSet<String> topics = new TreeSet<>(RemoteClusterUtils.heartbeatTopics(props));
    System.out.println("topics " + String.join(",", topics));
    for (String upstream : new TreeSet<>(RemoteClusterUtils.upstreamClusters(props))) {
      System.out.println("upstream " + upstream + " " + RemoteClusterUtils.replicationHops(props, upstream));
    }
    Map<String, Object> consumerProps = new HashMap<>(props);
    consumerProps.put("key.deserializer", ByteArrayDeserializer.class.getName());
    consumerProps.put("value.deserializer", ByteArrayDeserializer.class.getName());
    consumerProps.put("enable.auto.commit", "false");
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProps)) {
      for (String topic : topics) {
        TopicPartition tp = new TopicPartition(topic, 0);
        List<TopicPartition> assignment = List.of(tp);
        consumer.assign(assignment);
        consumer.seekToBeginning(assignment);
        long end = consumer.endOffsets(assignment).get(tp);
        int count = 0;
        Map<String, Heartbeat> newest = new TreeMap<>();
        while (consumer.position(tp) < end) {
          for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
            Heartbeat hb = Heartbeat.deserializeRecord(r);
            count++;
            newest.put(hb.sourceClusterAlias() + "->" + hb.targetClusterAlias(), hb);
          }
        }
        List<String> shown = new ArrayList<>();
        for (Heartbeat hb : newest.values()) shown.add(hb.toString());
        System.out.println("decoded " + topic + " " + count + " " + String.join(";", shown));
      }
    }
  }
}
