// Public surface of the remote log sinks.
export type { BatchOptions, LogSink, SinkStats } from './types.ts';
export { DEFAULT_BATCH_OPTIONS, SinkError } from './types.ts';
export { BatchingQueue, backoffDelay, batchOptions, parseRetryAfter, type SendFn, type SendResult } from './queue.ts';
export { createHttpNdjsonSink, type HttpNdjsonSinkOptions } from './http-ndjson.ts';
export { createElasticsearchSink, expandIndex, type ElasticsearchAuth, type ElasticsearchSinkOptions } from './elasticsearch.ts';
export { createSplunkHecSink, type SplunkHecSinkOptions } from './splunk-hec.ts';
export { CloudWatchSink, type CloudWatchSinkConfig } from './cloudwatch.ts';
export { RotatingFileSink, type RotatingFileConfig } from './rotating-file.ts';
export { signRequest, type AwsCredentials } from './sigv4.ts';
