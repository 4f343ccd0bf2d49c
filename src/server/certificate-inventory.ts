import type { SluiceConfig } from '../config/schema/index.ts';
import { certificateName, effectiveServerNames, parseCertificateChain } from '../config/tls-checks.ts';
import type { ClientCertInfo } from '../runtime/context.ts';
import { oneLineDn, parseSans } from './client-cert.ts';

/** One served certificate as the admin API and the expiry gauge show it (never key material). */
export interface CertificateDetails {
  listener: string;
  name: string;
  serverNames: string[];
  isDefault: boolean;
  subject: string;
  issuer: string;
  sans: ClientCertInfo['sans'];
  serial: string;
  fingerprint256: string;
  /** ISO 8601. */
  notBefore: string;
  notAfter: string;
  /** Unix seconds, for the gauges. */
  notBeforeSeconds: number;
  notAfterSeconds: number;
}

// Parsed once per applied config (the config object is frozen for its snapshot's life), not per scrape.
const cache = new WeakMap<SluiceConfig, readonly CertificateDetails[]>();

/**
 * The certificates the https listeners of a validated config (secrets resolved) serve. Computed
 * from the config rather than from live listeners so that a multi-process primary, which binds no
 * listener, reports the same as its workers.
 */
export function certificateInventory(config: SluiceConfig): readonly CertificateDetails[] {
  let out = cache.get(config);
  if (out !== undefined) return out;
  const list: CertificateDetails[] = [];
  for (const listener of config.listeners) {
    const tls = listener.tls;
    if (listener.protocol !== 'https' || tls === undefined) continue;
    const defaultName = tls.defaultCertificate ?? certificateName(tls.certificates[0] ?? {}, 0);
    tls.certificates.forEach((cert, index) => {
      const leaf = parseCertificateChain(String(cert.cert))[0]!;
      const name = certificateName(cert, index);
      const from = new Date(leaf.validFrom);
      const to = new Date(leaf.validTo);
      list.push({
        listener: listener.name,
        name,
        serverNames: effectiveServerNames(cert, leaf),
        isDefault: name === defaultName,
        subject: oneLineDn(leaf.subject),
        issuer: oneLineDn(leaf.issuer),
        sans: parseSans(leaf.subjectAltName),
        serial: leaf.serialNumber.toUpperCase(),
        fingerprint256: leaf.fingerprint256,
        notBefore: from.toISOString(),
        notAfter: to.toISOString(),
        notBeforeSeconds: Math.floor(from.getTime() / 1000),
        notAfterSeconds: Math.floor(to.getTime() / 1000),
      });
    });
  }
  out = Object.freeze(list);
  cache.set(config, out);
  return out;
}
