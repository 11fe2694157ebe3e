/**
 * Says in plain words why a secured connection failed (untrusted certificate, host name
 * mismatch, client certificate refused, wrong SASL credentials, mechanism not enabled, TLS
 * against a plaintext port...) and which settings to look at. Built from error codes and
 * classes in the library's error tree; nothing from the request or the credentials is included.
 */
import { AuthenticationError, ProtocolError } from '@platformatic/kafka'
import { errorTree } from '../../util/error-tree.ts'

const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE'
])
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID'])
const TRUST_HINT = 'trust the cluster CA with ssl.truststore.* (properties) or tls.trustedCertificates (resource)'

function code(e: Error): string {
  const c = (e as { code?: unknown }).code
  return typeof c === 'string' ? c : ''
}

/** `host:port` of the failed connection, from the library's "Connection to host:port failed." */
export function failedAddress(err: unknown): string | undefined {
  for (const { error } of errorTree(err)) {
    const m = /Connection to (\S+?) (?:failed|timed out)/.exec(error.message)
    if (m?.[1] !== undefined) return m[1]
  }
  return undefined
}

export function explainSecurityFailure(err: unknown): string | undefined {
  for (const { error } of errorTree(err)) {
    const c = code(error)
    if (UNTRUSTED.has(c)) return `TLS: the broker's certificate is not trusted (${c}); ${TRUST_HINT}`
    if (EXPIRED.has(c)) return `TLS: the broker's certificate is not valid now (${c})`
    if (c === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      return `TLS: host name mismatch, the broker's certificate is not for the address connected to (${error.message}); connect by a name the certificate lists, or set ssl.endpoint.identification.algorithm to an empty value to skip the check`
    }
    if (/CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN/.test(c)) {
      return `TLS: the broker refused the client certificate (${c}); mutual TLS needs ssl.keystore.* (properties) or authentication type tls (resource) with a certificate the broker trusts`
    }
    if (
      c === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
      c === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' ||
      /TLS handshake failed/.test(error.message)
    ) {
      return 'TLS handshake failed: this listener does not seem to speak TLS (check security.protocol and the port)'
    }
    if (/Broker requires TLS/.test(error.message))
      return 'the listener requires TLS but security.protocol is PLAINTEXT or SASL_PLAINTEXT'
    if (error instanceof ProtocolError && (error as { apiId?: unknown }).apiId === 'UNSUPPORTED_SASL_MECHANISM') {
      return 'SASL: the broker does not enable this sasl.mechanism on this listener'
    }
    if (error instanceof AuthenticationError) {
      if (/suitable SASL mechanism/.test(error.message)) continue // its cause says which
      if (/provider threw/.test(error.message) && error.cause instanceof Error)
        return `SASL: cannot get credentials: ${error.cause.message}`
      const broker = [...errorTree(error)].map(e => e.error).find(e => e instanceof ProtocolError)
      const detail =
        broker !== undefined && !/^(SASL authentication failed\.?)?$/.test(broker.message) ? ` (${broker.message})` : ''
      return `SASL authentication failed: wrong username or password, unknown user, or rejected token${detail}`
    }
  }
  return undefined
}
