import { createHash, createPublicKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { errors as joseErrors, importSPKI, jwtVerify, type CryptoKey, type JWTPayload, type JWSHeaderParameters } from 'jose';
import type { AdminPrincipal, AdminRole } from './types.ts';

/** The auth part of the admin config (secrets already resolved to strings by the config loader). */
export interface AdminAuthConfig {
  tokens?: Array<{ name: string; role: AdminRole; token?: string | { file: string }; sha256?: string }>;
  jwt?: {
    secret?: string | { file: string };
    publicKey?: string | { file: string };
    issuer?: string;
    audience?: string;
    roleClaim?: string;
  };
}

/** Authenticated, or why not: 'unauthorized' → 401, 'forbidden' (valid JWT without a usable role) → 403. */
export type AuthResult =
  | { ok: true; principal: AdminPrincipal }
  | { ok: false; status: 401 | 403; detail: string; actor?: string };

const ROLE_RANK: Record<AdminRole, number> = { viewer: 0, operator: 1, admin: 2 };
const HMAC_ALGS = ['HS256', 'HS384', 'HS512'];
const CURVE_ALG: Record<string, string> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
/** Longest bearer value we bother hashing or parsing; anything longer is rejected outright. */
const MAX_CREDENTIAL = 16 * 1024;

export function isAdminRole(value: unknown): value is AdminRole {
  return value === 'viewer' || value === 'operator' || value === 'admin';
}

/** Whether `have` includes `need` (viewer < operator < admin). */
export function roleAllows(have: AdminRole, need: AdminRole): boolean {
  return ROLE_RANK[have] >= ROLE_RANK[need];
}

export function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function resolvedSecret(value: string | { file: string } | undefined, what: string): string | undefined {
  if (value === undefined) return undefined;
  // A `{ file }` here means the loader did not resolve it: fail loudly rather than run without this credential.
  if (typeof value !== 'string') throw new Error(`admin auth: ${what} is an unresolved secret reference`);
  return value;
}

interface TokenEntry { name: string; role: AdminRole; hash: Buffer }

function hashTokens(tokens: AdminAuthConfig['tokens']): TokenEntry[] {
  return (tokens ?? []).map((t, i) => {
    const clear = resolvedSecret(t.token, `tokens[${i}].token`);
    if (clear !== undefined) return { name: t.name, role: t.role, hash: sha256(clear) };
    if (t.sha256 !== undefined && /^[0-9a-f]{64}$/i.test(t.sha256)) return { name: t.name, role: t.role, hash: Buffer.from(t.sha256, 'hex') };
    throw new Error(`admin auth: tokens[${i}] (${t.name}) needs "token" or a 64-hex "sha256"`);
  });
}

/** Algorithms a PEM public key can verify: alg must match the key type, so a key is never misused. */
function asymmetricAlgs(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa': return ['RS256', 'RS384', 'RS512'];
    case 'rsa-pss': return ['PS256', 'PS384', 'PS512'];
    case 'ec': {
      const alg = CURVE_ALG[key.asymmetricKeyDetails?.namedCurve ?? ''];
      if (alg === undefined) throw new Error('admin auth: jwt.publicKey uses an unsupported EC curve');
      return [alg];
    }
    case 'ed25519': return ['EdDSA', 'Ed25519'];
    default: throw new Error(`admin auth: jwt.publicKey type ${key.asymmetricKeyType ?? 'unknown'} is not supported`);
  }
}

class JwtVerifier {
  readonly algorithms: string[];
  private readonly hmacKey: Uint8Array | undefined;
  private readonly pem: string | undefined;
  private readonly asymAlgs: ReadonlySet<string>;
  /** importSPKI binds a CryptoKey to one alg; imported lazily per alg and kept. */
  private readonly imported = new Map<string, Promise<CryptoKey>>();
  private readonly config: NonNullable<AdminAuthConfig['jwt']>;

  constructor(config: NonNullable<AdminAuthConfig['jwt']>) {
    this.config = config;
    const secret = resolvedSecret(config.secret, 'jwt.secret');
    this.pem = resolvedSecret(config.publicKey, 'jwt.publicKey');
    if (secret === undefined && this.pem === undefined) throw new Error('admin auth: jwt needs "secret" or "publicKey"');
    this.hmacKey = secret === undefined ? undefined : new TextEncoder().encode(secret);
    const asym = this.pem === undefined ? [] : asymmetricAlgs(createPublicKey(this.pem));
    this.asymAlgs = new Set(asym);
    this.algorithms = [...(secret === undefined ? [] : HMAC_ALGS), ...asym];
  }

  private async key(header: JWSHeaderParameters): Promise<CryptoKey | Uint8Array> {
    const alg = header.alg ?? '';
    if (this.hmacKey !== undefined && HMAC_ALGS.includes(alg)) return this.hmacKey;
    if (this.pem === undefined || !this.asymAlgs.has(alg)) throw new joseErrors.JOSEAlgNotAllowed('alg not allowed');
    let key = this.imported.get(alg);
    if (key === undefined) {
      key = importSPKI(this.pem, alg);
      this.imported.set(alg, key);
    }
    return key;
  }

  async verify(token: string): Promise<AuthResult> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, (header) => this.key(header), {
        algorithms: this.algorithms,
        requiredClaims: ['exp'],
        ...(this.config.issuer === undefined ? {} : { issuer: this.config.issuer }),
        ...(this.config.audience === undefined ? {} : { audience: this.config.audience }),
      }));
    } catch (error) {
      return { ok: false, status: 401, detail: jwtFailure(error) };
    }
    const name = typeof payload.sub === 'string' && payload.sub !== '' ? payload.sub : 'jwt';
    const role = payload[this.config.roleClaim ?? 'role'];
    // Authentic but without a usable role: the caller is known, just not allowed anything (403, not 401).
    if (!isAdminRole(role)) return { ok: false, status: 403, detail: 'token carries no valid role claim', actor: name };
    return { ok: true, principal: { name, role, via: 'jwt' } };
  }
}

/** A fixed, token-free reason: jose messages are safe, but our own wording keeps the surface small. */
function jwtFailure(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'token expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `token claim "${error.claim}" rejected`;
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'token algorithm not allowed';
  return 'invalid token';
}

/** Config defaulting may leave `jwt: { roleClaim: 'role' }`; that alone does not enable JWT. */
function jwtConfigured(jwt: AdminAuthConfig['jwt']): jwt is NonNullable<AdminAuthConfig['jwt']> {
  if (jwt === undefined) return false;
  return jwt.secret !== undefined || jwt.publicKey !== undefined || jwt.issuer !== undefined || jwt.audience !== undefined;
}

/** Verifies admin credentials. Built once per config (tokens hashed here; clear values are not kept). */
export class AdminAuthenticator {
  /** Whether any credential is configured; without one every caller is the anonymous admin. */
  readonly configured: boolean;
  private readonly tokens: TokenEntry[];
  private readonly jwt: JwtVerifier | undefined;

  constructor(config: AdminAuthConfig) {
    this.tokens = hashTokens(config.tokens);
    this.jwt = jwtConfigured(config.jwt) ? new JwtVerifier(config.jwt) : undefined;
    this.configured = this.tokens.length > 0 || this.jwt !== undefined;
  }

  async authenticate(authorization: string | undefined): Promise<AuthResult> {
    if (!this.configured) return { ok: true, principal: { name: 'anonymous', role: 'admin', via: 'anonymous' } };
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '');
    if (match === null) return { ok: false, status: 401, detail: 'missing bearer token' };
    const credential = match[1]!;
    if (credential.length > MAX_CREDENTIAL) return { ok: false, status: 401, detail: 'invalid token' };
    const token = this.matchToken(credential);
    if (token !== undefined) return { ok: true, principal: { name: token.name, role: token.role, via: 'token' } };
    if (this.jwt !== undefined && JWT_SHAPE.test(credential)) return this.jwt.verify(credential);
    return { ok: false, status: 401, detail: 'invalid token' };
  }

  /** Compares the hash against every entry (no early exit) in constant time per entry. */
  private matchToken(credential: string): TokenEntry | undefined {
    const hash = sha256(credential);
    let found: TokenEntry | undefined;
    for (const entry of this.tokens) {
      if (timingSafeEqual(hash, entry.hash) && found === undefined) found = entry;
    }
    return found;
  }
}
