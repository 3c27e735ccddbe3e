// Command-line parsing for every command: node:util's parseArgs (a drop-in for it), with
// the messages a user can act on instead of Node's, values that start with '-' taken as
// values (`--jobs -1` is then judged as a number), and a single-valued option given twice
// refused rather than silently the last.
import { parseArgs as nodeParseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** `--opt -x` → `--opt=-x` for a string option, unless -x is itself an option (then the
 *  value is missing, which Node reports). */
function joinDashValues(args: readonly string[], options: Options): string[] {
  const known = new Set(Object.keys(options).flatMap((k) => [`--${k}`, ...(options[k]!.short ? [`-${options[k]!.short}`] : [])]));
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    out.push(a);
    if (a === '--') {
      out.push(...args.slice(i + 1));
      break;
    }
    const name = a.startsWith('--') ? a.slice(2) : undefined;
    const next = args[i + 1];
    if (name && options[name]?.type === 'string' && next !== undefined && next.startsWith('-') && next !== '-' && !known.has(next.split('=')[0]!)) {
      out[out.length - 1] = `${a}=${next}`;
      i++;
    }
  }
  return out;
}

/** Node's parser errors, said the way our own are. */
function ourMessage(e: NodeJS.ErrnoException): string {
  const m = e.message;
  let x: RegExpExecArray | null;
  if ((x = /^Unknown option '([^']+)'/.exec(m))) return `unknown option '${x[1]}'`;
  if ((x = /^Option '(-[^ ']+)(?: <value>)?' argument missing/.exec(m))) return `${x[1]} needs a value`;
  if ((x = /^Option '(-[^ ']+)(?: <value>)?' argument is ambiguous/.exec(m))) return `${x[1]} needs a value`;
  if ((x = /^Option '(-[^ ']+)[^']*' does not take an argument/.exec(m))) return `${x[1]} takes no value`;
  if ((x = /^Unexpected argument '([^']+)'/.exec(m))) return `unexpected argument '${x[1]}'`;
  return m.split('\n')[0]!;
}

export function parseArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof nodeParseArgs<T>> {
  const options = config.options ?? {};
  const args = joinDashValues(config.args ?? process.argv.slice(2), options);
  let parsed;
  try {
    parsed = nodeParseArgs({ ...config, args, tokens: true });
  } catch (e) {
    throw new UsageError(ourMessage(e as NodeJS.ErrnoException));
  }
  const seen = new Set<string>();
  for (const t of parsed.tokens ?? []) {
    if (t.kind !== 'option' || options[t.name]?.type !== 'string' || options[t.name]?.multiple) continue;
    if (seen.has(t.name)) throw new UsageError(`--${t.name} given twice (it takes one value)`);
    seen.add(t.name);
  }
  return parsed as ReturnType<typeof nodeParseArgs<T>>;
}
