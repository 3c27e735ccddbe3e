// <graphics>: the display backends (libvirt's virDomainGraphicsDef): vnc, spice, sdl,
// egl-headless, dbus (and rdp/desktop, which the qemu driver refuses in validation).
// Parsing and formatting here; the command line, the qemu.conf-dependent listen setup
// and the qemu driver's checks in graphics-command.ts.
import { internalError, notImplemented, unsupportedConfig, xmlError } from '../errors.js';
import { propEnum, propInt, propUInt, YES_NO } from '../xml/props.js';
import { child, elements, type XElement } from '../xml/tree.js';
import { attr, type Writer } from '../xml/writer.js';
import type { QemuCaps } from '../capabilities.js';
import { commandGraphics, graphicsHost, validateGraphics } from './graphics-command.js';
import type { DeviceKind } from './kind.js';
import {
  CHANNEL_MODES, CONNECTED, GRAPHICS_TYPES, IMAGE, JPEG, LISTEN_TYPES, MOUSE, ON_OFF, SHARE, SPICE_CHANNELS, STREAMING,
  type GraphicsAuth, type GraphicsDef, type GraphicsListen, type GraphicsType,
} from './graphics-def.js';

export type { GraphicsDef };


/** virStrToLong_i: a whole base-10 int (leading blanks allowed). */
function strToInt(s: string): number | undefined {
  const t = s.replace(/^[ \t\n\v\f\r]+/, '');
  if (!/^[+-]?\d+$/.test(t)) return undefined;
  const n = Number(t);
  return n > 2147483647 || n < -2147483648 ? undefined : n;
}

const tristateBool = (e: XElement, a: string, required = false) => {
  if (required && e.attrs[a] === undefined) throw xmlError(`Missing required attribute '${a}' in element '${e.name}'`);
  return propEnum(e, a, YES_NO);
};

/** virDomainGraphicsAuthDefParseXML */
function parseAuth(e: XElement, type: GraphicsType): GraphicsAuth {
  const passwd = e.attrs.passwd;
  if (passwd === undefined) return {};
  const auth: GraphicsAuth = { passwd };
  const validTo = e.attrs.passwdValidTo;
  if (validTo !== undefined) {
    // (each number as strtol reads it: leading blanks and a sign allowed)
    const n = '[ \\t\\n\\v\\f\\r]*([+-]?\\d+)';
    const m = new RegExp(`^${n}-${n}-${n}T${n}:${n}:${n}$`).exec(validTo);
    if (!m) throw internalError(`cannot parse password validity time '${validTo}', expect YYYY-MM-DDTHH:MM:SS`);
    const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
    // GLib accepts only a real date and time; otherwise libvirt goes on with no date.
    const t = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
    if (y < 1 || y > 9999 || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d || h > 23 || mi > 59 || s > 59 || h < 0 || mi < 0 || s < 0) {
      throw notImplemented(`passwdValidTo='${validTo}', not a date and time GLib accepts,`);
    }
    const p = (n: number, w = 2) => String(n).padStart(w, '0');
    auth.validTo = `${p(y, 4)}-${p(mo)}-${p(d)}T${p(h)}:${p(mi)}:${p(s)}`;
  }
  const connected = e.attrs.connected;
  if (connected !== undefined) {
    const i = CONNECTED.indexOf(connected as (typeof CONNECTED)[number]);
    if (i <= 0) throw unsupportedConfig(`unknown connected value ${connected}`);
    if (type === 'vnc' && connected !== 'keep') throw unsupportedConfig("VNC supports connected='keep' only");
    auth.connected = connected as (typeof CONNECTED)[number];
  }
  return auth;
}

/** virDomainGraphicsListenDefParseXML */
function parseListen(l: XElement, type: GraphicsType, parent: XElement | undefined): GraphicsListen {
  const lt = propEnum(l, 'type', LISTEN_TYPES);
  if (lt === undefined) throw xmlError(`Missing required attribute 'type' in element 'listen'`);
  if ((lt === 'socket' || lt === 'none') && type !== 'vnc' && type !== 'spice') {
    throw unsupportedConfig(`listen type '${lt}' is not available for graphics type '${type}'`);
  }
  let address = l.attrs.address;
  let socket = l.attrs.socket;
  const addressCompat = parent?.attrs.listen;
  const socketCompat = parent?.attrs.socket;
  if (lt === 'address') {
    if (address !== undefined && addressCompat !== undefined && address !== addressCompat) {
      throw unsupportedConfig(`graphics 'listen' attribute '${addressCompat}' must match 'address' attribute of first listen element (found '${address}')`);
    }
    address ??= addressCompat;
  }
  if (lt === 'socket') {
    if (socket !== undefined && socketCompat !== undefined && socket !== socketCompat) {
      throw unsupportedConfig(`graphics 'socket' attribute '${socketCompat}' must match 'socket' attribute of first listen element (found '${socket}')`);
    }
    socket ??= socketCompat;
  }
  const out: GraphicsListen = { type: lt };
  // libvirt writes the address back unescaped: what would need escaping is not followed
  if (address && /[<>&'"]/.test(address)) throw notImplemented(`a listen address with XML special characters ('${address}')`);
  // (an address of a type='network' listen is live state, dropped when defining)
  if (address && lt === 'address') out.address = address;
  const network = l.attrs.network;
  if (network) {
    if (lt !== 'network') throw xmlError("'network' attribute is valid only for listen type 'network'");
    out.network = network;
  }
  if (socket) {
    if (lt !== 'socket') throw xmlError("'socket' attribute is valid only for listen type 'socket'");
    out.socket = socket;
  }
  return out;
}

/** virDomainGraphicsListensParseXML */
function parseListens(e: XElement, type: GraphicsType): GraphicsListen[] {
  const listens = elements(e, 'listen').map((l, i) => parseListen(l, type, i === 0 ? e : undefined));
  const socket = type === 'vnc' ? e.attrs.socket : undefined;
  let compat: GraphicsListen;
  if (socket !== undefined) compat = { type: 'socket', socket };
  else {
    compat = { type: 'address' };
    if (e.attrs.listen) compat.address = e.attrs.listen;
  }
  if (!listens.length) return [compat];
  if ((listens[0]!.type === 'address' || listens[0]!.type === 'network') && compat.type === 'socket') listens[0] = compat;
  return listens;
}

function blank(type: GraphicsType): GraphicsDef {
  return { type, listens: [], port: 0, tlsPort: 0, autoport: false, websocket: 0, audioId: 0, auth: {}, defaultMode: 'any', channels: {} };
}

function parseVnc(e: XElement, g: GraphicsDef): void {
  g.listens = parseListens(e, 'vnc');
  const port = e.attrs.port;
  if (port !== undefined) {
    const n = strToInt(port);
    if (n === undefined) throw internalError(`cannot parse vnc port ${port}`);
    g.port = n;
    if (n === -1) {
      g.port = 0;
      g.autoport = true;
    }
  } else {
    g.autoport = true;
  }
  const autoport = e.attrs.autoport;
  if (autoport === 'yes' || autoport === 'no') {
    g.autoport = autoport === 'yes';
    if (g.autoport) g.port = 0;
  }
  g.websocket = propInt(e, 'websocket') ?? 0;
  if (e.attrs.websocketGenerated === 'yes') throw notImplemented("<graphics websocketGenerated='yes'>");
  const share = propEnum(e, 'sharePolicy', SHARE);
  if (share && share !== 'default') g.sharePolicy = share;
  const pc = tristateBool(e, 'powerControl');
  if (pc) g.powerControl = pc;
  if (e.attrs.keymap !== undefined) g.keymap = e.attrs.keymap;
  const audio = child(e, 'audio');
  if (audio) {
    if (audio.attrs.id === undefined) throw xmlError(`Missing required attribute 'id' in element 'audio'`);
    g.audioId = propUInt(audio, 'id', { nonZero: true })!;
  }
  g.auth = parseAuth(e, 'vnc');
}

function requiredEnum<T extends string>(e: XElement, a: string, values: readonly T[], nonZero = false): T {
  if (e.attrs[a] === undefined) throw xmlError(`Missing required attribute '${a}' in element '${e.name}'`);
  return propEnum(e, a, values, { nonZero })!;
}

function parseSpice(e: XElement, g: GraphicsDef): void {
  g.listens = parseListens(e, 'spice');
  g.port = propInt(e, 'port') ?? 0;
  g.tlsPort = propInt(e, 'tlsPort') ?? 0;
  g.autoport = tristateBool(e, 'autoport') === 'yes';
  g.defaultMode = propEnum(e, 'defaultMode', CHANNEL_MODES) ?? 'any';
  if (g.port === -1 && g.tlsPort === -1) g.autoport = true;
  if (g.autoport) {
    g.port = 0;
    g.tlsPort = 0;
  }
  if (e.attrs.keymap !== undefined) g.keymap = e.attrs.keymap;
  g.auth = parseAuth(e, 'spice');
  for (const c of elements(e, 'channel')) {
    const name = requiredEnum(c, 'name', SPICE_CHANNELS);
    g.channels[name] = requiredEnum(c, 'mode', CHANNEL_MODES);
  }
  const image = child(e, 'image');
  if (image) g.image = requiredEnum(image, 'compression', IMAGE, true);
  const jpeg = child(e, 'jpeg');
  if (jpeg) g.jpeg = requiredEnum(jpeg, 'compression', JPEG, true);
  const zlib = child(e, 'zlib');
  if (zlib) g.zlib = requiredEnum(zlib, 'compression', JPEG, true);
  const playback = child(e, 'playback');
  if (playback) g.playback = requiredEnum(playback, 'compression', ON_OFF);
  const streaming = child(e, 'streaming');
  if (streaming) g.streaming = requiredEnum(streaming, 'mode', STREAMING, true);
  const clipboard = child(e, 'clipboard');
  if (clipboard) g.copypaste = tristateBool(clipboard, 'copypaste', true);
  const ft = child(e, 'filetransfer');
  if (ft) g.filetransfer = tristateBool(ft, 'enable', true);
  const gl = child(e, 'gl');
  if (gl) {
    if (gl.attrs.rendernode !== undefined) g.rendernode = gl.attrs.rendernode;
    g.gl = tristateBool(gl, 'enable', true);
  }
  const mouse = child(e, 'mouse');
  if (mouse) g.mousemode = requiredEnum(mouse, 'mode', MOUSE, true);
}

function parseSdl(e: XElement, g: GraphicsDef): void {
  g.fullscreen = tristateBool(e, 'fullscreen') === 'yes';
  if (e.attrs.xauth !== undefined) g.xauth = e.attrs.xauth;
  if (e.attrs.display !== undefined) g.display = e.attrs.display;
  const gl = child(e, 'gl');
  if (gl) g.gl = tristateBool(gl, 'enable', true);
}

function parseRdp(e: XElement, g: GraphicsDef): void {
  g.listens = parseListens(e, 'rdp');
  const port = e.attrs.port;
  if (port !== undefined) {
    const n = strToInt(port);
    if (n === undefined) throw internalError(`cannot parse rdp port ${port}`);
    g.port = n;
    if (n === -1) g.autoport = true;
  } else {
    g.autoport = true;
  }
  if (e.attrs.autoport === 'yes') g.autoport = true;
  if (g.autoport) g.port = 0;
  g.replaceUser = e.attrs.replaceUser === 'yes';
  g.multiUser = e.attrs.multiUser === 'yes';
}

function parseDbus(e: XElement, g: GraphicsDef): void {
  g.p2p = tristateBool(e, 'p2p') === 'yes';
  if (e.attrs.address !== undefined) {
    // written back unescaped by libvirt: not followed where that matters
    if (/[<>&'"]/.test(e.attrs.address)) throw notImplemented(`a D-Bus address with XML special characters`);
    g.dbusAddress = e.attrs.address;
  }
  const gl = child(e, 'gl');
  if (gl) {
    if (gl.attrs.rendernode !== undefined) g.rendernode = gl.attrs.rendernode;
    g.gl = tristateBool(gl, 'enable', true);
  }
  const audio = child(e, 'audio');
  if (audio) {
    if (audio.attrs.id === undefined) throw xmlError(`Missing required attribute 'id' in element 'audio'`);
    g.audioId = propUInt(audio, 'id', { nonZero: true })!;
  }
}

/** virDomainGraphicsDefParseXML */
function parse(e: XElement): GraphicsDef {
  const type = requiredEnum(e, 'type', GRAPHICS_TYPES);
  const g = blank(type);
  switch (type) {
    case 'vnc': parseVnc(e, g); break;
    case 'spice': parseSpice(e, g); break;
    case 'sdl': parseSdl(e, g); break;
    case 'rdp': parseRdp(e, g); break;
    case 'desktop':
      g.fullscreen = tristateBool(e, 'fullscreen') === 'yes';
      if (e.attrs.display !== undefined) g.display = e.attrs.display;
      break;
    case 'egl-headless': {
      const gl = child(e, 'gl');
      if (gl?.attrs.rendernode !== undefined) g.rendernode = gl.attrs.rendernode;
      break;
    }
    case 'dbus': parseDbus(e, g); break;
  }
  return g;
}

/** virDomainDefPostParseGraphics: spice with no port, no TLS port and no autoport
 *  listens nowhere, which libvirt spells as listen type 'none'. */
export function postParseGraphics(list: GraphicsDef[], caps: QemuCaps): void {
  for (const g of list) {
    // qemuDomainRecheckInternalPaths: a VNC socket in libvirt's own state directory was
    // made by an older libvirt from qemu.conf; defining the domain drops it.
    for (const x of g.listens) {
      if (g.type !== 'vnc' || x.type !== 'socket' || x.socket === undefined) continue;
      if (x.socket.startsWith(graphicsHost(caps, "<graphics type='vnc'> with a socket").libDir)) {
        delete x.socket;
        x.type = 'address';
      }
    }
    const l = g.listens[0];
    if (g.type === 'spice' && l?.type === 'address' && g.port === 0 && g.tlsPort === 0 && !g.autoport) {
      delete l.address;
      l.type = 'none';
    }
  }
}

/** virDomainGraphicsAuthDefFormatAttr (with the secure flag, as dumpxml --security-info) */
const authAttrs = (a: GraphicsAuth) => (a.passwd === undefined ? '' : `${attr('passwd', a.passwd)}${attr('passwdValidTo', a.validTo)}${attr('connected', a.connected)}`);

/** virDomainGraphicsDefFormat, inactive */
function format(w: Writer, g: GraphicsDef): void {
  const l = g.listens[0];
  let head = `graphics type='${g.type}'`;
  const listenAttr = () => (l?.type === 'address' && l.address !== undefined ? ` listen='${l.address}'` : '');
  switch (g.type) {
    case 'vnc':
      if (l?.type === 'socket') head += attr('socket', l.socket);
      else if (l?.type === 'address' || l?.type === 'network') {
        if (g.port && !g.autoport) head += ` port='${g.port}'`;
        else if (g.autoport) head += ` port='-1'`;
        head += ` autoport='${g.autoport ? 'yes' : 'no'}'`;
        if (g.websocket) head += ` websocket='${g.websocket}'`;
        head += listenAttr();
      }
      head += attr('keymap', g.keymap) + attr('sharePolicy', g.sharePolicy) + attr('powerControl', g.powerControl) + authAttrs(g.auth);
      break;
    case 'sdl':
      head += attr('display', g.display) + attr('xauth', g.xauth) + (g.fullscreen ? " fullscreen='yes'" : '');
      break;
    case 'rdp':
      if (g.port) head += ` port='${g.port}'`;
      else if (g.autoport) head += " port='0'";
      if (g.autoport) head += " autoport='yes'";
      if (g.replaceUser) head += " replaceUser='yes'";
      if (g.multiUser) head += " multiUser='yes'";
      head += listenAttr();
      break;
    case 'desktop':
      head += attr('display', g.display) + (g.fullscreen ? " fullscreen='yes'" : '');
      break;
    case 'spice':
      if (l?.type === 'address' || l?.type === 'network') {
        if (g.port) head += ` port='${g.port}'`;
        if (g.tlsPort) head += ` tlsPort='${g.tlsPort}'`;
        head += ` autoport='${g.autoport ? 'yes' : 'no'}'`;
        head += listenAttr();
      }
      head += attr('keymap', g.keymap) + (g.defaultMode !== 'any' ? ` defaultMode='${g.defaultMode}'` : '') + authAttrs(g.auth);
      break;
    case 'egl-headless':
      break;
    case 'dbus':
      if (g.p2p) head += " p2p='yes'";
      // (libvirt writes the address unescaped)
      if (g.dbusAddress !== undefined) head += ` address='${g.dbusAddress}'`;
      break;
  }
  const body: (() => void)[] = [];
  if (g.type === 'sdl' && g.gl) body.push(() => w.line(`<gl enable='${g.gl}'/>`));
  if (g.type === 'egl-headless' && g.rendernode !== undefined) body.push(() => w.line(`<gl${attr('rendernode', g.rendernode)}/>`));
  if (g.type === 'dbus') {
    if (g.gl) body.push(() => w.line(`<gl enable='${g.gl}'${attr('rendernode', g.rendernode)}/>`));
    if (g.audioId > 0) body.push(() => w.line(`<audio id='${g.audioId}'/>`));
  }
  for (const x of g.listens) {
    body.push(() => w.line(`<listen type='${x.type}'${x.type === 'address' && x.address !== undefined ? ` address='${x.address}'` : ''}${x.type === 'network' ? attr('network', x.network) : ''}${x.type === 'socket' ? attr('socket', x.socket) : ''}/>`));
  }
  if (g.type === 'spice') {
    for (const name of SPICE_CHANNELS) {
      const mode = g.channels[name];
      if (mode && mode !== 'any') body.push(() => w.line(`<channel name='${name}' mode='${mode}'/>`));
    }
    if (g.image) body.push(() => w.line(`<image compression='${g.image}'/>`));
    if (g.jpeg) body.push(() => w.line(`<jpeg compression='${g.jpeg}'/>`));
    if (g.zlib) body.push(() => w.line(`<zlib compression='${g.zlib}'/>`));
    if (g.playback) body.push(() => w.line(`<playback compression='${g.playback}'/>`));
    if (g.streaming) body.push(() => w.line(`<streaming mode='${g.streaming}'/>`));
    if (g.mousemode) body.push(() => w.line(`<mouse mode='${g.mousemode}'/>`));
    if (g.copypaste) body.push(() => w.line(`<clipboard copypaste='${g.copypaste}'/>`));
    if (g.filetransfer) body.push(() => w.line(`<filetransfer enable='${g.filetransfer}'/>`));
    if (g.gl) body.push(() => w.line(`<gl enable='${g.gl}'${attr('rendernode', g.rendernode)}/>`));
  }
  // VNC always opens the element (libvirt's formatter does, to write <audio> in it).
  if (g.type === 'vnc') {
    if (g.audioId > 0) body.push(() => w.line(`<audio id='${g.audioId}'/>`));
    w.open(`<${head}>`);
    for (const b of body) b();
    w.close('</graphics>');
    return;
  }
  w.element(head, 'graphics', body.length ? () => body.forEach((b) => b()) : undefined);
}

/** qemuProcessStartValidateGraphics: QEMU listens in one place per display. */
export function startValidateGraphics(list: GraphicsDef[]): void {
  for (const g of list) {
    if ((g.type === 'vnc' || g.type === 'spice') && g.listens.length > 1) throw unsupportedConfig('QEMU does not support multiple listens for one graphics device.');
  }
}

export const graphics: DeviceKind<GraphicsDef> = {
  element: 'graphics',
  parse,
  validateConf(g, { def }) {
    // virDomainGraphicsDefValidate
    if (g.type === 'vnc' || g.type === 'spice' || g.type === 'rdp') {
      if (g.listens.some((l) => l.type === 'network' && !l.network)) throw xmlError("'network' attribute is required for listen type 'network'");
    }
    if (g.type === 'vnc' && g.audioId && !def.devices.audio.some((a) => a.id === g.audioId)) throw xmlError(`no audio device with ID ${g.audioId}`);
    if (g.type === 'dbus' && g.p2p && g.dbusAddress !== undefined) throw xmlError('D-Bus p2p with an address is not supported');
  },
  validate: validateGraphics,
  validateStart(g, { def }) {
    // qemuBuildCommandLineValidate
    if (g !== def.devices.graphics[0]) return;
    const n = (t: GraphicsType) => def.devices.graphics.filter((o) => o.type === t).length;
    if (n('sdl') > 1 || n('vnc') > 1 || n('spice') > 1 || n('egl-headless') > 1 || n('dbus') > 1) {
      throw unsupportedConfig('only 1 graphics device of each type (sdl, vnc, spice, headless, dbus) is supported');
    }
  },
  format,
  command: commandGraphics,
};
