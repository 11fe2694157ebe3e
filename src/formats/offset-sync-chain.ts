/**
 * The `kafka-mirror-prev-sync` record header our offset-sync writer adds to each OffsetSync record
 * (Java ignores headers, so key and value stay Java's bytes). It links a sync to the one written
 * before it for the same partition, in the same writer lifetime, and says where the contiguous run
 * of records that started at that previous sync ended:
 *
 *   value = ASCII "<prevUpstream> <prevDownstream> <runEndUpstream>"
 *
 * Meaning, for sync s2 with header (pu, pd, re): the previous sync written for this partition was
 * (pu -> pd); every record with upstream offset in [pu, re] was copied to pd + (upstream - pu)
 * (no gap on either side); no record with upstream offset in (re, s2.up) was copied. So a reader
 * that holds a sync s1 == (pu, pd) knows the exact mapping of every offset in [s1.up, s2.up].
 *
 * Invariants: absent on the first sync after a start or a reset of the partition; pu <= re < s2.up.
 * Decoding a malformed value returns undefined (the link is then unknown, never guessed).
 */
import { Buffer } from 'node:buffer'

export const PREV_SYNC_HEADER = 'kafka-mirror-prev-sync'

export interface SyncLink {
  readonly prevUpstream: bigint
  readonly prevDownstream: bigint
  /** Upstream offset of the last record of the contiguous run that began at the previous sync. */
  readonly runEndUpstream: bigint
}

export function encodeSyncLink(link: SyncLink): Buffer {
  return Buffer.from(`${link.prevUpstream} ${link.prevDownstream} ${link.runEndUpstream}`, 'ascii')
}

const LINK = /^(\d{1,19}) (\d{1,19}) (\d{1,19})$/

export function decodeSyncLink(value: Uint8Array | null | undefined): SyncLink | undefined {
  if (value === null || value === undefined) return undefined
  const m = LINK.exec(Buffer.from(value).toString('ascii'))
  if (m === null) return undefined
  const [prevUpstream, prevDownstream, runEndUpstream] = [
    BigInt(m[1] as string),
    BigInt(m[2] as string),
    BigInt(m[3] as string)
  ]
  if (runEndUpstream < prevUpstream) return undefined
  return { prevUpstream, prevDownstream, runEndUpstream }
}

/** The link among a record's headers (the last one wins if repeated), or undefined. */
export function findSyncLink(headers: ReadonlyArray<readonly [Uint8Array, Uint8Array | null]>): SyncLink | undefined {
  let link: SyncLink | undefined
  for (const [k, v] of headers) {
    if (Buffer.from(k).toString('utf8') === PREV_SYNC_HEADER) link = decodeSyncLink(v)
  }
  return link
}
