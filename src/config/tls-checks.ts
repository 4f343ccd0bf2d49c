import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { suggest, type ConfigIssue } from './issues.ts';
import type { SluiceConfig, TlsCertificateConfig } from './schema/index.ts';
import { trustIssues, trustShapeIssues } from './tls-trust-checks.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** The name a certificate goes by: its `name`, else `cert-<index>`. */
export function certificateName(cert: { name?: string | undefined }, index: number): string {
  return cert.name ?? `cert-${index}`;
}

/**
 * Why a serverName is not usable, or undefined: an exact host name (`api.example.com`) or a
 * one-label wildcard over at least two labels (`*.example.com`). Compared in lower case.
 */
export function serverNameProblem(raw: string): string | undefined {
  const name = raw.toLowerCase();
  const wildcard = name.startsWith('*.');
  const host = wildcard ? name.slice(2) : name;
  if (host.length === 0 || host.length > 253) return `invalid server name "${raw}"`;
  const labels = host.split('.');
  if (labels.some((l) => l.includes('*'))) return `invalid server name "${raw}": a wildcard must be the whole first label ("*.example.com")`;
  if (!labels.every((l) => LABEL.test(l))) return `invalid server name "${raw}": expected a host name such as "api.example.com" or "*.example.com"`;
  if (wildcard && labels.length < 2) return `invalid server name "${raw}": a wildcard needs at least two labels after "*." ("*.example.com")`;
  return undefined;
}

/** DNS names of a certificate's subject alternative names, lower case (the CN when it has none). */
export function certificateDnsNames(x509: X509Certificate): string[] {
  const names: string[] = [];
  for (const entry of (x509.subjectAltName ?? '').split(/,\s*/)) {
    if (!entry.startsWith('DNS:')) continue;
    let value = entry.slice(4);
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        continue;
      }
    }
    names.push(value.toLowerCase());
  }
  if (names.length > 0 || x509.subjectAltName !== undefined) return names;
  const cn = /^CN=(.*)$/m.exec(x509.subject)?.[1];
  return cn !== undefined && serverNameProblem(cn) === undefined ? [cn.toLowerCase()] : [];
}

/** The names a configured certificate serves: its serverNames, else its DNS SANs. */
export function effectiveServerNames(cert: { serverNames?: string[] | undefined }, x509: X509Certificate): string[] {
  return cert.serverNames !== undefined ? cert.serverNames.map((n) => n.toLowerCase()) : certificateDnsNames(x509);
}

/** Every certificate of a PEM bundle, leaf first; throws when there is none or one does not parse. */
export function parseCertificateChain(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (blocks === null) throw new Error('no "-----BEGIN CERTIFICATE-----" block found');
  return blocks.map((block) => new X509Certificate(block));
}

const shortError = (err: unknown): string => (err as Error).message.split('\n')[0]!;

/**
 * Listener TLS rules checkable before secrets are read: `tls` iff https, certificate names unique,
 * defaultCertificate known, serverNames well-formed, ciphers understood by OpenSSL.
 */
export function tlsShapeIssues(config: Obj): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  list(config.listeners).forEach((l, i) => {
    if (!isObj(l)) return;
    const base = `/listeners/${i}`;
    const https = l.protocol === 'https';
    if (https && l.tls === undefined) issues.push({ path: `${base}/tls`, message: 'missing required property "tls" (needed when protocol is "https")' });
    if (!https && l.tls !== undefined) issues.push({ path: `${base}/tls`, message: `tls is only used when protocol is "https" (protocol is "${String(l.protocol ?? 'http')}")` });
    if (!isObj(l.tls)) return;
    const tls = l.tls;
    const names = new Map<string, number>();
    list(tls.certificates).forEach((c, j) => {
      if (!isObj(c)) return;
      const cbase = `${base}/tls/certificates/${j}`;
      const name = certificateName({ name: typeof c.name === 'string' ? c.name : undefined }, j);
      const first = names.get(name);
      if (first !== undefined) issues.push({ path: c.name === undefined ? cbase : `${cbase}/name`, message: `duplicate certificate name "${name}" (first at ${base}/tls/certificates/${first})` });
      else names.set(name, j);
      list(c.serverNames).forEach((n, k) => {
        if (typeof n !== 'string') return;
        const problem = serverNameProblem(n);
        if (problem !== undefined) issues.push({ path: `${cbase}/serverNames/${k}`, message: problem });
      });
    });
    if (typeof tls.defaultCertificate === 'string' && names.size > 0 && !names.has(tls.defaultCertificate)) {
      issues.push({ path: `${base}/tls/defaultCertificate`, message: `unknown certificate "${tls.defaultCertificate}"${suggest(tls.defaultCertificate, names.keys())}` });
    }
    if (typeof tls.ciphers === 'string') {
      try {
        createSecureContext({ ciphers: tls.ciphers });
      } catch (err) {
        issues.push({ path: `${base}/tls/ciphers`, message: `invalid cipher list "${tls.ciphers}" (${shortError(err)})` });
      }
    }
  });
  issues.push(...trustShapeIssues(config));
  return issues;
}

/** The date part of an ISO time, for messages. */
const day = (d: Date): string => d.toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * Problems of one certificate whose cert and key are resolved PEM strings: parse, key match,
 * validity window at `now`. `base` is its JSON path. Returns the parsed leaf when usable.
 */
export function certificateIssues(
  cert: TlsCertificateConfig,
  base: string,
  now: number,
  issues: ConfigIssue[],
): X509Certificate | undefined {
  let chain: X509Certificate[];
  let key: KeyObject;
  let ok = true;
  try {
    chain = parseCertificateChain(String(cert.cert));
  } catch (err) {
    issues.push({ path: `${base}/cert`, message: `not a PEM certificate (${shortError(err)})` });
    chain = [];
    ok = false;
  }
  try {
    key = createPrivateKey(String(cert.key));
  } catch (err) {
    issues.push({ path: `${base}/key`, message: `not a PEM private key (${shortError(err)}); encrypted keys are not supported` });
    return undefined;
  }
  const leaf = chain[0];
  if (!ok || leaf === undefined) return undefined;
  if (key.type !== 'private' || !leaf.checkPrivateKey(key)) {
    issues.push({ path: `${base}/key`, message: `private key does not match the certificate (${leaf.subject.replace(/\n/g, ', ')})` });
    return undefined;
  }
  const from = new Date(leaf.validFrom);
  const to = new Date(leaf.validTo);
  if (to.getTime() < now) issues.push({ path: `${base}/cert`, message: `certificate expired on ${day(to)} (${leaf.subject.replace(/\n/g, ', ')})` });
  else if (from.getTime() > now) issues.push({ path: `${base}/cert`, message: `certificate is not valid before ${day(from)} (${leaf.subject.replace(/\n/g, ', ')})` });
  try {
    createSecureContext({ cert: String(cert.cert), key: String(cert.key) });
  } catch (err) {
    issues.push({ path: base, message: `certificate and key are not usable by TLS (${shortError(err)})` });
    return undefined;
  }
  return leaf;
}

/**
 * Certificate checks on a validated config whose secrets are resolved: each certificate parses, its
 * key matches, it is valid now, and no two certificates of a listener claim the same server name.
 */
export function tlsCertificateIssues(config: SluiceConfig, now = Date.now()): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  config.listeners.forEach((listener, i) => {
    if (listener.protocol !== 'https' || listener.tls === undefined) return;
    const claimed = new Map<string, number>();
    listener.tls.certificates.forEach((cert, j) => {
      const base = `/listeners/${i}/tls/certificates/${j}`;
      const leaf = certificateIssues(cert, base, now, issues);
      if (leaf === undefined) return;
      const explicit = cert.serverNames !== undefined;
      effectiveServerNames(cert, leaf).forEach((name, k) => {
        const first = claimed.get(name);
        if (first === undefined) claimed.set(name, j);
        else if (first !== j) {
          issues.push({
            path: explicit ? `${base}/serverNames/${k}` : `${base}/cert`,
            message: `server name "${name}"${explicit ? '' : ' (from the certificate\'s subject alternative names)'} is already claimed by /listeners/${i}/tls/certificates/${first}${explicit ? '' : '; set serverNames to choose'}`,
          });
        }
      });
    });
  });
  issues.push(...trustIssues(config, now));
  return issues;
}
