/**
 * Manual micro-benchmark (not a test): route matching cost for 10 vs 10,000 routes.
 *   node --import tsx src/router/route-table.bench.ts
 * Matching must not grow with the route count; compare the ns/op columns.
 */
import { normalizePath } from './normalize.ts';
import { compileRouteTable, type RouteTableOptions } from './route-table.ts';
import type { RouteEntry, RouteRequest } from './types.ts';

function entries(count: number): RouteEntry<number>[] {
  return Array.from({ length: count }, (_, i) => ({
    index: i,
    value: i,
    config: { name: `r${i}`, match: { paths: [`/svc${i}/users/:id`], methods: ['GET', 'POST'] } },
  }));
}

function requests(count: number): RouteRequest[] {
  // first, middle and last routes, plus a miss, spread over fresh path strings
  const picks = [0, Math.floor(count / 2), count - 1];
  return Array.from({ length: 256 }, (_, i) => ({
    method: 'GET',
    host: 'api.example.com',
    path: i % 16 === 15 ? `/missing/${i}` : `/svc${picks[i % 3]}/users/${1000 + i}`,
    query: '',
    headers: {},
  }));
}

/** Best of 5 rounds after a warm-up: the minimum is the least disturbed by other processes. */
function nsPerOp(run: () => void, iterations: number): number {
  for (let i = 0; i < iterations / 10; i++) run();
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) run();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / iterations);
  }
  return best;
}

function benchTable(count: number, options: RouteTableOptions): string {
  const started = performance.now();
  const table = compileRouteTable(entries(count), options);
  const compileMs = performance.now() - started;
  const list = requests(count);
  let i = 0;
  let sink = 0;
  const ns = nsPerOp(() => {
    const result = table.match(list[i++ & 255]!);
    if (result.kind === 'match') sink += result.value;
  }, 1_000_000);
  if (sink === -1) console.log(sink);
  return `${String(count).padStart(6)} routes  compile=${String(options.compile).padEnd(5)}  ${ns.toFixed(0).padStart(5)} ns/op  (table built in ${compileMs.toFixed(0)} ms)`;
}

function benchNormalize(): string {
  const targets = ['/svc12/users/42?x=1', '/api/v1/orders/123/items', '/a/./b/../c?q', '/public/%2e%2e/admin'];
  const out: string[] = [];
  for (const target of targets) {
    let sink = 0;
    const ns = nsPerOp(() => {
      sink += normalizePath(target)?.path.length ?? 0;
    }, 2_000_000);
    if (sink === -1) console.log(sink);
    out.push(`normalizePath(${JSON.stringify(target)}): ${ns.toFixed(0)} ns/op`);
  }
  return out.join('\n');
}

for (const compile of [false, true] as const) {
  for (const count of [10, 10_000]) console.log(benchTable(count, { compile }));
}
console.log(benchNormalize());
