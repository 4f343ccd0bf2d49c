/**
 * Bench settings from CLI flags, falling back to environment variables (the names
 * ../shared/bench/run.sh uses), falling back to defaults sized so a default run takes about a minute.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_SCENARIOS, findScenario } from './scenarios.ts';

export interface BenchOptions {
  durationS: number;
  warmupS: number;
  connections: number;
  scenarios: string[];
  reps: number;
  /** Target names in run order; `direct` = load generator straight to the upstream. */
  targets: string[];
  /** Command per non-direct target. */
  commands: Record<string, string>;
  pin: boolean;
  readyTimeoutS: number;
  resultsDir: string;
}

export const DEFAULT_COMMAND = 'node dist/cli.js proxy';

export const USAGE = `Usage: npm run bench -- [flags]      (every flag also has an environment variable)
  --duration S       DURATION       measured seconds per scenario (5)
  --warmup S         WARMUP         warmup seconds per scenario, not measured (2)
  --conns N          CONNS          concurrent keep-alive connections (64)
  --scenarios LIST   SCENARIOS      ${DEFAULT_SCENARIOS.join(' ')}
  --reps N           REPS           interleaved repetitions; medians are reported (1)
  --targets LIST     TARGETS        "direct <candidate-name>"; others need TARGET_CMD_<NAME>
  --cmd CMD          CANDIDATE_CMD  gateway command (${DEFAULT_COMMAND})
  --name NAME        CANDIDATE_NAME label of that gateway (sluice)
  --no-pin           PIN=0          do not pin with taskset
  --ready-timeout S  READY_TIMEOUT  seconds to wait for a gateway to answer (20)
  --out DIR          RESULTS_DIR    where the JSON report goes (bench/results)
Other targets: TARGETS="direct sluice node-bare" TARGET_CMD_NODE_BARE='node ../shared/bench/proxies/node-bare.js'`;

const list = (s: string) => s.split(/[\s,]+/).filter(Boolean);

function num(name: string, raw: string | undefined, def: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return def;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max) throw new Error(`${name} must be a number in [${min}, ${max}], got "${raw}"`);
  return v;
}

/** The env var that holds the command for target `name`: node-bare -> TARGET_CMD_NODE_BARE. */
export function commandVar(name: string): string {
  return `TARGET_CMD_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

export function parseBenchOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions | 'help' {
  const { values: f } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string' }, warmup: { type: 'string' }, conns: { type: 'string' },
      scenarios: { type: 'string' }, reps: { type: 'string' }, targets: { type: 'string' },
      cmd: { type: 'string' }, name: { type: 'string' }, 'no-pin': { type: 'boolean' },
      'ready-timeout': { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (f.help) return 'help';
  const name = f.name ?? env.CANDIDATE_NAME ?? 'sluice';
  const scenarios = list(f.scenarios ?? env.SCENARIOS ?? DEFAULT_SCENARIOS.join(' '));
  scenarios.forEach(findScenario); // throws on an unknown name
  const targets = list(f.targets ?? env.TARGETS ?? `direct ${name}`);
  const commands: Record<string, string> = {};
  for (const t of targets) {
    if (t === 'direct') continue;
    const cmd = t === name ? (f.cmd ?? env.CANDIDATE_CMD ?? DEFAULT_COMMAND) : env[commandVar(t)];
    if (!cmd) throw new Error(`no command for target "${t}": set ${commandVar(t)}`);
    commands[t] = cmd;
  }
  if (scenarios.length === 0 || targets.length === 0) throw new Error('no scenarios or no targets');
  return {
    durationS: num('duration', f.duration ?? env.DURATION, 5, 0.1, 3600),
    warmupS: num('warmup', f.warmup ?? env.WARMUP, 2, 0, 600),
    connections: Math.round(num('conns', f.conns ?? env.CONNS, 64, 1, 10_000)),
    scenarios,
    reps: Math.round(num('reps', f.reps ?? env.REPS, 1, 1, 100)),
    targets,
    commands,
    pin: !(f['no-pin'] ?? env.PIN === '0'),
    readyTimeoutS: num('ready-timeout', f['ready-timeout'] ?? env.READY_TIMEOUT, 20, 1, 300),
    resultsDir: f.out ?? env.RESULTS_DIR ?? 'bench/results',
  };
}

/** Seconds spent applying load (gateway start-ups come on top); printed before a run. */
export function estimateSeconds(o: BenchOptions): number {
  return o.reps * o.targets.length * o.scenarios.length * (o.durationS + o.warmupS);
}
