/**
 * The load scenarios, named and shaped like ../shared/bench/run.sh's so figures line up with the
 * side-by-side benchmark. Each one is a single pre-serialised request, written whole per send.
 */
export const SMALL_BODY_BYTES = 100;
export const LARGE_BODY_BYTES = 16_384;
export const POST_BODY_BYTES = 4_096;

export interface Scenario {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  /** Request body size; 0 = none. */
  bodyBytes: number;
  /** Send `Connection: close` and open a new connection per request. */
  close: boolean;
  /** Body size every 2xx response must have, else it is counted as an error. */
  expectBytes: number;
  description: string;
}

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'get-small', method: 'GET', path: '/small', bodyBytes: 0, close: false,
    expectBytes: SMALL_BODY_BYTES, description: 'GET 100 B, keep-alive',
  },
  {
    name: 'get-16k', method: 'GET', path: '/16k', bodyBytes: 0, close: false,
    expectBytes: LARGE_BODY_BYTES, description: 'GET 16 KiB, keep-alive',
  },
  {
    name: 'post-4k', method: 'POST', path: '/post', bodyBytes: POST_BODY_BYTES, close: false,
    expectBytes: SMALL_BODY_BYTES, description: 'POST 4 KiB body, 100 B answer, keep-alive',
  },
  {
    name: 'get-small-close', method: 'GET', path: '/small', bodyBytes: 0, close: true,
    expectBytes: SMALL_BODY_BYTES, description: 'GET 100 B, Connection: close (new connection per request)',
  },
];

export const DEFAULT_SCENARIOS = SCENARIOS.map((s) => s.name);

export function findScenario(name: string): Scenario {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s) throw new Error(`unknown scenario "${name}" (known: ${DEFAULT_SCENARIOS.join(', ')})`);
  return s;
}

/** Head and body in one buffer so each request is one write (one syscall), as wrk does. */
export function buildRequest(s: Scenario, host: string): Buffer {
  const lines = [
    `${s.method} ${s.path} HTTP/1.1`,
    `Host: ${host}`,
    'User-Agent: sluice-bench',
    'Accept: */*',
  ];
  if (s.close) lines.push('Connection: close');
  if (s.bodyBytes > 0) {
    lines.push('Content-Type: application/octet-stream', `Content-Length: ${s.bodyBytes}`);
  }
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return s.bodyBytes > 0 ? Buffer.concat([head, Buffer.alloc(s.bodyBytes, 0x61)]) : head;
}
