// Writes sequenced records (the values of test/harness/exactly-once-check.ts: "p=0 seq=0000003 "
// padded with x to 40 bytes) to partition 0 in transactions, as a copier in the exactly-once mode
// would, for the test of the check itself. Usage:
//   java -cp '<kafka libs>/*' SequencedTransactions.java <bootstrap> <topic> <transactional.id> first|second
// first:  commits seq 0-2; an attempt at seq 3-5 is aborted; commits seq 3-5; then opens a
//         transaction with seq 6-7, flushes it, prints "open" and waits to be killed (-9), which
//         leaves that transaction open.
// second: takes the same transactional id (which aborts the open transaction), commits seq 6-9.
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

public class SequencedTransactions {
  static void send(KafkaProducer<String, String> producer, String topic, int from, int to) {
    for (int seq = from; seq <= to; seq++) {
      StringBuilder value = new StringBuilder(String.format("p=0 seq=%07d ", seq));
      while (value.length() < 40) value.append('x');
      producer.send(new ProducerRecord<>(topic, 0, "p0-" + seq, value.toString()));
    }
  }

  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.put("bootstrap.servers", args[0]);
    props.put("transactional.id", args[2]);
    props.put("key.serializer", StringSerializer.class.getName());
    props.put("value.serializer", StringSerializer.class.getName());
    String topic = args[1];
    KafkaProducer<String, String> producer = new KafkaProducer<>(props);
    producer.initTransactions();
    if (args[3].equals("first")) {
      producer.beginTransaction();
      send(producer, topic, 0, 2);
      producer.commitTransaction();
      producer.beginTransaction();
      send(producer, topic, 3, 5);
      producer.flush();
      producer.abortTransaction();
      producer.beginTransaction();
      send(producer, topic, 3, 5);
      producer.commitTransaction();
      producer.beginTransaction();
      send(producer, topic, 6, 7);
      producer.flush();
      System.out.println("open");
      System.out.flush();
      Thread.sleep(600_000);
    } else {
      producer.beginTransaction();
      send(producer, topic, 6, 9);
      producer.commitTransaction();
      producer.close();
      System.out.println("done");
    }
  }
}
