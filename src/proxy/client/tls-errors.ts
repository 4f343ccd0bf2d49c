/**
 * Whether a socket error is a TLS failure with an https target (certificate not trusted, name
 * mismatch, expired, handshake alert such as "certificate required") rather than a network one.
 * These are configuration problems on one side or the other: reported as SLUICE_ERR_UPSTREAM_TLS,
 * not retried (another attempt would fail the same way).
 */
const VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_TLS_HANDSHAKE_TIMEOUT',
]);

export function isTlsError(code: string | undefined): boolean {
  if (code === undefined) return false;
  return VERIFY_CODES.has(code) || code.startsWith('ERR_SSL_');
}
