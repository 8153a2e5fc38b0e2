/**
 * `npm run chaos -- --seed N --minutes M --db sqlite|postgres [--window S] [--replicas R] [--no-build]`.
 * The environment gives the defaults: CHAOS_SEED (1), CHAOS_MINUTES (3), CHAOS_DB (sqlite),
 * CHAOS_WINDOW_SECONDS (15), CHAOS_REPLICAS (1); flags win over it.
 */
export interface ChaosOptions {
  seed: number;
  /** How long the workload and the faults run; settling and checking come after. */
  minutes: number;
  db: 'sqlite' | 'postgres';
  /** ORDER_EXPIRATION_SECONDS of the service: short, so that many orders expire within the run. */
  windowSeconds: number;
  /** How many APIs and how many workers run, each killed and paused on its own (1 to 4). */
  replicas: number;
  /** Skip `npm run build` (dist/ is already built from this tree). */
  build: boolean;
}

export const USAGE =
  'usage: npm run chaos -- --seed N --minutes M --db sqlite|postgres [--window S] [--replicas R] [--no-build]';

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): ChaosOptions {
  const flags = new Map<string, string>();
  let build = true;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--no-build') build = false;
    else if (/^--(seed|minutes|db|window|replicas)$/.test(arg) && argv[i + 1] !== undefined)
      flags.set(arg.slice(2), argv[++i]!);
    else throw new Error(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
  }
  const number = (name: string, fallback: string | undefined, min: number): number => {
    const text = flags.get(name) ?? fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value < min) throw new Error(`--${name} must be a number >= ${min}\n${USAGE}`);
    return value;
  };
  const db = flags.get('db') ?? env.CHAOS_DB ?? 'sqlite';
  if (db !== 'sqlite' && db !== 'postgres') throw new Error(`--db must be sqlite or postgres\n${USAGE}`);
  return {
    seed: Math.floor(number('seed', env.CHAOS_SEED ?? '1', 0)),
    minutes: number('minutes', env.CHAOS_MINUTES ?? '3', 0.5),
    db,
    windowSeconds: Math.floor(number('window', env.CHAOS_WINDOW_SECONDS ?? '15', 5)),
    replicas: Math.min(4, Math.floor(number('replicas', env.CHAOS_REPLICAS ?? '1', 1))),
    build,
  };
}
