/*
 * Prints golden values from Java Kafka (the real MM2 classes) as JSON, so the TypeScript unit tests
 * can check that our encoders, partitioner, replication policies, filters and offset-sync rule agree
 * with Java byte for byte and decision for decision.
 *
 * Regenerate (Java 17+, Kafka 4.3.1 jars unpacked in /tmp/kjars):
 *
 *   java -cp '/tmp/kjars/*' test/java/GoldenFormats.java > test/fixtures/formats/golden.json
 *
 * Many of the MM2 methods used here are package-private, so they are called through reflection
 * (this file is launched from the class path, so setAccessible is allowed). Byte values are
 * lowercase hex without separators; 64-bit values are written as decimal strings.
 */
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.AppInfoParser;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.mirror.Checkpoint;
import org.apache.kafka.connect.mirror.DefaultConfigPropertyFilter;
import org.apache.kafka.connect.mirror.DefaultGroupFilter;
import org.apache.kafka.connect.mirror.DefaultReplicationPolicy;
import org.apache.kafka.connect.mirror.DefaultTopicFilter;
import org.apache.kafka.connect.mirror.Heartbeat;
import org.apache.kafka.connect.mirror.IdentityReplicationPolicy;
import org.apache.kafka.connect.mirror.ReplicationPolicy;
import org.apache.kafka.connect.mirror.SourceAndTarget;

public class GoldenFormats {
  static final String PKG = "org.apache.kafka.connect.mirror.";

  public static void main(String[] args) throws Exception {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("generatedBy", "test/java/GoldenFormats.java");
    out.put("kafkaVersion", AppInfoParser.getVersion());
    out.put("offsetSync", offsetSyncs());
    out.put("checkpoint", checkpoints());
    out.put("checkpointOtherVersion", checkpointOtherVersion());
    out.put("heartbeat", heartbeats());
    out.put("connectKeys", connectKeys());
    out.put("connectValues", connectValues());
    out.put("murmur2", murmur2());
    out.put("policies", policies());
    out.put("filterDefaults", filterDefaults());
    out.put("filterDecisions", filterDecisions());
    out.put("regex", regexes());
    out.put("offsetSyncRule", offsetSyncRule());
    ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    // As bytes, so Jackson escapes surrogates (\uD800) instead of the console replacing them.
    System.out.write(mapper.writeValueAsBytes(out));
    System.out.println();
    System.out.flush();
  }

  // ---- reflection helpers ------------------------------------------------------------------

  static Object invoke(Object target, String name, Class<?>[] types, Object... args) throws Exception {
    Class<?> c = target instanceof Class<?> k ? k : target.getClass();
    Method m = null;
    for (Class<?> k = c; k != null && m == null; k = k.getSuperclass()) {
      try { m = k.getDeclaredMethod(name, types); } catch (NoSuchMethodException e) { /* try super */ }
    }
    if (m == null) throw new NoSuchMethodException(c + "." + name);
    m.setAccessible(true);
    return m.invoke(target instanceof Class<?> ? null : target, args);
  }

  static Object construct(String cls, Class<?>[] types, Object... args) throws Exception {
    Constructor<?> ctor = Class.forName(PKG + cls).getDeclaredConstructor(types);
    ctor.setAccessible(true);
    return ctor.newInstance(args);
  }

  static final Class<?>[] NONE = new Class<?>[0];

  static String hex(byte[] b) {
    StringBuilder sb = new StringBuilder();
    for (byte x : b) sb.append(String.format("%02x", x & 0xff));
    return sb.toString();
  }

  @SafeVarargs
  static <T> List<T> list(T... xs) { return new ArrayList<>(Arrays.asList(xs)); }

  static Map<String, Object> obj(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
    return m;
  }

  static ConsumerRecord<byte[], byte[]> record(byte[] key, byte[] value) {
    return new ConsumerRecord<>("t", 0, 0L, key, value);
  }

  // ---- MM2 internal topic records ------------------------------------------------------------

  static List<Object> offsetSyncs() throws Exception {
    Object[][] cases = {
      {"orders", 3, 1000L, 990L},
      {"", 0, 0L, 0L},
      {"A.orders-\u00e9\uD83D\uDE00", Integer.MAX_VALUE, Long.MAX_VALUE, Long.MIN_VALUE},
      {"t", -1, -1L, 4294967296L},
      {"x".repeat(300), 12, 123456789012345L, 98765L},
    };
    List<Object> out = new ArrayList<>();
    Class<?> cls = Class.forName(PKG + "OffsetSync");
    for (Object[] c : cases) {
      Object sync = construct("OffsetSync", new Class<?>[] {TopicPartition.class, long.class, long.class},
          new TopicPartition((String) c[0], (Integer) c[1]), c[2], c[3]);
      byte[] key = (byte[]) invoke(sync, "recordKey", NONE);
      byte[] value = (byte[]) invoke(sync, "recordValue", NONE);
      Object back = invoke(cls, "deserializeRecord", new Class<?>[] {ConsumerRecord.class}, record(key, value));
      if (!back.equals(sync)) throw new IllegalStateException("OffsetSync round trip");
      out.add(obj("topic", c[0], "partition", c[1], "upstreamOffset", c[2].toString(),
          "downstreamOffset", c[3].toString(), "key", hex(key), "value", hex(value), "text", sync.toString()));
    }
    return out;
  }

  static List<Object> checkpoints() throws Exception {
    Object[][] cases = {
      {"g1", "A.orders", 3, 1000L, 991L, ""},
      {"grp with space \u2603", "B.A.x", 0, 0L, 0L, "meta\u0000data"},
      {"g", "t", Integer.MAX_VALUE, Long.MAX_VALUE, -1L, "m".repeat(200)},
      {"lone\uD800surrogate", "A.t", 1, 5L, 6L, "\uD83D\uDE00"},
    };
    List<Object> out = new ArrayList<>();
    for (Object[] c : cases) {
      Checkpoint cp = new Checkpoint((String) c[0], new TopicPartition((String) c[1], (Integer) c[2]),
          (Long) c[3], (Long) c[4], (String) c[5]);
      byte[] key = (byte[]) invoke(cp, "recordKey", NONE);
      byte[] value = (byte[]) invoke(cp, "recordValue", NONE);
      out.add(obj("group", c[0], "topic", c[1], "partition", c[2], "upstreamOffset", c[3].toString(),
          "downstreamOffset", c[4].toString(), "metadata", c[5], "key", hex(key), "value", hex(value),
          "text", cp.toString()));
    }
    return out;
  }

  /** Java reads any version number and then the v0 layout (the assert on the version is off). */
  static Object checkpointOtherVersion() throws Exception {
    Checkpoint cp = new Checkpoint("g1", new TopicPartition("A.orders", 3), 1000L, 991L, "md");
    byte[] key = (byte[]) invoke(cp, "recordKey", NONE);
    ByteBuffer v = (ByteBuffer) invoke(cp, "serializeValue", new Class<?>[] {short.class}, (short) 7);
    byte[] value = new byte[v.remaining()];
    v.get(value);
    byte[] withTrailing = Arrays.copyOf(value, value.length + 3);
    Checkpoint back = Checkpoint.deserializeRecord(record(key, withTrailing));
    return obj("key", hex(key), "value", hex(withTrailing), "group", back.consumerGroupId(),
        "topic", back.topicPartition().topic(), "partition", back.topicPartition().partition(),
        "upstreamOffset", Long.toString(back.upstreamOffset()),
        "downstreamOffset", Long.toString(back.downstreamOffset()), "metadata", back.metadata());
  }

  static List<Object> heartbeats() throws Exception {
    Object[][] cases = {
      {"A", "B", 1700000000000L},
      {"", "", 0L},
      {"source-cluster", "target_\u00fc", Long.MAX_VALUE},
      {"a", "b", -1L},
    };
    List<Object> out = new ArrayList<>();
    for (Object[] c : cases) {
      Heartbeat hb = new Heartbeat((String) c[0], (String) c[1], (Long) c[2]);
      byte[] key = (byte[]) invoke(hb, "recordKey", NONE);
      byte[] value = (byte[]) invoke(hb, "recordValue", NONE);
      out.add(obj("sourceClusterAlias", c[0], "targetClusterAlias", c[1], "timestamp", c[2].toString(),
          "key", hex(key), "value", hex(value), "text", hb.toString()));
    }
    return out;
  }

  // ---- Connect offsets topic -----------------------------------------------------------------

  static JsonConverter converter(boolean isKey) {
    JsonConverter c = new JsonConverter();
    Map<String, Object> cfg = new HashMap<>();
    cfg.put("schemas.enable", "false");
    cfg.put("converter.type", isKey ? "key" : "value");
    c.configure(cfg);
    return c;
  }

  /** What Connect's OffsetStorageWriter serializes: [connectorName, partitionMap]. */
  static byte[] connectKey(String connector, Map<String, ?> partition) {
    return converter(true).fromConnectData(connector, null, Arrays.asList(connector, partition));
  }

  static Object connectKeys() throws Exception {
    Class<?> utils = Class.forName(PKG + "MirrorUtils");
    List<Object> source = new ArrayList<>();
    Object[][] sourceCases = {
      {"MirrorSourceConnector", "A", "orders", 0},
      {"MirrorSourceConnector", "us-east", "payments.v2", 17},
      {"my \"source\" connector", "c\\l", "t_\u00e9", 2147483647},
    };
    for (Object[] c : sourceCases) {
      @SuppressWarnings("unchecked")
      Map<String, Object> p = (Map<String, Object>) invoke(utils, "wrapPartition",
          new Class<?>[] {TopicPartition.class, String.class}, new TopicPartition((String) c[2], (Integer) c[3]), c[1]);
      byte[] key = connectKey((String) c[0], p);
      source.add(obj("connector", c[0], "cluster", c[1], "topic", c[2], "partition", c[3], "key", hex(key),
          "text", new String(key, StandardCharsets.UTF_8)));
    }
    List<Object> checkpoint = new ArrayList<>();
    Object[][] cpCases = {
      {"MirrorCheckpointConnector", "g1", "A.orders", 3},
      {"cp", "g\u0001\t\n\r\b\f\"\\/\u00e9\uD83D\uDE00\u007f\u2028\u001f", "A.x", 0},
    };
    for (Object[] c : cpCases) {
      Checkpoint cp = new Checkpoint((String) c[1], new TopicPartition((String) c[2], (Integer) c[3]), 0L, 0L, "");
      @SuppressWarnings("unchecked")
      Map<String, ?> p = (Map<String, ?>) invoke(cp, "connectPartition", NONE);
      byte[] key = connectKey((String) c[0], p);
      checkpoint.add(obj("connector", c[0], "group", c[1], "topic", c[2], "partition", c[3], "key", hex(key),
          "text", new String(key, StandardCharsets.UTF_8)));
    }
    List<Object> heartbeat = new ArrayList<>();
    Object[][] hbCases = {{"MirrorHeartbeatConnector", "A", "B"}, {"hb", "source-1", "target-2"}};
    for (Object[] c : hbCases) {
      Heartbeat hb = new Heartbeat((String) c[1], (String) c[2], 0L);
      @SuppressWarnings("unchecked")
      Map<String, ?> p = (Map<String, ?>) invoke(hb, "connectPartition", NONE);
      byte[] key = connectKey((String) c[0], p);
      heartbeat.add(obj("connector", c[0], "sourceClusterAlias", c[1], "targetClusterAlias", c[2],
          "key", hex(key), "text", new String(key, StandardCharsets.UTF_8)));
    }
    return obj("source", source, "checkpoint", checkpoint, "heartbeat", heartbeat);
  }

  static List<Object> connectValues() throws Exception {
    Class<?> utils = Class.forName(PKG + "MirrorUtils");
    List<Object> out = new ArrayList<>();
    for (long offset : new long[] {0L, 1000L, 9007199254740993L, Long.MAX_VALUE}) {
      Object m = invoke(utils, "wrapOffset", new Class<?>[] {long.class}, offset);
      byte[] value = converter(false).fromConnectData("t", null, m);
      out.add(obj("offset", Long.toString(offset), "value", hex(value)));
    }
    return out;
  }

  static List<Object> murmur2() throws Exception {
    List<byte[]> keys = new ArrayList<>();
    for (String s : new String[] {"", "a", "ab", "abc", "abcd", "abcde", "hello world", "21", "kafka-mirror",
        "[\"MirrorSourceConnector\",{\"cluster\":\"A\",\"partition\":0,\"topic\":\"orders\"}]",
        "[\"MirrorSourceConnector\",{\"cluster\":\"A\",\"partition\":1,\"topic\":\"orders\"}]",
        "[\"MirrorCheckpointConnector\",{\"partition\":3,\"topic\":\"A.orders\",\"group\":\"g1\"}]",
        "[\"MirrorHeartbeatConnector\",{\"sourceClusterAlias\":\"A\",\"targetClusterAlias\":\"B\"}]"}) {
      keys.add(s.getBytes(StandardCharsets.UTF_8));
    }
    byte[] high = new byte[7];
    for (int i = 0; i < high.length; i++) high[i] = (byte) (0x80 + 17 * i);
    keys.add(high);
    keys.add(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff});
    List<Object> out = new ArrayList<>();
    for (byte[] k : keys) {
      int h = Utils.murmur2(k);
      out.add(obj("key", hex(k), "murmur2", h, "partition25", Utils.toPositive(h) % 25,
          "partition1", Utils.toPositive(h) % 1, "partition7", Utils.toPositive(h) % 7));
    }
    return out;
  }

  // ---- replication policies, cycles, topic selection -----------------------------------------

  static final String[] TOPICS = {
    "orders", "a.b.c", "a..b", "a.", ".b", ".", "", "A.orders", "B.orders", "C.B.x", "C.x", "B.A.x",
    "heartbeats", "A.heartbeats", "B.heartbeats", "B.A.heartbeats", "C.A.heartbeats", "myheartbeats",
    "A.myheartbeats", "heartbeats.x", "A.checkpoints.internal", "A__checkpoints__internal",
    "mm2-offset-syncs.B.internal", "mm2-offset-syncs__B__internal", "A-checkpoints-internal",
    "__consumer_offsets", "_schemas", ".hidden", "x-internal", "x.internal", "x__internal", "x.replica",
    "A__orders", "a__b__c", "a___b", "__", "a__", "__b", "A-orders", "a-b-c", "a--b",
    "mm2-configs.B.internal", "connect-offsets", "A__heartbeats", "B__A__heartbeats", "B-heartbeats",
  };

  static Map<String, Object> policyCase(String name, ReplicationPolicy p, Map<String, Object> cfg) throws Exception {
    List<Object> topics = new ArrayList<>();
    // An unconfigured DefaultTopicFilter matches nothing; configure it with the defaults.
    DefaultTopicFilter topicFilter = new DefaultTopicFilter();
    topicFilter.configure(new HashMap<>());
    Class<?>[] ctor = {SourceAndTarget.class, ReplicationPolicy.class, Class.forName(PKG + "TopicFilter"),
      Class.forName(PKG + "ConfigPropertyFilter"), boolean.class};
    Object connector = construct("MirrorSourceConnector", ctor,
        new SourceAndTarget("A", "B"), p, topicFilter, new DefaultConfigPropertyFilter(), true);
    Object connectorNoHb = construct("MirrorSourceConnector", ctor,
        new SourceAndTarget("A", "B"), p, topicFilter, new DefaultConfigPropertyFilter(), false);
    for (String t : TOPICS) {
      topics.add(obj(
          "topic", t,
          "formatRemoteTopic", p.formatRemoteTopic("A", t),
          "topicSource", p.topicSource(t),
          "upstreamTopic", p.upstreamTopic(t),
          "originalTopic", p.originalTopic(t),
          "isHeartbeatsTopic", p.isHeartbeatsTopic(t),
          "isCheckpointsTopic", p.isCheckpointsTopic(t),
          "isMM2InternalTopic", p.isMM2InternalTopic(t),
          "isInternalTopic", p.isInternalTopic(t),
          "isCycleAtoB", invoke(connector, "isCycle", new Class<?>[] {String.class}, t),
          "shouldReplicateAtoB", invoke(connector, "shouldReplicateTopic", new Class<?>[] {String.class}, t),
          "shouldReplicateAtoBNoHeartbeats",
          invoke(connectorNoHb, "shouldReplicateTopic", new Class<?>[] {String.class}, t)));
    }
    return obj("name", name, "config", cfg, "heartbeatsTopic", p.heartbeatsTopic(),
        "offsetSyncsTopicB", p.offsetSyncsTopic("B"), "checkpointsTopicA", p.checkpointsTopic("A"),
        "topics", topics);
  }

  static List<Object> policies() throws Exception {
    List<Object> out = new ArrayList<>();
    Object[][] defaults = {
      {"default", null, null},
      {"default-dash", "-", null},
      {"default-double-underscore", "__", null},
      {"default-double-underscore-no-internal-sep", "__", "false"},
      {"default-dot-explicit", ".", "true"},
    };
    for (Object[] d : defaults) {
      Map<String, Object> cfg = new LinkedHashMap<>();
      if (d[1] != null) cfg.put("replication.policy.separator", d[1]);
      if (d[2] != null) cfg.put("replication.policy.internal.topic.separator.enabled", d[2]);
      DefaultReplicationPolicy p = new DefaultReplicationPolicy();
      p.configure(cfg);
      out.add(policyCase((String) d[0], p, cfg));
    }
    Object[][] identities = {{"identity-with-alias", "A", null}, {"identity-no-alias", null, null},
      {"identity-dash", "A", "-"}};
    for (Object[] d : identities) {
      Map<String, Object> cfg = new LinkedHashMap<>();
      if (d[1] != null) cfg.put("source.cluster.alias", d[1]);
      if (d[2] != null) cfg.put("replication.policy.separator", d[2]);
      IdentityReplicationPolicy p = new IdentityReplicationPolicy();
      p.configure(cfg);
      out.add(policyCase((String) d[0], p, cfg));
    }
    return out;
  }

  // ---- filters -------------------------------------------------------------------------------

  static Object filterDefaults() {
    return obj(
        "topics", DefaultTopicFilter.TOPICS_INCLUDE_DEFAULT,
        "topicsExclude", DefaultTopicFilter.TOPICS_EXCLUDE_DEFAULT,
        "groups", DefaultGroupFilter.GROUPS_INCLUDE_DEFAULT,
        "groupsExclude", DefaultGroupFilter.GROUPS_EXCLUDE_DEFAULT,
        "configPropertiesExclude", DefaultConfigPropertyFilter.CONFIG_PROPERTIES_EXCLUDE_DEFAULT);
  }

  static Object filterDecisions() {
    DefaultTopicFilter tf = new DefaultTopicFilter();
    tf.configure(new HashMap<>());
    Map<String, Object> topics = new LinkedHashMap<>();
    for (String t : TOPICS) topics.put(t, tf.shouldReplicateTopic(t));
    for (String t : new String[] {"mm2-offsets.A.internal", "mm2-status.B.internal", "mm2x.internal",
        "foo.internal", "foo-internal", "x.replica", "x.replicas", "__x", "_x"}) {
      topics.put(t, tf.shouldReplicateTopic(t));
    }
    DefaultGroupFilter gf = new DefaultGroupFilter();
    gf.configure(new HashMap<>());
    Map<String, Object> groups = new LinkedHashMap<>();
    for (String g : new String[] {"g1", "console-consumer-123", "console-consumer", "connect-A", "connect",
        "__internal", "_g", "my-connect-group", "app"}) {
      groups.put(g, gf.shouldReplicateGroup(g));
    }
    String[] props = {"cleanup.policy", "retention.ms", "min.insync.replicas", "message.timestamp.type",
      "unclean.leader.election.enable", "follower.replication.throttled.replicas",
      "leader.replication.throttled.replicas", "message.timestamp.difference.max.ms",
      "log.message.timestamp.before.max.ms", "log.message.timestamp.after.max.ms",
      "message.timestamp.before.max.ms", "message.timestamp.after.max.ms", "minXinsyncXreplicas",
      "min.insync.replicas.x", "segment.bytes"};
    List<Object> configProps = new ArrayList<>();
    for (String useDefaultsFrom : new String[] {null, "target", "source"}) {
      DefaultConfigPropertyFilter cf = new DefaultConfigPropertyFilter();
      Map<String, Object> cfg = new HashMap<>();
      if (useDefaultsFrom != null) cfg.put("use.defaults.from", useDefaultsFrom);
      cf.configure(cfg);
      Map<String, Object> replicate = new LinkedHashMap<>();
      Map<String, Object> sourceDefault = new LinkedHashMap<>();
      for (String p : props) {
        replicate.put(p, cf.shouldReplicateConfigProperty(p));
        sourceDefault.put(p, cf.shouldReplicateSourceDefault(p));
      }
      configProps.add(obj("useDefaultsFrom", useDefaultsFrom, "shouldReplicateConfigProperty", replicate,
          "shouldReplicateSourceDefault", sourceDefault));
    }
    return obj("topics", topics, "groups", groups, "configProperties", configProps);
  }

  /** Java's MirrorUtils.compilePatternList + matches(), on pattern lists our translator must agree with. */
  static List<Object> regexes() throws Exception {
    Object[][] cases = {
      {list(".*"), list("", "a", "orders", "a.b")},
      {list(), list("", "a", ".*")},
      {list("a", "b.*"), list("a", "b", "bcd", "ab", "c", "")},
      {list("\\Qa.b\\E.*"), list("a.b", "a.bcd", "axb", "a.")},
      {list("x\\Qa|b"), list("xa|b", "xa", "b")},
      {list("[\\Q]-\\E]+"), list("]-]", "-", "a")},
      {list("a*+b"), list("aaab", "b", "aa")},
      {list("a*+a"), list("aa", "a", "")},
      {list("(?:ab)++c"), list("ababc", "c", "abab")},
      {list("a{1,3}+a"), list("aa", "aaaa", "a")},
      {list("(?i)orders"), list("ORDERS", "orders", "Orders", "xorders")},
      {list("a(?i)b|c"), list("aB", "ab", "C", "AB", "c")},
      {list("a(?i:b)c"), list("aBc", "aBC", "abc")},
      {list("topic-[0-9]{1,3}"), list("topic-1", "topic-123", "topic-1234", "topic-")},
      {list("[]a]+"), list("]a]", "a", "b")},
      {list("[^]a]+"), list("bc", "]", "a")},
      {list("a}b", "c]d"), list("a}b", "c]d", "ab")},
      {list("\\p{Alpha}+\\d"), list("abc1", "ab", "1")},
      {list("\\p{Lu}\\p{L}*"), list("Abc", "abc", "A\u00e9")},
      {list("\\pL+"), list("abc", "a1")},
      {list("\\x{41}\\x42\\0103\\u0044"), list("ABCD", "abcd")},
      {list("foo\\-bar\\_baz"), list("foo-bar_baz", "foobar")},
      {list("a|b", "c"), list("a", "b", "c", "ab", "")},
      {list(".*[\\-\\.]internal", ".*\\.replica", "__.*"), list("x.internal", "x-internal", "x.replica", "__c", "x")},
      {list("(a)\\1"), list("aa", "a")},
      {list("(?<n>a)\\k<n>b"), list("aab", "ab")},
      {list("a\\tb\\e"), list("a\tb\u001b", "ab")},
      {list("\\h+\\v"), list(" \t\u000b", " \n", " ")},
      {list("\\Aab\\z"), list("ab", "abc")},
      {list("(?>a|ab)c"), list("abc", "ac")},
      {list("[a-z&&[^aeiou]]+"), list("bcd", "abc")},
      {list("[a[b]]"), list("a", "b")},
      {list("\\p{javaLowerCase}"), list("a")},
      {list("\\p{InGreek}"), list("\u03b1")},
      {list("(?x) a b "), list("ab")},
      {list("(?s).+"), list("a\nb")},
      {list(".+"), list("a\nb", "ab")},
      {list("\\w+"), list("a_1", "\u00e9")},
      {list("(?i)\u00e9"), list("\u00c9", "\u00e9")},
      {list("\\s"), list(" ", "\u00a0", "\u2003")},
      {list("a$"), list("a", "a\n")},
    };
    List<Object> out = new ArrayList<>();
    Class<?> utils = Class.forName(PKG + "MirrorUtils");
    for (Object[] c : cases) {
      @SuppressWarnings("unchecked")
      List<String> patterns = (List<String>) c[0];
      @SuppressWarnings("unchecked")
      List<String> inputs = (List<String>) c[1];
      Pattern p = (Pattern) invoke(utils, "compilePatternList", new Class<?>[] {List.class}, patterns);
      Map<String, Object> matches = new LinkedHashMap<>();
      // An empty list compiles to null, which matches nothing.
      for (String s : inputs) matches.put(s, p != null && p.matcher(s).matches());
      out.add(obj("patterns", patterns, "javaPattern", p == null ? null : p.pattern(), "matches", matches));
    }
    return out;
  }

  // ---- offset-sync emission rule -------------------------------------------------------------

  /** Drives OffsetSyncWriter.PartitionState exactly as maybeQueueOffsetSyncs does (update, reset if due). */
  static List<Object> offsetSyncRule() throws Exception {
    Object[][] cases = {
      {100L, new long[][] {{0, 0}, {1, 1}, {2, 2}, {3, 3}}},
      {2L, new long[][] {{0, 0}, {1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 5}, {6, 6}}},
      {0L, new long[][] {{0, 0}, {1, 1}, {2, 2}}},
      {100L, new long[][] {{10, 50}, {11, 51}, {13, 52}, {14, 53}, {15, 40}, {16, 41}, {16, 42}, {20, 43}}},
      {3L, new long[][] {{5, 5}, {6, 6}, {7, 7}, {8, 9}, {9, 10}, {10, 11}, {11, 12}, {12, 13}}},
      {100L, new long[][] {{0, 0}, {0, 1}, {1, 2}, {-1, 3}}},
    };
    List<Object> out = new ArrayList<>();
    for (Object[] c : cases) {
      long maxLag = (Long) c[0];
      Object state = construct("OffsetSyncWriter$PartitionState", new Class<?>[] {long.class}, maxLag);
      List<Object> steps = new ArrayList<>();
      for (long[] s : (long[][]) c[1]) {
        boolean due = (Boolean) invoke(state, "update", new Class<?>[] {long.class, long.class}, s[0], s[1]);
        if (due) invoke(state, "reset", NONE);
        steps.add(list(Long.toString(s[0]), Long.toString(s[1]), due));
      }
      out.add(obj("offsetLagMax", Long.toString(maxLag), "steps", steps));
    }
    return out;
  }
}
