import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { HealthCheckConfig } from '../../config/schema/index.ts';
import type { UpstreamTlsOptions } from '../../proxy/client/types.ts';
import { TestCa } from '../../server/test-helpers.ts';
import { afterCheck, type CheckRun } from './active.ts';
import { bodyMatcher, createProbe, decodeServingStatus, statusMatcher } from './probes.ts';

const run = (config: Partial<HealthCheckConfig>, url: string) => createProbe({ type: 'http', ...config }, new URL(url), undefined)(AbortSignal.timeout(2000));

describe('health check matchers and state machine', () => {
  it('statuses: codes and ranges', () => {
    const m = statusMatcher([204, '300-302']);
    assert.deepEqual([200, 204, 300, 302, 303].map(m), [false, true, true, true, false]);
    assert.equal(statusMatcher(undefined)(399), true);
    assert.equal(statusMatcher(undefined)(500), false);
  });

  it('body: substring and regex (both must match when both given)', () => {
    assert.equal(bodyMatcher(undefined), undefined);
    const m = bodyMatcher({ contains: 'ok', regex: '^\\{"status"' })!;
    assert.equal(m('{"status":"ok"}'), true);
    assert.equal(m('{"status":"down"}'), false);
    assert.equal(m('ok'), false);
  });

  it('gRPC HealthCheckResponse decoding', () => {
    assert.equal(decodeServingStatus(Buffer.from([0, 0, 0, 0, 2, 0x08, 1])), 1);
    assert.equal(decodeServingStatus(Buffer.from([0, 0, 0, 0, 2, 0x08, 2])), 2);
    assert.equal(decodeServingStatus(Buffer.from([0, 0, 0, 0, 0])), 0);
    assert.equal(decodeServingStatus(Buffer.from([1, 0, 0])), undefined);
  });

  it('afterCheck: unknown decides on the first result, then thresholds apply', () => {
    const r: CheckRun = { passes: 0, fails: 0 };
    assert.equal(afterCheck('unknown', r, true, 2, 3), 'healthy');
    assert.equal(afterCheck('healthy', r, false, 2, 3), 'healthy');
    assert.equal(afterCheck('healthy', r, false, 2, 3), 'healthy');
    assert.equal(afterCheck('healthy', r, true, 2, 3), 'healthy');
    for (let i = 0; i < 2; i++) assert.equal(afterCheck('healthy', r, false, 2, 3), 'healthy');
    assert.equal(afterCheck('healthy', r, false, 2, 3), 'unhealthy');
    assert.equal(afterCheck('unhealthy', r, true, 2, 3), 'unhealthy');
    assert.equal(afterCheck('unhealthy', r, true, 2, 3), 'healthy');
    assert.equal(afterCheck('unknown', { passes: 0, fails: 0 }, false, 2, 3), 'unhealthy');
  });
});

describe('probes against real servers (127.0.0.1)', () => {
  let server: http.Server;
  let base = '';
  let seen: http.IncomingHttpHeaders = {};
  let seenMethod = '';
  let closedPort = 0;
  let grpcServer: grpc.Server;
  let grpcUrl = '';
  const serving: Record<string, number> = { '': 1, down: 2 };

  before(async () => {
    server = http.createServer((req, res) => {
      seen = req.headers;
      seenMethod = req.method ?? '';
      if (req.url === '/base/healthz') return res.end('{"status":"ok"}');
      if (req.url === '/base/down') return res.writeHead(503).end('down');
      if (req.url === '/base/slow') return; // never answers
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/base`;
    const spare = net.createServer();
    await new Promise<void>((r) => spare.listen(0, '127.0.0.1', r));
    closedPort = (spare.address() as net.AddressInfo).port;
    await new Promise((r) => spare.close(r));
    grpcServer = new grpc.Server();
    const raw = (b: Buffer) => b;
    grpcServer.addService(
      {
        Check: {
          path: '/grpc.health.v1.Health/Check',
          requestStream: false,
          responseStream: false,
          requestSerialize: raw,
          requestDeserialize: raw,
          responseSerialize: raw,
          responseDeserialize: raw,
        },
      },
      {
        Check: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
          const name = call.request.length > 2 ? call.request.subarray(2).toString() : '';
          const status = serving[name];
          if (status === undefined) return callback({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
          callback(null, Buffer.from([0x08, status]));
        },
      },
    );
    const port = await new Promise<number>((resolve, reject) =>
      grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    grpcUrl = `h2c://127.0.0.1:${port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    grpcServer.forceShutdown();
  });

  it('http: path under the target prefix, method, host and headers; status and body decide', async () => {
    assert.equal(await run({ path: '/healthz', method: 'HEAD', host: 'svc.internal', headers: { 'x-check': '1' } }, base), null);
    assert.equal(seenMethod, 'HEAD');
    assert.equal(seen.host, 'svc.internal');
    assert.equal(seen['x-check'], '1');
    assert.equal(await run({ path: '/healthz', body: { regex: '"status":"ok"' } }, base), null);
    assert.equal(await run({ path: '/healthz', body: { contains: 'nope' } }, base), 'body did not match');
    assert.equal(await run({ path: '/down' }, base), 'status 503');
    assert.equal(await run({ path: '/down', expectedStatuses: ['500-503'] }, base), null);
    assert.equal(await createProbe({ type: 'http', path: '/slow' }, new URL(base), undefined)(AbortSignal.timeout(100)), 'timeout');
    assert.match((await run({}, `http://127.0.0.1:${closedPort}`))!, /ECONNREFUSED/);
  });

  it('tcp: a connection opens, or not', async () => {
    assert.equal(await run({ type: 'tcp' }, base), null);
    assert.match((await run({ type: 'tcp' }, `http://127.0.0.1:${closedPort}`))!, /ECONNREFUSED/);
  });

  it('grpc: grpc.health.v1.Health/Check must answer SERVING', async () => {
    assert.equal(await run({ type: 'grpc' }, grpcUrl), null);
    assert.equal(await run({ type: 'grpc', service: 'down' }, grpcUrl), 'serving status 2');
    assert.equal(await run({ type: 'grpc', service: 'missing' }, grpcUrl), 'grpc-status 5');
    assert.match((await run({ type: 'grpc' }, `h2c://127.0.0.1:${closedPort}`))!, /ECONNREFUSED/);
  });
});

describe('https checks use the upstream tls settings', () => {
  it('trusts the configured CA and checks the name; without it the check fails', async () => {
    const ca = new TestCa('Health Probe CA');
    const leaf = ca.issue('upstream', { cn: 'api.internal', dns: ['api.internal'] });
    const server = https.createServer({ cert: leaf.cert, key: leaf.key }, (_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = new URL(`https://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    try {
      const check = (tls: UpstreamTlsOptions | undefined) => createProbe({ type: 'http', path: '/' }, url, tls)(AbortSignal.timeout(2000));
      assert.equal(await check({ ca: ca.ca, servername: 'api.internal' }), null);
      assert.match((await check(undefined))!, /^request: /);
      assert.match((await check({ ca: ca.ca, servername: 'other.internal' }))!, /ERR_TLS_CERT_ALTNAME_INVALID/);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      ca.cleanup();
    }
  });
});
