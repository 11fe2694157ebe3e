// Writes committed and aborted transactional records, for the test that aborted records are not
// replicated. Usage: java -cp '<kafka libs>/*' TransactionalProducer.java <bootstrap> <topic>
// Produces: committed c1, c2; aborted a1, a2, a3; committed c3.
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

public class TransactionalProducer {
  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.put("bootstrap.servers", args[0]);
    props.put("transactional.id", "km-test-" + System.nanoTime());
    props.put("key.serializer", StringSerializer.class.getName());
    props.put("value.serializer", StringSerializer.class.getName());
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
      producer.initTransactions();
      producer.beginTransaction();
      producer.send(new ProducerRecord<>(args[1], 0, "k", "c1"));
      producer.send(new ProducerRecord<>(args[1], 0, "k", "c2"));
      producer.commitTransaction();
      producer.beginTransaction();
      producer.send(new ProducerRecord<>(args[1], 0, "k", "a1"));
      producer.send(new ProducerRecord<>(args[1], 0, "k", "a2"));
      producer.send(new ProducerRecord<>(args[1], 0, "k", "a3"));
      producer.flush();
      producer.abortTransaction();
      producer.beginTransaction();
      producer.send(new ProducerRecord<>(args[1], 0, "k", "c3"));
      producer.commitTransaction();
    }
    System.out.println("done");
  }
}
