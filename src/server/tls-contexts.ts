import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import { certificateName, effectiveServerNames, parseCertificateChain } from '../config/tls-checks.ts';
import type { TlsConfig } from '../config/schema/index.ts';

/** What a listener serves, per certificate (for the admin API and the expiry metric). */
export interface CertificateInfo {
  name: string;
  /** Names this certificate is chosen for (exact or `*.` wildcard), lower case. */
  serverNames: string[];
  /** Served when no name matches or the client sends no SNI. */
  isDefault: boolean;
  subject: string;
  issuer: string;
  fingerprint256: string;
  /** ISO 8601. */
  validFrom: string;
  validTo: string;
}

interface Entry {
  info: CertificateInfo;
  context: SecureContext;
  options: SecureContextOptions;
}

const oneLine = (dn: string): string => dn.split('\n').join(', ');

/**
 * A listener's certificates and the SNI choice between them: exact name, then a one-label wildcard
 * (`*.example.com` serves `api.example.com`, not `a.b.example.com` nor `example.com`), then the
 * default. Built from a validated config with resolved secrets; immutable (a reload builds a new one).
 */
export class SniContexts {
  readonly #exact = new Map<string, Entry>();
  readonly #wildcard = new Map<string, Entry>();
  readonly #entries: Entry[] = [];
  readonly #default: Entry;
  readonly #verify: { requestCert: boolean; rejectUnauthorized: boolean };

  constructor(config: TlsConfig) {
    const minVersion = config.minVersion ?? 'TLSv1.2';
    const auth = config.clientAuth;
    // Client-certificate trust goes into every context: the SNI-selected one verifies the peer.
    const trust: SecureContextOptions =
      auth === undefined ? {} : { ca: String(auth.ca), ...(auth.crl === undefined ? {} : { crl: String(auth.crl) }) };
    this.#verify = { requestCert: auth !== undefined, rejectUnauthorized: auth?.mode !== 'optional' };
    config.certificates.forEach((cert, index) => {
      const pem = String(cert.cert);
      const key = String(cert.key);
      const leaf = parseCertificateChain(pem)[0]!;
      const name = certificateName(cert, index);
      const options: SecureContextOptions = { cert: pem, key, minVersion, ...trust, ...(config.ciphers === undefined ? {} : { ciphers: config.ciphers }) };
      const serverNames = effectiveServerNames(cert, leaf);
      const entry: Entry = {
        context: createSecureContext(options),
        options,
        info: {
          name,
          serverNames,
          isDefault: false,
          subject: oneLine(leaf.subject),
          issuer: oneLine(leaf.issuer),
          fingerprint256: leaf.fingerprint256,
          validFrom: new Date(leaf.validFrom).toISOString(),
          validTo: new Date(leaf.validTo).toISOString(),
        },
      };
      this.#entries.push(entry);
      for (const serverName of serverNames) {
        const target = serverName.startsWith('*.') ? this.#wildcard : this.#exact;
        const key = serverName.startsWith('*.') ? serverName.slice(2) : serverName;
        if (!target.has(key)) target.set(key, entry); // validation rejects clashes; first wins regardless
      }
    });
    const wanted = config.defaultCertificate;
    this.#default = this.#entries.find((e) => e.info.name === wanted) ?? this.#entries[0]!;
    this.#default.info.isDefault = true;
  }

  /** The context for a ClientHello's server name ('' or undefined: none sent). */
  select(servername: string | undefined): SecureContext {
    return this.entryFor(servername).context;
  }

  /** Name of the certificate chosen for a server name. */
  nameFor(servername: string | undefined): string {
    return this.entryFor(servername).info.name;
  }

  private entryFor(servername: string | undefined): Entry {
    if (servername === undefined || servername === '') return this.#default;
    const name = servername.toLowerCase().replace(/\.$/, '');
    const exact = this.#exact.get(name);
    if (exact !== undefined) return exact;
    const dot = name.indexOf('.');
    if (dot > 0) {
      const wildcard = this.#wildcard.get(name.slice(dot + 1));
      if (wildcard !== undefined) return wildcard;
    }
    return this.#default;
  }

  /**
   * Options for the server's own (default) context, used when the client sends no SNI, plus the
   * client-certificate policy (`requestCert`/`rejectUnauthorized`, which setSecureContext also
   * applies to new connections on reload).
   */
  defaultOptions(): SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean } {
    return { ...this.#default.options, ...this.#verify };
  }

  certificates(): CertificateInfo[] {
    return this.#entries.map((e) => ({ ...e.info, serverNames: [...e.info.serverNames] }));
  }
}
