// libvirt 9.0.0's own test harness (tests/qemuxml2argvtest, tests/qemuxml2xmltest) as
// the reference for the snapshots no host here runs (npm run interop:snapshots): what
// it is fed, how its answers are normalized, and the differences the contract excuses.
// Each excuse is checked, not assumed: it applies only where its cause is in the input,
// and where it can be, the rest of libvirt's answer is held to the reference translator.
import { oneLine } from '../translator/index.js';
import { judge } from './judge.js';
import { excuseNetdev, normalizeNativeArgv, stripVfToken } from './libvirt.js';
import { isVirtgoldRefusal } from './refusals.js';
import { nativeNicTrace, passedToCommandLine } from './native-nics.js';
import type { Golden, Mode, Outcome } from './types.js';

/** Flags of the shipped snapshots that libvirt 9.0.0's loader does not know and refuses
 *  ("Unknown qemu capabilities flag"); they are left out of the copy libvirt is fed. */
export const FLAGS_UNKNOWN_TO_LIBVIRT = ['vfio-pci.vf-token'] as const;

/** The snapshot as libvirt's harness gets it: unchanged but for the unknown flags. */
export function capsForLibvirt(text: string): string {
  const names = FLAGS_UNKNOWN_TO_LIBVIRT.map((f) => f.replace(/[.]/g, '\\.')).join('|');
  return text.replace(new RegExp(`^[ \\t]*<flag name=(['"])(?:${names})\\1\\s*/>[ \\t]*\\n`, 'gm'), '');
}

/** The harness's NUMA mock (nodes 0-7) replaces virNumaNodesetIsAvailable, message and
 *  all: read as what libvirt's own function (src/util/virnuma.c) says of a node the host
 *  lacks, which real libvirt confirms on the 7.2.0 snapshots. */
const MOCK_NUMA_NODE = /^internal error: Mock: no numa node set is available at bit (\d+)$/;
const REAL_NUMA_NODE = 'unsupported configuration: NUMA node $1 is unavailable';

/** libvirt's answer in the golden's terms: its command line in the `.args` layout, with
 *  the harness's home /tmp/lib/domain--1-NAME read as /var/lib/libvirt/qemu/domain--1-NAME;
 *  its error as the one line virsh's first line would be, where libxml2 names the file the
 *  harness read (`/…/c7.xml:4: …`) as the name libvirt gives a string it is handed
 *  (`(domain_definition):4: …`); the NUMA mock's refusal as libvirt's. */
export function normalizeHarnessOutcome(mode: Mode, o: Outcome): Outcome {
  if (o.kind === 'error') {
    const text = oneLine(o.text.replace(/^\S+\.xml:(\d+): /, '(domain_definition):$1: ')).replace(MOCK_NUMA_NODE, REAL_NUMA_NODE);
    return { kind: 'error', text: `${text}\n` };
  }
  // qemuxml2xmltest leaves the driver's NVRAM directory at the unprivileged default under
  // its fake $HOME; libvirtd (and qemuxml2argvtest) use the system one.
  if (o.kind === 'output' && mode === 'xml2xml') {
    return { kind: 'output', text: o.text.replaceAll('/bad-test-used-env-home/.config/libvirt/qemu/nvram/', '/var/lib/libvirt/qemu/nvram/') };
  }
  if (o.kind !== 'output' || mode !== 'xml2argv') return o;
  return { kind: 'output', text: normalizeNativeArgv(o.text, { oracle: true }) };
}

export type Excuse = 'vf-token' | 'unsupported' | 'hostdev-vfio' | 'numad' | 'native-nics';

/** The contract's excuses, in the order they are tried, and what each one means. */
export const EXCUSES: Record<Excuse, string> = {
  'vf-token': 'libvirt 9.0.0 ignores <vf-token>: its answer must equal virtgold\'s on the input without it',
  unsupported: 'virtgold refuses the input on purpose (unsupported: …): no claim about libvirt',
  'hostdev-vfio': 'the harness forces vfio on PCI hostdevs without <driver>: libvirt\'s answer must equal virtgold\'s with <driver name=\'vfio\'/> added',
  'native-nics': 'domxml-to-native rebuilds every <interface> as a fresh type=\'ethernet\' one (model, MAC, boot order, script), the harness does not: its answer on the input rebuilt that way must equal virtgold\'s, once its answer on the input itself got as far as the command line',
  numad: 'the harness presets numad advice (nodes 0-3) where libvirt refuses <vcpu placement=\'auto\'> without numad (the golden): libvirt\'s answer, less the memory binding to nodes 0-3, must equal virtgold\'s with placement=\'static\'',
};

const NUMAD_REFUSAL = 'internal error: Advice from numad is needed in case of automatic numa placement\n';

const hasVfToken = (xml: string) => /<vf-token\b/.test(xml);

/** Give every PCI hostdev (`<hostdev type='pci'>`, `<interface type='hostdev'>`) that has
 *  no `<driver>` a `<driver name='vfio'/>`, as libvirt's xml2argv harness does. */
export function withVfioDriver(xml: string): string {
  return xml.replace(/(<(hostdev|interface)\b([^>]*?)>)([\s\S]*?)(<\/\2\s*>)/g, (m, open: string, tag: string, attrs: string, body: string, close: string) => {
    const type = /\btype\s*=\s*['"]([^'"]*)['"]/.exec(attrs)?.[1];
    if (type !== (tag === 'hostdev' ? 'pci' : 'hostdev') || /<driver\b/.test(body)) return m;
    return `${open}<driver name='vfio'/>${body}${close}`;
  });
}

/** `<vcpu placement='auto'>` → `'static'`: what numad's advice leaves of it on a command line. */
export const withStaticVcpus = (xml: string) => xml.replace(/(<vcpu\b[^>]*\bplacement\s*=\s*)(['"])auto\2/g, '$1$2static$2');

export type Verdict =
  | { class: 'same' }
  /** the excuses the difference needed (an entry can need more than one) */
  | { class: 'excused'; excuses: Excuse[] }
  | { class: 'failure'; message: string };

export interface Compared {
  mode: Mode;
  /** the case's input */
  xml: string;
  /** the golden, or why there is none */
  golden: Golden | string;
  /** libvirt's answer (normalized), or why the harness recorded none */
  libvirt: Outcome | string;
  /** the reference translator on a changed input, on the same snapshot */
  reference: (xml: string) => Outcome;
  /** libvirt's answer (normalized) on the input with its interfaces as domxml-to-native
   *  rebuilds them (harness/native-nics.ts), where that differs from the input */
  libvirtNative?: Outcome | string;
}

/** The harness's numad advice is the fixed nodeset 0-3; on a command line it shows only as
 *  the memory backends' binding to it. */
export const withoutPresetAdvice = (args: string) => args.replaceAll(',"host-nodes":[0,1,2,3],"policy":"bind"', '');

interface Rewrite {
  excuse: Excuse;
  applies: boolean;
  /** the input without the cause */
  apply: (xml: string) => string;
  what: string;
  /** libvirt's output without the cause's trace, where it leaves one */
  trace?: (text: string) => string;
}

/** The native-nics excuse: the harness on the rebuilt input, held to the golden. */
function nativeNics(c: Compared, golden: Golden, lv: Outcome | string): Verdict {
  if (typeof lv === 'string') return { class: 'failure', message: `native-nics: ${lv}` };
  const traced = lv.kind === 'output' ? { ...lv, text: nativeNicTrace(c.xml, lv.text) } : lv;
  const v = judge(traced, golden, (t) => (golden.kind === 'output' ? excuseNetdev(t) : t));
  if (v.ok) return { class: 'excused', excuses: ['native-nics'] };
  return { class: 'failure', message: `native-nics (libvirt's harness on the input with its interfaces as domxml-to-native rebuilds them) does not account for it:\n${v.message}` };
}

/** One entry: the same as its golden, a difference the excuses account for, or a failure.
 *  Apart from `unsupported`, an excuse names the cause it removes from the input (the
 *  token, the missing driver, automatic placement); with every cause present removed,
 *  libvirt's answer must equal the reference translator's on that input. */
export function classify(c: Compared): Verdict {
  if (typeof c.golden === 'string') return { class: 'failure', message: c.golden };
  if (typeof c.libvirt === 'string') {
    if (c.mode === 'xml2argv' && c.libvirtNative !== undefined && passedToCommandLine(c.libvirt, c.xml)) return nativeNics(c, c.golden, c.libvirtNative);
    return { class: 'failure', message: c.libvirt };
  }
  const plain = judge(c.libvirt, c.golden);
  if (plain.ok) return { class: 'same' };
  if (c.golden.kind === 'error' && isVirtgoldRefusal(c.golden.text)) return { class: 'excused', excuses: ['unsupported'] };
  const argv = c.mode === 'xml2argv';
  if (argv && c.libvirtNative !== undefined && passedToCommandLine(c.libvirt, c.xml)) return nativeNics(c, c.golden, c.libvirtNative);
  const candidates: Rewrite[] = [
    { excuse: 'vf-token', applies: hasVfToken(c.xml), apply: stripVfToken, what: 'without <vf-token>' },
    { excuse: 'hostdev-vfio', applies: argv && withVfioDriver(c.xml) !== c.xml, apply: withVfioDriver, what: "with <driver name='vfio'/>" },
    {
      excuse: 'numad', applies: argv && c.golden.kind === 'error' && c.golden.text === NUMAD_REFUSAL && withStaticVcpus(c.xml) !== c.xml,
      apply: withStaticVcpus, what: "with <vcpu placement='static'>", trace: withoutPresetAdvice,
    },
  ];
  const rewrites = candidates.filter((r) => r.applies);
  if (!rewrites.length) return { class: 'failure', message: plain.message! };
  const input = rewrites.reduce((x, r) => r.apply(x), c.xml);
  const what = rewrites.map((r) => r.what).join(', ');
  const excuses = rewrites.map((r) => r.excuse);
  const ref = c.reference(input);
  if (ref.kind === 'crash') return { class: 'failure', message: `${excuses.join(' + ')}: the reference translator crashed on the input ${what}: ${ref.message}` };
  const lv = c.libvirt.kind === 'output' ? { ...c.libvirt, text: rewrites.reduce((t, r) => r.trace?.(t) ?? t, c.libvirt.text) } : c.libvirt;
  const v = judge(lv, { rel: `virtgold on the input ${what}`, kind: ref.kind, text: ref.text });
  if (v.ok) return { class: 'excused', excuses };
  return { class: 'failure', message: `${plain.message}\n${excuses.join(' + ')} do not account for it:\n${v.message}` };
}
