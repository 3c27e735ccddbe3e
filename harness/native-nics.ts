// `virsh domxml-to-native` replaces every <interface> by a fresh <interface type='ethernet'>
// that keeps only its model, MAC address, boot order and script (qemuConnectDomainXMLToNative),
// and that is what the .args goldens hold. libvirt's test harness (qemuxml2argvtest) builds
// interfaces as a real start does, through its mocks (a network or bridge fails there for
// want of a host bridge). So on a command line the harness is asked about the defined
// input (harness/native-nics-run.ts) with its interfaces rewritten as domxml-to-native
// rewrites them — once the original input has passed everything before the command line
// there (its answer is output, or one of the host-networking errors below).
import { excuseNetdev } from './libvirt.js';
import type { Outcome } from './types.js';

/** What libvirt's harness reports when it sets up a host-side NIC, or checks the original
 *  interface at start (qemuDomainValidateActualNetDef: 'interface MAC - …'), which
 *  domxml-to-native does only for its rebuilt one. */
const HOST_NIC_ERRORS = [
  /^unsupported configuration: interface [0-9a-f]{2}(?::[0-9a-f]{2}){5} - /,
  /^internal error: Missing bridge name$/,
  /^Cannot [gs]et interface MTU on '[^']*': No such device$/,
  /^Unable to open '[^']*' for vdpa device: /,
  /^Cannot open '[^']*': No such file or directory$/,
];

const TYPE = /\btype\s*=\s*(['"])([^'"]*)\1/;

/** The interface as domxml-to-native rebuilds it; a hostdev one is left as it is. */
function rewriteOne(attrs: string, body: string): string | undefined {
  const type = TYPE.exec(attrs)?.[2];
  if (type === 'hostdev') return undefined;
  // the first <mac>, <model>, <script> and <boot> (libvirt reads the first of each)
  const keep = ['mac', 'model', 'script', 'boot']
    .map((name) => new RegExp(`<${name}\\b[^>]*?/>|<${name}\\b[^>]*>[\\s\\S]*?</${name}\\s*>`).exec(body)?.[0])
    .filter((x): x is string => x !== undefined)
    // the boot order only: not its loadparm
    .map((x) => (x.startsWith('<boot') ? x.replace(/\s+loadparm\s*=\s*(['"])[^'"]*\1/, '') : x));
  return `<interface type='ethernet'>${keep.join('')}</interface>`;
}

/** The input with each interface (but type='hostdev') as domxml-to-native rebuilds it. */
export function asNativeNics(xml: string): string {
  const text = xml.replace(/<!--[\s\S]*?-->/g, '');
  return text.replace(/<interface\b([^>]*?)(?:\/>|>([\s\S]*?)<\/interface\s*>)/g, (m, attrs: string, body: string | undefined) => {
    return rewriteOne(attrs, body ?? '') ?? m;
  });
}

/** Whether an input has an interface domxml-to-native would rebuild. */
export const hasNativeNics = (xml: string) => asNativeNics(xml) !== xml.replace(/<!--[\s\S]*?-->/g, '');

/** Whether the harness's answer on the original input lets the rewritten input stand for
 *  it: it built a command line, or failed only for want of a host NIC, or crashed on an
 *  interface of type null or vds (qemuBuildHostNetProps has no -netdev for them and goes
 *  on with none: a NULL dereference; domxml-to-native rebuilds them before). */
export function passedToCommandLine(o: Outcome | string, xml: string): boolean {
  const crashed = typeof o === 'string' ? /killed by SIGSEGV/.test(o) : o.kind === 'crash';
  if (crashed) return /<interface\b[^>]*\btype\s*=\s*(['"])(?:null|vds)\1/.test(xml);
  if (typeof o === 'string') return false;
  if (o.kind === 'output') return true;
  if (o.kind !== 'error') return false;
  const line = o.text.trimEnd();
  return HOST_NIC_ERRORS.some((re) => re.test(line));
}

/** The harness's command line for the rewritten input, in the goldens' terms: -netdev
 *  values are placeholders on both sides (see excuseNetdev), and a fresh interface's
 *  <boot order> is not its boot index on domxml-to-native's command line (which the
 *  harness, parsing it, sets). */
export function nativeNicTrace(xml: string, args: string): string {
  const orders = new Set<string>();
  for (const m of asNativeNics(xml).matchAll(/<interface type='ethernet'>([\s\S]*?)<\/interface>/g)) {
    const order = /<boot\b[^>]*\border\s*=\s*['"](\d+)['"]/.exec(m[1]!)?.[1];
    if (order !== undefined) orders.add(order);
  }
  const out = args.replace(/^(-device '\{[^\n]*"netdev":"host[^\n]*?),"bootindex":(\d+)/gm, (m, head: string, n: string) => (orders.has(n) ? head : m));
  return excuseNetdev(out);
}
