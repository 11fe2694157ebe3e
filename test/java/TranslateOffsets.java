// Java's own client view of our checkpoints: RemoteClusterUtils.translateOffsets on the target
// cluster for a group of the remote (source) cluster. Prints topic<TAB>partition<TAB>offset, sorted.
// Usage: java -cp '<kafka libs>/*' TranslateOffsets.java <target bootstrap> <remote alias> <group>
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.mirror.RemoteClusterUtils;

public class TranslateOffsets {
  public static void main(String[] args) throws Exception {
    Map<String, Object> props = Map.of("bootstrap.servers", args[0]);
    Map<TopicPartition, OffsetAndMetadata> offsets = RemoteClusterUtils.translateOffsets(props, args[1], args[2], Duration.ofSeconds(30));
    TreeMap<String, String> sorted = new TreeMap<>();
    for (Map.Entry<TopicPartition, OffsetAndMetadata> e : offsets.entrySet()) {
      sorted.put(e.getKey().topic() + "\t" + String.format("%06d", e.getKey().partition()), e.getKey().topic() + "\t" + e.getKey().partition() + "\t" + e.getValue().offset());
    }
    for (String line : sorted.values()) System.out.println(line);
  }
}
