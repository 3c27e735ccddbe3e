// `virtgold worker`: the reference translator as a long-lived process speaking JSON lines.
//
// Protocol (one JSON object per line, both ways; responses in request order):
//   request:  {"id": 7, "mode": "xml2argv"|"xml2xml", "caps": "/path/caps.xml", "input": "/path/dom.xml"}
//             ("xml": "<domain…>" may replace "input")
//   response: {"id": 7, "ok": true,  "output": "<the .args or .xml text>"}
//             {"id": 7, "ok": false, "error": "<the .err text, one line>"}   (a translation error:
//             the domain was refused; compared with the .err golden)
//             {"id": 7, "ok": false, "tool": "<why>"}   (a tool error: the worker could not do
//             its job — a file it could not read, a snapshot that is not one; never compared
//             with a golden, the entry is broken, the worker stays)
// A request the worker cannot even read gets {"id": <id or null>, "ok": false,
// "protocol": "<why>"}; the harness treats that, a malformed line, a dead or a silent
// worker as a broken translator for that entry and starts a fresh worker. ("tool" came
// later: a harness that does not know it takes it for a protocol error, also broken.)
import { createInterface } from 'node:readline';
import { CapsError, isTranslationError, MODES, translate, type Mode } from '../translator/index.js';
import { SetupError, UserError } from './errors.js';
import { readBytes, readCaps } from './io.js';

export interface WorkerRequest { id: number; mode: Mode; caps: string; input?: string; xml?: string }
export type WorkerResponse =
  | { id: number; ok: true; output: string }
  | { id: number | null; ok: false; error?: string; tool?: string; protocol?: string };

export function handle(line: string): WorkerResponse {
  let req: Partial<WorkerRequest>;
  try {
    req = JSON.parse(line) as Partial<WorkerRequest>;
  } catch {
    return { id: null, ok: false, protocol: 'request is not JSON' };
  }
  const id = typeof req.id === 'number' ? req.id : null;
  if (id === null || !MODES.includes(req.mode as Mode) || typeof req.caps !== 'string' ||
      (typeof req.input !== 'string' && typeof req.xml !== 'string')) {
    return { id, ok: false, protocol: 'a request needs id, mode, caps and input (or xml)' };
  }
  try {
    const xml = req.xml ?? readBytes(req.input!, 'domain XML');
    return { id, ok: true, output: translate(req.mode!, xml, readCaps(req.caps)) };
  } catch (e) {
    if (isTranslationError(e)) return { id, ok: false, error: e.message };
    if (e instanceof UserError || e instanceof SetupError || e instanceof CapsError) return { id, ok: false, tool: e.message };
    return { id, ok: false, protocol: `internal error: ${(e as Error).message}` };
  }
}

export async function serve(): Promise<number> {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    process.stdout.write(`${JSON.stringify(handle(line))}\n`);
  }
  return 0;
}
