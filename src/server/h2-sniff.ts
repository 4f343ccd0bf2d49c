import type { Socket } from 'node:net';

/** The HTTP/2 client connection preface (RFC 9113 §3.4). */
export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * How far `bytes` agree with the preface: 'h2' once all 24 bytes match, 'http1' at the first byte
 * that differs, 'more' while every byte so far matches. Never looks past 24 bytes.
 */
export function classifyPreface(bytes: Buffer): 'h2' | 'http1' | 'more' {
  const n = Math.min(bytes.length, H2_PREFACE.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== H2_PREFACE[i]) return 'http1';
  return n === H2_PREFACE.length ? 'h2' : 'more';
}

/**
 * Reads a fresh cleartext connection's first bytes to tell HTTP/2 prior knowledge (h2c) from
 * HTTP/1.1 on the same port, then puts the bytes back and calls `decided` with the socket paused.
 * An HTTP/1.1 request is told apart by its first byte (no method starts "PRI "); an h2 client sends
 * all 24 preface bytes at once, so a split preface only costs another read. A client that sends
 * nothing (or a preface prefix and then nothing) within `timeoutMs` is cut, like a slow HTTP/1.1 head.
 */
export function sniffPreface(socket: Socket, timeoutMs: number, decided: (kind: 'h2' | 'http1') => void): void {
  let seen: Buffer | undefined;
  const cleanup = (): void => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('error', onError);
    socket.off('close', cleanup);
  };
  const onData = (chunk: Buffer): void => {
    seen = seen === undefined ? chunk : Buffer.concat([seen, chunk]);
    const kind = classifyPreface(seen);
    if (kind === 'more') return;
    cleanup();
    socket.pause();
    socket.unshift(seen);
    decided(kind);
  };
  // Nobody else listens yet: an unhandled socket error would take the process down.
  const onError = (): void => {
    cleanup();
    socket.destroy();
  };
  const timer = setTimeout(() => {
    cleanup();
    socket.destroy();
  }, timeoutMs);
  timer.unref();
  socket.on('data', onData);
  socket.on('error', onError);
  socket.on('close', cleanup);
}
