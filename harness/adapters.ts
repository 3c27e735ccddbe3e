// Translators under test. Each adapter turns one (mode, snapshot, case) into an Outcome:
// output, a translation error (compared with an .err golden), or "crash" — a broken
// translator (bad exit code, signal, timeout, output on both streams), reported for
// that entry only.
// (Real libvirt as a translator is in harness/libvirt.ts.)
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { runBuiltin } from './judge.js';
import { shellWords } from './shell-words.js';
import type { Adapter, MatrixEntry, Outcome } from './types.js';

export type { Adapter };

export const builtinAdapter: Adapter = {
  name: 'builtin',
  checksIdempotence: true,
  // The case's bytes, not the text the runner read: bytes that are not UTF-8 are the
  // translator's to refuse, as libxml2 refuses them for libvirt.
  translate: async (entry) => runBuiltin(entry.mode, entry.snapshot.path, readFileSync(entry.case.path)),
};

/** The words of a --translator-cmd / --translator-worker string (no shell involved). */
export function splitCommand(cmd: string): string[] {
  const words = shellWords(cmd);
  if (!words.length) throw new Error('empty command');
  return words;
}

export function expandPlaceholders(words: string[], entry: MatrixEntry): string[] {
  const values: Record<string, string> = {
    mode: entry.mode,
    caps: entry.snapshot.path,
    input: entry.case.path,
    arch: entry.snapshot.arch,
    version: entry.snapshot.version,
  };
  return words.map((w) => w.replace(/\{(mode|caps|input|arch|version)\}/g, (_, k: string) => values[k]!));
}

/** Any program obeying `virtgold xml2argv|xml2xml`'s contract, run once per entry, no shell. */
export function commandAdapter(cmd: string, timeoutMs: number): Adapter {
  const words = splitCommand(cmd);
  if (!words.some((w) => /\{(mode|input)\}/.test(w))) {
    throw new Error("--translator-cmd needs the {mode} and {input} placeholders (and usually {caps})");
  }
  return {
    name: `command: ${cmd}`,
    async translate(entry) {
      const [file, ...args] = expandPlaceholders(words, entry);
      // Its own process group, so a timeout also kills whatever it started (a shell's
      // children would otherwise keep the pipes, and us, waiting).
      const sub = execa(file!, args, { reject: false, stdin: 'ignore', stripFinalNewline: false, detached: true });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        try { process.kill(-sub.pid!, 'SIGKILL'); } catch { /* already gone */ }
      }, timeoutMs);
      const r = await sub.finally(() => clearTimeout(timer));
      if (timedOut) return { kind: 'crash', message: `timed out after ${timeoutMs} ms` };
      if (r.signal) return { kind: 'crash', message: `killed by ${r.signal}` };
      if (r.failed && r.exitCode === undefined) return { kind: 'crash', message: `could not run: ${r.shortMessage}` };
      if (r.exitCode === 0) {
        if (r.stderr) return { kind: 'crash', message: `exit 0 with output on stderr: ${r.stderr.trim().split('\n')[0]}` };
        return { kind: 'output', text: r.stdout };
      }
      if (r.exitCode === 1) {
        if (r.stdout) return { kind: 'crash', message: 'exit 1 with output on stdout' };
        return { kind: 'error', text: r.stderr.endsWith('\n') ? r.stderr : `${r.stderr}\n` };
      }
      return { kind: 'crash', message: `exit ${r.exitCode}${r.stderr ? `: ${r.stderr.trim().split('\n')[0]}` : ''}` };
    },
  };
}

/** One long-lived worker process (see harness/worker.ts for the protocol). */
class WorkerProcess {
  private proc: ReturnType<typeof execa> | undefined;
  private buffer = '';
  private waiting: ((line: string | Error) => void) | undefined;
  private nextId = 1;

  constructor(private readonly words: string[]) {}

  private start(): ReturnType<typeof execa> {
    const [file, ...args] = this.words;
    const proc = execa(file!, args, { stdin: 'pipe', stdout: 'pipe', stderr: 'ignore', reject: false, detached: true, buffer: false });
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (chunk: string) => {
      if (this.proc !== proc) return; // a worker we already gave up on
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        const w = this.waiting;
        this.waiting = undefined;
        w?.(line);
      }
    });
    void proc.then((r) => {
      if (this.proc !== proc) return; // killed by us: its request was answered already
      this.proc = undefined;
      const w = this.waiting;
      this.waiting = undefined;
      w?.(new Error(r.signal ? `worker killed by ${r.signal}` : `worker exited (${r.exitCode})`));
    });
    return proc;
  }

  kill(): void {
    const p = this.proc;
    this.proc = undefined;
    this.buffer = '';
    if (p?.pid) try { process.kill(-p.pid, 'SIGKILL'); } catch { /* gone */ }
  }

  async request(body: Record<string, unknown>, timeoutMs: number): Promise<Outcome> {
    this.proc ??= this.start();
    const id = this.nextId++;
    const answer = new Promise<string | Error>((resolve) => (this.waiting = resolve));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Error>((resolve) => (timer = setTimeout(() => resolve(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs)));
    this.proc.stdin!.write(`${JSON.stringify({ id, ...body })}\n`);
    const got = await Promise.race([answer, timeout]).finally(() => clearTimeout(timer));
    const broken = (message: string): Outcome => {
      this.kill(); // a fresh worker for the next entry
      return { kind: 'crash', message };
    };
    if (got instanceof Error) return broken(got.message);
    let res: { id?: unknown; ok?: unknown; output?: unknown; error?: unknown; protocol?: unknown };
    try {
      res = JSON.parse(got) as typeof res;
    } catch {
      return broken(`worker answered something that is not JSON: ${got.slice(0, 80)}`);
    }
    if (res.id !== id) return broken(`worker answered id ${String(res.id)} to request ${id}`);
    if (res.ok === true && typeof res.output === 'string') return { kind: 'output', text: res.output };
    if (res.ok === false && typeof res.error === 'string') return { kind: 'error', text: `${res.error}\n` };
    return broken(`worker protocol error: ${typeof res.protocol === 'string' ? res.protocol : got.slice(0, 80)}`);
  }
}

/** A pool of long-lived workers speaking JSON lines; one request at a time per worker. */
export function workerAdapter(cmd: string, timeoutMs: number, size: number): Adapter {
  const words = splitCommand(cmd);
  const idle = Array.from({ length: size }, () => new WorkerProcess(words));
  const queue: ((w: WorkerProcess) => void)[] = [];
  const acquire = () => new Promise<WorkerProcess>((resolve) => {
    const w = idle.pop();
    if (w) resolve(w);
    else queue.push(resolve);
  });
  const release = (w: WorkerProcess) => {
    const next = queue.shift();
    if (next) next(w);
    else idle.push(w);
  };
  const all = [...idle];
  return {
    name: `worker: ${cmd}`,
    async translate(entry) {
      const w = await acquire();
      try {
        return await w.request({ mode: entry.mode, caps: entry.snapshot.path, input: entry.case.path }, timeoutMs);
      } finally {
        release(w);
      }
    },
    async close() {
      for (const w of all) w.kill();
    },
  };
}
