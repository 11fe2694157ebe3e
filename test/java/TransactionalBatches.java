/*
 * Prints golden v2 record batches built by Java Kafka itself, as JSON, for the unit tests of
 * stampTransactional (src/kafka/record-batch.ts): for fixed records, each case holds
 *   - plain: the batch a non-transactional, non-idempotent producer writes (producer id -1,
 *     epoch -1, sequence -1), which is what forTarget and encodeBatch hand to the send path;
 *   - source: the same records as a source broker stores them after another producer's
 *     transaction (base offset 1000, partition leader epoch 7, that producer's id and sequence);
 *   - transactional: MemoryRecords.withTransactionalRecords for the case's producer id, epoch
 *     and base sequence, which is what our stamp of plain (or of source) must equal byte for byte;
 * and DefaultRecordBatch.incrementSequence / lastSequence for the sequence arithmetic, wrap
 * included. Java's compressors are deterministic for a given input, and the records bytes do not
 * depend on the producer fields, so plain, source and transactional share their payload.
 *
 * Regenerate (Java 17+, the Kafka jars of kafka/pom.xml; `npm run kafka:fetch` puts them in
 * ~/.cache/kafka-mirror/kafka-<version>/libs):
 *
 *   java -cp "$HOME/.cache/kafka-mirror/kafka-4.3.1/libs/*" test/java/TransactionalBatches.java \
 *     > test/fixtures/formats/transactional-batches.json
 *
 * test/integration/transactional-batches-golden.test.ts runs this program (runJavaProgram) and
 * checks that the committed fixture is still what it prints. Byte values are lowercase hex
 * without separators; 64-bit values are decimal strings.
 */
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.DefaultRecordBatch;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.utils.AppInfoParser;

public class TransactionalBatches {
  static final long T0 = 1_700_000_000_000L;

  public static void main(String[] args) throws Exception {
    SimpleRecord[] records = records();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("generatedBy", "test/java/TransactionalBatches.java");
    out.put("kafkaVersion", AppInfoParser.getVersion());
    out.put("records", describe(records));
    List<Object> cases = new ArrayList<>();
    for (String codec : List.of("none", "gzip", "snappy", "lz4", "zstd"))
      cases.add(batchCase(codec, records, 123_456_789_012L, (short) 7, 0));
    // A later batch of the same transaction, and the largest producer id and epoch the fields hold.
    cases.add(batchCase("none", records, 123_456_789_012L, (short) 7, 1000));
    cases.add(batchCase("zstd", records, Long.MAX_VALUE, Short.MAX_VALUE, 5));
    // The first producer id and epoch a coordinator hands out.
    cases.add(batchCase("lz4", records, 0L, (short) 0, 0));
    // Sequences that wrap inside the batch: the last sequence is past Int.MAX, counted from 0.
    cases.add(batchCase("lz4", records, 99L, (short) 1, Integer.MAX_VALUE - 2));
    cases.add(batchCase("none", records, 99L, (short) 1, Integer.MAX_VALUE));
    out.put("batches", cases);
    out.put("sequences", sequences());
    ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    System.out.write(mapper.writeValueAsBytes(out));
    System.out.println();
    System.out.flush();
  }

  /** Null key, null value, empty key and value, duplicate header keys, a null header value,
   * timestamps out of order, and a value long enough for the codecs to compress. */
  static SimpleRecord[] records() {
    byte[] big = new byte[3000];
    for (int i = 0; i < big.length; i++) big[i] = (byte) ('a' + (i % 7));
    return new SimpleRecord[] {
      new SimpleRecord(T0, bytes("k1"), bytes("v1"),
          new Header[] {new RecordHeader("h", bytes("1")), new RecordHeader("h", bytes("2")), new RecordHeader("n", null)}),
      new SimpleRecord(T0 + 500, null, bytes("no key"), new Header[0]),
      new SimpleRecord(T0 - 1000, bytes("tombstone"), null, new Header[0]),
      new SimpleRecord(T0 + 1, new byte[0], new byte[0], new Header[] {new RecordHeader("", new byte[0])}),
      new SimpleRecord(T0 + 2, bytes("big"), big, new Header[] {new RecordHeader("trace", bytes("abc"))})
    };
  }

  static Map<String, Object> batchCase(String codec, SimpleRecord[] records, long producerId, short epoch, int baseSequence) {
    Compression compression = Compression.of(CompressionType.forName(codec)).build();
    MemoryRecords plain = MemoryRecords.withRecords(RecordBatch.MAGIC_VALUE_V2, 0L, compression,
        TimestampType.CREATE_TIME, RecordBatch.NO_PRODUCER_ID, RecordBatch.NO_PRODUCER_EPOCH,
        RecordBatch.NO_SEQUENCE, RecordBatch.NO_PARTITION_LEADER_EPOCH, false, records);
    MemoryRecords source = MemoryRecords.withRecords(RecordBatch.MAGIC_VALUE_V2, 1000L, compression,
        TimestampType.CREATE_TIME, 555L, (short) 3, 17, 7, true, records);
    MemoryRecords stamped = MemoryRecords.withTransactionalRecords(compression, producerId, epoch, baseSequence, records);
    MutableRecordBatch batch = only(stamped);
    batch.ensureValid();
    if (!batch.isTransactional() || batch.producerId() != producerId || batch.producerEpoch() != epoch
        || batch.baseSequence() != baseSequence)
      throw new IllegalStateException("withTransactionalRecords did not set the producer fields");
    only(plain).ensureValid();
    only(source).ensureValid();
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("codec", codec);
    c.put("producerId", Long.toString(producerId));
    c.put("producerEpoch", (int) epoch);
    c.put("baseSequence", baseSequence);
    c.put("recordCount", records.length);
    c.put("lastSequence", batch.lastSequence());
    c.put("nextSequence", DefaultRecordBatch.incrementSequence(baseSequence, records.length));
    c.put("plain", hex(plain.buffer()));
    c.put("source", hex(source.buffer()));
    c.put("transactional", hex(stamped.buffer()));
    return c;
  }

  static List<Object> sequences() {
    int max = Integer.MAX_VALUE;
    int[][] pairs = {
      {0, 0}, {0, 1}, {0, 5}, {41, 1}, {1000, 5}, {max - 5, 5}, {max - 5, 6}, {max - 1, 1}, {max, 1},
      {max, 2}, {max - 2, 5}, {max, max}, {1, max}, {max - 100, 1000}, {5, max - 5}
    };
    List<Object> out = new ArrayList<>();
    for (int[] p : pairs) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("sequence", p[0]);
      m.put("increment", p[1]);
      m.put("incremented", DefaultRecordBatch.incrementSequence(p[0], p[1]));
      out.add(m);
    }
    return out;
  }

  static List<Object> describe(SimpleRecord[] records) {
    List<Object> out = new ArrayList<>();
    for (SimpleRecord r : records) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("timestamp", Long.toString(r.timestamp()));
      m.put("key", r.key() == null ? null : hex(r.key()));
      m.put("value", r.value() == null ? null : hex(r.value()));
      List<Object> headers = new ArrayList<>();
      for (Header h : r.headers())
        headers.add(Arrays.asList(hex(h.key().getBytes(StandardCharsets.UTF_8)), h.value() == null ? null : hex(h.value())));
      m.put("headers", headers);
      out.add(m);
    }
    return out;
  }

  static MutableRecordBatch only(MemoryRecords records) {
    List<MutableRecordBatch> batches = new ArrayList<>();
    records.batches().forEach(batches::add);
    if (batches.size() != 1) throw new IllegalStateException("expected one batch, got " + batches.size());
    return batches.get(0);
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String hex(ByteBuffer buffer) {
    ByteBuffer b = buffer.duplicate();
    byte[] a = new byte[b.remaining()];
    b.get(a);
    return hex(a);
  }

  static String hex(byte[] b) {
    StringBuilder s = new StringBuilder(b.length * 2);
    for (byte x : b) s.append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
    return s.toString();
  }
}
