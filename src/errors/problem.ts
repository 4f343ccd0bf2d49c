import type { GatewayError } from './gateway-error.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  instance: string;
  requestId: string;
}

/** RFC 9457 problem document for an error; internal details are never exposed. */
export function toProblem(error: GatewayError, instance: string, requestId: string): ProblemDocument {
  const problem: ProblemDocument = {
    type: `urn:sluice:error:${error.code}`,
    title: error.title,
    status: error.status,
    code: error.code,
    instance,
    requestId,
  };
  if (error.expose && error.detail !== undefined) problem.detail = error.detail;
  return problem;
}

export function problemBody(error: GatewayError, instance: string, requestId: string): string {
  return JSON.stringify(toProblem(error, instance, requestId));
}
