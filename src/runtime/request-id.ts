import { randomBytes } from 'node:crypto';

/**
 * Cheap unique ids for requests when no request-id plugin sets one: a random per-process prefix
 * and a counter, so generating one costs a string concat, not a random draw.
 */
const prefix = randomBytes(6).toString('hex');
let counter = 0;

export function nextRequestId(): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `${prefix}-${counter.toString(36)}`;
}
