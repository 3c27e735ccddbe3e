// <tpm>: a TPM front end (tpm-tis, tpm-crb, tpm-spapr, spapr-tpm-proxy) and its backend,
// a host TPM device (passthrough) or libvirt's swtpm (emulator); libvirt's
// virDomainTPMDef, or an external swtpm the domain connects to over a UNIX socket (a
// chardev source, chardev-source.ts). What the host answers (swtpm, the emulator's socket, host TPM devices)
// comes from host/<snapshot>.json "tpm" (domain/tpm-host.ts).
import { hasFlag, type CapsFlag } from '../capabilities.js';
import { parseUuid } from '../domain/ids.js';
import type { TpmHostFacts } from '../domain/tpm-host.js';
import { internalError, notImplemented, TranslationError, unsupportedConfig, xmlError } from '../errors.js';
import type { DeviceInfo, DomainDef } from '../model.js';
import { propEnum, required } from '../xml/props.js';
import { elements, type XElement } from '../xml/tree.js';
import { escapeXml } from '../xml/tree.js';
import { escapeComma } from '../argv.js';
import { parseDeviceInfo } from './info.js';
import type { DeviceKind } from './kind.js';
import { chardevArgs, CHR_TYPES, type ChrSource, type ChrType, parseChrSource } from './chardev-source.js';
import { nextFdset } from './chardev.js';

const MODELS = ['default', 'tpm-tis', 'tpm-crb', 'tpm-spapr', 'spapr-tpm-proxy'] as const;
const TYPES = ['passthrough', 'emulator', 'external'] as const;
const VERSIONS = ['default', '1.2', '2.0'] as const;
const PCR_BANKS = ['sha1', 'sha256', 'sha384', 'sha512'] as const;

type Model = Exclude<(typeof MODELS)[number], 'default'>;

export interface TpmDef {
  /** undefined until post-parse picks the default */
  model?: Model;
  type: (typeof TYPES)[number];
  /** external: the swtpm's socket */
  source?: ChrSource;
  /** passthrough: the host device */
  path?: string;
  /** emulator: undefined until post-parse picks it */
  version?: '1.2' | '2.0';
  persistentState?: boolean;
  secret?: string;
  /** in libvirt's (bitmap) order */
  pcrBanks?: (typeof PCR_BANKS)[number][];
  info: DeviceInfo;
}

declare module '../model.js' {
  interface Devices {
    tpm: TpmDef[];
  }
}

/** virDomainTPMDefParseXML */
function parse(e: XElement): TpmDef {
  const model = propEnum(e, 'model', MODELS, { nonZero: true });
  const backends = elements(e, 'backend');
  if (backends.length > 1) throw xmlError('only one TPM backend is supported');
  if (!backends.length) throw xmlError('missing TPM device backend');
  const be = backends[0]!;
  required(be, 'type');
  const type = propEnum(be, 'type', TYPES)!;
  const tpm: TpmDef = { ...(model ? { model: model as Model } : {}), type: 'passthrough', info: {} };
  if (type === 'passthrough') {
    const p = elements(be, 'device')[0]?.attrs.path;
    tpm.path = p ? p : '/dev/tpm0';
  } else if (type === 'emulator') {
    tpm.type = 'emulator';
    const version = propEnum(be, 'version', VERSIONS, { nonZero: true });
    if (version) tpm.version = version as '1.2' | '2.0';
    const secret = elements(be, 'encryption')[0]?.attrs.secret;
    if (secret) {
      const uuid = parseUuid(secret);
      if (!uuid) throw internalError(`Unable to parse secret uuid '${secret}'`);
      tpm.secret = uuid;
    }
    const ps = be.attrs.persistent_state;
    if (ps !== undefined) {
      if (ps !== 'yes' && ps !== 'no') throw internalError("Invalid persistent_state value, either 'yes' or 'no'");
      if (ps === 'yes') tpm.persistentState = true;
    }
    const banks = elements(be, 'active_pcr_banks').flatMap((b) => elements(b));
    if (banks.length) {
      const set = new Set<string>();
      for (const b of banks) {
        if (!(PCR_BANKS as readonly string[]).includes(b.name)) throw unsupportedConfig(`Unsupported PCR banks '${b.name}'`);
        set.add(b.name);
      }
      tpm.pcrBanks = PCR_BANKS.filter((b) => set.has(b));
    }
  } else {
    const src = elements(be, 'source')[0]?.attrs.type;
    if (!src) throw xmlError('missing external TPM backend type');
    if (!(CHR_TYPES as readonly string[]).includes(src)) throw unsupportedConfig(`unknown backend type '${src}' for external TPM`);
    tpm.type = 'external';
    tpm.source = parseChrSource(be, src as ChrType);
  }
  tpm.info = parseDeviceInfo(e, '<tpm>', false);
  if (tpm.info.address) throw notImplemented('<address> on <tpm>');
  return tpm;
}

/** the flag of each front end; the pSeries ones no snapshot (x86_64, s390x) has */
const MODEL_FLAGS: Record<Model, CapsFlag | undefined> = { 'tpm-tis': 'tpm-tis', 'tpm-crb': 'tpm-crb', 'tpm-spapr': undefined, 'spapr-tpm-proxy': undefined };

function hostFacts(caps: { tpmHost?: TpmHostFacts }, what: string): TpmHostFacts {
  if (!caps.tpmHost) throw notImplemented(`${what} on a snapshot without the host's TPM facts (host/<snapshot>.json "tpm")`);
  return caps.tpmHost;
}

/** qemuValidateDomainDefTPMs: one TPM Proxy and one other TPM at most. */
export function validateTpmCount(def: DomainDef): void {
  let proxy = false;
  let regular = false;
  for (const t of def.devices.tpm) {
    if (t.model === 'spapr-tpm-proxy') {
      if (proxy) throw unsupportedConfig('only a single TPM Proxy device is supported');
      proxy = true;
    } else {
      if (regular) throw unsupportedConfig('only a single TPM non-proxy device is supported');
      regular = true;
    }
  }
}

/** Other kinds whose command line may pass descriptors in fd sets (which share one count). */
const FDSET_KINDS = ['serial', 'parallel', 'console', 'channel', 'interface'];

export const tpm: DeviceKind<TpmDef> = {
  element: 'tpm',
  parse,
  info: (t) => t.info,
  // qemuDomainTPMDefPostParse
  postParse(t, { def }) {
    t.model ??= def.os.arch === 'ppc64' || def.os.arch === 'ppc64le' ? 'tpm-spapr' : 'tpm-tis';
    if (t.type === 'emulator' && !t.version) t.version = t.model === 'tpm-spapr' || t.model === 'tpm-crb' ? '2.0' : '1.2';
  },
  // virDomainTPMDevValidate
  validateConf(t) {
    if (t.type === 'emulator' && t.pcrBanks && t.version !== '2.0') throw xmlError("<active_pcr_banks/> requires TPM version '2.0'");
    if (t.type === 'external') {
      if (t.source!.type !== 'unix') throw xmlError("only source type 'unix' is supported for external TPM device");
      if (t.source!.listen) throw xmlError("only 'client' mode is supported for external TPM device");
      if (t.source!.path === undefined) throw xmlError('missing socket path for external TPM device');
    }
  },
  // qemuValidateDomainDeviceDefTPM
  validate(t, { def, caps }) {
    const host = hostFacts(caps, '<tpm>');
    const swtpm = host.swtpmVersions;
    if (t.type === 'emulator') {
      if (!swtpm?.includes(t.version!)) throw unsupportedConfig(`TPM version '${t.version}' is not supported`);
      if (t.version === '1.2' && t.model === 'tpm-crb') throw unsupportedConfig("Unsupported interface 'tpm-crb' for TPM 1.2");
      if (t.version === '1.2' && t.model === 'tpm-spapr') throw unsupportedConfig('TPM 1.2 is not supported with the SPAPR device model');
    }
    // (an external swtpm counts as the emulator: libvirt wants swtpm on this host too)
    const backendOk = t.type === 'passthrough' ? hasFlag(caps, 'tpm-passthrough') : swtpm != null && hasFlag(caps, 'tpm-emulator');
    if (!backendOk) throw unsupportedConfig(`The QEMU executable ${def.emulator} does not support TPM backend type ${t.type}`);
    const flag = MODEL_FLAGS[t.model!];
    if (!flag || !hasFlag(caps, flag)) throw unsupportedConfig(`The QEMU executable ${def.emulator} does not support TPM model ${t.model}`);
  },
  validateStart(t, { def, caps }) {
    if (t.model === 'spapr-tpm-proxy') throw notImplemented("<tpm model='spapr-tpm-proxy'>");
    if (t.type !== 'passthrough') return;
    const devices = hostFacts(caps, "<tpm><backend type='passthrough'>").devices;
    if (devices === undefined) throw notImplemented("<tpm><backend type='passthrough'> on a snapshot without the host's TPM devices");
    if (devices !== 'libvirt-test-mock') {
      // qemuBuildTPMOpenBackendFDs (which the harness mocks whole): the cancel file's
      // name, then the device is opened.
      if (!t.path!.includes('/')) throw internalError(`TPM device path ${t.path} is invalid`);
      // A device that opens would be passed as a descriptor only a live libvirtd knows.
      if (!devices.includes(t.path!)) throw new TranslationError('bare', `Could not open TPM device ${t.path}: No such file or directory`);
      throw notImplemented("<tpm><backend type='passthrough'> with a host TPM device");
    }
    const d = def.devices as unknown as Record<string, unknown[] | undefined>;
    const egdFiles = def.devices.rng.some((r) => r.source && (r.source.type === 'file' || r.source.logfile !== undefined));
    if (FDSET_KINDS.some((k) => d[k]?.length) || egdFiles) throw notImplemented("<tpm><backend type='passthrough'> beside other devices passed as descriptors");
  },
  // qemuAssignDeviceTPMAlias
  alias: (_t, index) => `tpm${index}`,
  // virDomainTPMDefFormat
  format(w, t) {
    w.open(`<tpm model='${t.model}'>`);
    if (t.type === 'passthrough') {
      w.open("<backend type='passthrough'>");
      w.line(`<device path='${escapeXml(t.path!)}'/>`);
      w.close('</backend>');
    } else if (t.type === 'external') {
      // (only a UNIX socket's path: its reconnect and <log> are not written back)
      w.open("<backend type='external'>");
      w.line(`<source type='unix' mode='connect' path='${escapeXml(t.source!.path!)}'/>`);
      w.close('</backend>');
    } else {
      const head = `backend type='emulator' version='${t.version}'${t.persistentState ? " persistent_state='yes'" : ''}`;
      const banks = t.pcrBanks;
      w.element(head, 'backend', t.secret || banks ? () => {
        if (t.secret) w.line(`<encryption secret='${t.secret}'/>`);
        if (banks) {
          w.open('<active_pcr_banks>');
          for (const b of banks) w.line(`<${b}/>`);
          w.close('</active_pcr_banks>');
        }
      } : undefined);
    }
    w.close('</tpm>');
  },
  // qemuBuildTPMCommandLine
  command(t, { def, caps }) {
    const alias = t.info.alias!;
    const out: string[][] = [];
    let backend: string;
    if (t.type === 'passthrough') {
      // libvirt's test harness hands out these descriptors (the only host validateStart lets through)
      out.push(['-add-fd', `set=0,fd=1730,opaque=${alias}-tpm`], ['-add-fd', `set=1,fd=1731,opaque=${alias}-cancel`]);
      backend = `passthrough,id=tpm-${alias},path=/dev/fdset/0,cancel-path=/dev/fdset/1`;
    } else if (t.type === 'external') {
      out.push(...chardevArgs(t.source!, { caps, alias, id: 'chrtpm', noFdPassing: true, nextFdset: nextFdset(def) }));
      backend = `emulator,id=tpm-${alias},chardev=chrtpm`;
    } else {
      const socket = caps.tpmHost?.emulatorSocket;
      out.push(['-chardev', socket ? `socket,id=chrtpm,path=${escapeComma(socket)}` : 'null,id=chrtpm']);
      backend = `emulator,id=tpm-${alias},chardev=chrtpm`;
    }
    out.push(['-tpmdev', backend]);
    const x86 = def.os.arch === 'x86_64' || def.os.arch === 'i686';
    const driver = t.model === 'tpm-tis' && !x86 ? 'tpm-tis-device' : t.model!;
    out.push(['-device', JSON.stringify({ driver, tpmdev: `tpm-${alias}`, id: alias })]);
    return out;
  },
};
