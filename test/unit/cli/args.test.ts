import { test } from 'node:test'
import assert from 'node:assert/strict'
import { HELP, parseCli } from '../../../src/cli/args.ts'

const base = ['--config', 'f', '--group', 'g', '--from', 'A', '--to', 'B']

test('offsets translate and failover parse their options', () => {
  assert.deepEqual(
    { ...parseCli(['offsets', 'translate', ...base, '--json']) },
    {
      config: 'f',
      secretsDir: process.env.KAFKA_MIRROR_SECRETS_DIR,
      clusters: [],
      offline: false,
      debug: false,
      command: 'offsets-translate',
      group: 'g',
      from: 'A',
      to: 'B',
      json: true,
      dryRun: false,
      metricsPort: 9404,
      logFormat: 'text'
    }
  )
  const f = parseCli(['failover', ...base, '--dry-run'])
  assert.equal(f.command, 'failover')
  assert.equal(f.dryRun, true)
  assert.match(HELP, /kafka-mirror offsets translate --config FILE --group G --from A --to B \[--json\]/)
  assert.match(HELP, /kafka-mirror failover --config FILE --group G --from A --to B \[--dry-run\]/)
})

test('offsets translate and failover: clear usage errors', () => {
  const cases: Array<[string[], RegExp]> = [
    [['offsets', ...base], /offsets: expected the subcommand translate/],
    [['offsets', 'show', ...base], /expected the subcommand translate, got "show"/],
    [['offsets', 'translate', '--config', 'f', '--from', 'A', '--to', 'B'], /offsets translate: --group G is required/],
    [['failover', '--group', 'g', '--from', 'A', '--to', 'B'], /failover: --config FILE is required/],
    [['failover', '--config', 'f', '--group', 'g', '--to', 'B'], /failover: --from A is required/],
    [['failover', ...base, '--json'], /--json is only for offsets translate/],
    [['offsets', 'translate', ...base, '--dry-run'], /--dry-run is only for failover/],
    [['failover', ...base, 'extra'], /unexpected argument "extra"/]
  ]
  for (const [argv, want] of cases)
    assert.throws(
      () => parseCli(argv),
      (err: Error) => err.name === 'UsageError' && want.test(err.message),
      argv.join(' ')
    )
})

test('run --metrics-port: 9404 unless given, 0 turns the HTTP server off, anything else is refused', () => {
  assert.equal(parseCli(['run', '--config', 'f']).metricsPort, 9404)
  assert.equal(parseCli(['run', '--config', 'f', '--metrics-port', '0']).metricsPort, 0)
  assert.equal(parseCli(['run', '--config', 'f', '--metrics-port', '8080']).metricsPort, 8080)
  for (const bad of ['-1', '65536', 'http', '80a', '']) {
    assert.throws(
      () => parseCli(['run', '--config', 'f', `--metrics-port=${bad}`]),
      (err: Error) =>
        err.name === 'UsageError' &&
        err.message.includes(`--metrics-port: expected a port number from 0 (no HTTP server) to 65535, got "${bad}"`),
      bad
    )
  }
})

test('--log-format: text unless given (or KAFKA_MIRROR_LOG_FORMAT), json on request, anything else refused', () => {
  const saved = process.env.KAFKA_MIRROR_LOG_FORMAT
  try {
    delete process.env.KAFKA_MIRROR_LOG_FORMAT
    assert.equal(parseCli(['run', '--config', 'f']).logFormat, 'text')
    assert.equal(parseCli(['run', '--config', 'f', '--log-format', 'json']).logFormat, 'json')
    assert.equal(parseCli(['validate', '--config', 'f', '--log-format=text']).logFormat, 'text')
    for (const bad of ['JSON', 'logfmt', '']) {
      assert.throws(
        () => parseCli(['run', '--config', 'f', `--log-format=${bad}`]),
        (err: Error) =>
          err.name === 'UsageError' && err.message.includes(`--log-format: expected text or json, got "${bad}"`),
        bad
      )
    }
    process.env.KAFKA_MIRROR_LOG_FORMAT = 'json'
    assert.equal(parseCli(['run', '--config', 'f']).logFormat, 'json')
    assert.equal(
      parseCli(['run', '--config', 'f', '--log-format', 'text']).logFormat,
      'text',
      'the option wins over the environment'
    )
    process.env.KAFKA_MIRROR_LOG_FORMAT = 'xml'
    assert.throws(() => parseCli(['run', '--config', 'f']), /KAFKA_MIRROR_LOG_FORMAT: expected text or json, got "xml"/)
  } finally {
    if (saved === undefined) delete process.env.KAFKA_MIRROR_LOG_FORMAT
    else process.env.KAFKA_MIRROR_LOG_FORMAT = saved
  }
  assert.match(HELP, /--log-format FORMAT/)
  assert.match(HELP, /SIGUSR2 toggles debug logging/)
})

test('verify: --config and --flow are required, --topics and --json are optional', () => {
  const v = parseCli(['verify', '--config', 'f', '--flow', 'A->B', '--topics', 'orders.*', '--json'])
  assert.deepEqual([v.command, v.config, v.flow, v.topics, v.json], ['verify', 'f', 'A->B', 'orders.*', true])
  assert.equal(parseCli(['verify', '--config', 'f', '--flow', 'A->B']).topics, undefined)
  assert.match(HELP, /kafka-mirror verify --config FILE --flow A->B \[--topics REGEX\] \[--json\]/)
  const cases: Array<[string[], RegExp]> = [
    [['verify', '--flow', 'A->B'], /verify: --config FILE is required/],
    [['verify', '--config', 'f'], /verify: --flow A->B is required/],
    [['verify', '--config', 'f', '--flow', 'A->B', 'extra'], /unexpected argument "extra"/]
  ]
  for (const [argv, want] of cases)
    assert.throws(
      () => parseCli(argv),
      (err: Error) => err.name === 'UsageError' && want.test(err.message),
      argv.join(' ')
    )
})

test('status: --config is required, --clusters (repeatable or comma-separated) and --json are optional', () => {
  const s = parseCli(['status', '--config', 'f', '--clusters', 'B,C', '--clusters', 'D', '--json'])
  assert.deepEqual([s.command, s.config, s.clusters, s.json], ['status', 'f', ['B', 'C', 'D'], true])
  assert.deepEqual(parseCli(['status', '--config', 'f']).clusters, [])
  assert.match(HELP, /kafka-mirror status --config FILE \[--clusters ALIAS\.\.\.\] \[--json\]/)
  assert.match(HELP, /^ {2}status {5}For each group the config's instances share their work in/m)
  const cases: Array<[string[], RegExp]> = [
    [['status'], /status: --config FILE is required/],
    [['status', '--config', 'f', 'extra'], /unexpected argument "extra"/]
  ]
  for (const [argv, want] of cases)
    assert.throws(
      () => parseCli(argv),
      (err: Error) => err.name === 'UsageError' && want.test(err.message),
      argv.join(' ')
    )
})

test('bench: defaults, a flat-out run or a paced one, and the mistakes it names', () => {
  const d = parseCli(['bench', '--config', 'f', '--flow', 'A->B'])
  assert.deepEqual(
    [d.command, d.flow, d.bench],
    [
      'bench',
      'A->B',
      { records: 100_000, size: 1000, partitions: 6, rate: undefined, durationS: undefined, compression: 'none' }
    ]
  )
  const paced = parseCli([
    'bench',
    '--config',
    'f',
    '--flow',
    'A->B',
    '--rate',
    '2000',
    '--duration',
    '30',
    '--compression',
    'lz4',
    '--size',
    '500',
    '--partitions',
    '12',
    '--json'
  ])
  assert.deepEqual(
    [paced.bench, paced.json],
    [{ records: 100_000, size: 500, partitions: 12, rate: 2000, durationS: 30, compression: 'lz4' }, true]
  )
  assert.match(HELP, /kafka-mirror bench --config FILE --flow A->B \[--records N\] \[--size BYTES\] \[--partitions P\]/)
  const cases: Array<[string[], RegExp]> = [
    [['bench', '--flow', 'A->B'], /bench: --config FILE is required/],
    [['bench', '--config', 'f'], /bench: --flow A->B is required/],
    [['bench', '--config', 'f', '--flow', 'A->B', '--rate', '100'], /--rate and --duration go together/],
    [['bench', '--config', 'f', '--flow', 'A->B', '--duration', '10'], /--rate and --duration go together/],
    [
      ['bench', '--config', 'f', '--flow', 'A->B', '--rate', '10', '--duration', '5', '--records', '9'],
      /--records is for a flat-out run/
    ],
    [
      ['bench', '--config', 'f', '--flow', 'A->B', '--size', '15'],
      /--size: expected a whole number from 16 to 1000000, got "15"/
    ],
    [
      ['bench', '--config', 'f', '--flow', 'A->B', '--records', '1e6'],
      /--records: expected a whole number from 1 to 1000000000, got "1e6"/
    ],
    [
      ['bench', '--config', 'f', '--flow', 'A->B', '--compression', 'brotli'],
      /--compression: expected one of none, gzip, snappy, lz4, zstd, got "brotli"/
    ],
    [['bench', '--config', 'f', '--flow', 'A->B', 'extra'], /unexpected argument "extra"/]
  ]
  for (const [argv, want] of cases)
    assert.throws(
      () => parseCli(argv),
      (err: Error) => err.name === 'UsageError' && want.test(err.message),
      argv.join(' ')
    )
})
