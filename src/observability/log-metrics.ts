import type { SinkStats } from './sinks/types.ts';
import { CounterFamily, GaugeFamily } from './prom/families.ts';

export interface LogStatsSource {
  sinkStats(): SinkStats[];
  readonly accessSampledOut: number;
}

/** Log-sink and access-log figures for /metrics, read from the logging at scrape time. */
export function logMetricFamilies(logging: LogStatsSource): Array<CounterFamily | GaugeFamily> {
  const perSink = (read: (s: SinkStats) => number) => (family: CounterFamily | GaugeFamily) => {
    family.clear();
    for (const s of logging.sinkStats()) family.child(s.name).value = read(s);
  };
  const counter = (name: string, help: string, read: (s: SinkStats) => number) =>
    new CounterFamily({ name, help, labelNames: ['sink'], collect: perSink(read) });
  return [
    new GaugeFamily({ name: 'sluice_log_sink_queued_lines', help: 'Lines waiting to be written or sent, per sink', labelNames: ['sink'], collect: perSink((s) => s.queued) }),
    counter('sluice_log_sink_sent_total', 'Lines delivered, per sink', (s) => s.sent),
    counter('sluice_log_sink_dropped_total', 'Lines dropped (queue full, refused by the destination, or retries exhausted), per sink', (s) => s.dropped),
    counter('sluice_log_sink_failed_batches_total', 'Batches that failed after their retries, per sink', (s) => s.failedBatches),
    counter('sluice_log_sink_retries_total', 'Batch send retries, per sink', (s) => s.retries),
    new CounterFamily({
      name: 'sluice_access_log_sampled_out_total',
      help: 'Requests not written to the access log because of sampling',
      collect: (f) => (f.child().value = logging.accessSampledOut),
    }),
  ];
}
