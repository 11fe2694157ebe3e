// A real consumer-group member, for failover tests: joins group <group>, reads <topic> from the
// group's committed offsets (read_committed) until no record arrived for <idleMs> after the
// assignment, commits, and prints one line per record: partition<TAB>offset<TAB>value.
// Usage: java -cp '<kafka libs>/*' GroupConsumer.java <bootstrap> <topic> <group> <idleMs> [classic|consumer]
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

public class GroupConsumer {
  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.put("bootstrap.servers", args[0]);
    props.put("group.id", args[2]);
    props.put("enable.auto.commit", "false");
    // A partition without a committed offset would be a translation bug: make it visible.
    props.put("auto.offset.reset", "none");
    props.put("isolation.level", "read_committed");
    props.put("key.deserializer", StringDeserializer.class.getName());
    props.put("value.deserializer", StringDeserializer.class.getName());
    if (args.length > 4) props.put("group.protocol", args[4]); // consumer = KIP-848
    long idleMs = Long.parseLong(args[3]);
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
      consumer.subscribe(List.of(args[1]));
      long deadline = System.currentTimeMillis() + 60_000;
      long last = Long.MAX_VALUE;
      // Idle time counts from the assignment; the poll that joins may already return records.
      while (System.currentTimeMillis() - last < idleMs || last == Long.MAX_VALUE) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          System.out.println(r.partition() + "\t" + r.offset() + "\t" + r.value());
          last = System.currentTimeMillis();
        }
        if (last == Long.MAX_VALUE && !consumer.assignment().isEmpty()) last = System.currentTimeMillis();
        if (last == Long.MAX_VALUE && System.currentTimeMillis() > deadline) throw new IllegalStateException("no partitions assigned");
      }
      consumer.commitSync();
    }
  }
}
