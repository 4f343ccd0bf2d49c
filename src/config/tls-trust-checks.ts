import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import type { ConfigIssue } from './issues.ts';
import type { SluiceConfig } from './schema/index.ts';

/**
 * Checks of trust material beyond the served certificates: client-certificate CAs and CRLs of
 * listeners (mTLS), and CA bundles and client certificates of upstreams. Run on a config whose
 * secrets are resolved, so a bad PEM is reported at its JSON path before anything is swapped.
 */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const shortError = (err: unknown): string => (err as Error).message.split('\n')[0]!;
const oneLine = (dn: string): string => dn.replace(/\n/g, ', ');
const day = (d: Date): string => d.toISOString().replace(/\.\d+Z$/, 'Z');

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const CRL_BLOCK = /-----BEGIN X509 CRL-----[\s\S]+?-----END X509 CRL-----/g;

/** A PEM CA bundle: at least one certificate, each parsing, each a CA that is valid now. */
export function caBundleIssues(pem: string, path: string, now: number, issues: ConfigIssue[]): void {
  const blocks = pem.match(CERT_BLOCK);
  if (blocks === null) {
    issues.push({ path, message: 'not a PEM CA bundle (no "-----BEGIN CERTIFICATE-----" block found)' });
    return;
  }
  blocks.forEach((block, i) => {
    let x509: X509Certificate;
    try {
      x509 = new X509Certificate(block);
    } catch (err) {
      issues.push({ path, message: `certificate #${i + 1} of the bundle does not parse (${shortError(err)})` });
      return;
    }
    const to = new Date(x509.validTo);
    if (to.getTime() < now) issues.push({ path, message: `CA certificate #${i + 1} expired on ${day(to)} (${oneLine(x509.subject)})` });
  });
  try {
    createSecureContext({ ca: pem });
  } catch (err) {
    issues.push({ path, message: `CA bundle not usable by TLS (${shortError(err)})` });
  }
}

/** A PEM CRL (one or more): each block accepted by OpenSSL together with its CA bundle. */
export function crlIssues(crl: string, ca: string, path: string, issues: ConfigIssue[]): void {
  if (crl.match(CRL_BLOCK) === null) {
    issues.push({ path, message: 'not a PEM CRL (no "-----BEGIN X509 CRL-----" block found)' });
    return;
  }
  try {
    createSecureContext({ ca, crl });
  } catch (err) {
    issues.push({ path, message: `CRL not usable by TLS (${shortError(err)})` });
  }
}

/** An optional client certificate + key pair (upstream mTLS): parse, match, valid now. */
function clientPairIssues(cert: string, key: string, base: string, now: number, issues: ConfigIssue[]): void {
  const block = cert.match(CERT_BLOCK)?.[0];
  let x509: X509Certificate | undefined;
  try {
    if (block === undefined) throw new Error('no "-----BEGIN CERTIFICATE-----" block found');
    x509 = new X509Certificate(block);
  } catch (err) {
    issues.push({ path: `${base}/cert`, message: `not a PEM certificate (${shortError(err)})` });
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    issues.push({ path: `${base}/key`, message: `not a PEM private key (${shortError(err)}); encrypted keys are not supported` });
    return;
  }
  if (x509 === undefined) return;
  if (!x509.checkPrivateKey(privateKey)) {
    issues.push({ path: `${base}/key`, message: `private key does not match the certificate (${oneLine(x509.subject)})` });
    return;
  }
  const to = new Date(x509.validTo);
  if (to.getTime() < now) issues.push({ path: `${base}/cert`, message: `certificate expired on ${day(to)} (${oneLine(x509.subject)})` });
}

/** Trust material of listeners' clientAuth and upstreams' tls (secrets resolved). */
export function trustIssues(config: SluiceConfig, now: number): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  config.listeners.forEach((listener, i) => {
    const auth = listener.tls?.clientAuth;
    if (listener.protocol !== 'https' || auth === undefined) return;
    const base = `/listeners/${i}/tls/clientAuth`;
    caBundleIssues(String(auth.ca), `${base}/ca`, now, issues);
    if (auth.crl !== undefined) crlIssues(String(auth.crl), String(auth.ca), `${base}/crl`, issues);
  });
  (config.upstreams ?? []).forEach((upstream, i) => {
    const tls = upstream.tls;
    if (tls === undefined) return;
    const base = `/upstreams/${i}/tls`;
    if (tls.ca !== undefined) caBundleIssues(String(tls.ca), `${base}/ca`, now, issues);
    if (tls.cert !== undefined && tls.key !== undefined) clientPairIssues(String(tls.cert), String(tls.key), base, now, issues);
  });
  return issues;
}

/** Rules checkable before secrets are read: an upstream client certificate comes with its key. */
export function trustShapeIssues(config: Obj): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  list(config.upstreams).forEach((u, i) => {
    if (!isObj(u) || !isObj(u.tls)) return;
    const base = `/upstreams/${i}/tls`;
    if (u.tls.cert !== undefined && u.tls.key === undefined) issues.push({ path: `${base}/key`, message: 'missing required property "key" (needed with "cert")' });
    if (u.tls.key !== undefined && u.tls.cert === undefined) issues.push({ path: `${base}/cert`, message: 'missing required property "cert" (needed with "key")' });
  });
  return issues;
}
