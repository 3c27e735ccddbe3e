// The `.args` rendering of a QEMU command: libvirt's test-suite layout, one item per
// line joined by " \" + newline, every value quoted as POSIX sh needs it.

export interface QemuCommand {
  env: [string, string][];
  emulator: string;
  /** each option with its value, if any: ['-name', 'guest=x'] or ['-S'] */
  args: string[][];
}

/** virQEMUBuildBufferEscapeComma: QEMU's option syntax doubles a comma inside a value. */
export const escapeComma = (s: string) => s.replace(/,/g, ',,');

// virBufferEscapeShell's metacharacter set: quote only when one of these occurs.
const SHELL_META = /[\r\t\n !"#$&'()*;<>?[\\\]^`{|}~]/;

export function shellQuote(s: string): string {
  if (s === '') return "''";
  if (!SHELL_META.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function renderArgs(cmd: QemuCommand): string {
  const lines = [
    // As virCommandToStringBuf: the name and '=' as they are, only the value quoted, so
    // that sh still reads an assignment (HOME='/…/domain--1-a b', not 'HOME=/…').
    ...cmd.env.map(([k, v]) => `${k}=${shellQuote(v)}`),
    shellQuote(cmd.emulator),
    ...cmd.args.map((item) => item.map(shellQuote).join(' ')),
  ];
  return lines.join(' \\\n') + '\n';
}

/** The flat argv (environment first, as `env` would take it). */
export function toArgv(cmd: QemuCommand): string[] {
  return [...cmd.env.map(([k, v]) => `${k}=${v}`), cmd.emulator, ...cmd.args.flat()];
}
