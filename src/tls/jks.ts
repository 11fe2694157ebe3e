/**
 * Reads Java KeyStore (JKS) files: trusted-certificate entries (plain DER certificates) and
 * private-key entries (key protected with Sun's SHA-1 keystream, plus its certificate chain).
 * The whole file is checked against its keyed SHA-1 digest first, so a wrong password is
 * reported as such. JCEKS files are read the same way as long as they hold no secret-key entries.
 */
import { createHash, createPrivateKey, timingSafeEqual, X509Certificate } from 'node:crypto'
import { children, expect, octets, readNode, TAG } from './der.ts'
import { StoreError } from './pkcs12.ts'

const JKS_MAGIC = 0xfeedfeed
const JCEKS_MAGIC = 0xcececece

export function isJks(file: Buffer): boolean {
  if (file.length < 4) return false
  const magic = file.readUInt32BE(0)
  return magic === JKS_MAGIC || magic === JCEKS_MAGIC
}

export interface JksContents {
  readonly trusted: string[]
  readonly keys: Array<{ alias: string; key: string; chain: string[] }>
}

function utf16be(password: string): Buffer {
  const b = Buffer.alloc(password.length * 2)
  for (let i = 0; i < password.length; i++) b.writeUInt16BE(password.charCodeAt(i), i * 2)
  return b
}

class Reader {
  pos = 0
  readonly buf: Buffer
  constructor(buf: Buffer) {
    this.buf = buf
  }
  need(n: number): void {
    if (this.pos + n > this.buf.length) throw new StoreError('not a readable Java keystore (truncated)')
  }
  u16(): number {
    this.need(2)
    const v = this.buf.readUInt16BE(this.pos)
    this.pos += 2
    return v
  }
  u32(): number {
    this.need(4)
    const v = this.buf.readUInt32BE(this.pos)
    this.pos += 4
    return v
  }
  bytes(n: number): Buffer {
    this.need(n)
    const v = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return v
  }
  utf(): string {
    return this.bytes(this.u16()).toString('utf8')
  }
}

/** Sun's KeyProtector: salt(20) | data XOR SHA-1 keystream | SHA-1(password | plaintext). */
function unprotectKey(encryptedInfo: Buffer, password: string): Buffer {
  const [, encrypted] = children(expect(readNode(encryptedInfo).node, TAG.SEQUENCE, 'encrypted private key').content)
  const protectedKey = octets(encrypted)
  if (protectedKey.length < 41) throw new StoreError('private key entry too short')
  const pw = utf16be(password)
  const salt = protectedKey.subarray(0, 20)
  const data = protectedKey.subarray(20, protectedKey.length - 20)
  const check = protectedKey.subarray(protectedKey.length - 20)
  const plain = Buffer.alloc(data.length)
  let digest = salt
  for (let i = 0; i < data.length; i += 20) {
    digest = createHash('sha1').update(pw).update(digest).digest()
    for (let j = 0; j < 20 && i + j < data.length; j++) plain[i + j] = (data[i + j] as number) ^ (digest[j] as number)
  }
  const actual = createHash('sha1').update(pw).update(plain).digest()
  if (!timingSafeEqual(actual, check))
    throw new StoreError('the key password does not open the private key in this Java keystore', true)
  return plain
}

/** Reads a JKS/JCEKS file. `keyPassword` (default: the store password) opens private keys. */
export function readJks(file: Buffer, password: string | undefined, keyPassword?: string): JksContents {
  const r = new Reader(file)
  const magic = r.u32()
  if (magic !== JKS_MAGIC && magic !== JCEKS_MAGIC) throw new StoreError('not a Java keystore (JKS)')
  const version = r.u32()
  if (version !== 1 && version !== 2) throw new StoreError(`Java keystore version ${version} is not supported`)
  const count = r.u32()
  const trusted: string[] = []
  const keys: JksContents['keys'] = []
  const cert = (): string => {
    if (version === 2) r.utf()
    return new X509Certificate(r.bytes(r.u32())).toString()
  }
  for (let i = 0; i < count; i++) {
    const tag = r.u32()
    const alias = r.utf()
    r.bytes(8) // creation time
    if (tag === 2) {
      trusted.push(cert())
    } else if (tag === 1) {
      const encrypted = r.bytes(r.u32())
      const chain: string[] = []
      for (let n = r.u32(); n > 0; n--) chain.push(cert())
      keys.push({ alias, key: encrypted.toString('base64'), chain })
    } else {
      throw new StoreError(
        'this Java keystore holds secret-key entries (JCEKS); only certificates and private keys can be read'
      )
    }
  }
  if (password !== undefined) {
    const body = file.subarray(0, r.pos)
    const expected = r.bytes(20)
    const actual = createHash('sha1').update(utf16be(password)).update('Mighty Aphrodite', 'utf8').update(body).digest()
    if (!timingSafeEqual(actual, expected))
      throw new StoreError('the password does not open this Java keystore (integrity check failed)', true)
  }
  // Keys are unprotected only after the integrity check, so a wrong password names the store first.
  const opened = keys.map(k => {
    const pkcs8 = unprotectKey(Buffer.from(k.key, 'base64'), keyPassword ?? password ?? '')
    const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })
      .export({ format: 'pem', type: 'pkcs8' })
      .toString()
    return { alias: k.alias, key, chain: k.chain }
  })
  return { trusted, keys: opened }
}
