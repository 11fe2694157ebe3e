/**
 * OAUTHBEARER tokens for the client library's `sasl.token` provider, the way Kafka's own
 * OAuthBearerLoginCallbackHandler gets them (KIP-768): an OAuth 2 client-credentials request to
 * `sasl.oauthbearer.token.endpoint.url` (HTTP Basic client authentication, optional scope), or a
 * token read from a `file:` URL, or an unsecured JWT built from `unsecuredLoginStringClaim_sub`.
 * Tokens are cached and fetched again once 80% of their lifetime has passed, so every new
 * connection (and re-authentication) presents a valid token. Errors name the endpoint and the
 * HTTP status, never the client secret or the token.
 */
import { readFileSync } from 'node:fs'

// Not ESM imports: those would load undici at every start and in every copier thread (eslint.config.js says why).
const { request: httpRequest } = process.getBuiltinModule('node:http')
const { request: httpsRequest } = process.getBuiltinModule('node:https')

export type TokenProvider = () => Promise<string>

export interface ClientCredentials {
  readonly url: string
  readonly clientId: string
  readonly clientSecret: () => string
  readonly scope?: string | undefined
  readonly connectTimeoutMs: number
  readonly readTimeoutMs: number
  /** PEM CA certificates for an https endpoint (default: the system's). */
  readonly ca?: string | undefined
  /** False turns host name verification of an https endpoint off. */
  readonly verifyHostname?: boolean
}

interface Cached {
  readonly token: string
  readonly refreshAt: number
}

/** Seconds until expiry from the JWT's `exp` claim, if it has one. */
function jwtLifetimeMs(token: string): number | undefined {
  const payload = token.split('.')[1]
  if (payload === undefined) return undefined
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp
    return typeof exp === 'number' ? exp * 1000 - Date.now() : undefined
  } catch {
    return undefined
  }
}

function cachedProvider(fetchToken: () => Promise<{ token: string; lifetimeMs: number | undefined }>): TokenProvider {
  let cached: Cached | undefined
  let inFlight: Promise<string> | undefined
  return async () => {
    if (cached !== undefined && Date.now() < cached.refreshAt) return cached.token
    inFlight ??= fetchToken()
      .then(({ token, lifetimeMs }) => {
        const life = lifetimeMs ?? jwtLifetimeMs(token) ?? 60_000
        cached = { token, refreshAt: Date.now() + Math.max(0, life * 0.8) }
        return token
      })
      .finally(() => {
        inFlight = undefined
      })
    return await inFlight
  }
}

function formEncode(v: string): string {
  return encodeURIComponent(v).replace(/%20/g, '+')
}

async function post(
  url: URL,
  body: string,
  headers: Record<string, string>,
  opts: ClientCredentials
): Promise<{ status: number; text: string }> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest
  return await new Promise((resolve, reject) => {
    const tls = {
      ...(opts.ca === undefined ? {} : { ca: opts.ca }),
      ...(opts.verifyHostname === false ? { checkServerIdentity: () => undefined } : {})
    }
    const req = request(url, { method: 'POST', headers, timeout: opts.connectTimeoutMs, ...tls }, res => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => {
        text += d
      })
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, text })
      })
      res.on('error', reject)
    })
    req.setTimeout(opts.readTimeoutMs, () => {
      req.destroy(new Error(`no answer within ${opts.readTimeoutMs} ms`))
    })
    req.on('error', reject)
    req.end(body)
  })
}

/**
 * One provider per client identity and endpoint, shared by every client of the process: the
 * mirror opens many clients (per flow, role and task) and each would otherwise ask for its own
 * token, which loads the identity provider for nothing.
 */
const sharedProviders = new Map<string, TokenProvider>()

/** Client-credentials grant against a token endpoint. */
export function clientCredentialsProvider(opts: ClientCredentials): TokenProvider {
  const key = JSON.stringify([
    opts.url,
    opts.clientId,
    opts.scope ?? null,
    opts.ca ?? null,
    opts.verifyHostname ?? true
  ])
  let provider = sharedProviders.get(key)
  if (provider === undefined) {
    provider = newClientCredentialsProvider(opts)
    sharedProviders.set(key, provider)
  }
  return provider
}

function newClientCredentialsProvider(opts: ClientCredentials): TokenProvider {
  const url = new URL(opts.url)
  const where = `OAUTHBEARER token endpoint ${url.origin}${url.pathname}`
  return cachedProvider(async () => {
    const basic = Buffer.from(`${formEncode(opts.clientId)}:${formEncode(opts.clientSecret())}`).toString('base64')
    const body = `grant_type=client_credentials${opts.scope === undefined ? '' : `&scope=${formEncode(opts.scope)}`}`
    let answer: { status: number; text: string }
    try {
      answer = await post(
        url,
        body,
        {
          Authorization: `Basic ${basic}`,
          'Content-Type': 'application/x-www-form-urlencoded',
          Accept: 'application/json'
        },
        opts
      )
    } catch (err) {
      throw new Error(`${where}: request failed (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
    }
    let json: { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } = {}
    try {
      json = JSON.parse(answer.text) as typeof json
    } catch {
      /* reported below */
    }
    if (answer.status < 200 || answer.status >= 300) {
      // Only the OAuth error fields: a body could echo anything back.
      const reason =
        typeof json.error === 'string'
          ? `: ${json.error}${typeof json.error_description === 'string' ? ` (${json.error_description.slice(0, 200)})` : ''}`
          : ''
      throw new Error(`${where} answered HTTP ${answer.status}${reason} for client id "${opts.clientId}"`)
    }
    if (typeof json.access_token !== 'string' || json.access_token === '')
      throw new Error(`${where}: the answer has no access_token`)
    const expiresIn = typeof json.expires_in === 'number' ? json.expires_in * 1000 : undefined
    return { token: json.access_token, lifetimeMs: expiresIn }
  })
}

/** A token kept in a file (`sasl.oauthbearer.token.endpoint.url=file:///path`); re-read when it nears expiry. */
export function fileTokenProvider(path: string): TokenProvider {
  return cachedProvider(async () => {
    let token: string
    try {
      token = readFileSync(path, 'utf8').trim()
    } catch (err) {
      throw new Error(`OAUTHBEARER token file ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
    }
    return { token, lifetimeMs: undefined }
  })
}

/** An unsecured JWT (`alg: none`), as Kafka's OAuthBearerUnsecuredLoginCallbackHandler makes from JAAS options. */
export function unsecuredTokenProvider(
  subject: string,
  lifetimeSeconds: number,
  scope: string | undefined
): TokenProvider {
  return cachedProvider(async () => {
    const now = Math.floor(Date.now() / 1000)
    const part = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url')
    const claims: Record<string, unknown> = { sub: subject, iat: now, exp: now + lifetimeSeconds }
    if (scope !== undefined) claims['scope'] = scope.split(/\s+/).filter(s => s !== '')
    return { token: `${part({ alg: 'none' })}.${part(claims)}.`, lifetimeMs: lifetimeSeconds * 1000 }
  })
}
