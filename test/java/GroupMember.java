// A consumer-group member that stays in the group until told to leave, and never commits: for
// tests that need a group to be active on a cluster without its committed offsets changing.
// Joins group <group>, subscribes to <topic>, polls until the file <stopFile> exists, then leaves
// (close without commit). Prints "assigned" once it owns partitions.
// Usage: java -cp '<kafka libs>/*' GroupMember.java <bootstrap> <topic> <group> <stopFile> <maxSeconds>
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

public class GroupMember {
  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.put("bootstrap.servers", args[0]);
    props.put("group.id", args[2]);
    props.put("enable.auto.commit", "false");
    props.put("auto.offset.reset", "earliest");
    props.put("key.deserializer", ByteArrayDeserializer.class.getName());
    props.put("value.deserializer", ByteArrayDeserializer.class.getName());
    Path stop = Path.of(args[3]);
    long deadline = System.currentTimeMillis() + Long.parseLong(args[4]) * 1000;
    boolean announced = false;
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
      consumer.subscribe(List.of(args[1]));
      while (!Files.exists(stop)) {
        if (System.currentTimeMillis() > deadline) throw new IllegalStateException("never told to stop");
        consumer.poll(Duration.ofMillis(200));
        if (!announced && !consumer.assignment().isEmpty()) {
          System.out.println("assigned");
          System.out.flush();
          announced = true;
        }
      }
    }
  }
}
