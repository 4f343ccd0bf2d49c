import { configJsonSchema } from '../config/json-schema.ts';

export function runSchema(): number {
  process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
  return 0;
}
