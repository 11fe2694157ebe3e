/**
 * Realistic JSON record values (`kafka-mirror bench` and the json-lz4 workload of
 * bench/side-by-side.bench.ts): order events of exactly `size` bytes
 * (ASCII), each an object with a dozen fields (ids, ISO timestamps, a nested customer, a nested
 * array of line items, totals, device, tags, a free-text note). Random ids and hashes do not
 * compress; field names, enum values, product names and the shape do, so Kafka's lz4 batches
 * come out about 3x smaller than the raw values. Seeded: every run gets the same payloads.
 */
const EVENT_TYPES = [
  'order.created',
  'order.paid',
  'order.shipped',
  'order.delivered',
  'order.cancelled',
  'cart.updated'
]
const SEGMENTS = ['retail', 'business', 'marketplace', 'staff']
const TIERS = ['none', 'silver', 'gold', 'platinum']
const COUNTRIES = [
  ['DE', 'Berlin', '10115'],
  ['FR', 'Lyon', '69002'],
  ['NL', 'Utrecht', '3511'],
  ['PL', 'Krakow', '30-001'],
  ['ES', 'Valencia', '46001'],
  ['IT', 'Torino', '10121']
] as const
const CHANNELS = ['web', 'ios', 'android', 'store', 'partner-api']
const PRODUCTS = [
  'Stainless steel water bottle 750 ml',
  'Merino wool running socks (3 pack)',
  'USB-C charging cable 2 m braided',
  'Ceramic pour-over coffee dripper',
  'Noise cancelling wireless headphones',
  'Organic cotton bath towel set',
  'Cast iron skillet 28 cm pre-seasoned',
  'LED desk lamp with wireless charger',
  'Waterproof hiking backpack 30 l',
  'Bamboo cutting board, large',
  'Mechanical keyboard, brown switches',
  'Yoga mat 6 mm non-slip',
  'Glass food storage containers (5)',
  'Smart plug with energy monitoring',
  'Insulated lunch box, navy'
]
const TAGS = ['promo-spring', 'newsletter', 'first-order', 'gift', 'express', 'loyalty', 'b2b', 'retargeting']
const WORDS = [
  'please',
  'leave',
  'the',
  'parcel',
  'with',
  'neighbour',
  'at',
  'number',
  'ring',
  'twice',
  'door',
  'code',
  'is',
  'on',
  'file',
  'deliver',
  'after',
  'six',
  'no',
  'plastic',
  'packaging',
  'thanks',
  'gift',
  'wrap',
  'requested'
]

const APP_VERSIONS = ['5.12.3', '5.12.4', '5.13.0']

function money(x: number): number {
  return Math.round(x * 100) / 100
}

function totals(items: ReadonlyArray<{ quantity: number; unitPrice: number; discount: number }>): {
  subtotal: number
  tax: number
  shipping: number
  grandTotal: number
} {
  const subtotal = money(items.reduce((sum, it) => sum + it.quantity * it.unitPrice * (1 - it.discount), 0))
  return { subtotal, tax: money(subtotal * 0.19), shipping: 4.95, grandTotal: money(subtotal * 1.19 + 4.95) }
}

/** The i-th order event, padded (its `note`) to exactly `size` bytes. */
export function orderEvent(i: number, size: number, random: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T
  const hex = (n: number): string => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('')
  const occurred = Date.UTC(2025, 2, 14) + i * 37
  const [country, city, postcode] = pick(COUNTRIES)
  const customer = 10_000 + Math.floor(random() * 90_000)
  const items = Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({
    sku: `SKU-${String(Math.floor(random() * 5000)).padStart(6, '0')}`,
    name: pick(PRODUCTS),
    quantity: 1 + Math.floor(random() * 4),
    unitPrice: money(5 + random() * 120),
    discount: random() < 0.7 ? 0 : 0.1
  }))
  const event = {
    eventId: `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`,
    eventType: pick(EVENT_TYPES),
    schemaVersion: 3,
    occurredAt: new Date(occurred).toISOString(),
    ingestedAt: new Date(occurred + Math.floor(random() * 900)).toISOString(),
    tenant: 'acme-eu',
    customer: {
      id: `cus_${customer}`,
      email: `user${customer}@example.com`,
      segment: pick(SEGMENTS),
      loyaltyTier: pick(TIERS),
      country
    },
    order: { id: `ord_${String(i).padStart(10, '0')}`, channel: pick(CHANNELS), currency: 'EUR', status: 'pending' },
    items,
    totals: totals(items),
    shippingAddress: { street: `Hauptstrasse ${1 + Math.floor(random() * 200)}`, city, postcode, country },
    device: { ip: `203.0.113.${Math.floor(random() * 256)}`, sessionId: hex(32), appVersion: pick(APP_VERSIONS) },
    traceId: hex(32),
    tags: TAGS.filter(() => random() < 0.25),
    note: ''
  }
  // Too long: fewer line items, then fewer tags; then the note's words fill it up to the size.
  while (JSON.stringify(event).length > size && (event.items.length > 1 || event.tags.length > 0)) {
    if (event.items.length > 1) event.items.pop()
    else event.tags.pop()
    event.totals = totals(event.items)
  }
  const base = JSON.stringify(event).length
  let note = ''
  while (base + note.length < size) note += (note === '' ? '' : ' ') + pick(WORDS)
  event.note = note.slice(0, size - base)
  const json = JSON.stringify(event)
  if (json.length !== size) throw new Error(`order event ${i}: ${json.length} bytes, wanted ${size}`)
  return json
}
