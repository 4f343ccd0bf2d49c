import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** True when the `openssl` CLI is on PATH (the TLS tests generate their certificates with it). */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface TestCert {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}

export interface CertOptions {
  cn: string;
  /** DNS subject alternative names (none: no SAN extension). */
  dns?: string[];
  days?: number;
  /** URI, email and IP subject alternative names (client certificates). */
  uris?: string[];
  emails?: string[];
  ips?: string[];
  /** Mark it for client authentication (extendedKeyUsage clientAuth), for mTLS tests. */
  client?: boolean;
  /** `openssl ca` dates (YYYYMMDDHHMMSSZ), for expired or not-yet-valid certificates. */
  startDate?: string;
  endDate?: string;
}

/** A throwaway CA in a temp dir issuing P-256 leaf certificates. */
export class TestCa {
  readonly dir = mkdtempSync(join(tmpdir(), 'sluice-tls-'));
  readonly caFile = join(this.dir, 'ca.pem');
  readonly ca: string;
  #serial = 1;

  /** `name`: the CA's CN; give CAs of one test distinct names (OpenSSL picks an issuer by name). */
  constructor(name = 'Sluice Test CA') {
    this.#openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(this.dir, 'ca.key'), '-out', this.caFile, '-subj', `/CN=${name}`, '-days', '2');
    this.ca = readFileSync(this.caFile, 'utf8');
  }

  #openssl(...args: string[]): void {
    execFileSync('openssl', args, { cwd: this.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  }

  /** Issue a leaf certificate; `file` names its files (`<file>.pem`, `<file>.key`) so tests can rewrite them. */
  issue(file: string, options: CertOptions): TestCert {
    const keyFile = join(this.dir, `${file}.key`);
    const certFile = join(this.dir, `${file}.pem`);
    const csr = join(this.dir, `${file}.csr`);
    const ext = join(this.dir, `${file}.ext`);
    const serial = String(this.#serial++).padStart(2, '0');
    this.#openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', `/CN=${options.cn}`);
    const names = [
      ...(options.dns ?? []).map((d) => `DNS:${d}`),
      ...(options.uris ?? []).map((u) => `URI:${u}`),
      ...(options.emails ?? []).map((e) => `email:${e}`),
      ...(options.ips ?? []).map((i) => `IP:${i}`),
    ];
    const san = (names.length === 0 ? '' : `subjectAltName = ${names.join(', ')}\n`) + (options.client === true ? 'extendedKeyUsage = clientAuth\n' : '');
    writeFileSync(ext, `[ext]\nbasicConstraints = CA:FALSE\n${san}`);
    if (options.startDate !== undefined || options.endDate !== undefined) {
      const db = join(this.dir, `${file}.db`);
      writeFileSync(db, '');
      writeFileSync(join(this.dir, `${file}.serial`), `${serial}\n`);
      const cnf = join(this.dir, `${file}.cnf`);
      writeFileSync(
        cnf,
        `[ca]\ndefault_ca = d\n[d]\ndatabase = ${db}\nnew_certs_dir = ${this.dir}\nserial = ${join(this.dir, `${file}.serial`)}\ndefault_md = sha256\npolicy = p\nunique_subject = no\n[p]\ncommonName = supplied\n${san === '' ? '[ext]\nbasicConstraints = CA:FALSE\n' : `[ext]\nbasicConstraints = CA:FALSE\n${san}`}`,
      );
      this.#openssl('ca', '-batch', '-config', cnf, '-cert', this.caFile, '-keyfile', join(this.dir, 'ca.key'), '-in', csr, '-out', certFile, '-notext', '-extensions', 'ext',
        '-startdate', options.startDate ?? '20200101000000Z', '-enddate', options.endDate ?? '20200102000000Z');
    } else {
      this.#openssl('x509', '-req', '-in', csr, '-CA', this.caFile, '-CAkey', join(this.dir, 'ca.key'), '-set_serial', serial, '-out', certFile, '-days', String(options.days ?? 2), '-extfile', ext, '-extensions', 'ext');
    }
    return { certFile, keyFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
  }

  /** Revoke a certificate this CA issued (recorded in the CA's database for `crl()`). */
  revoke(cert: TestCert): void {
    this.#openssl('ca', '-batch', '-config', this.#crlConfig(), '-revoke', cert.certFile);
  }

  /** A PEM CRL listing the certificates revoked so far (valid one day). */
  crl(): string {
    const out = join(this.dir, 'crl.pem');
    this.#openssl('ca', '-batch', '-config', this.#crlConfig(), '-gencrl', '-out', out);
    return readFileSync(out, 'utf8');
  }

  /** Minimal `openssl ca` setup (database, CRL number) created on first use. */
  #crlConfig(): string {
    const cnf = join(this.dir, 'crl.cnf');
    if (!existsSync(cnf)) {
      writeFileSync(join(this.dir, 'index.txt'), '');
      writeFileSync(join(this.dir, 'crlnumber'), '01\n');
      writeFileSync(
        cnf,
        `[ca]\ndefault_ca = d\n[d]\ndatabase = ${join(this.dir, 'index.txt')}\ncrlnumber = ${join(this.dir, 'crlnumber')}\n` +
          `certificate = ${this.caFile}\nprivate_key = ${join(this.dir, 'ca.key')}\ndefault_md = sha256\ndefault_crl_days = 1\n`,
      );
    }
    return cnf;
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
