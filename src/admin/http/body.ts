import type { IncomingMessage } from 'node:http';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { GatewayError } from '../../errors/index.ts';

/** One validation error: a JSON Pointer into the body (or the query, with `in: 'query'`) and why. */
export interface ValidationIssue {
  path: string;
  message: string;
  in?: 'query';
}

export type Validator = (value: unknown) => ValidationIssue[];

/** Enough to fix a request; a pathological document does not get a megabyte of errors back. */
const MAX_ISSUES = 100;
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** Compiled once per route (setRoutes), never per request. */
export function compileValidator(schema: TSchema): Validator {
  const check = TypeCompiler.Compile(schema);
  return (value) => {
    if (check.Check(value)) return [];
    const issues: ValidationIssue[] = [];
    const seen = new Set<string>();
    for (const error of check.Errors(value)) {
      // TypeBox reports a missing property and then its type mismatch at the same path: keep the first.
      if (seen.has(error.path)) continue;
      seen.add(error.path);
      issues.push({ path: error.path, message: error.message });
      if (issues.length >= MAX_ISSUES) break;
    }
    return issues;
  };
}

export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

function tooLarge(limit: number): GatewayError {
  // Connection: close so the rest of an oversized body is not read (drained) on a keep-alive socket.
  return new GatewayError('SLUICE_ERR_ADMIN_PAYLOAD_TOO_LARGE', { detail: `body exceeds ${limit} bytes`, headers: { connection: 'close' } });
}

function collect(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', (error) => reject(new GatewayError('SLUICE_ERR_CLIENT_ABORTED', { cause: error })));
  });
}

/** The request's JSON body, or undefined when it has none. Throws 415, 413 or 400 problems. */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  if (!hasBody(req)) return undefined;
  if (!JSON_TYPE.test(req.headers['content-type'] ?? '')) {
    throw new GatewayError('SLUICE_ERR_ADMIN_VALIDATION', { status: 415, detail: 'body must be application/json', headers: { connection: 'close' } });
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw tooLarge(limit);
  const raw = await collect(req, limit);
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new GatewayError('SLUICE_ERR_ADMIN_VALIDATION', { detail: 'body is not valid JSON' });
  }
}

/** Query parameters as an object of strings (a repeated key keeps its last value). */
export function queryObject(query: URLSearchParams): Record<string, string> {
  // Null prototype: a `__proto__` key is plain data here.
  const out = Object.create(null) as Record<string, string>;
  for (const [key, value] of query) out[key] = value;
  return out;
}
