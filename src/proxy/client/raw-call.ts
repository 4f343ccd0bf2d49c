import { GatewayError, type ErrorCode } from '../../errors/index.ts';
import { prepareHead } from './request-head.ts';
import type { Connection } from './connection.ts';
import type { CallHandle, ResponseHandler, UpstreamCall } from './types.ts';

/** What a call needs from whoever currently holds it (the pool, or a connection through it). */
export interface CallOwner {
  abortCall(call: RawCall): void;
  resumeCall(call: RawCall): void;
}

/**
 * One request through the raw pool: the call, its prepared head, its progress flags, and the
 * handle given back to the caller. The one per-request allocation of the client besides buffers.
 */
export class RawCall implements CallHandle {
  readonly head: string;
  /** The request asked for `Connection: close`. */
  readonly closeAfter: boolean;
  /** Set once the caller has been told the outcome, or has aborted: no callbacks after this. */
  done = false;
  requestSent = false;
  responseStarted = false;
  /** Already retried once after a stale keep-alive connection failed. */
  retried = false;
  /** The connection running (or reserved for) this call. */
  conn: Connection | null = null;

  constructor(
    private readonly owner: CallOwner,
    readonly call: UpstreamCall,
    readonly handler: ResponseHandler,
  ) {
    const prepared = prepareHead(call);
    this.head = prepared.head;
    this.closeAfter = prepared.close;
  }

  abort(_reason?: Error): void {
    if (this.done) return;
    this.done = true;
    this.owner.abortCall(this);
  }

  resume(): void {
    if (!this.done) this.owner.resumeCall(this);
  }

  /** Report a failure (once). */
  fail(code: ErrorCode, detail: string, cause?: unknown): void {
    if (this.done) return;
    this.done = true;
    const error = new GatewayError(code, cause === undefined ? { detail } : { detail, cause });
    this.handler.onError(error, { requestSent: this.requestSent, responseStarted: this.responseStarted });
  }
}

/** Used with process.nextTick so that request() never calls back synchronously. */
export function failLater(call: RawCall, code: ErrorCode, detail: string): void {
  call.fail(code, detail);
}
