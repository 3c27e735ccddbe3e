// What must be undone when SIGINT, SIGTERM or SIGHUP stops us. Each module that leaves
// something behind while it works (the update lock, a domain defined in libvirt, the
// translators' process groups, a temporary folder) registers its cleanup here, and one
// handler runs them all, the newest first, then exits 128 + the signal's number (130 on
// Ctrl-C). One handler, not one per module: handlers that each exit race, and the first
// to exit skipped the others' cleanup (a lock released, a libvirt domain left defined).
// SIGKILL cannot be handled: harness/scratch.ts sweeps what a killed run left in /tmp.
import { constants } from 'node:os';

export type Cleanup = (signal: NodeJS.Signals) => void | Promise<void>;

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

const cleanups: Cleanup[] = [];
let installed = false;
let stopping: NodeJS.Signals | undefined;

/** Run FN when a signal stops the process (before the exit); the returned function takes
 *  it back (the work it undoes is done). Registering installs the handler, so call it
 *  before the thing to undo exists: no moment holds it with the default action. */
export function onStop(fn: Cleanup): () => void {
  install();
  cleanups.push(fn);
  return () => {
    const i = cleanups.indexOf(fn);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

/** The signal being handled, once one came: nothing new should start. */
export const stoppingBy = (): NodeJS.Signals | undefined => stopping;

/** Every cleanup, newest first (a domain is undefined before the lock that covers the
 *  update is released), each on its own (one that fails does not skip the rest); then exit. */
export async function stop(signal: NodeJS.Signals, exit: (code: number) => void = (c) => process.exit(c)): Promise<void> {
  if (stopping) return; // a second Ctrl-C while cleaning up: the cleanups are bounded
  stopping = signal;
  for (const fn of [...cleanups].reverse()) {
    try {
      await fn(signal);
    } catch (e) {
      try { process.stderr.write(`virtgold: cleanup after ${signal}: ${(e as Error).message}\n`); } catch { /* stderr is gone */ }
    }
  }
  cleanups.length = 0;
  exit(128 + (constants.signals[signal] ?? 1));
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const s of STOP_SIGNALS) process.on(s, () => void stop(s));
}

/** For tests: forget a stop that was handled without exiting. */
export function resetStop(): void {
  stopping = undefined;
  cleanups.length = 0;
}
