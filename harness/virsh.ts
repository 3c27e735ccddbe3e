// Every virsh call the harness makes, and the domains it defines for the length of one
// translation. Those must not outlive us: each virsh runs in its own process group (a
// terminal's Ctrl-C must not cut a `define` in half), and on SIGINT, SIGTERM or SIGHUP we
// let the calls in flight finish (killing them after a few seconds) and undefine every
// domain still defined, before the exit (harness/stop.ts: one handler runs every module's
// cleanup, this one before the update lock is released). SIGKILL cannot be handled.
import { execa } from 'execa';
import { spawnSync } from 'node:child_process';
import { onStop, stoppingBy } from './stop.js';

export const VIRSH_URI = 'qemu:///system';

export interface VirshResult {
  code: number;
  stdout: string;
  stderr: string;
  timedOut?: boolean;
}

type Child = ReturnType<typeof execa>;

const inFlight = new Set<Child>();
/** Domains we defined and have not undefined yet (by name). */
const defined = new Set<string>();
let cleanupRegistered = false;

/** How long a stop waits for the calls in flight before killing them. */
const STOP_GRACE_MS = 5_000;

export async function virsh(args: string[], timeoutMs = 60_000): Promise<VirshResult> {
  // Shutting down: nothing new starts (the process exits once cleanup is done).
  if (stoppingBy()) return new Promise<VirshResult>(() => undefined);
  const child = execa('virsh', ['-c', VIRSH_URI, ...args], { reject: false, timeout: timeoutMs, stdin: 'ignore', detached: true });
  inFlight.add(child);
  try {
    const r = await child;
    if (r.timedOut) return { code: -1, stdout: r.stdout, stderr: `error: virsh ${args[0]} did not answer within ${timeoutMs / 1000} s`, timedOut: true };
    if (r.exitCode === undefined) return { code: -1, stdout: '', stderr: `error: cannot run virsh: ${r.shortMessage}` };
    return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  } finally {
    inFlight.delete(child);
  }
}

// What virsh says when there is nothing (left) to undefine.
const NO_DOMAIN = /Domain not found|failed to get domain/i;

function undefineSync(name: string): boolean {
  const r = spawnSync('virsh', ['-q', '-c', VIRSH_URI, 'undefine', '--keep-nvram', name], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
  return r.status === 0 || NO_DOMAIN.test(r.stderr ?? '');
}

async function cleanup(signal: NodeJS.Signals): Promise<void> {
  const calls = [...inFlight];
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled(calls),
    new Promise((resolve) => (timer = setTimeout(resolve, STOP_GRACE_MS))),
  ]);
  clearTimeout(timer);
  for (const c of inFlight) if (c.pid) try { process.kill(-c.pid, 'SIGKILL'); } catch { /* gone */ }
  const left = [...defined].filter((name) => !undefineSync(name));
  if (left.length) process.stderr.write(`virtgold: could not undefine ${left.join(', ')}; run: virsh undefine NAME\n`);
  else if (defined.size) process.stderr.write(`virtgold: ${signal}: undefined ${[...defined].join(', ')}\n`);
  defined.clear();
}

/** Registered once, at the first define: it stays for the life of the process (the
 *  domains a signal finds defined are on the list, whoever defined them). */
function registerCleanup(): void {
  if (cleanupRegistered) return;
  cleanupRegistered = true;
  onStop(cleanup);
}

/** Does a domain of this name exist on the host already (ours or anyone's)? */
export async function domainExists(name: string): Promise<boolean> {
  return (await virsh(['-q', 'domuuid', name])).code === 0;
}

/** `virsh define` a domain the caller promises to undefine (undefineTemporary), remembered
 *  from before the call so that a signal arriving meanwhile still undefines it. */
export async function defineTemporary(path: string, name: string): Promise<VirshResult & { name: string }> {
  registerCleanup();
  defined.add(name);
  const r = await virsh(['define', path]);
  // Runs before any stop() sees the call settle: a failed define leaves nothing to undefine
  // (and the name may be someone else's); a successful one is tracked by the name libvirt
  // reports, should it read the name differently.
  const actual = r.code === 0 ? /Domain '(.*)' defined from/.exec(r.stdout)?.[1] ?? name : name;
  if (r.code !== 0 || actual !== name) defined.delete(name);
  if (r.code === 0) defined.add(actual);
  return { ...r, name: actual };
}

/** Undefine a domain defineTemporary defined; kept on the list when that fails (a daemon
 *  that died meanwhile), for undefineLeftovers. */
export async function undefineTemporary(name: string): Promise<void> {
  const r = await virsh(['-q', 'undefine', '--keep-nvram', name]);
  if (r.code === 0 || NO_DOMAIN.test(r.stderr)) defined.delete(name);
}

/** Undefine what could not be undefined before (after a daemon restart, at the end of a run). */
export async function undefineLeftovers(): Promise<string[]> {
  for (const name of [...defined]) await undefineTemporary(name);
  return [...defined];
}
