/**
 * The status page as a person sees it: the real binary (`kafka-mirror run --metrics-port P
 * --log-format json`, two copier tasks in worker threads) mirrors real brokers, and Debian's
 * Chromium (driven by playwright-core, never a downloaded browser) opens `/`. The test waits
 * for live numbers (records copied equal to what was produced, then growing while the page stays
 * open), checks what is on screen (flow name, state, drawn charts, the partitions table, the
 * replication graph), that the page asked nothing of any other host and logged no error, and
 * saves a screenshot to docs/status-page.png (the one in the README). The mirror's stderr is
 * checked too: JSON lines only, worker threads' lines included.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { startHttpServer } from '../../src/observe/http-server.ts'
import { createLogger } from '../../src/observe/logger.ts'
import { pageRoutes } from '../../src/observe/page/page-routes.ts'
import type { FlowReport, StatusReport } from '../../src/observe/status-report.ts'
import type { KafkaCluster } from '../harness/cluster.ts'
import { clustersForFile, createTopic, produce, readAll, uniqueName, waitFor } from '../harness/helpers.ts'
import { writeMm2Properties } from '../harness/mirror-config.ts'
import { freePort } from '../harness/ports.ts'
import { spawnTracked } from '../harness/processes.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const bin = join(root, 'bin', 'kafka-mirror.js')
// The README's picture is refreshed only on request (KM_UPDATE_SCREENSHOT=1), so a test run leaves
// the checkout as it was; otherwise the screenshot goes to the system's temp folder.
const SCREENSHOT =
  process.env.KM_UPDATE_SCREENSHOT === '1'
    ? join(root, 'docs', 'status-page.png')
    : join(tmpdir(), 'kafka-mirror-status-page.png')
const CHROMIUM = '/usr/bin/chromium'

let A: KafkaCluster
let B: KafkaCluster
clustersForFile([{ name: 'page-A' }, { name: 'page-B' }], ([a, b]) => {
  A = a
  B = b
})

/** Debian's Chromium, headless, with a fresh profile that is removed when the test ends. */
async function openBrowser(t: { after: (fn: () => Promise<void>) => void }): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'km-chromium-'))
  t.after(async () => {
    rmSync(profile, { recursive: true, force: true })
  })
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync'
    ]
  })
  t.after(async () => {
    await browser.close()
  })
  return browser
}

/** The value of a flow card's statistic, as shown (e.g. "1,234"). */
async function shownStat(page: Page, flow: string, label: string): Promise<string> {
  const stat = page
    .locator(`article[data-flow="${flow}"] .stat`)
    .filter({ has: page.locator('.stat-label', { hasText: new RegExp(`^${label}$`) }) })
  return (
    (await stat
      .locator('.stat-value')
      .textContent({ timeout: 5000 })
      .catch(() => null)) ?? ''
  )
}

const asNumber = (shown: string): number => Number(shown.replace(/,/g, ''))

interface JsonLine {
  level: string
  time: string
  scope: string
  message: string
  fields?: Record<string, unknown>
}

test(
  'status page in Chromium: live numbers of a real mirror, charts, partitions, graph; screenshot',
  { timeout: 420_000 },
  async t => {
    const topic = uniqueName('orders')
    await createTopic(A, topic, { partitions: 3 })
    await produce(
      A,
      topic,
      Array.from({ length: 300 }, (_, i) => ({ partition: i % 3, key: `k${i}`, value: `v${i}` }))
    )
    const file = writeMm2Properties(
      { A, B },
      {
        'A->B.enabled': 'true',
        'A->B.topics': topic,
        'tasks.max': '2',
        'refresh.topics.interval.seconds': '1',
        'refresh.groups.interval.seconds': '1',
        'sync.topic.acls.enabled': 'false',
        'B.offset.flush.interval.ms': '500'
      }
    )
    const port = await freePort()
    const env: NodeJS.ProcessEnv = { ...process.env, KAFKA_MIRROR_LOG_LEVEL: 'debug' }
    const proc = spawnTracked(
      'kafka-mirror',
      process.execPath,
      [bin, 'run', '--config', file, '--metrics-port', String(port), '--log-format', 'json'],
      { stdio: ['ignore', 'pipe', 'pipe'], env }
    )
    t.after(async () => {
      await proc.kill()
    })
    let stderr = ''
    proc.child.stdout?.resume()
    proc.child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    const base = `http://127.0.0.1:${port}`
    await waitFor(async () => (await fetch(`${base}/status`).catch(() => undefined))?.ok, {
      timeoutMs: 60_000,
      what: `/status on port ${port}`
    })

    const browser = await openBrowser(t)
    const page = await browser.newPage()
    const requests: string[] = []
    const problems: string[] = []
    page.on('request', r => {
      requests.push(r.url())
    })
    page.on('console', m => {
      if (m.type() === 'error') problems.push(m.text())
    })
    page.on('pageerror', e => {
      problems.push(String(e))
    })
    await page.goto(`${base}/`)

    // Live numbers: the page shows every produced record copied, as the target holds them. The
    // flow also copies A's heartbeats (for the graph), so the topic's own rows are compared.
    const card = page.locator('article[data-flow="A->B"]')
    const table = card.getByRole('table', { name: 'Partitions furthest behind, A->B' })
    const topicRows = async (): Promise<string[][]> =>
      (
        await table
          .locator('tbody tr')
          .evaluateAll(trs => trs.map(tr => [...tr.querySelectorAll('td')].map(td => td.textContent ?? '')))
          .catch(() => [])
      )
        .filter(r => r[0] === topic)
        .sort((x, y) => Number(x[2]) - Number(y[2]))
    const copiedShown = async (): Promise<number> => (await topicRows()).reduce((n, r) => n + asNumber(r[5] ?? ''), 0)
    await waitFor(async () => (await copiedShown()) === 300, {
      timeoutMs: 120_000,
      intervalMs: 500,
      what: 'the page showing 300 records copied'
    }).catch(async (err: unknown) => {
      // What the page and /status said, and the mirror's last lines, to see which side is wrong.
      const status = await (await fetch(`${base}/status`).catch(() => undefined))?.text()
      throw new Error(
        `${(err as Error).message}\npage: ${(await page.locator('body').innerText()).slice(0, 1500)}\n/status: ${status?.slice(0, 3000)}\nmirror: ${stderr.slice(-3000)}`
      )
    })
    assert.equal((await readAll(B, `A.${topic}`)).length, 300, 'the target holds what the page says')
    // ...and they keep moving while the page stays open: bursts of 100 records every 2 s.
    for (let burst = 0; burst < 6; burst++) {
      await produce(
        A,
        topic,
        Array.from({ length: 100 }, (_, i) => ({
          partition: i % 3,
          key: `b${burst}-${i}`,
          value: `burst ${burst} record ${i}`
        }))
      )
      await new Promise(resolve => setTimeout(resolve, 2000))
    }
    await waitFor(async () => (await copiedShown()) === 900, {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: 'the page showing 900 records copied'
    })
    await waitFor(async () => (await shownStat(page, 'A->B', 'lag \\(records\\)')) === '0', {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: 'lag 0 shown'
    })
    // The flow's total is the sum of its partitions (the topic's and the heartbeats'), in one render.
    const total = await card.evaluate(c => {
      const stat = [...c.querySelectorAll('.stat')].find(
        s => s.querySelector('.stat-label')?.textContent === 'records copied'
      )
      const rows = [...c.querySelectorAll('table.partitions tbody tr')].map(tr =>
        Number(tr.querySelectorAll('td')[5]?.textContent?.replace(/,/g, ''))
      )
      return { shown: Number(stat?.querySelector('.stat-value')?.textContent?.replace(/,/g, '')), rows }
    })
    assert.equal(
      total.shown,
      total.rows.reduce((a, b) => a + b, 0),
      `records copied ${total.shown} = the partitions' copied-to offsets ${total.rows.join(' + ')}`
    )
    assert.ok(total.shown >= 900)

    // What a person sees: the flow by name, its state, both charts drawn from several polls.
    assert.equal(await card.getByRole('heading', { level: 2 }).textContent(), 'A->B')
    assert.equal(await card.locator('.flow-head .badge').textContent(), 'running')
    await waitFor(
      async () =>
        Number(
          await card
            .locator('.chart-rate polyline.line')
            .getAttribute('data-points', { timeout: 2000 })
            .catch(() => '0')
        ) >= 3,
      { timeoutMs: 30_000, what: 'a throughput line through 3 polls or more' }
    )
    assert.ok(
      Number(await card.locator('.chart-lag polyline.line').getAttribute('data-points')) >= 3,
      'the lag chart is drawn'
    )
    assert.ok(await card.locator('.chart-rate polyline.line').isVisible(), 'the throughput line is visible')
    assert.equal(
      asNumber(await shownStat(page, 'A->B', 'tasks / threads').then(s => s.split('/')[1]?.trim() ?? '')),
      2,
      'two worker threads'
    )

    // The partitions table: the topic's three partitions, caught up.
    const rows = await topicRows()
    assert.deepEqual(
      rows.map(r => [r[0], r[1], r[2]]),
      [0, 1, 2].map(p => [topic, `A.${topic}`, String(p)])
    )
    for (const r of rows) {
      assert.equal(r[4], r[5], `partition ${r[2]}: copied to the source's end`)
      assert.equal(r[7], '0', `partition ${r[2]}: lag 0`)
      assert.equal(r[10], 'ok', `partition ${r[2]}: no error`)
    }
    assert.equal(await card.getByText('No errors, no data loss.').count(), 1)

    // The replication graph: both clusters, the A->B flow, and the heartbeats it copied.
    const graph = page.getByRole('img', { name: 'Replication graph' })
    assert.deepEqual((await graph.locator('.node text').allTextContents()).sort(), ['A', 'B'])
    await waitFor(async () => (await graph.locator('path.edge-replication.edge-ok').count()) === 1, {
      timeoutMs: 10_000,
      what: 'the A->B edge drawn as running'
    })
    await waitFor(
      async () =>
        (await page.locator('#graph-notes li').allTextContents()).some(s =>
          /heartbeats from A, 1 hop, latency/.test(s)
        ),
      { timeoutMs: 60_000, what: 'heartbeat latency of A on B' }
    )
    await waitFor(async () => (await page.locator('#ready').textContent()) === 'ready', {
      timeoutMs: 60_000,
      what: 'the instance shown ready'
    })

    // The page's numbers are those of /status, and the page asked nothing of any other host.
    const report = (await (await fetch(`${base}/status`)).json()) as {
      flows: Array<{ flow: string; topics: Array<{ topic: string; partitions: Array<{ recordsCopied: number }> }> }>
    }
    assert.equal(
      report.flows
        .find(f => f.flow === 'A->B')
        ?.topics.find(x => x.topic === topic)
        ?.partitions.reduce((n, p) => n + p.recordsCopied, 0),
      900
    )
    assert.deepEqual(
      requests.filter(u => !u.startsWith(`${base}/`) && !u.startsWith('data:')),
      [],
      'no request leaves the mirror'
    )
    assert.deepEqual(problems, [], 'no error in the page')
    await page.screenshot({ path: SCREENSHOT, fullPage: true })
    t.diagnostic(`screenshot: ${SCREENSHOT}`)

    // The mirror logged JSON only, its worker threads too (same format, numbers kept as numbers).
    proc.child.kill('SIGTERM')
    assert.equal(await proc.exited, 0, stderr.slice(-2000))
    const lines = stderr
      .split('\n')
      .filter(l => l !== '')
      .map(l => {
        try {
          return JSON.parse(l) as JsonLine
        } catch {
          return assert.fail(`not a JSON line: ${l}`)
        }
      })
    const assigned = lines.filter(l => l.message === 'assigned partition' && l.fields?.topic === topic)
    assert.deepEqual(
      [...new Set(assigned.map(l => l.fields?.partition))].sort(),
      [0, 1, 2],
      'each partition assigned, logged by the worker thread that copies it, as a number'
    )
    const stopped = lines.find(l => l.message === 'stopped' && l.fields?.flow === 'A->B')
    assert.ok(
      typeof stopped?.fields?.records === 'number' && stopped.fields.records >= 900,
      `the stopped line counts the records: ${JSON.stringify(stopped)}`
    )
  }
)

/** A /status whose every text field tries to become markup; one flow failing, losing data and not ready. */
function hostileReport(now: number): StatusReport {
  const evil = (what: string): string =>
    `<img src=x onerror="window.pwned='${what}'"><script>window.pwned='${what}'</script>&amp;`
  const flow: FlowReport = {
    flow: 'A->B',
    source: 'A',
    target: 'B',
    state: 'not-ready',
    ready: false,
    reason: evil('flow reason'),
    tasks: 1,
    threads: 0,
    recordsCopied: 1234,
    bytesCopied: 5678,
    rawBytesCopied: 0,
    recordRate: 1.5,
    byteRate: 100,
    lag: 42,
    lastCopyAt: now - 5000,
    dataLoss: {
      records: 50,
      events: 1,
      unknownEvents: 0,
      byCause: { expired: 1, recreated: 0, truncated: 0 },
      recent: [
        {
          topic: evil('loss topic'),
          partition: 3,
          cause: 'expired',
          lost: 50,
          from: 100,
          resumedAt: 150,
          at: now - 60_000
        }
      ]
    },
    failingPartitions: 1,
    heartbeats: [
      {
        topic: evil('heartbeats topic'),
        origin: evil('origin'),
        hops: 2,
        latencyMs: 12,
        emittedAt: now - 1000,
        landedAt: now - 988
      }
    ],
    topics: [
      {
        topic: evil('topic'),
        remoteTopic: evil('remote'),
        lag: 42,
        recordRate: 1.5,
        partitions: [
          {
            partition: 0,
            task: 0,
            sourceEndOffset: 100,
            copiedTo: 58,
            storedPosition: 50,
            lag: 42,
            recordsCopied: 58,
            bytesCopied: 580,
            recordRate: 1.5,
            byteRate: 15,
            replicationLatencyMs: { min: 1, avg: 2, max: 3 },
            dataLossRecords: 0,
            lastError: { offset: 58, reason: evil('partition error'), since: now - 30_000, retryAt: now + 2000 }
          }
        ]
      }
    ],
    transactions: {
      transactionalIds: [evil('transactional id')],
      producerId: '4000',
      epoch: 3,
      committed: 12,
      aborted: 1,
      fenced: true,
      tasks: [
        {
          task: 0,
          transactionalId: evil('transactional id'),
          producerId: '4000',
          epoch: 3,
          committed: 12,
          aborted: 1,
          fenced: true,
          lastRecords: 500,
          lastCommitMs: 37
        }
      ]
    }
  }
  return {
    version: 1,
    generatedAt: now,
    instance: { id: evil('instance'), pid: 1, startedAt: now - 60_000, uptimeMs: 60_000, version: '0.1.0' },
    ready: false,
    notReady: [
      {
        component: 'replication A->B',
        flow: 'A->B',
        cluster: evil('cluster'),
        state: 'not-ready',
        reason: evil('not ready reason')
      }
    ],
    flows: [flow],
    checkpoints: [
      {
        flow: 'A->B',
        source: 'A',
        target: 'B',
        state: 'not-ready',
        ready: false,
        reason: evil('checkpoint reason'),
        checkpointsTopic: evil('checkpoints topic'),
        groups: 1,
        checkpointsWritten: 0,
        exact: 0,
        fallback: 0,
        lastEmitAt: null,
        freshnessMs: null,
        groupOffsetsCommitted: 0
      }
    ],
    heartbeats: [
      {
        flow: 'B->A',
        state: 'running',
        ready: true,
        reason: null,
        cluster: 'A',
        topic: evil('emitter topic'),
        emitted: 3,
        lastEmittedAt: now - 100
      }
    ],
    groups: []
  }
}

test(
  'status page: text from /status is shown as text, never run as markup; errors, data loss and not-ready reasons are on screen',
  { timeout: 120_000 },
  async t => {
    const routes = new Map(pageRoutes())
    routes.set('/status', () => ({
      contentType: 'application/json; charset=utf-8',
      body: JSON.stringify(hostileReport(Date.now()))
    }))
    const http = await startHttpServer({ port: 0, host: '127.0.0.1', routes, log: createLogger('test', () => {}) })
    t.after(async () => {
      await http.close()
    })
    const browser = await openBrowser(t)
    const page = await browser.newPage()
    const problems: string[] = []
    page.on('pageerror', e => {
      problems.push(String(e))
    })
    page.on('dialog', d => {
      problems.push(`dialog: ${d.message()}`)
      void d.dismiss()
    })
    await page.goto(`http://127.0.0.1:${http.port}/`)
    const card = page.locator('article[data-flow="A->B"]')
    await waitFor(async () => (await card.count()) === 1, { timeoutMs: 20_000, what: 'the flow rendered' })
    // Let the page poll a few times: nothing injected may run later either.
    await new Promise(resolve => setTimeout(resolve, 4500))
    assert.equal(await page.evaluate('typeof window.pwned'), 'undefined', 'no injected script or handler ran')
    assert.equal(
      await page.locator('main img, section img, header img').count(),
      0,
      'no element was made from the data'
    )
    assert.equal(await page.locator('body script').count(), 0, 'no script element in the body')
    // The same text, shown literally where a person reads it.
    const shown = await page.locator('body').innerText()
    for (const what of [
      'flow reason',
      'loss topic',
      'topic',
      'partition error',
      'not ready reason',
      'transactional id',
      'checkpoint reason',
      'emitter topic'
    ]) {
      assert.ok(
        shown.includes(`<img src=x onerror="window.pwned='${what}'"><script>window.pwned='${what}'</script>&amp;`),
        `${what} shown as text`
      )
    }
    assert.equal(await page.locator('#ready').textContent(), 'not ready')
    assert.ok(await page.locator('#not-ready').isVisible(), 'the not-ready panel is shown')
    assert.equal(await card.locator('.flow-head .badge').textContent(), 'not-ready')
    assert.match(await card.locator('ul.problems').innerText(), /DATA LOSS: 50 records in 1 event \(expired 1\)/)
    assert.match(await card.locator('ul.problems').innerText(), /task 0 fenced: another producer took transactional id/)
    assert.match(await card.locator('.stats').innerText(), /12 \/ 1\s+transactions \(fenced\)/)
    assert.equal(await card.locator('table.partitions tbody tr.row-bad').count(), 1, 'the failing partition is marked')

    // The mirror goes away: the page says so and keeps showing what it last knew.
    await http.close()
    await waitFor(async () => await page.locator('#banner').isVisible(), {
      timeoutMs: 15_000,
      what: 'the banner saying /status cannot be read'
    })
    assert.match(
      (await page.locator('#banner').textContent()) ?? '',
      /^Cannot read \/status: .*\(showing what it said at /
    )
    assert.equal(await card.count(), 1, 'the last known flow stays on screen')
    assert.deepEqual(problems, [])
  }
)
