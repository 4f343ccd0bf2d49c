import type { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ClientAuthConfig } from '../config/schema/index.ts';
import type { ClientCertInfo } from '../runtime/context.ts';
import type { HeaderList } from '../runtime/headers.ts';

/** Subject alternative names by kind, from node's `subjectAltName` text ("DNS:a, URI:b, …"). */
export function parseSans(text: string | undefined): ClientCertInfo['sans'] {
  const sans = { dns: [] as string[], uri: [] as string[], email: [] as string[], ip: [] as string[] };
  if (text === undefined) return sans;
  // Values with separators in them are JSON-quoted by node: split only outside quotes.
  for (const entry of text.match(/[^,"]*(?:"(?:[^"\\]|\\.)*")?[^,]*/g) ?? []) {
    const trimmed = entry.trim();
    const colon = trimmed.indexOf(':');
    if (colon <= 0) continue;
    let value = trimmed.slice(colon + 1);
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        continue;
      }
    }
    switch (trimmed.slice(0, colon)) {
      case 'DNS': sans.dns.push(value); break;
      case 'URI': sans.uri.push(value); break;
      case 'email': sans.email.push(value); break;
      case 'IP Address': sans.ip.push(value); break;
    }
  }
  return sans;
}

/** Node gives DNs one attribute per line; one line reads better in headers, JSON and logs. */
export const oneLineDn = (dn: string): string => dn.split('\n').join(', ');

export function clientCertInfo(x509: X509Certificate): ClientCertInfo {
  return {
    subject: oneLineDn(x509.subject),
    issuer: oneLineDn(x509.issuer),
    sans: parseSans(x509.subjectAltName),
    fingerprint256: x509.fingerprint256,
    serial: x509.serialNumber.toUpperCase(),
    notAfter: new Date(x509.validTo).toISOString(),
  };
}

interface Verified {
  info: ClientCertInfo;
  x509: X509Certificate;
  /** URL-encoded PEM, built on first use (only when a listener forwards the certificate). */
  escaped?: string;
}

// One parse per connection: keep-alive requests on the same socket reuse it; the entry goes with the socket.
const cache = new WeakMap<Socket, Verified | null>();

function verifiedOf(socket: Socket): Verified | null {
  let entry = cache.get(socket);
  if (entry !== undefined) return entry;
  entry = null;
  const tls = socket as TLSSocket;
  // `authorized` is true only when a certificate was presented and verified against the CA/CRL.
  if (tls.authorized === true && typeof tls.getPeerX509Certificate === 'function') {
    const x509 = tls.getPeerX509Certificate();
    if (x509 !== undefined) entry = { info: clientCertInfo(x509), x509 };
  }
  cache.set(socket, entry);
  return entry;
}

/** The verified client certificate of a TLS connection, or undefined (none, or not verified). */
export function clientCertOf(socket: Socket): ClientCertInfo | undefined {
  return verifiedOf(socket)?.info;
}

/** Forwarded identity headers of a listener, resolved at listener build time. */
export interface ClientCertHeaders {
  /** Every configured name, lower case: removed from client requests whatever the certificate. */
  readonly strip: readonly string[];
  readonly subject: string | undefined;
  readonly fingerprint: string | undefined;
  readonly sans: string | undefined;
  readonly serial: string | undefined;
  readonly cert: string | undefined;
}

export function compileClientCertHeaders(auth: ClientAuthConfig | undefined): ClientCertHeaders | undefined {
  const f = auth?.forwardHeaders;
  if (f === undefined) return undefined;
  const lower = (n: string | undefined) => n?.toLowerCase();
  const compiled = { subject: lower(f.subject), fingerprint: lower(f.fingerprint), sans: lower(f.sans), serial: lower(f.serial), cert: lower(f.cert) };
  const strip = [...new Set(Object.values(compiled).filter((n): n is string => n !== undefined))];
  return strip.length === 0 ? undefined : { strip, ...compiled };
}

function sansText(sans: ClientCertInfo['sans']): string {
  const parts: string[] = [];
  for (const v of sans.dns) parts.push(`DNS:${v}`);
  for (const v of sans.uri) parts.push(`URI:${v}`);
  for (const v of sans.email) parts.push(`email:${v}`);
  for (const v of sans.ip) parts.push(`IP:${v}`);
  return parts.join(', ');
}

// Header values must not carry CR/LF/NUL (or other controls); DN and SAN text come from the certificate.
const safe = (v: string): string => v.replace(/[\x00-\x1f\x7f]/g, ' ');

/** Strip client-sent identity headers, then add the verified identity of the connection, if any. */
export function applyClientCertHeaders(headers: HeaderList, socket: Socket, names: ClientCertHeaders): void {
  for (const name of names.strip) headers.delete(name);
  const verified = verifiedOf(socket);
  if (verified === null) return;
  const { info } = verified;
  if (names.subject !== undefined) headers.add(names.subject, safe(info.subject));
  if (names.fingerprint !== undefined) headers.add(names.fingerprint, info.fingerprint256);
  if (names.serial !== undefined) headers.add(names.serial, info.serial);
  if (names.sans !== undefined) {
    const text = sansText(info.sans);
    if (text !== '') headers.add(names.sans, safe(text));
  }
  if (names.cert !== undefined) {
    verified.escaped ??= encodeURIComponent(verified.x509.toString());
    headers.add(names.cert, verified.escaped);
  }
}
