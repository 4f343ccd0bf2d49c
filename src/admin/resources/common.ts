import { GatewayError, type ErrorCode } from '../../errors/index.ts';
import type { ConfigIssue } from '../../config/index.ts';
import type { AdminReply } from '../http/types.ts';

/** A problem+json reply for handler-level failures (config rejected, conflicts). */
export function problem(code: ErrorCode, detail: string, requestId: string, instance: string, errors?: ConfigIssue[]): AdminReply {
  const error = new GatewayError(code, { detail });
  return {
    status: error.status,
    contentType: 'application/problem+json',
    body: {
      type: `urn:sluice:error:${code}`,
      title: error.title,
      status: error.status,
      code,
      detail,
      instance,
      requestId,
      ...(errors === undefined ? {} : { errors }),
    },
  };
}

export function notFound(what: string): never {
  throw new GatewayError('SLUICE_ERR_ADMIN_NOT_FOUND', { detail: `${what} not found` });
}

export function conflict(detail: string): never {
  throw new GatewayError('SLUICE_ERR_ADMIN_CONFLICT', { detail });
}

type Named = { name?: unknown };

/** The named list at `key` of a config document (created when absent). */
export function namedList(document: Record<string, unknown>, key: string): Named[] {
  const list = document[key];
  if (Array.isArray(list)) return list as Named[];
  const created: Named[] = [];
  document[key] = created;
  return created;
}

export function findNamed<T extends Named>(list: T[] | undefined, name: string): T | undefined {
  return list?.find((item) => item.name === name);
}
