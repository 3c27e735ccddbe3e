// Translators under test. Each adapter turns one (mode, snapshot, case) into an Outcome:
// output, a translation error (compared with an .err golden), or "crash" — a broken
// translator (bad exit code, signal, timeout, output on both streams), reported for
// that entry only.
// (Real libvirt as a translator is in harness/libvirt.ts.)
import { readCaseBytes } from './cases.js';
import { runBuiltin } from './judge.js';
import { DEFAULT_MAX_OUTPUT, formatBytes, killTree, runTranslator, startTranslator } from './proc.js';
import { SetupError } from './errors.js';
import { checkPlaceholders, checkProgram } from './preflight.js';
import { shellWords } from './shell-words.js';
import type { Adapter, LateProblem, MatrixEntry, Outcome } from './types.js';

export type { Adapter };

/** The reference translator in-process; past `timeoutMs` an entry is broken, as a
 *  command translator's is (the stages look at the clock as they go). */
export function builtinAdapterWith(timeoutMs?: number): Adapter {
  let calls = 0;
  return {
    name: 'builtin',
    reference: true,
    checksIdempotence: true,
    // The case's bytes, not the text the runner read: bytes that are not UTF-8 are the
    // translator's to refuse, as libxml2 refuses them for libvirt.
    translate: async (entry) => {
      // The builtin translator never waits: a turn of the event loop now and then lets a
      // Ctrl-C or SIGTERM be handled during a long run, not only after it.
      if (++calls % 32 === 0) await new Promise<void>((r) => setImmediate(r));
      return runBuiltin(entry.mode, entry.snapshot.path, readCaseBytes(entry), timeoutMs);
    },
  };
}

export const builtinAdapter: Adapter = builtinAdapterWith();

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

/** Any program obeying `virtgold xml2argv|xml2xml`'s contract, run once per entry, no shell.
 *  Checked before the first entry: known placeholders only, a program that can be run. */
export function commandAdapter(cmd: string, timeoutMs: number, maxOutput = DEFAULT_MAX_OUTPUT, option = '--translator-cmd'): Adapter {
  const words = splitCommand(cmd);
  checkPlaceholders(words, option);
  // Both: a command without {input} never sees the domain, one without {mode} cannot
  // tell xml2argv from xml2xml.
  if (!words.some((w) => w.includes('{mode}')) || !words.some((w) => w.includes('{input}'))) {
    throw new Error(`${option} needs the {mode} and {input} placeholders (and usually {caps})`);
  }
  checkProgram(words[0]!, option);
  return {
    name: `command: ${cmd}`,
    async translate(entry) {
      const [file, ...args] = expandPlaceholders(words, entry);
      const r = await runTranslator(file!, args, timeoutMs, maxOutput);
      const firstLine = (t: string) => t.trim().split('\n')[0]!.slice(0, 200);
      // It cannot be started at all (an interpreter that is not there): the same for
      // every entry, so the run stops here with one message.
      if (r.problem?.startsWith('could not run')) throw new SetupError(`${option}: ${r.problem}`);
      if (r.problem) return { kind: 'crash', message: r.problem };
      if (r.signal) return { kind: 'crash', message: `killed by ${r.signal}` };
      if (r.exitCode === 0) {
        if (r.stderr) return { kind: 'crash', message: `exit 0 with output on stderr: ${firstLine(r.stderr)}` };
        return { kind: 'output', text: r.stdout };
      }
      if (r.exitCode === 1) {
        if (r.stdout) return { kind: 'crash', message: 'exit 1 with output on stdout' };
        return { kind: 'error', text: r.stderr.endsWith('\n') ? r.stderr : `${r.stderr}\n` };
      }
      // Exit 2 (or any other): the tool could not do its job (a file it could not read, bad
      // usage), which is never compared with an .err golden.
      return { kind: 'crash', message: `exit ${r.exitCode}${r.stderr ? `: ${firstLine(r.stderr)}` : ''}` };
    },
  };
}

/** One long-lived worker process (see harness/worker.ts for the protocol). */
class WorkerProcess {
  private proc: ReturnType<typeof startTranslator> | undefined;
  /** the line being received, in pieces (a line is searched for its end only in new data) */
  private parts: string[] = [];
  private partLength = 0;
  private waiting: { id: number; entry: MatrixEntry; resolve: (answer: string | Error) => void } | undefined;
  /** the requests this process answered, by id: a second answer to one breaks its entry */
  private answeredIds = new Map<number, MatrixEntry>();
  /** the request answered last: a line nobody asked for counts against it */
  private answered: { id: number; entry: MatrixEntry } | undefined;
  private nextId = 1;

  constructor(
    private readonly words: string[],
    private readonly maxOutput: number,
    private readonly late: (entry: MatrixEntry, message: string) => void,
    private readonly option = '--translator-worker',
  ) {}

  /** JSON escaping may double the output: a longer line breaks the entry at once. */
  private get maxLine(): number {
    return 2 * this.maxOutput + 65536;
  }

  private start(): ReturnType<typeof startTranslator> {
    const [file, ...args] = this.words;
    const proc = startTranslator(file!, args, ['pipe', 'pipe', 'ignore']);
    const { child } = proc;
    child.stdin!.on('error', () => undefined); // a dead worker: reported by 'close' below
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      if (this.proc !== proc) return; // a worker we already gave up on
      let from = 0;
      for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', from)) {
        this.parts.push(chunk.slice(from, nl));
        from = nl + 1;
        const line = this.parts.join('');
        this.parts = [];
        this.partLength = 0;
        this.onLine(line);
        if (this.proc !== proc) return;
      }
      const rest = chunk.slice(from);
      if (!rest) return;
      this.parts.push(rest);
      this.partLength += rest.length;
      if (this.partLength > this.maxLine) this.fail(`worker sent more than ${formatBytes(this.maxLine)} without a newline`, true);
    });
    child.on('error', (e) => { if (this.proc === proc) this.fail(`could not start the worker: ${e.message}`, false, true); });
    // Exited: what it left behind is killed so that its stdout ends; the lines it sent
    // before are all handled by then ('close' comes after the last 'data').
    child.on('exit', () => { if (this.proc === proc) killTree(child.pid, proc.marker); });
    child.on('close', (code, signal) => {
      if (this.proc === proc) this.fail(signal ? `worker killed by ${signal}` : `worker exited (${code})`);
    });
    return proc;
  }

  private onLine(line: string): void {
    const w = this.waiting;
    const prev = this.answered;
    let id: unknown;
    try { id = (JSON.parse(line) as { id?: unknown }).id; } catch { /* judged by request() */ }
    const again = typeof id === 'number' ? this.answeredIds.get(id) : undefined;
    if (again) {
      // A request answered twice: that entry's answer cannot be trusted.
      this.late(again, `worker answered request ${id as number} twice`);
      return;
    }
    if (!w) {
      if (prev) this.late(prev.entry, `worker sent a line nobody asked for after answering request ${prev.id}: ${line.slice(0, 80)}`);
      this.kill(); // out of step with us: a fresh worker for the next entry
      return;
    }
    this.waiting = undefined;
    this.answered = { id: w.id, entry: w.entry };
    this.answeredIds.set(w.id, w.entry);
    w.resolve(line);
  }

  /** The worker broke: the request waiting (if any) gets the reason, the worker is killed.
   *  Between requests only what it sent counts against the entry answered last (a worker
   *  that exits then is simply replaced). */
  private fail(message: string, sent = false, setup = false): void {
    const w = this.waiting;
    this.waiting = undefined;
    if (!w && sent && this.answered) this.late(this.answered.entry, `${message} after answering request ${this.answered.id}`);
    this.kill();
    w?.resolve(setup ? new SetupError(`${this.option}: ${message}`) : new Error(message));
  }

  /** End of the run: stdin closed, up to `graceMs` for the worker to exit, so that what it
   *  still sends (a second answer to the last request) is seen; then it is killed. */
  async shutdown(graceMs: number): Promise<void> {
    const p = this.proc;
    if (!p) return;
    const exited = new Promise((resolve) => p.child.once('close', resolve));
    p.child.stdin!.end();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    this.kill();
  }

  kill(): void {
    const p = this.proc;
    this.proc = undefined;
    this.parts = [];
    this.partLength = 0;
    this.answered = undefined;
    this.answeredIds.clear();
    p?.release();
  }

  async request(entry: MatrixEntry, body: Record<string, unknown>, timeoutMs: number): Promise<Outcome> {
    this.proc ??= this.start();
    const id = this.nextId++;
    const answer = new Promise<string | Error>((resolve) => (this.waiting = { id, entry, resolve }));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Error>((resolve) => (timer = setTimeout(() => resolve(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs)));
    this.proc.child.stdin!.write(`${JSON.stringify({ id, ...body })}\n`);
    const got = await Promise.race([answer, timeout]).finally(() => clearTimeout(timer));
    const broken = (message: string): Outcome => {
      this.waiting = undefined;
      this.kill(); // a fresh worker for the next entry
      return { kind: 'crash', message };
    };
    if (got instanceof SetupError) throw got; // it cannot be started: the run stops
    if (got instanceof Error) return broken(got.message);
    let res: { id?: unknown; ok?: unknown; output?: unknown; error?: unknown; protocol?: unknown; tool?: unknown };
    try {
      res = JSON.parse(got) as typeof res;
    } catch {
      return broken(`worker answered something that is not JSON: ${got.slice(0, 80)}`);
    }
    if (res.id !== id) return broken(`worker answered id ${String(res.id).slice(0, 40)} to request ${id}`);
    if (res.ok === true && typeof res.output === 'string') {
      if (Buffer.byteLength(res.output) > this.maxOutput) return broken(`more than ${formatBytes(this.maxOutput)} of output (--max-output)`);
      return { kind: 'output', text: res.output };
    }
    if (res.ok === false && typeof res.error === 'string') return { kind: 'error', text: `${res.error.slice(0, this.maxOutput)}\n` };
    // A tool error (a file it could not read): the entry is broken, the worker stays.
    if (res.ok === false && typeof res.tool === 'string') return { kind: 'crash', message: `the worker could not translate it: ${res.tool.slice(0, 200)}` };
    return broken(`worker protocol error: ${typeof res.protocol === 'string' ? res.protocol.slice(0, 200) : got.slice(0, 80)}`);
  }
}

/** A pool of long-lived workers speaking JSON lines; one request at a time per worker.
 *  Checked before the first entry: no placeholders, a program that can be run. */
export function workerAdapter(cmd: string, timeoutMs: number, size: number, maxOutput = DEFAULT_MAX_OUTPUT, option = '--translator-worker'): Adapter {
  const words = splitCommand(cmd);
  checkPlaceholders(words, option, []);
  checkProgram(words[0]!, option);
  const late: LateProblem[] = [];
  const idle = Array.from({ length: size }, () => new WorkerProcess(words, maxOutput, (entry, message) => late.push({ entry, message }), option));
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
        return await w.request(entry, { mode: entry.mode, caps: entry.snapshot.path, input: entry.case.path }, timeoutMs);
      } finally {
        release(w);
      }
    },
    lateProblems: () => late,
    async close() {
      await Promise.all(all.map((w) => w.shutdown(Math.min(timeoutMs, 1000))));
    },
  };
}
