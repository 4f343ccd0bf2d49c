import http from 'node:http';

/** One request of a timed load: when it started and ended (performance.now()), and how. */
export interface Sample {
  path: string;
  start: number;
  end: number;
  /** HTTP status, 0 when the request failed at the transport level. */
  status: number;
  /** `code` of a problem+json answer. */
  code: string | undefined;
  /** Transport error (ECONNRESET, client timeout…). */
  error: string | undefined;
}

export const ok = (s: Sample) => s.status >= 200 && s.status < 300;

export interface TimedLoad {
  readonly samples: Sample[];
  /** Stop sending, wait for the requests in flight, return every sample. */
  stop(): Promise<Sample[]>;
}

/** One GET over `agent`, recorded as a Sample (never rejects). */
export function timedGet(agent: http.Agent | false, url: string, path: string, headers: http.OutgoingHttpHeaders = {}): Promise<Sample> {
  const start = performance.now();
  return new Promise((resolve) => {
    const done = (status: number, code: string | undefined, error: string | undefined) =>
      resolve({ path, start, end: performance.now(), status, code, error });
    const req = http.get(`${url}${path}`, { agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let code: string | undefined;
        if (String(res.headers['content-type']).startsWith('application/problem+json')) {
          try {
            code = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { code?: string }).code;
          } catch {
            code = 'unparseable problem';
          }
        }
        done(res.statusCode ?? 0, code, undefined);
      });
      res.on('error', (e: NodeJS.ErrnoException) => done(0, undefined, e.code ?? e.message));
      res.on('aborted', () => done(0, undefined, 'response aborted'));
    });
    req.on('error', (e: NodeJS.ErrnoException) => done(0, undefined, e.code ?? e.message));
    req.setTimeout(10_000, () => req.destroy(new Error('client timeout')));
  });
}

/**
 * A fixed-rate GET load over keep-alive connections (loopback only) that records every request
 * with its start and end time, so a test can tell which requests were in flight when a fault hit
 * and check the ones sent afterwards. Runs until stop(); bound it with the test's own timeline.
 */
export function startTimedLoad(options: { url: string; paths: string[]; rate: number; sockets: number }): TimedLoad {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.sockets });
  const samples: Sample[] = [];
  const pending = new Set<Promise<void>>();
  let i = 0;
  const timer = setInterval(() => {
    const path = options.paths[i++ % options.paths.length]!;
    const p = timedGet(agent, options.url, path).then((s) => {
      samples.push(s);
      pending.delete(p);
    });
    pending.add(p);
  }, 1000 / options.rate);
  return {
    samples,
    async stop() {
      clearInterval(timer);
      await Promise.all([...pending]);
      agent.destroy();
      return samples;
    },
  };
}
