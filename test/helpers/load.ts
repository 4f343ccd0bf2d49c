import http from 'node:http';

export interface LoadReport {
  sent: number;
  ok: number;
  failed: number;
  failures: string[];
  streamsOk: number;
  streamsFailed: number;
}

export interface LoadOptions {
  /** Base URLs; requests go round robin over those `isUp(url)` accepts. */
  urls: string[];
  isUp?: (url: string) => boolean;
  durationMs: number;
  /** Requests per second in total (fixed rate, spread evenly). */
  rate: number;
  /** Keep-alive sockets per URL. */
  sockets: number;
  paths: string[];
  /** Paths answered with a long streaming body; one request each kept open at a time. */
  streamPaths?: string[];
}

function once(agent: http.Agent, url: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}${path}`, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('response aborted')));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('client timeout')));
  });
}

/**
 * A bounded fixed-rate load over keep-alive connections (loopback only), counting every request
 * that did not end in a complete 2xx response as failed, with the reason.
 */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const agents = new Map(options.urls.map((u) => [u, new http.Agent({ keepAlive: true, maxSockets: options.sockets })]));
  const report: LoadReport = { sent: 0, ok: 0, failed: 0, failures: [], streamsOk: 0, streamsFailed: 0 };
  const pending: Promise<void>[] = [];
  const end = Date.now() + options.durationMs;
  const interval = 1000 / options.rate;
  let next = 0;
  const pick = (): string | undefined => {
    for (let i = 0; i < options.urls.length; i++) {
      const url = options.urls[next++ % options.urls.length]!;
      if (options.isUp?.(url) ?? true) return url;
    }
    return undefined;
  };
  const fail = (why: string) => {
    report.failed++;
    if (report.failures.length < 20) report.failures.push(why);
  };
  const streams = (options.streamPaths ?? []).map(async (path) => {
    while (Date.now() < end) {
      const url = pick();
      if (url === undefined) break;
      try {
        const status = await once(agents.get(url)!, url, path);
        if (status === 200) report.streamsOk++;
        else report.streamsFailed++;
      } catch (error) {
        report.streamsFailed++;
        fail(`stream ${path}: ${(error as Error).message}`);
      }
    }
  });
  for (let i = 0; Date.now() < end; i++) {
    const url = pick();
    const path = options.paths[i % options.paths.length]!;
    if (url !== undefined) {
      report.sent++;
      pending.push(
        once(agents.get(url)!, url, path).then(
          (status) => (status >= 200 && status < 300 ? void report.ok++ : fail(`${path}: status ${status}`)),
          (error: Error) => fail(`${path}: ${error.message}`),
        ),
      );
    }
    const wait = i * interval - (Date.now() - (end - options.durationMs));
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await Promise.all(pending);
  await Promise.all(streams);
  for (const agent of agents.values()) agent.destroy();
  return report;
}
