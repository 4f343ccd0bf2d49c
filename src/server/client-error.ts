import type { Socket } from 'node:net';
import { GatewayError, PROBLEM_CONTENT_TYPE, problemBody, type ErrorCode } from '../errors/index.ts';
import { nextRequestId } from '../runtime/request-id.ts';

/** Map node:http parser/timeout errors to our codes. */
function codeFor(error: NodeJS.ErrnoException): ErrorCode {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return 'SLUICE_ERR_HEADERS_TOO_LARGE';
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 'SLUICE_ERR_REQUEST_TIMEOUT';
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'HPE_INVALID_TRANSFER_ENCODING':
    case 'HPE_INVALID_CHUNK_SIZE':
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_LF_EXPECTED':
    case 'HPE_CR_EXPECTED':
      return 'SLUICE_ERR_AMBIGUOUS_FRAMING';
    default:
      return 'SLUICE_ERR_BAD_REQUEST';
  }
}

/**
 * Replaces node:http's bare "400 Bad Request" for requests its parser rejects (bad framing, bare
 * LF, control characters, oversized head, header timeout) with a problem+json body, then closes.
 */
export function handleClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent === true) {
    socket.destroy();
    return;
  }
  const gatewayError = new GatewayError(codeFor(error), { detail: error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'request not received in time' : 'malformed request' });
  const body = problemBody(gatewayError, '', nextRequestId());
  const head =
    `HTTP/1.1 ${gatewayError.status} ${gatewayError.title}\r\n` +
    `content-type: ${PROBLEM_CONTENT_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n`;
  socket.end(head + body);
  socket.destroySoon?.();
}
