import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request, responseOutcome, startGateway, startUpstream, type TestGateway, type TestServer } from '../helpers/servers.ts';

/** The same proxy behaviour whichever upstream client an upstream uses (pool.client). */
for (const client of (process.env.ONLY_CLIENT ? [process.env.ONLY_CLIENT] : ['native', 'undici']) as Array<'native' | 'undici'>) {
  describe(`upstream client: ${client}`, () => {
    let up: TestServer;
    let gw: TestGateway;
    const bigCookie = `session=${'c'.repeat(20_000)}`;

    before(async () => {
      up = await startUpstream((req, res) => {
        let n = 0;
        req.on('data', (c: Buffer) => (n += c.length));
        req.on('end', () => {
          if (req.url === '/big-header') res.setHeader('set-cookie', bigCookie);
          if (req.url === '/cut') {
            res.writeHead(200, { 'content-length': '1000' });
            res.write('partial');
            setTimeout(() => res.destroy(), 20);
            return;
          }
          res.end(JSON.stringify({ method: req.method, url: req.url, received: n }));
        });
      });
      gw = await startGateway({
        upstreams: [{ name: 'u', targets: [{ url: up.url }], pool: { client } }],
        routes: [{ name: 'all', match: { paths: ['/*'] }, upstream: 'u' }],
      });
    });
    after(async () => {
      await gw.close();
      await up.close();
    });

    it('proxies GET and POST bodies', async () => {
      assert.deepEqual(JSON.parse((await request(`${gw.url}/a?b=1`)).body), { method: 'GET', url: '/a?b=1', received: 0 });
      const post = await request(`${gw.url}/p`, { method: 'POST', body: 'x'.repeat(100_000) });
      assert.equal(JSON.parse(post.body).received, 100_000);
    });

    it('passes a 20 KB response header through', async () => {
      const res = await request(`${gw.url}/big-header`, { maxHeaderSize: 65536 });
      assert.equal(res.status, 200);
      assert.equal(res.headers['set-cookie']?.[0], bigCookie);
    });

    it('cuts the client connection when the upstream body is truncated', async () => {
      const outcome = await responseOutcome(`${gw.url}/cut`);
      assert.equal(outcome, 'error');
    });
  });
}
