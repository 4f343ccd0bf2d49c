import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

  constructor() {
    this.#openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(this.dir, 'ca.key'), '-out', this.caFile, '-subj', '/CN=Sluice Test CA', '-days', '2');
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
    const san = options.dns === undefined ? '' : `subjectAltName = ${options.dns.map((d) => `DNS:${d}`).join(', ')}\n`;
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

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
