import { createHash, createHmac } from 'node:crypto';

/** AWS credentials; `sessionToken` is present for temporary (STS / instance role) credentials. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignInput {
  method: string;
  url: string | URL;
  /** Headers to sign besides host/x-amz-date (names are lower-cased by the signer). */
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  region: string;
  service: string;
  credentials: AwsCredentials;
  /** Signing time; defaults to now. */
  date?: Date;
  /** Add `x-amz-content-sha256` (required by S3, optional elsewhere). */
  contentSha256?: boolean;
}

export interface SignedRequest {
  /** All headers to send, including host, x-amz-date and authorization. */
  headers: Record<string, string>;
  canonicalRequest: string;
  stringToSign: string;
  signature: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** `20150830T123600Z`: ISO 8601 basic format, as SigV4 requires. */
export function amzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** kSecret → kDate → kRegion → kService → kSigning. */
export function signingKey(secret: string, day: string, region: string, service: string): Buffer {
  const kDate = hmac(`AWS4${secret}`, day);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  return hmac(kService, 'aws4_request');
}

/** RFC 3986 encoding: encodeURIComponent leaves !'()* alone, SigV4 does not. */
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function canonicalPath(pathname: string): string {
  if (pathname === '') return '/';
  return pathname
    .split('/')
    .map((seg) => uriEncode(decodeURIComponent(seg)))
    .join('/');
}

function canonicalQuery(params: URLSearchParams): string {
  const pairs = [...params].map(([k, v]) => [uriEncode(k), uriEncode(v)] as const);
  pairs.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/** Trim values and collapse inner whitespace runs, as the canonical-headers rule says. */
function canonicalHeaders(headers: Record<string, string>): { block: string; signed: string } {
  const names = Object.keys(headers).sort();
  const block = names.map((n) => `${n}:${headers[n]!.trim().replace(/\s+/g, ' ')}\n`).join('');
  return { block, signed: names.join(';') };
}

/** Sign a request with AWS Signature Version 4 (header-based authorization). */
export function signRequest(input: SignInput): SignedRequest {
  const url = typeof input.url === 'string' ? new URL(input.url) : input.url;
  const stamp = amzDate(input.date ?? new Date());
  const day = stamp.slice(0, 8);
  const body = input.body ?? '';
  const payloadHash = sha256Hex(body);

  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.headers ?? {})) headers[k.toLowerCase()] = v;
  headers['host'] ??= url.host;
  headers['x-amz-date'] = stamp;
  if (input.credentials.sessionToken) headers['x-amz-security-token'] = input.credentials.sessionToken;
  if (input.contentSha256) headers['x-amz-content-sha256'] = payloadHash;

  const { block, signed } = canonicalHeaders(headers);
  const canonicalRequest = [
    input.method.toUpperCase(),
    canonicalPath(url.pathname),
    canonicalQuery(url.searchParams),
    block,
    signed,
    payloadHash,
  ].join('\n');
  const scope = `${day}/${input.region}/${input.service}/aws4_request`;
  const stringToSign = [ALGORITHM, stamp, scope, sha256Hex(canonicalRequest)].join('\n');
  const key = signingKey(input.credentials.secretAccessKey, day, input.region, input.service);
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');

  headers['authorization'] =
    `${ALGORITHM} Credential=${input.credentials.accessKeyId}/${scope}, SignedHeaders=${signed}, Signature=${signature}`;
  return { headers, canonicalRequest, stringToSign, signature };
}

/** Parse an Authorization header produced by {@link signRequest} (used to verify on a server). */
export function parseAuthorization(value: string): { credential: string; signedHeaders: string[]; signature: string } | undefined {
  const m = /^AWS4-HMAC-SHA256 Credential=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(value);
  if (!m) return undefined;
  return { credential: m[1]!, signedHeaders: m[2]!.split(';'), signature: m[3]! };
}
