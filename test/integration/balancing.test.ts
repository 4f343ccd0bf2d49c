import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request, startGateway, startUpstream, type TestGateway, type TestServer } from '../helpers/servers.ts';

describe('load balancing through the gateway', () => {
  const targets: TestServer[] = [];
  let gw: TestGateway;

  before(async () => {
    for (const name of ['a', 'b', 'c']) {
      targets.push(
        await startUpstream((req, res) => {
          req.resume();
          req.on('end', () => res.end(name));
        }),
      );
    }
    const list = targets.map((t) => ({ url: t.url }));
    gw = await startGateway({
      upstreams: [
        { name: 'weighted', targets: [{ url: targets[0]!.url, weight: 5 }, { url: targets[1]!.url, weight: 1 }, { url: targets[2]!.url, weight: 1 }], balancer: { algorithm: 'weighted-round-robin' } },
        { name: 'sticky', targets: list, balancer: { algorithm: 'consistent-hash', hashOn: { source: 'header', name: 'x-user' } } },
        { name: 'cookie', targets: list, balancer: { algorithm: 'consistent-hash', ring: 'ketama', hashOn: { source: 'cookie', name: 'session' } } },
        { name: 'least', targets: list, balancer: { algorithm: 'least-connections' } },
        { name: 'split-a', targets: [{ url: targets[0]!.url }] },
        { name: 'split-b', targets: [{ url: targets[1]!.url }] },
      ],
      routes: [
        { name: 'weighted', match: { paths: ['/w'] }, upstream: 'weighted' },
        { name: 'sticky', match: { paths: ['/s'] }, upstream: 'sticky' },
        { name: 'cookie', match: { paths: ['/c'] }, upstream: 'cookie' },
        { name: 'least', match: { paths: ['/l'] }, upstream: 'least' },
        { name: 'split', match: { paths: ['/split'] }, upstreams: [{ name: 'split-a', weight: 1 }, { name: 'split-b', weight: 0 }] },
      ],
    });
  });
  after(async () => {
    await gw.close();
    for (const t of targets) await t.close();
  });

  it('weighted round robin follows the weights', async () => {
    const counts: Record<string, number> = {};
    for (let i = 0; i < 70; i++) {
      const body = (await request(`${gw.url}/w`)).body;
      counts[body] = (counts[body] ?? 0) + 1;
    }
    assert.deepEqual(counts, { a: 50, b: 10, c: 10 });
  });

  it('consistent hash on a header keeps a key on one target and spreads keys', async () => {
    const owners = new Set<string>();
    for (let user = 0; user < 30; user++) {
      const first = (await request(`${gw.url}/s`, { headers: { 'x-user': `user-${user}` } })).body;
      for (let again = 0; again < 3; again++) {
        assert.equal((await request(`${gw.url}/s`, { headers: { 'x-user': `user-${user}` } })).body, first);
      }
      owners.add(first);
    }
    assert.equal(owners.size, 3, 'keys spread over all targets');
  });

  it('consistent hash on a cookie (ketama) is sticky', async () => {
    const first = (await request(`${gw.url}/c`, { headers: { cookie: 'theme=dark; session=abc123' } })).body;
    for (let i = 0; i < 5; i++) assert.equal((await request(`${gw.url}/c`, { headers: { cookie: 'session=abc123' } })).body, first);
  });

  it('least connections serves every target under sequential load', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 9; i++) seen.add((await request(`${gw.url}/l`)).body);
    assert.equal(seen.size, 3);
  });

  it('traffic split by upstream weight (weight 0 gets nothing)', async () => {
    for (let i = 0; i < 10; i++) assert.equal((await request(`${gw.url}/split`)).body, 'a');
  });
});
