/**
 * Reads the certificates of a PKCS#12 file (RFC 7292), e.g. Strimzi's `ca.p12`, so Node's TLS
 * can trust them: Node takes a PKCS#12 file only as a client identity (`pfx` needs a key), not
 * as a truststore. The password is checked against the file's MAC first, so a wrong password is
 * reported as such rather than as garbage.
 *
 * Handles what openssl 3 and Java keytool 11+ write (PBES2 with PBKDF2 and AES-CBC, MAC with
 * HMAC-SHA-256) and the older 3DES scheme (pbeWithSHAAnd3-KeyTripleDES-CBC, SHA-1 MAC).
 * RC2-40 (openssl 1.x default for certificates) needs OpenSSL's legacy provider; it is reported
 * with what to do instead.
 */
import { createDecipheriv, createHash, createHmac, pbkdf2Sync, timingSafeEqual, X509Certificate } from 'node:crypto'
import { children, DerError, expect, integer, octets, oid, readNode, TAG } from './der.ts'
import type { DerNode } from './der.ts'

export class StoreError extends Error {
  /** True when the password did not open the store (MAC mismatch). */
  readonly wrongPassword: boolean
  constructor(message: string, wrongPassword = false) {
    super(message)
    this.wrongPassword = wrongPassword
  }
}

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  pbeSha3Des: '1.2.840.113549.1.12.1.3',
  pbeShaRc2_40: '1.2.840.113549.1.12.1.6',
  pbeShaRc2_128: '1.2.840.113549.1.12.1.5',
  pbmac1: '1.2.840.113549.1.5.14'
} as const

const HASHES: Readonly<Record<string, { name: string; block: number }>> = {
  '1.3.14.3.2.26': { name: 'sha1', block: 64 },
  '2.16.840.1.101.3.4.2.1': { name: 'sha256', block: 64 },
  '2.16.840.1.101.3.4.2.2': { name: 'sha384', block: 128 },
  '2.16.840.1.101.3.4.2.3': { name: 'sha512', block: 128 },
  '2.16.840.1.101.3.4.2.4': { name: 'sha224', block: 64 }
}
const HMAC_PRF: Readonly<Record<string, string>> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512'
}
const CIPHERS: Readonly<Record<string, { name: string; keyLength: number }>> = {
  '2.16.840.1.101.3.4.1.2': { name: 'aes-128-cbc', keyLength: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', keyLength: 24 },
  '2.16.840.1.101.3.4.1.42': { name: 'aes-256-cbc', keyLength: 32 },
  '1.2.840.113549.3.7': { name: 'des-ede3-cbc', keyLength: 24 }
}

/** The password as RFC 7292 wants it for its own KDF: UTF-16BE with a two-byte terminator. */
function bmpPassword(password: string): Buffer {
  if (password === '') return Buffer.alloc(0)
  const b = Buffer.alloc((password.length + 1) * 2)
  for (let i = 0; i < password.length; i++) b.writeUInt16BE(password.charCodeAt(i), i * 2)
  return b
}

/** RFC 7292 appendix B.2 key derivation (id 1 = key, 2 = IV, 3 = MAC key). */
export function pkcs12Kdf(
  hash: { name: string; block: number },
  password: string,
  salt: Buffer,
  id: number,
  iterations: number,
  length: number
): Buffer {
  const v = hash.block
  const repeatTo = (src: Buffer): Buffer => {
    if (src.length === 0) return Buffer.alloc(0)
    const out = Buffer.alloc(v * Math.ceil(src.length / v))
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length] as number
    return out
  }
  const D = Buffer.alloc(v, id)
  const I = Buffer.concat([repeatTo(salt), repeatTo(bmpPassword(password))])
  const out: Buffer[] = []
  let produced = 0
  while (produced < length) {
    let A = createHash(hash.name).update(D).update(I).digest()
    for (let r = 1; r < iterations; r++) A = createHash(hash.name).update(A).digest()
    out.push(A)
    produced += A.length
    const B = Buffer.alloc(v)
    for (let i = 0; i < v; i++) B[i] = A[i % A.length] as number
    for (let j = 0; j < I.length; j += v) {
      let carry = 1
      for (let k = v - 1; k >= 0; k--) {
        const sum = (I[j + k] as number) + (B[k] as number) + carry
        I[j + k] = sum & 0xff
        carry = sum >> 8
      }
    }
  }
  return Buffer.concat(out).subarray(0, length)
}

function checkMac(macData: DerNode, authSafe: Buffer, password: string): void {
  const [digestInfo, saltNode, iterNode] = children(macData.content)
  const [algId, digestNode] = children(expect(digestInfo, TAG.SEQUENCE, 'MAC digest info').content)
  const algOid = oid(children(expect(algId, TAG.SEQUENCE, 'MAC algorithm').content)[0])
  if (algOid === OID.pbmac1)
    throw new StoreError(
      'PKCS12 integrity scheme PBMAC1 is not supported; re-create the store with `openssl pkcs12 -export` defaults or Java keytool, or use PEM'
    )
  const hash = HASHES[algOid]
  if (hash === undefined) throw new StoreError(`PKCS12 MAC digest ${algOid} is not supported`)
  const salt = octets(saltNode)
  const iterations = iterNode === undefined ? 1 : integer(iterNode)
  const expected = octets(digestNode)
  const key = pkcs12Kdf(hash, password, salt, 3, iterations, createHash(hash.name).digest().length)
  const actual = createHmac(hash.name, key).update(authSafe).digest()
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    throw new StoreError('the password does not open this PKCS12 store (integrity check failed)', true)
  }
}

function decrypt(algorithm: DerNode, data: Buffer, password: string): Buffer {
  const [algOidNode, params] = children(expect(algorithm, TAG.SEQUENCE, 'encryption algorithm').content)
  const alg = oid(algOidNode)
  if (alg === OID.pbes2) {
    const [kdf, scheme] = children(expect(params, TAG.SEQUENCE, 'PBES2 parameters').content)
    const [kdfOid, kdfParams] = children(expect(kdf, TAG.SEQUENCE, 'key derivation').content)
    if (oid(kdfOid) !== OID.pbkdf2)
      throw new StoreError(`PKCS12 key derivation ${oid(kdfOid)} is not supported (only PBKDF2)`)
    const kp = children(expect(kdfParams, TAG.SEQUENCE, 'PBKDF2 parameters').content)
    const salt = octets(kp[0])
    const iterations = integer(kp[1])
    let prf = 'sha1'
    for (const extra of kp.slice(2)) {
      if (extra.tag === TAG.SEQUENCE) {
        const p = HMAC_PRF[oid(children(extra.content)[0])]
        if (p === undefined) throw new StoreError('PKCS12 PBKDF2 pseudo-random function is not supported')
        prf = p
      }
    }
    const [cipherOid, ivNode] = children(expect(scheme, TAG.SEQUENCE, 'cipher').content)
    const cipher = CIPHERS[oid(cipherOid)]
    if (cipher === undefined) throw new StoreError(`PKCS12 cipher ${oid(cipherOid)} is not supported`)
    const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, cipher.keyLength, prf)
    const d = createDecipheriv(cipher.name, key, octets(ivNode))
    return Buffer.concat([d.update(data), d.final()])
  }
  if (alg === OID.pbeSha3Des) {
    const [saltNode, iterNode] = children(expect(params, TAG.SEQUENCE, 'PBE parameters').content)
    const salt = octets(saltNode)
    const iterations = integer(iterNode)
    const sha1 = { name: 'sha1', block: 64 }
    const key = pkcs12Kdf(sha1, password, salt, 1, iterations, 24)
    const iv = pkcs12Kdf(sha1, password, salt, 2, iterations, 8)
    const d = createDecipheriv('des-ede3-cbc', key, iv)
    return Buffer.concat([d.update(data), d.final()])
  }
  if (alg === OID.pbeShaRc2_40 || alg === OID.pbeShaRc2_128) {
    throw new StoreError(
      "this PKCS12 store encrypts its certificates with RC2 (openssl 1.x default), which needs OpenSSL's legacy provider; re-export it with openssl 3 (`openssl pkcs12 -export`) or Java keytool, or trust the PEM certificate (ca.crt) instead"
    )
  }
  throw new StoreError(`PKCS12 encryption ${alg} is not supported`)
}

function certsFromSafeContents(safeContents: Buffer, out: string[]): void {
  for (const bag of children(expect(readNode(safeContents).node, TAG.SEQUENCE, 'safe contents').content)) {
    const [bagId, bagValue] = children(expect(bag, TAG.SEQUENCE, 'safe bag').content)
    if (oid(bagId) !== OID.certBag) continue
    const certBag = children(expect(bagValue, TAG.CONTEXT_0, 'bag value').content)[0]
    const [certId, certValue] = children(expect(certBag, TAG.SEQUENCE, 'certificate bag').content)
    if (oid(certId) !== OID.x509Certificate) continue
    const der = octets(children(expect(certValue, TAG.CONTEXT_0, 'certificate value').content)[0])
    out.push(new X509Certificate(der).toString())
  }
}

/** The PEM certificates in a PKCS12 file (trusted-certificate entries and certificate chains alike). */
export function pkcs12Certificates(file: Buffer, password: string | undefined): string[] {
  try {
    const pfx = children(expect(readNode(file).node, TAG.SEQUENCE, 'a PKCS12 file').content)
    const [version, authSafeInfo, macData] = pfx
    if (integer(version) !== 3) throw new StoreError('not a PKCS12 version 3 file')
    const [ctype, wrapped] = children(expect(authSafeInfo, TAG.SEQUENCE, 'content info').content)
    if (oid(ctype) !== OID.data) throw new StoreError('PKCS12 files signed with public keys are not supported')
    const authSafe = octets(children(expect(wrapped, TAG.CONTEXT_0, 'content').content)[0])
    if (macData !== undefined) {
      if (password === undefined) throw new StoreError('the store has a password but none was given', true)
      checkMac(macData, authSafe, password)
    }
    const certs: string[] = []
    for (const info of children(expect(readNode(authSafe).node, TAG.SEQUENCE, 'authenticated safe').content)) {
      const [type, content] = children(expect(info, TAG.SEQUENCE, 'content info').content)
      const inner = children(expect(content, TAG.CONTEXT_0, 'content').content)[0]
      const t = oid(type)
      if (t === OID.data) {
        certsFromSafeContents(octets(inner), certs)
      } else if (t === OID.encryptedData) {
        const [, encInfo] = children(expect(inner, TAG.SEQUENCE, 'encrypted data').content)
        const [, alg, encrypted] = children(expect(encInfo, TAG.SEQUENCE, 'encrypted content info').content)
        if (encrypted === undefined) continue
        if (password === undefined)
          throw new StoreError("the store's certificates are encrypted but no password was given", true)
        certsFromSafeContents(decrypt(alg as DerNode, octets(encrypted, [TAG.CONTEXT_0_PRIMITIVE]), password), certs)
      }
    }
    return certs
  } catch (err) {
    if (err instanceof StoreError) throw err
    if (err instanceof DerError) throw new StoreError(`not a readable PKCS12 file (${err.message})`)
    // A decrypt that fails its padding check after a good MAC: the file is damaged.
    throw new StoreError(`cannot read the PKCS12 file (${(err as Error).message})`)
  }
}
