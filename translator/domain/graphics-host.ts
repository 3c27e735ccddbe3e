// What libvirt reads from qemu.conf for <graphics> (and the default <audio> next to
// them): listen addresses, TLS, SASL, passwords, auto unix sockets. A snapshot carries
// them in host/<snapshot>.json under "graphics":
//   {"vncListen": "127.0.0.1", "spiceListen": "127.0.0.1", "vncTLS": false,
//    "vncSASL": false, "vncPassword": false, "vncAutoUnixSocket": false,
//    "spiceTLS": false, "spiceTLSx509certdir": "/etc/pki/qemu", "spiceSASL": false,
//    "spicePassword": false, "spiceAutoUnixSocket": false,
//    "vncAllowHostAudio": false, "nogfxAllowHostAudio": false, "drmRenderNode": null}
// Without the facts, what needs them is refused rather than guessed.
import { hostSection } from './host-section.js';
export interface GraphicsHostFacts {
  vncListen?: string;
  spiceListen?: string;
  vncTLS: boolean;
  vncSASL: boolean;
  /** qemu.conf vnc_password is set */
  vncPassword: boolean;
  vncAutoUnixSocket: boolean;
  spiceTLS: boolean;
  spiceTLSx509certdir: string;
  spiceSASL: boolean;
  /** qemu.conf spice_password is set */
  spicePassword: boolean;
  spiceAutoUnixSocket: boolean;
  vncAllowHostAudio: boolean;
  nogfxAllowHostAudio: boolean;
  /** the first /dev/dri/renderD* node; null: the host has no /dev/dri */
  drmRenderNode: string | null;
  /** qemu.conf's directory for domain state (cfg->libDir) */
  libDir: string;
  /** where per-domain D-Bus daemons put their sockets (cfg->dbusStateDir) */
  dbusStateDir: string;
  /** the host's vhost-user-gpu helper (/usr/share/qemu/vhost-user/*.json): false, none;
   *  else the features its --print-capabilities lists and the descriptor of the socket
   *  QEMU gets to it (the harness's mock: 1729); absent: unknown (a command line with
   *  one is refused) */
  vhostUserGpu?: false | VhostUserGpuFacts;
  /** false: the daemon has no network driver (libvirt's test harness), so a listen of
   *  type network fails its lookup; absent: the network driver answers from "networks" */
  networkDriver?: false;
  /** settings that differ where a domain is only defined (libvirt's test harness runs
   *  qemuxml2xmltest with qemu.conf's defaults, qemuxml2argvtest with its own) */
  xml2xml?: Partial<Omit<GraphicsHostFacts, 'xml2xml'>>;
}

export interface VhostUserGpuFacts {
  features: ('virgl' | 'render-node')[];
  fd: number;
}

declare module '../capabilities.js' {
  interface QemuCaps {
    /** qemu.conf's graphics settings ("graphics" in host/<snapshot>.json) */
    graphicsHost?: GraphicsHostFacts;
  }
}

const BOOLS = ['vncTLS', 'vncSASL', 'vncPassword', 'vncAutoUnixSocket', 'spiceTLS', 'spiceSASL', 'spicePassword', 'spiceAutoUnixSocket', 'vncAllowHostAudio', 'nogfxAllowHostAudio'] as const;

/** The "graphics" member of host/<snapshot>.json; undefined when absent. */
export function parseGraphicsHost(raw: Record<string, unknown>, fail: (message: string) => Error): GraphicsHostFacts | undefined {
  const section = hostSection(raw, 'graphics', fail);
  if (!section) return undefined;
  const { o, bad } = section;
  const out = {} as GraphicsHostFacts;
  for (const k of BOOLS) {
    if (typeof o[k] !== 'boolean') throw bad(`"${k}"`);
    out[k] = o[k] as boolean;
  }
  for (const k of ['vncListen', 'spiceListen'] as const) {
    if (o[k] === undefined || o[k] === null) continue;
    if (typeof o[k] !== 'string') throw bad(`"${k}"`);
    out[k] = o[k] as string;
  }
  if (typeof o.spiceTLSx509certdir !== 'string' || !o.spiceTLSx509certdir.startsWith('/')) throw bad('"spiceTLSx509certdir"');
  out.spiceTLSx509certdir = o.spiceTLSx509certdir;
  if (o.drmRenderNode !== null && (typeof o.drmRenderNode !== 'string' || !o.drmRenderNode.startsWith('/'))) throw bad('"drmRenderNode"');
  out.drmRenderNode = o.drmRenderNode as string | null;
  if (typeof o.libDir !== 'string' || !o.libDir.startsWith('/')) throw bad('"libDir"');
  out.libDir = o.libDir;
  if (typeof o.dbusStateDir !== 'string' || !o.dbusStateDir.startsWith('/')) throw bad('"dbusStateDir"');
  out.dbusStateDir = o.dbusStateDir;
  if (o.vhostUserGpu !== undefined) {
    const v = o.vhostUserGpu as Record<string, unknown> | false;
    if (v !== false) {
      const ok = typeof v === 'object' && v !== null && Array.isArray(v.features) && v.features.every((f) => f === 'virgl' || f === 'render-node')
        && Number.isSafeInteger(v.fd) && (v.fd as number) > 2;
      if (!ok) throw bad('"vhostUserGpu"');
      out.vhostUserGpu = { features: v.features as VhostUserGpuFacts['features'], fd: v.fd as number };
    } else out.vhostUserGpu = false;
  }
  if (o.networkDriver !== undefined) {
    if (o.networkDriver !== false) throw bad('"networkDriver"');
    out.networkDriver = false;
  }
  if (o.xml2xml !== undefined) {
    if (typeof o.xml2xml !== 'object' || o.xml2xml === null || Array.isArray(o.xml2xml)) throw bad('"xml2xml"');
    const full = parseGraphicsHost({ graphics: { ...o, xml2xml: undefined, ...o.xml2xml } }, fail)!;
    const x = o.xml2xml as Record<string, unknown>;
    out.xml2xml = Object.fromEntries(Object.keys(x).map((k) => [k, full[k as keyof GraphicsHostFacts]]));
  }
  return out;
}

const forXml2xml = new WeakMap<object, object>();

/** The snapshot as a domain definition sees it: with the "xml2xml" settings, if any. */
export function capsForDefine<T extends { graphicsHost?: GraphicsHostFacts }>(caps: T): T {
  const g = caps.graphicsHost;
  if (!g?.xml2xml) return caps;
  let c = forXml2xml.get(caps) as T | undefined;
  if (!c) {
    c = { ...caps, graphicsHost: { ...g, ...g.xml2xml } };
    forXml2xml.set(caps, c);
  }
  return c;
}
