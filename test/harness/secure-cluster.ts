/**
 * Options for a harness cluster that has every kind of secured listener a Strimzi user meets,
 * next to the PLAINTEXT listener the test helpers use (so setup and read-back need no
 * credentials, while the mirror under test goes through the secured ones):
 *
 * - `SSL`      TLS, server certificate for localhost / 127.0.0.1 signed by the cluster CA
 * - `MTLS`     TLS with client certificates required (mutual TLS)
 * - `SASL_SSL` TLS + SASL: SCRAM-SHA-512, SCRAM-SHA-256, PLAIN and OAUTHBEARER (Kafka's
 *              unsecured-token validator: it checks `alg: none` JWTs for `sub` and `exp`)
 * - `BADNAME`  TLS with a certificate for another host name (hostname-mismatch tests)
 * - `SASL_PLAINTEXT` SASL without TLS: SCRAM-SHA-512 and PLAIN
 *
 * SCRAM users are written into the metadata log when storage is formatted (`--add-scram`).
 */
import type { ClusterOptions, KafkaCluster } from './cluster.ts'
import type { Pki } from './tls.ts'

export interface SecureUsers {
  readonly scram512: { readonly username: string; readonly password: string }
  readonly scram256: { readonly username: string; readonly password: string }
  readonly plain: { readonly username: string; readonly password: string }
}

/** Users and passwords every secure cluster of a run gets (test values, printed nowhere by the mirror). */
export const SECURE_USERS: SecureUsers = {
  scram512: { username: 'mirror-512', password: 'scram512-S3cret-value' },
  scram256: { username: 'mirror-256', password: 'scram256-S3cret-value' },
  plain: { username: 'mirror-plain', password: 'plain-S3cret-value' }
}

export function secureClusterOptions(name: string, pki: Pki, users: SecureUsers = SECURE_USERS): ClusterOptions {
  const broker = pki.issue(`${name}-broker`, { cn: 'localhost', san: 'DNS:localhost,IP:127.0.0.1' })
  const wrongName = pki.issue(`${name}-badname`, { cn: 'wrong-host.invalid', san: 'DNS:wrong-host.invalid' })
  const keystore = (l: string, ks: { p12: string; p12Password: string }): Record<string, string> => ({
    [`listener.name.${l}.ssl.keystore.type`]: 'PKCS12',
    [`listener.name.${l}.ssl.keystore.location`]: ks.p12,
    [`listener.name.${l}.ssl.keystore.password`]: ks.p12Password
  })
  const jaas = (module: string, opts = ''): string => `org.apache.kafka.common.security.${module} required${opts};`
  return {
    name,
    listeners: [
      { name: 'PLAINTEXT', protocol: 'PLAINTEXT' },
      { name: 'SSL', protocol: 'SSL' },
      { name: 'MTLS', protocol: 'SSL' },
      { name: 'SASL_SSL', protocol: 'SASL_SSL' },
      { name: 'BADNAME', protocol: 'SSL' },
      { name: 'SASL_PLAINTEXT', protocol: 'SASL_PLAINTEXT' }
    ],
    formatArgs: [
      '--add-scram',
      `SCRAM-SHA-512=[name=${users.scram512.username},password=${users.scram512.password}]`,
      '--add-scram',
      `SCRAM-SHA-256=[name=${users.scram256.username},password=${users.scram256.password}]`
    ],
    brokerConfig: {
      ...keystore('ssl', broker),
      ...keystore('mtls', broker),
      ...keystore('sasl_ssl', broker),
      ...keystore('badname', wrongName),
      'listener.name.mtls.ssl.client.auth': 'required',
      'listener.name.mtls.ssl.truststore.type': 'PEM',
      'listener.name.mtls.ssl.truststore.location': pki.ca.crt,
      'listener.name.sasl_ssl.sasl.enabled.mechanisms': 'SCRAM-SHA-512,SCRAM-SHA-256,PLAIN,OAUTHBEARER',
      'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config': jaas('scram.ScramLoginModule'),
      'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config': jaas('scram.ScramLoginModule'),
      'listener.name.sasl_ssl.plain.sasl.jaas.config': jaas(
        'plain.PlainLoginModule',
        ` user_${users.plain.username}="${users.plain.password}"`
      ),
      'listener.name.sasl_ssl.oauthbearer.sasl.jaas.config': jaas('oauthbearer.OAuthBearerLoginModule'),
      'listener.name.sasl_plaintext.sasl.enabled.mechanisms': 'SCRAM-SHA-512,PLAIN',
      'listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config': jaas('scram.ScramLoginModule'),
      'listener.name.sasl_plaintext.plain.sasl.jaas.config': jaas(
        'plain.PlainLoginModule',
        ` user_${users.plain.username}="${users.plain.password}"`
      )
    }
  }
}

/** An unsecured JWT (`alg: none`) as Kafka's unsecured OAUTHBEARER validator accepts it. */
export function unsecuredJwt(subject: string, lifetimeSeconds = 3600, extra: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000)
  const part = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url')
  return `${part({ alg: 'none' })}.${part({ sub: subject, iat: now, exp: now + lifetimeSeconds, ...extra })}.`
}

/** `127.0.0.1:port` of a secured listener. */
export function listenerAddress(
  cluster: KafkaCluster,
  listener: 'SSL' | 'MTLS' | 'SASL_SSL' | 'BADNAME' | 'SASL_PLAINTEXT'
): string {
  return cluster.bootstrap(listener)
}
