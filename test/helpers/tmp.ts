// Temporary folders for tests, removed when the test process ends however it ends: tests
// done, a failed assertion, another suite that throws on import (uvu then exits before any
// test.after runs), Ctrl-C or SIGTERM. Only SIGKILL leaves them.
import { mkdtempSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
let installed = false;

function removeAll(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A fresh folder /tmp/virtgold-NAME-XXXXXX, gone when the process ends. */
export function tempDir(name: string): string {
  if (!installed) {
    installed = true;
    process.on('exit', removeAll);
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.on(s, () => {
        removeAll();
        process.exit(128 + (constants.signals[s] ?? 1));
      });
    }
  }
  const d = mkdtempSync(join(tmpdir(), `virtgold-${name}-`));
  made.push(d);
  return d;
}
