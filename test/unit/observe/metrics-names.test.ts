/** Label values as JMX prints MBean tags (what Strimzi's dashboard regexes expect) and the clients' ids. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { connectProducerClientId, jmxValue, mirrorTaskClientId } from '../../../src/observe/metrics-names.ts'

test('jmxValue quotes like ObjectName.quote only what JMX would quote', () => {
  assert.equal(jmxValue('orders'), 'orders')
  assert.equal(jmxValue('A.orders-1 %x'), 'A.orders-1 %x')
  assert.equal(jmxValue('A->B.MirrorSourceConnector'), '"A->B.MirrorSourceConnector"')
  assert.equal(jmxValue('g:1,a=b'), '"g:1,a=b"')
  assert.equal(jmxValue('a"b*c?d\\e'), '"a\\"b\\*c\\?d\\\\e"')
  assert.equal(jmxValue('line\nbreak'), '"line\\nbreak"')
})

test('client ids match the dashboard regexes for a Strimzi connector name', () => {
  const consumer = jmxValue(mirrorTaskClientId('A', 'B', 'A->B.MirrorSourceConnector', 0, 'replication-consumer'))
  assert.equal(consumer, '"A->B|A->B.MirrorSourceConnector-0|replication-consumer"')
  assert.match(consumer, /^.*replication-consumer"$/)
  const producer = jmxValue(connectProducerClientId('A->B.MirrorSourceConnector', 3))
  assert.match(producer, /^".*SourceConnector-[0-9]+"$/)
})
