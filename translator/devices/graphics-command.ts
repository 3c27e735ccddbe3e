// <graphics> on the way to QEMU: the qemu driver's checks (qemuValidateDomainDeviceDefGraphics),
// what a start prepares from qemu.conf (qemuProcessSetupGraphics: listen addresses,
// sockets, render nodes, and the ports a pretend start writes in: VNC 5900, SPICE 5901
// and TLS 5902), and the options (qemuBuildGraphics*CommandLine).
import { hasFlag, type QemuCaps } from '../capabilities.js';
import { domainLibDir, shortName } from '../domain/ids.js';
import type { GraphicsHostFacts } from '../domain/graphics-host.js';
import { escapeComma } from '../argv.js';
import { internalError, notImplemented, TranslationError, unsupportedConfig } from '../errors.js';
import type { DomainDef } from '../model.js';
import { SPICE_CHANNELS, type GraphicsDef, type GraphicsListen } from './graphics-def.js';
import type { StageContext } from './kind.js';

/** qemu.conf's graphics settings of the snapshot's host, or a refusal naming `what`. */
export function graphicsHost(caps: QemuCaps, what: string): GraphicsHostFacts {
  if (!caps.graphicsHost) throw notImplemented(`${what} with a snapshot that carries no qemu.conf graphics settings (host/<snapshot>.json "graphics")`);
  return caps.graphicsHost;
}

/** virQEMUCapsFillDomainDeviceGraphicsCaps */
function typeSupported(type: GraphicsDef['type'], caps: QemuCaps): boolean {
  switch (type) {
    case 'sdl': return hasFlag(caps, 'sdl');
    case 'vnc': return hasFlag(caps, 'vnc');
    case 'spice': return hasFlag(caps, 'spice');
    case 'egl-headless': return hasFlag(caps, 'egl-headless');
    case 'dbus': return hasFlag(caps, 'display-dbus');
    default: return false;
  }
}

/** qemuValidateDomainDeviceDefGraphics */
export function validateGraphics(g: GraphicsDef, { def, caps }: StageContext): void {
  if (!typeSupported(g.type, caps)) throw unsupportedConfig(`${g.type} graphics are not supported with this QEMU`);
  if (def.devices.graphics.some((o) => o.type === 'egl-headless')) {
    if (g.type !== 'egl-headless' && g.type !== 'vnc' && g.type !== 'spice') {
      throw unsupportedConfig("graphics type 'egl-headless' is only supported with one of: 'vnc', 'spice' graphics types");
    }
    if (g.type === 'spice' && g.gl === 'yes') throw unsupportedConfig('multiple OpenGL displays are not supported by QEMU');
  }
  switch (g.type) {
    case 'spice': {
      const l = g.listens[0];
      if (!l) throw internalError('missing listen element');
      if ((l.type === 'address' || l.type === 'network') && g.tlsPort > 0 && !graphicsHost(caps, "<graphics type='spice' tlsPort>").spiceTLS) {
        throw unsupportedConfig('spice TLS port set in XML configuration, but TLS is disabled in qemu.conf');
      }
      if (g.gl === 'yes') {
        if (!hasFlag(caps, 'spice-gl')) throw unsupportedConfig("This QEMU doesn't support spice OpenGL");
        if (g.rendernode !== undefined && !hasFlag(caps, 'spice-rendernode')) throw unsupportedConfig("This QEMU doesn't support spice OpenGL rendernode");
      }
      break;
    }
    case 'egl-headless':
      if (g.rendernode !== undefined && !hasFlag(caps, 'egl-headless.rendernode')) {
        throw unsupportedConfig("This QEMU doesn't support OpenGL rendernode with egl-headless graphics type");
      }
      break;
    case 'vnc':
      if (g.powerControl && !hasFlag(caps, 'vnc-power-control')) throw unsupportedConfig('VNC power control is not available');
      if (g.auth.passwd !== undefined && Buffer.byteLength(g.auth.passwd) > 8) {
        throw unsupportedConfig(`VNC password is ${Buffer.byteLength(g.auth.passwd)} characters long, only 8 permitted`);
      }
      break;
    case 'dbus':
      if (g.audioId > 0) {
        const a = def.devices.audio.find((x) => x.id === g.audioId) as { type: string } | undefined;
        if (a && a.type !== 'dbus') throw unsupportedConfig("The associated audio is not of 'dbus' kind.");
      }
      break;
    default:
      break;
  }
}

/** The audiodev id a VNC or D-Bus display names (qemuGetAudioIDString: id 0 is the first). */
function audioIdString(def: DomainDef, id: number): string {
  const list = def.devices.audio;
  const a = id ? list.find((x) => x.id === id) : list[0];
  if (!a) throw internalError('unable to find audio backend for sound device');
  return `audio${a.id}`;
}

/** qemuProcessGraphicsSetupRenderNode */
function renderNode(g: GraphicsDef, caps: QemuCaps): string | undefined {
  if (g.rendernode !== undefined) return g.rendernode;
  const needs = g.type === 'egl-headless' || ((g.type === 'spice' || g.type === 'dbus') && g.gl === 'yes');
  if (!needs) return undefined;
  if (g.type === 'spice' && !hasFlag(caps, 'spice-rendernode')) return undefined;
  if (g.type === 'egl-headless' && !hasFlag(caps, 'egl-headless.rendernode')) return undefined;
  const node = graphicsHost(caps, 'a DRM render node picked for OpenGL graphics').drmRenderNode;
  if (node === null) throw new TranslationError('bare', "cannot open directory '/dev/dri': No such file or directory");
  return node;
}

/** qemuProcessGraphicsSetupListen: the first listen as the command line sees it. */
function setupListen(g: GraphicsDef, def: DomainDef, host: GraphicsHostFacts, hostNetworks: QemuCaps['hostNetworks']): GraphicsListen {
  const l = { ...g.listens[0]! };
  const vnc = g.type === 'vnc';
  const useSocket = vnc ? host.vncAutoUnixSocket : host.spiceAutoUnixSocket;
  const listenAddr = vnc ? host.vncListen : host.spiceListen;
  const sock = `${domainLibDir(def.name)}/${g.type}.sock`;
  if (l.type === 'address' && l.address === undefined) {
    if (useSocket) return { type: 'socket', socket: sock, fromConfig: true };
    if (listenAddr !== undefined) l.address = listenAddr;
  } else if (l.type === 'network' && listenAddr !== undefined) {
    // qemuProcessGraphicsSetupNetworkAddress asks the network driver for its address
    if (l.network === undefined) l.address = listenAddr;
    else l.address = networkAddress(l.network, g, host, hostNetworks);
  } else if (l.type === 'socket' && l.socket === undefined) {
    l.socket = sock;
  }
  return l;
}

/** qemuProcessGetNetworkAddress: the host network's address, from the network driver. */
function networkAddress(name: string, g: GraphicsDef, host: GraphicsHostFacts, networks: QemuCaps['hostNetworks']): string {
  if (host.networkDriver === false) throw new TranslationError('bare', 'this function is not supported by the connection driver: virNetworkLookupByName');
  if (networks === undefined) throw notImplemented(`<listen type='network'> of <graphics type='${g.type}'> on a command line with a snapshot that carries no host networks (host/<snapshot>.json)`);
  if (!networks.some((n) => n.name === name)) throw new TranslationError('bare', `Network not found: no network with matching name '${name}'`);
  // (its first IP address, or its bridge's or interface's: host state the facts lack)
  throw notImplemented(`<listen type='network'> of <graphics type='${g.type}'> on a command line (the address of host network '${name}')`);
}

function vncCommand(g: GraphicsDef, def: DomainDef, caps: QemuCaps, host: GraphicsHostFacts): string[][] {
  const audio = audioIdString(def, g.audioId);
  const l = setupListen(g, def, host, caps.hostNetworks);
  let opt = '';
  if (l.type === 'socket') opt = `vnc=unix:${escapeComma(l.socket!)}`;
  else if (l.type === 'address' || l.type === 'network') {
    // a pretend start gives an autoport display 5900
    const port = g.autoport ? 5900 : g.port;
    if (!g.autoport && (port < 5900 || port > 65535)) throw unsupportedConfig('vnc port must be in range [5900,65535]');
    if (l.address !== undefined) opt += l.address.includes(':') ? `[${l.address}]` : l.address;
    opt += `:${port - 5900}`;
    // (a pretend start allocates no websocket port: -1 stays)
    if (g.websocket) opt += `,websocket=${g.websocket}`;
  } else opt = 'none';
  if (g.sharePolicy) opt += `,share=${g.sharePolicy}`;
  if (g.auth.passwd !== undefined || host.vncPassword) opt += ',password=on';
  if (host.vncTLS) throw notImplemented('vnc_tls in qemu.conf');
  if (host.vncSASL) throw notImplemented('vnc_sasl in qemu.conf');
  if (g.powerControl) opt += `,power-control=${g.powerControl === 'yes' ? 'on' : 'off'}`;
  opt += `,audiodev=${audio}`;
  const out = [['-vnc', opt]];
  if (g.keymap !== undefined) out.push(['-k', g.keymap]);
  return out;
}

/** qemuProcessSPICEAllocatePorts, pretend: the ports an autoport display needs. */
function spicePorts(g: GraphicsDef, host: GraphicsHostFacts): { port: number; tlsPort: number } {
  let port = g.port;
  let tlsPort = g.tlsPort;
  let needPort = false;
  let needTls = false;
  if (g.autoport) {
    for (const name of SPICE_CHANNELS) {
      if (g.channels[name] === 'secure') needTls = true;
      if (g.channels[name] === 'insecure') needPort = true;
    }
    if (g.defaultMode === 'secure') needTls = true;
    else if (g.defaultMode === 'insecure') needPort = true;
    else {
      if (host.spiceTLS) needTls = true;
      needPort = true;
    }
  }
  if (needPort || port === -1) port = 5901;
  if (needTls || tlsPort === -1) tlsPort = 5902;
  return { port, tlsPort };
}

function spiceCommand(g: GraphicsDef, def: DomainDef, caps: QemuCaps, host: GraphicsHostFacts): string[][] {
  const l = setupListen(g, def, host, caps.hostNetworks);
  let opt = '';
  let secure = false;
  let insecure = false;
  if (l.type === 'socket') {
    opt += `unix,addr=${escapeComma(l.socket!)},`;
    insecure = true;
  } else if (l.type === 'address' || l.type === 'network') {
    const { port, tlsPort } = spicePorts(g, host);
    if (port > 0) {
      opt += `port=${port},`;
      insecure = true;
    }
    if (tlsPort > 0) {
      opt += `tls-port=${tlsPort},`;
      secure = true;
    }
    if ((port > 0 || tlsPort > 0) && l.address !== undefined) opt += `addr=${l.address},`;
  } else {
    opt += 'port=0,';
    insecure = true;
  }
  if (host.spiceSASL) throw notImplemented('spice_sasl in qemu.conf');
  if (g.mousemode === 'server') opt += 'agent-mouse=off,';
  if (g.mousemode === 'client') opt += 'agent-mouse=on,';
  if (g.auth.passwd === undefined && !host.spicePassword) opt += 'disable-ticketing=on,';
  if (secure) opt += `x509-dir=${escapeComma(host.spiceTLSx509certdir)},`;
  if (g.defaultMode === 'secure') {
    if (!secure) throw unsupportedConfig('spice defaultMode secure requested in XML configuration, but TLS connection is not available');
    opt += 'tls-channel=default,';
  } else if (g.defaultMode === 'insecure') {
    if (!insecure) throw unsupportedConfig('spice defaultMode insecure requested in XML configuration, but plaintext connection is not available');
    opt += 'plaintext-channel=default,';
  }
  for (const name of SPICE_CHANNELS) {
    const mode = g.channels[name];
    if (mode === 'secure') {
      if (!secure) throw unsupportedConfig('spice secure channels set in XML configuration, but TLS connection is not available');
      opt += `tls-channel=${name},`;
    } else if (mode === 'insecure') {
      if (!insecure) throw unsupportedConfig('spice insecure channels set in XML configuration, but plaintext connection is not available');
      opt += `plaintext-channel=${name},`;
    }
  }
  if (g.image) opt += `image-compression=${g.image},`;
  if (g.jpeg) opt += `jpeg-wan-compression=${g.jpeg},`;
  if (g.zlib) opt += `zlib-glz-wan-compression=${g.zlib},`;
  if (g.playback) opt += `playback-compression=${g.playback},`;
  if (g.streaming) opt += `streaming-video=${g.streaming},`;
  if (g.copypaste === 'no') opt += 'disable-copy-paste=on,';
  if (g.filetransfer === 'no') opt += 'disable-agent-file-xfer=on,';
  if (g.gl === 'yes') {
    opt += 'gl=on,';
    const node = renderNode(g, caps);
    if (node !== undefined) opt += `rendernode=${escapeComma(node)},`;
  }
  opt += 'seamless-migration=on';
  const out = [['-spice', opt]];
  if (g.keymap !== undefined) out.push(['-k', g.keymap]);
  return out;
}

/** qemuBuildGraphicsCommandLine, one display */
export function commandGraphics(g: GraphicsDef, { def, caps }: StageContext): string[][] {
  switch (g.type) {
    case 'vnc':
      return vncCommand(g, def, caps, graphicsHost(caps, "<graphics type='vnc'> on a command line"));
    case 'spice':
      return spiceCommand(g, def, caps, graphicsHost(caps, "<graphics type='spice'> on a command line"));
    case 'sdl': {
      // (XAUTHORITY and DISPLAY go to QEMU's environment: graphicsEnv)
      const out: string[][] = [];
      if (g.fullscreen) out.push(['-full-screen']);
      out.push(['-display', `sdl${g.gl ? `,gl=${g.gl === 'yes' ? 'on' : 'off'}` : ''}`]);
      return out;
    }
    case 'egl-headless': {
      const node = renderNode(g, caps);
      return [['-display', `egl-headless${node !== undefined ? `,rendernode=${escapeComma(node)}` : ''}`]];
    }
    case 'dbus': {
      let opt = 'dbus';
      if (g.p2p) opt += ',p2p=on';
      else {
        // qemuProcessGraphicsSetupDBus: the domain's own bus daemon when no address is given
        const addr = g.dbusAddress ?? `unix:path=${graphicsHost(caps, "<graphics type='dbus'> without address").dbusStateDir}/-1-${shortName(def.name)}-dbus.sock`;
        opt += `,addr=${escapeComma(addr)}`;
      }
      if (g.gl) opt += `,gl=${g.gl === 'yes' ? 'on' : 'off'}`;
      const node = renderNode(g, caps);
      if (node !== undefined) opt += `,rendernode=${escapeComma(node)}`;
      if (g.audioId > 0) opt += `,audiodev=${audioIdString(def, g.audioId)}`;
      return [['-display', opt]];
    }
    default:
      // rdp and desktop never pass validation
      throw internalError(`unexpected graphics type ${g.type}`);
  }
}

/** qemuDomainDefSuggestDefaultAudioBackend: the <audio> a domain without one gets (none
 *  when a passthrough of the host's audio would be needed: libvirtd runs without
 *  QEMU_AUDIO_DRV here and in libvirt's test harness). */
export function defaultAudioType(def: DomainDef, caps: QemuCaps): 'none' | 'spice' | undefined {
  const list = def.devices.graphics;
  if (!list.length) {
    // (no qemu.conf facts: nographics_allow_host_audio is off by default)
    return caps.graphicsHost?.nogfxAllowHostAudio ? undefined : 'none';
  }
  let add = false;
  let passthrough = false;
  let type: 'none' | 'spice' = 'none';
  for (const g of list) {
    if (g.type === 'vnc') {
      passthrough = graphicsHost(caps, "<graphics type='vnc'> without <audio>").vncAllowHostAudio;
      if (!passthrough) type = 'none';
      add = true;
    } else if (g.type === 'spice') {
      passthrough = false;
      type = 'spice';
      add = true;
    } else if (g.type === 'sdl') {
      passthrough = true;
      add = true;
    }
  }
  return add && !passthrough ? type : undefined;
}

/** The environment SDL displays give QEMU (qemuBuildGraphicsSDLCommandLine). */
export function graphicsEnv(def: DomainDef): [string, string][] {
  const out: [string, string][] = [];
  for (const g of def.devices.graphics) {
    if (g.type !== 'sdl') continue;
    if (g.xauth !== undefined) out.push(['XAUTHORITY', g.xauth]);
    if (g.display !== undefined) out.push(['DISPLAY', g.display]);
  }
  return out;
}
