// The live status page: polls /status (the StatusReport of src/observe/status-report.ts) every
// 2 s, keeps the last 10 minutes of each flow's numbers in memory for the charts, and redraws.
// Plain browser JavaScript, no build step, nothing loaded from elsewhere.
//
// Every value from /status reaches the DOM through textContent or setAttribute on elements made
// here (never innerHTML): topic names, reasons and aliases may hold any character.
'use strict'

const POLL_MS = 2000
const HISTORY_MS = 10 * 60 * 1000
const CHART_MS = 5 * 60 * 1000
const TOP_PARTITIONS = 10
const SVG = 'http://www.w3.org/2000/svg'

/** flow name -> [{ t, records, rate, lag }] (t: the report's generatedAt). */
const history = new Map()
let lastReport = null

// ---- small DOM helpers -----------------------------------------------------------------------

/** An element with attributes and children; strings become text nodes. */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue
    if (k === 'class') node.className = v
    else node.setAttribute(k, v === true ? '' : String(v))
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue
    node.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c)
  }
  return node
}

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag)
  for (const [k, v] of Object.entries(attrs ?? {})) node.setAttribute(k, String(v))
  if (text !== undefined) node.textContent = text
  return node
}

function table(label, head, rows, opts = {}) {
  return el(
    'table',
    { class: opts.class ?? 'grid', 'aria-label': label },
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        head.map(h => el('th', { scope: 'col', class: h.num ? 'num' : undefined }, h.label))
      )
    ),
    el(
      'tbody',
      {},
      rows.map(r =>
        el(
          'tr',
          { class: r.class },
          r.cells.map((c, i) =>
            el('td', { class: head[i]?.num ? 'num' : undefined, title: c.title }, c.node ?? c.text ?? String(c))
          )
        )
      )
    )
  )
}

// ---- formatting ------------------------------------------------------------------------------

const nf = new Intl.NumberFormat('en-US')
const nf1 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 })

function num(v) {
  return typeof v === 'number' && Number.isFinite(v) ? nf.format(v) : '–'
}

function compact(v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '–'
  const a = Math.abs(v)
  if (a >= 1e9) return nf1.format(v / 1e9) + 'G'
  if (a >= 1e6) return nf1.format(v / 1e6) + 'M'
  if (a >= 1e4) return nf1.format(v / 1e3) + 'k'
  return a >= 100 || Number.isInteger(v) ? nf.format(Math.round(v)) : nf1.format(v)
}

function bytes(v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '–'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  let x = v
  while (Math.abs(x) >= 1024 && i < units.length - 1) {
    x /= 1024
    i++
  }
  return `${i === 0 ? Math.round(x) : nf1.format(x)} ${units[i]}`
}

function duration(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '–'
  if (ms < 1000) return `${Math.round(ms)} ms`
  const s = ms / 1000
  if (s < 60) return `${nf1.format(s)} s`
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`
  return `${Math.floor(s / 86400)} d ${Math.round((s % 86400) / 3600)} h`
}

function ago(at, now) {
  if (typeof at !== 'number' || at <= 0) return 'never'
  return `${duration(Math.max(0, now - at))} ago`
}

function stateBadge(state, ready) {
  const cls =
    ready === true || state === 'running'
      ? 'ok'
      : state === 'not-ready'
        ? 'bad'
        : state === 'starting'
          ? 'warn'
          : 'idle'
  return el('span', { class: `badge badge-${cls}`, 'data-state': state }, state ?? 'unknown')
}

// ---- history ---------------------------------------------------------------------------------

function remember(report) {
  const now = report.generatedAt
  for (const f of report.flows ?? []) {
    let h = history.get(f.flow)
    if (h === undefined) {
      h = []
      history.set(f.flow, h)
    }
    const prev = h[h.length - 1]
    // A new process (fewer records than before) or a gap of minutes: start the series again.
    if (prev !== undefined && (f.recordsCopied < prev.records || now - prev.t > 60_000)) h.length = 0
    const p = h[h.length - 1]
    // Records per second between two polls: what the mirror does now (the report's rate is a 1-minute average).
    const rate = p === undefined || now <= p.t ? f.recordRate : ((f.recordsCopied - p.records) * 1000) / (now - p.t)
    h.push({ t: now, records: f.recordsCopied, rate, lag: f.lag })
    while (h.length > 0 && now - h[0].t > HISTORY_MS) h.shift()
  }
  for (const name of [...history.keys()]) {
    if (!(report.flows ?? []).some(f => f.flow === name)) history.delete(name)
  }
}

// ---- charts ----------------------------------------------------------------------------------

/** A small line chart of `key` over the last minutes: the history so far (at least 1 minute), at most CHART_MS. */
function chart(points, key, title, format, cls) {
  const W = 560
  const H = 120
  const L = 46
  const B = 16
  const T = 8
  const now = points.length > 0 ? points[points.length - 1].t : Date.now()
  const span = Math.min(CHART_MS, Math.max(60_000, Math.ceil((now - (points[0]?.t ?? now)) / 60_000) * 60_000))
  const shown = points.filter(p => now - p.t <= span && typeof p[key] === 'number' && Number.isFinite(p[key]))
  const max = Math.max(1, ...shown.map(p => p[key]))
  const x = t => L + (W - L - 4) * (1 - (now - t) / span)
  const y = v => T + (H - T - B) * (1 - v / max)
  const minutes = span / 60_000
  const root = svg('svg', {
    viewBox: `0 0 ${W} ${H}`,
    class: `chart ${cls}`,
    role: 'img',
    'aria-label': `${title} over the last ${minutes} minute${minutes === 1 ? '' : 's'}`
  })
  root.append(svg('title', {}, `${title}, last ${minutes} minute${minutes === 1 ? '' : 's'}`))
  for (const frac of [0, 0.5, 1]) {
    root.append(svg('line', { x1: L, x2: W - 4, y1: y(max * frac), y2: y(max * frac), class: 'gridline' }))
    root.append(
      svg('text', { x: L - 4, y: y(max * frac) + 3, class: 'axis', 'text-anchor': 'end' }, format(max * frac))
    )
  }
  root.append(svg('text', { x: L, y: H - 3, class: 'axis' }, `−${minutes} min`))
  root.append(svg('text', { x: W - 4, y: H - 3, class: 'axis', 'text-anchor': 'end' }, 'now'))
  if (shown.length >= 2) {
    const line = shown.map(p => `${x(p.t).toFixed(1)},${y(p[key]).toFixed(1)}`).join(' ')
    root.append(
      svg('polygon', {
        points: `${x(shown[0].t).toFixed(1)},${y(0)} ${line} ${x(shown[shown.length - 1].t).toFixed(1)},${y(0)}`,
        class: 'area'
      })
    )
    root.append(svg('polyline', { points: line, class: 'line', 'data-points': shown.length }))
  } else {
    root.append(svg('text', { x: (L + W) / 2, y: H / 2, class: 'axis', 'text-anchor': 'middle' }, 'collecting…'))
  }
  return root
}

// ---- flows -----------------------------------------------------------------------------------

function stat(label, value, title) {
  return el(
    'div',
    { class: 'stat', title },
    el('div', { class: 'stat-value' }, value),
    el('div', { class: 'stat-label' }, label)
  )
}

function partitionRows(flow) {
  const all = []
  for (const t of flow.topics ?? []) {
    for (const p of t.partitions ?? []) all.push({ topic: t, p })
  }
  all.sort(
    (a, b) =>
      (b.p.lastError ? 1 : 0) - (a.p.lastError ? 1 : 0) ||
      (b.p.lag ?? -1) - (a.p.lag ?? -1) ||
      a.topic.topic.localeCompare(b.topic.topic) ||
      a.p.partition - b.p.partition
  )
  return all
}

function partitionsTable(flow, now) {
  const all = partitionRows(flow)
  if (all.length === 0) return el('p', { class: 'muted' }, 'No partitions assigned yet.')
  const head = [
    { label: 'Topic' },
    { label: 'Remote topic' },
    { label: 'Partition', num: true },
    { label: 'Task', num: true },
    { label: 'Source end', num: true },
    { label: 'Copied to', num: true },
    { label: 'Stored', num: true },
    { label: 'Lag', num: true },
    { label: 'Records/s', num: true },
    { label: 'Latency avg', num: true },
    { label: 'Status' }
  ]
  const rows = all.slice(0, TOP_PARTITIONS).map(({ topic, p }) => ({
    class: p.lastError ? 'row-bad' : (p.lag ?? 0) > 0 ? 'row-behind' : undefined,
    cells: [
      topic.topic,
      topic.remoteTopic,
      num(p.partition),
      num(p.task),
      num(p.sourceEndOffset),
      num(p.copiedTo),
      num(p.storedPosition),
      num(p.lag),
      compact(p.recordRate),
      p.replicationLatencyMs
        ? {
            text: duration(p.replicationLatencyMs.avg),
            title: `min ${duration(p.replicationLatencyMs.min)}, max ${duration(p.replicationLatencyMs.max)}`
          }
        : '–',
      p.lastError
        ? {
            text: `at ${num(p.lastError.offset)}: ${p.lastError.reason}`,
            title: `since ${new Date(p.lastError.since).toISOString()}, next try in ${duration(Math.max(0, p.lastError.retryAt - now))}`
          }
        : p.dataLossRecords > 0
          ? `${num(p.dataLossRecords)} lost`
          : 'ok'
    ]
  }))
  const rest = all.length - rows.length
  return el(
    'div',
    {},
    table(`Partitions furthest behind, ${flow.flow}`, head, rows, { class: 'grid partitions' }),
    rest > 0
      ? el(
          'p',
          { class: 'muted small' },
          `${num(rest)} more partition${rest === 1 ? '' : 's'} with lag ${num(all[rows.length]?.p.lag ?? 0)} or less.`
        )
      : null
  )
}

/** The exactly-once mode's transactions (null when the flow is not in the mode): a stat; ids and producer in its title. */
function transactionsStat(txn) {
  if (!txn) return null
  const producer =
    txn.producerId === null || txn.producerId === undefined
      ? ''
      : `, producer id ${txn.producerId} epoch ${num(txn.epoch)}`
  const title = `exactly-once mode; transactional ids ${(txn.transactionalIds ?? []).join(', ') || '(no task here)'}${producer}`
  return stat(
    txn.fenced ? 'transactions (fenced)' : 'transactions committed / aborted',
    `${num(txn.committed)} / ${num(txn.aborted)}`,
    title
  )
}

function problems(flow, now) {
  const items = []
  if (flow.state !== 'running' && flow.reason) items.push(el('li', { class: 'bad' }, `${flow.state}: ${flow.reason}`))
  for (const t of flow.transactions?.tasks ?? []) {
    if (!t.fenced) continue
    items.push(
      el(
        'li',
        { class: 'bad' },
        `task ${num(t.task)} fenced: another producer took transactional id ${t.transactionalId}; it writes nothing, and takes the id again every 5 s while this instance still holds the flow`
      )
    )
  }
  for (const { topic, p } of partitionRows(flow)) {
    if (!p.lastError) continue
    items.push(
      el(
        'li',
        { class: 'bad' },
        `${topic.topic} [${p.partition}] at offset ${num(p.lastError.offset)}: ${p.lastError.reason} (since ${ago(p.lastError.since, now)})`
      )
    )
  }
  const loss = flow.dataLoss
  if (loss && loss.events > 0) {
    const causes = Object.entries(loss.byCause ?? {})
      .filter(([, n]) => n > 0)
      .map(([c, n]) => `${c} ${num(n)}`)
      .join(', ')
    items.push(
      el(
        'li',
        { class: 'loss' },
        `DATA LOSS: ${num(loss.records)} records in ${num(loss.events)} event${loss.events === 1 ? '' : 's'}${loss.unknownEvents > 0 ? ` (${num(loss.unknownEvents)} of unknown size)` : ''}${causes ? ` (${causes})` : ''}`
      )
    )
    for (const e of [...(loss.recent ?? [])].reverse().slice(0, 5)) {
      items.push(
        el(
          'li',
          { class: 'loss small' },
          `${e.topic} [${e.partition}]: ${e.lost === null ? 'unknown count' : num(e.lost) + ' records'} ${e.cause}, offsets ${num(e.from)}–${num(e.resumedAt)}, ${ago(e.at, now)}`
        )
      )
    }
  }
  if (items.length === 0) return el('p', { class: 'ok small' }, 'No errors, no data loss.')
  return el('ul', { class: 'problems', 'aria-label': `Errors and data loss, ${flow.flow}` }, items)
}

function flowCard(flow, now) {
  const h = history.get(flow.flow) ?? []
  const raw = flow.bytesCopied > 0 ? Math.round((100 * flow.rawBytesCopied) / flow.bytesCopied) : null
  return el(
    'article',
    {
      class: `flow flow-${flow.ready ? 'ready' : 'not-ready'}`,
      'data-flow': flow.flow,
      'aria-label': `Flow ${flow.flow}`
    },
    el(
      'header',
      { class: 'flow-head' },
      el('h2', {}, flow.flow),
      stateBadge(flow.state, flow.ready),
      flow.reason && flow.state !== 'running' ? el('span', { class: 'reason' }, flow.reason) : null
    ),
    el(
      'div',
      { class: 'stats' },
      stat('records copied', num(flow.recordsCopied)),
      stat('records/s (1 min)', compact(flow.recordRate)),
      stat('bytes/s (1 min)', bytes(flow.byteRate)),
      stat('lag (records)', num(flow.lag)),
      stat('copied', bytes(flow.bytesCopied), raw === null ? undefined : `${raw}% as record batches (raw path)`),
      stat('last copy', ago(flow.lastCopyAt, now)),
      stat(
        'topics / partitions',
        `${num((flow.topics ?? []).length)} / ${num((flow.topics ?? []).reduce((n, t) => n + (t.partitions ?? []).length, 0))}`
      ),
      stat('tasks / threads', `${num(flow.tasks)} / ${num(flow.threads)}`),
      transactionsStat(flow.transactions)
    ),
    el(
      'div',
      { class: 'charts' },
      el(
        'figure',
        {},
        el('figcaption', {}, 'Throughput (records/s)'),
        chart(h, 'rate', `Throughput of ${flow.flow}`, compact, 'chart-rate')
      ),
      el(
        'figure',
        {},
        el('figcaption', {}, 'Lag (records)'),
        chart(h, 'lag', `Lag of ${flow.flow}`, compact, 'chart-lag')
      )
    ),
    el('h3', {}, 'Partitions furthest behind'),
    partitionsTable(flow, now),
    el('h3', {}, 'Errors and data loss'),
    problems(flow, now),
    (flow.heartbeats ?? []).length > 0
      ? el(
          'p',
          { class: 'small muted' },
          'Heartbeats copied: ',
          (flow.heartbeats ?? [])
            .map(hb => `${hb.origin ?? '?'} (${hb.hops} hop${hb.hops === 1 ? '' : 's'}) ${duration(hb.latencyMs)}`)
            .join(' · ')
        )
      : null
  )
}

// ---- replication graph -----------------------------------------------------------------------

function graphModel(report) {
  const nodes = new Set()
  const edges = new Map()
  const edge = (from, to) => {
    nodes.add(from)
    nodes.add(to)
    const k = `${from}\u0000${to}`
    if (!edges.has(k)) edges.set(k, { from, to, kind: 'heartbeats', state: null, labels: [] })
    return edges.get(k)
  }
  for (const f of report.flows ?? []) {
    const e = edge(f.source, f.target)
    e.kind = 'replication'
    e.state = f.state
    for (const hb of f.heartbeats ?? []) {
      if (hb.origin === f.source && hb.hops === 1) e.labels.unshift(duration(hb.latencyMs))
      else if (hb.origin) {
        // Seen through a chain: the origin feeds f.source further upstream.
        nodes.add(hb.origin)
        const up = edges.get(`${hb.origin}\u0000${f.source}`)
        if (up === undefined) edge(hb.origin, f.source).kind = 'upstream'
      }
    }
  }
  for (const h of report.heartbeats ?? []) {
    const [from, to] = String(h.flow).split('->')
    if (from && to) {
      const e = edge(from, to)
      if (e.kind !== 'replication' && e.state === null) e.state = h.state
    }
  }
  return { nodes: [...nodes].sort(), edges: [...edges.values()] }
}

function drawGraph(report) {
  const root = document.getElementById('graph')
  const notes = document.getElementById('graph-notes')
  const { nodes, edges } = graphModel(report)
  const W = 640
  const H = 240
  const R = 26
  const pos = new Map()
  nodes.forEach((n, i) => {
    if (nodes.length <= 2) pos.set(n, { x: nodes.length === 1 ? W / 2 : 150 + i * (W - 300), y: H / 2 })
    else {
      const a = -Math.PI / 2 + (2 * Math.PI * i) / nodes.length
      pos.set(n, { x: W / 2 + Math.cos(a) * (W / 2 - 90), y: H / 2 + Math.sin(a) * (H / 2 - 40) })
    }
  })
  const parts = [svg('defs', {})]
  const marker = svg('marker', {
    id: 'arrow',
    viewBox: '0 0 10 10',
    refX: 9,
    refY: 5,
    markerWidth: 7,
    markerHeight: 7,
    orient: 'auto-start-reverse'
  })
  marker.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' }))
  parts[0].append(marker)
  for (const e of edges) {
    const a = pos.get(e.from)
    const b = pos.get(e.to)
    if (!a || !b || e.from === e.to) continue
    const dx = b.x - a.x
    const dy = b.y - a.y
    const len = Math.hypot(dx, dy) || 1
    const ux = dx / len
    const uy = dy / len
    // Bend every edge to its left, so A->B and B->A do not overlap.
    const bend = 28
    const cx = (a.x + b.x) / 2 - uy * bend * 2
    const cy = (a.y + b.y) / 2 + ux * bend * 2
    const start = { x: a.x + ux * R - uy * 8, y: a.y + uy * R + ux * 8 }
    const end = { x: b.x - ux * (R + 2) - uy * 8, y: b.y - uy * (R + 2) + ux * 8 }
    const cls = `edge edge-${e.kind} edge-${e.kind === 'replication' ? (e.state === 'running' ? 'ok' : e.state === 'not-ready' ? 'bad' : 'warn') : 'idle'}`
    const path = svg('path', {
      d: `M${start.x.toFixed(1)},${start.y.toFixed(1)} Q${cx.toFixed(1)},${cy.toFixed(1)} ${end.x.toFixed(1)},${end.y.toFixed(1)}`,
      class: cls,
      'marker-end': 'url(#arrow)'
    })
    path.append(
      svg(
        'title',
        {},
        `${e.from} → ${e.to}: ${e.kind === 'replication' ? `replication (${e.state})` : e.kind === 'upstream' ? 'upstream, seen in heartbeats' : 'heartbeats only'}`
      )
    )
    parts.push(path)
    const label =
      e.kind === 'replication'
        ? [e.from + '→' + e.to, ...e.labels.slice(0, 1)].join('  ')
        : e.kind === 'upstream'
          ? 'upstream'
          : 'heartbeats'
    // At the middle of the curve, a little further out than the line, so the line does not cross the text.
    parts.push(
      svg(
        'text',
        {
          x: ((start.x + end.x) / 2 + cx) / 2 - uy * 12,
          y: ((start.y + end.y) / 2 + cy) / 2 + ux * 12 + 4,
          class: 'edge-label',
          'text-anchor': 'middle'
        },
        label
      )
    )
  }
  for (const n of nodes) {
    const p = pos.get(n)
    const g = svg('g', { class: 'node' })
    g.append(svg('circle', { cx: p.x, cy: p.y, r: R }))
    g.append(svg('text', { x: p.x, y: p.y + 4, 'text-anchor': 'middle' }, n.length > 10 ? n.slice(0, 9) + '…' : n))
    g.append(svg('title', {}, `cluster ${n}`))
    parts.push(g)
  }
  root.replaceChildren(...parts)
  const lines = []
  for (const f of report.flows ?? []) {
    for (const hb of f.heartbeats ?? []) {
      lines.push(
        el(
          'li',
          {},
          `On ${f.target}, ${hb.topic}: heartbeats from ${hb.origin ?? 'an unknown cluster'}, ${hb.hops} hop${hb.hops === 1 ? '' : 's'}, latency ${duration(hb.latencyMs)}`
        )
      )
    }
  }
  if (nodes.length === 0) lines.push(el('li', { class: 'muted' }, 'No flows.'))
  else if (lines.length === 0) lines.push(el('li', { class: 'muted' }, 'No heartbeats copied yet.'))
  notes.replaceChildren(...lines)
}

// ---- checkpoints and emitters ----------------------------------------------------------------

function drawCheckpoints(report, now) {
  const list = report.checkpoints ?? []
  const box = document.getElementById('checkpoints')
  if (list.length === 0) {
    box.replaceChildren(el('p', { class: 'muted' }, 'No checkpoint flows.'))
    return
  }
  const head = [
    { label: 'Flow' },
    { label: 'State' },
    { label: 'Topic' },
    { label: 'Groups', num: true },
    { label: 'Checkpoints', num: true },
    { label: 'Exact', num: true },
    { label: 'Fallback', num: true },
    { label: 'Group offsets synced', num: true },
    { label: 'Newest' }
  ]
  box.replaceChildren(
    table(
      'Checkpoints',
      head,
      list.map(c => ({
        class: c.ready ? undefined : 'row-bad',
        cells: [
          c.flow,
          {
            node: el('span', {}, stateBadge(c.state, c.ready), c.reason && c.state !== 'running' ? ' ' + c.reason : '')
          },
          c.checkpointsTopic,
          num(c.groups),
          num(c.checkpointsWritten),
          num(c.exact),
          num(c.fallback),
          num(c.groupOffsetsCommitted),
          c.lastEmitAt ? ago(c.lastEmitAt, now) : 'none yet'
        ]
      }))
    )
  )
}

function drawEmitters(report, now) {
  const list = report.heartbeats ?? []
  const box = document.getElementById('emitters')
  if (list.length === 0) {
    box.replaceChildren(el('p', { class: 'muted' }, 'No heartbeat emitters.'))
    return
  }
  const head = [
    { label: 'Flow' },
    { label: 'State' },
    { label: 'Writes to' },
    { label: 'Emitted', num: true },
    { label: 'Last' }
  ]
  box.replaceChildren(
    table(
      'Heartbeat emitters',
      head,
      list.map(h => ({
        class: h.ready ? undefined : 'row-bad',
        cells: [
          h.flow,
          {
            node: el('span', {}, stateBadge(h.state, h.ready), h.reason && h.state !== 'running' ? ' ' + h.reason : '')
          },
          `${h.topic} on ${h.cluster}`,
          num(h.emitted),
          ago(h.lastEmittedAt, now)
        ]
      }))
    )
  )
}

// ---- page ------------------------------------------------------------------------------------

function render(report) {
  const now = report.generatedAt
  const ready = document.getElementById('ready')
  ready.textContent = report.ready ? 'ready' : 'not ready'
  ready.className = `badge badge-${report.ready ? 'ok' : 'bad'}`
  const inst = report.instance ?? {}
  document.getElementById('instance').textContent =
    `${inst.id ?? ''} · v${inst.version ?? '?'} · up ${duration(inst.uptimeMs)}`
  document.getElementById('updated').textContent = `updated ${new Date(now).toLocaleTimeString()}`
  document.title = `${report.ready ? '' : '(not ready) '}kafka-mirror status`

  const nr = document.getElementById('not-ready')
  nr.hidden = (report.notReady ?? []).length === 0
  document
    .getElementById('not-ready-list')
    .replaceChildren(
      ...(report.notReady ?? []).map(r =>
        el('li', {}, `${r.component}${r.cluster ? ` (cluster ${r.cluster})` : ''}: ${r.state}: ${r.reason}`)
      )
    )

  const flows = document.getElementById('flows')
  const cards = (report.flows ?? []).map(f => flowCard(f, now))
  flows.replaceChildren(
    ...(cards.length > 0 ? cards : [el('p', { class: 'muted' }, 'This instance runs no replication flow.')])
  )
  drawGraph(report)
  drawCheckpoints(report, now)
  drawEmitters(report, now)
}

function banner(text) {
  const b = document.getElementById('banner')
  b.hidden = text === null
  b.textContent = text ?? ''
}

async function poll() {
  const abort = new AbortController()
  const timer = setTimeout(() => {
    abort.abort()
  }, POLL_MS * 2)
  try {
    const res = await fetch('/status', {
      cache: 'no-store',
      signal: abort.signal,
      headers: { accept: 'application/json' }
    })
    if (!res.ok) throw new Error(`/status answered ${res.status}`)
    const report = await res.json()
    lastReport = report
    remember(report)
    render(report)
    banner(null)
  } catch (err) {
    const since = lastReport
      ? ` (showing what it said at ${new Date(lastReport.generatedAt).toLocaleTimeString()})`
      : ''
    banner(
      `Cannot read /status: ${err && err.name === 'AbortError' ? 'no answer' : String(err && err.message ? err.message : err)}${since}`
    )
    document.getElementById('ready').className = 'badge badge-unknown'
  } finally {
    clearTimeout(timer)
    setTimeout(() => {
      poll()
    }, POLL_MS)
  }
}

poll()
