/**
 * Child-process entry for the load generator, so it has an event loop (and, when pinned, a core)
 * of its own instead of sharing one with the reference upstream. Serves runs one at a time over IPC.
 */
import { runLoad } from './load-generator.ts';
import type { WorkerReply, WorkerRequest } from './load-child.ts';
import { findScenario } from './scenarios.ts';

if (!process.send) throw new Error('load-worker must be started with an IPC channel');
const send = process.send.bind(process);
let queue = Promise.resolve();

process.on('message', (msg: WorkerRequest) => {
  queue = queue.then(async () => {
    let reply: WorkerReply;
    try {
      const result = await runLoad({ ...msg.options, scenario: findScenario(msg.options.scenario) });
      reply = { id: msg.id, result };
    } catch (err) {
      reply = { id: msg.id, error: (err as Error).stack ?? String(err) };
    }
    send(reply);
  });
});
// The parent went away (finished or crashed): nothing left to do.
process.on('disconnect', () => process.exit(0));
send({ ready: true } satisfies WorkerReply);
