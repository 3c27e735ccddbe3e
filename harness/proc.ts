// Translator processes (command and worker adapters): bounded in time and in output, and
// never outliving their entry, nor us. Each runs in its own process group with a marker in
// its environment, unique per process; descendants inherit it even when they leave the
// group (`setsid`, double forks), so killing means: the group, then every process whose
// /proc/PID/environ carries the marker, until none is left. As root every descendant is
// found; as another user only that user's (a setuid descendant cannot be read, and only
// its process group is killed). Where /proc is missing, process groups only.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { onStop } from './stop.js';

export const MARKER_VAR = 'VIRTGOLD_TRANSLATOR';
/** Every marker of this virtgold process starts with it (Ctrl-C kills them all). */
const RUN_ID = `${process.pid}-${randomBytes(4).toString('hex')}`;
let seq = 0;
/** Live translator processes: marker → the process we started. */
const live = new Map<string, ChildProcess>();

/** The default --max-output: a translator printing more is broken. */
export const DEFAULT_MAX_OUTPUT = 16 * 1024 * 1024;

export const formatBytes = (n: number) =>
  n % (1024 * 1024) === 0 ? `${n / 1024 / 1024} MiB` : n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`;

/** Pids whose environment holds MARKER_VAR=<marker> (exactly), or any marker of this run. */
export function markedPids(marker: string | undefined): number[] {
  const needle = Buffer.from(`${MARKER_VAR}=${marker ?? `${RUN_ID}.`}`);
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const d of pids) {
    let env: Buffer;
    try {
      env = readFileSync(`/proc/${d}/environ`);
    } catch {
      continue; // gone, or another user's
    }
    for (let i = env.indexOf(needle); i >= 0; i = env.indexOf(needle, i + 1)) {
      const end = i + needle.length;
      if ((i === 0 || env[i - 1] === 0) && (marker === undefined || end === env.length || env[end] === 0)) {
        found.push(Number(d));
        break;
      }
    }
  }
  return found;
}

const killQuietly = (pid: number) => {
  try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
};

/** Kill a translator's process group and every descendant carrying its marker (or, with
 *  no marker, everything this run started). Synchronous: usable in an exit handler. */
export function killTree(pgid: number | undefined, marker: string | undefined): void {
  if (pgid) killQuietly(-pgid);
  // A process may fork between a scan and the kill: scan until nothing is left. A killed
  // process shows its environ until it is really gone (a zombie's is empty), so this also
  // waits for the deaths; bounded, for one that cannot die (stuck in the kernel).
  for (let round = 0; round < 50; round++) {
    const pids = markedPids(marker).filter((p) => p !== process.pid);
    if (!pids.length) return;
    for (const p of pids) {
      killQuietly(p);
      try { process.kill(-p, 'SIGKILL'); } catch { /* not a group leader */ }
    }
  }
}

/** Kill every translator this process started (Ctrl-C, exit). */
export function killAll(): void {
  for (const [marker, child] of live) killTree(child.pid, marker);
  live.clear();
  killTree(undefined, undefined);
}

let handlersInstalled = false;

/** On SIGINT/SIGTERM/SIGHUP kill every translator (one of the cleanups harness/stop.ts
 *  runs before the exit); on exit kill what is left. */
function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAll);
  onStop(killAll);
}

/** Start a translator: own process group, marked environment, tracked until `release`. */
export function startTranslator(file: string, args: string[], stdio: ('ignore' | 'pipe')[]): { child: ChildProcess; marker: string; release: () => void } {
  installHandlers();
  const marker = `${RUN_ID}.${++seq}`;
  const child = spawn(file, args, { stdio, detached: true, env: { ...process.env, [MARKER_VAR]: marker } });
  live.set(marker, child);
  let released = false;
  return {
    child,
    marker,
    release: () => {
      if (released) return;
      released = true;
      killTree(child.pid, marker);
      live.delete(marker);
    },
  };
}

export interface Ran {
  stdout: string;
  stderr: string;
  exitCode?: number;
  signal?: string;
  /** why there is no usable result: timed out, too much output, could not start */
  problem?: string;
}

/**
 * Run a translator once: stdout and stderr collected up to `maxOutput` bytes together. At
 * the timeout, or as soon as the output passes the limit, it and its descendants are
 * killed and the result returned at once (not waiting for pipes a descendant holds). When
 * it exits, whatever it left running is killed too, so its pipes close.
 */
export function runTranslator(file: string, args: string[], timeoutMs: number, maxOutput: number): Promise<Ran> {
  const { child, marker, release } = startTranslator(file, args, ['ignore', 'pipe', 'pipe']);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let size = 0;
  return new Promise<Ran>((resolve) => {
    let settled = false;
    const finish = (r: Omit<Ran, 'stdout' | 'stderr'>, keep = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      release();
      child.stdout?.destroy();
      child.stderr?.destroy();
      const text = (b: Buffer[]) => (keep ? Buffer.concat(b).toString('utf8') : '');
      resolve({ stdout: text(out), stderr: text(err), ...r });
    };
    const timer = setTimeout(() => finish({ problem: `timed out after ${timeoutMs} ms` }), timeoutMs);
    const take = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxOutput) finish({ problem: `more than ${formatBytes(maxOutput)} of output (--max-output)` });
      else into.push(chunk);
    };
    child.stdout!.on('data', take(out));
    child.stderr!.on('data', take(err));
    child.on('error', (e) => finish({ problem: `could not run: ${e.message}` }));
    // Exited: kill what it left behind (which may hold the pipes), then read to the end.
    child.on('exit', () => { if (!settled) killTree(child.pid, marker); });
    child.on('close', (code, signal) => finish({ ...(code === null ? {} : { exitCode: code }), ...(signal ? { signal } : {}) }, true));
  });
}
