/**
 * Micro-benchmark of RequestSummary.record() (not run by the tests):
 *   node --import tsx src/observability/summary.bench.ts
 * Uses the real clock (Date.now), 20 routes over 5 upstreams and a spread of statuses and latencies.
 */
import { RequestSummary } from './summary.ts';

const N = 5_000_000;
const routes = Array.from({ length: 20 }, (_, i) => `route-${i}`);
const upstreams = Array.from({ length: 5 }, (_, i) => `upstream-${i}`);
const statuses = [200, 200, 200, 201, 304, 404, 499, 502];
const latencies = Float64Array.from({ length: 4096 }, (_, i) => 0.2 + ((i * 7919) % 4096) / 8);

function run(summary: RequestSummary, n: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    summary.record(routes[i % 20], upstreams[i % 5], statuses[i & 7]!, latencies[i & 4095]!);
  }
  return Number(process.hrtime.bigint() - start) / n;
}

const summary = new RequestSummary();
run(summary, 500_000); // warm-up: JIT and the per-key rings
const heapBefore = process.memoryUsage().heapUsed;
const nsPerRecord = run(summary, N);
const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
const snapStart = process.hrtime.bigint();
const snap = summary.snapshot();
const snapshotMs = Number(process.hrtime.bigint() - snapStart) / 1e6;

console.log(`record(): ${nsPerRecord.toFixed(1)} ns/call over ${N} calls (heap growth ${(heapGrowth / 1024).toFixed(0)} KiB)`);
console.log(`snapshot(): ${snapshotMs.toFixed(2)} ms for 1 + ${routes.length} + ${upstreams.length} keys; p50 ${snap.total['1m'].p50Ms} ms`);
