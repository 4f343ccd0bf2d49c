import type { ConfigIssue } from './issues.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Log sinks that pass the schema but cannot work: reported at load time with their JSON path, so a
 * sink never fails silently after the gateway started. Reads the config defensively (it may be
 * schema-invalid elsewhere).
 */
export function loggingIssues(config: Obj, env: NodeJS.ProcessEnv = process.env): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const observability = config.observability;
  if (!isObj(observability) || !Array.isArray(observability.sinks)) return issues;
  const names = new Map<string, number>();
  const files = new Map<string, number>();
  const counts = new Map<string, number>();
  let stdout: number | undefined;
  observability.sinks.forEach((sink: unknown, i) => {
    if (!isObj(sink) || typeof sink.type !== 'string') return;
    const base = `/observability/sinks/${i}`;
    const n = (counts.get(sink.type) ?? 0) + 1;
    counts.set(sink.type, n);
    const name = typeof sink.name === 'string' ? sink.name : n === 1 ? sink.type : `${sink.type}-${n}`;
    const first = names.get(name);
    if (first !== undefined) issues.push({ path: typeof sink.name === 'string' ? `${base}/name` : base, message: `duplicate sink name "${name}" (first at /observability/sinks/${first}); give each sink its own "name"` });
    else names.set(name, i);
    switch (sink.type) {
      case 'stdout':
        if (stdout !== undefined) issues.push({ path: base, message: `stdout is already a sink (/observability/sinks/${stdout}): every line would be written twice` });
        stdout ??= i;
        break;
      case 'file': {
        if (typeof sink.path !== 'string') break;
        const at = files.get(sink.path);
        if (at !== undefined) issues.push({ path: `${base}/path`, message: `file "${sink.path}" is already written by /observability/sinks/${at}; two sinks cannot share a rotating file` });
        else files.set(sink.path, i);
        break;
      }
      case 'elasticsearch':
        if (sink.apiKey !== undefined && (sink.username !== undefined || sink.password !== undefined)) {
          issues.push({ path: `${base}/apiKey`, message: 'use either apiKey or username/password, not both' });
        } else if (sink.username !== undefined && sink.password === undefined) {
          issues.push({ path: `${base}/password`, message: 'missing required property "password" (needed with "username")' });
        } else if (sink.password !== undefined && sink.username === undefined) {
          issues.push({ path: `${base}/username`, message: 'missing required property "username" (needed with "password")' });
        }
        break;
      case 'cloudwatch': {
        const keyId = sink.accessKeyId !== undefined;
        const secret = sink.secretAccessKey !== undefined;
        if (keyId !== secret) {
          issues.push({ path: `${base}/${keyId ? 'secretAccessKey' : 'accessKeyId'}`, message: 'accessKeyId and secretAccessKey go together' });
        } else if (!keyId && sink.sessionToken !== undefined) {
          issues.push({ path: `${base}/sessionToken`, message: 'sessionToken needs accessKeyId and secretAccessKey in the config' });
        } else if (!keyId && (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY)) {
          issues.push({ path: base, message: 'no AWS credentials: set accessKeyId and secretAccessKey, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment' });
        }
        break;
      }
    }
  });
  return issues;
}
