// The model of <graphics> (libvirt's virDomainGraphicsDef) and the names of its enums.
export const GRAPHICS_TYPES = ['sdl', 'vnc', 'rdp', 'desktop', 'spice', 'egl-headless', 'dbus'] as const;
export type GraphicsType = (typeof GRAPHICS_TYPES)[number];
export const LISTEN_TYPES = ['none', 'address', 'network', 'socket'] as const;
export const SPICE_CHANNELS = ['main', 'display', 'inputs', 'cursor', 'playback', 'record', 'smartcard', 'usbredir'] as const;
export const CHANNEL_MODES = ['any', 'secure', 'insecure'] as const;
export type ChannelMode = (typeof CHANNEL_MODES)[number];
export const IMAGE = ['default', 'auto_glz', 'auto_lz', 'quic', 'glz', 'lz', 'off'] as const;
export const JPEG = ['default', 'auto', 'never', 'always'] as const;
export const STREAMING = ['default', 'filter', 'all', 'off'] as const;
export const MOUSE = ['default', 'server', 'client'] as const;
export const SHARE = ['default', 'allow-exclusive', 'force-shared', 'ignore'] as const;
export const CONNECTED = ['default', 'fail', 'disconnect', 'keep'] as const;
export const ON_OFF = ['on', 'off'] as const;

export interface GraphicsListen {
  type: (typeof LISTEN_TYPES)[number];
  address?: string;
  network?: string;
  socket?: string;
  /** filled in from qemu.conf when the domain starts (never formatted inactive) */
  fromConfig?: boolean;
}

export interface GraphicsAuth {
  passwd?: string;
  /** passwdValidTo, normalized */
  validTo?: string;
  connected?: (typeof CONNECTED)[number];
}

export interface GraphicsDef {
  type: GraphicsType;
  listens: GraphicsListen[];
  /** vnc, rdp, spice */
  port: number;
  tlsPort: number;
  autoport: boolean;
  websocket: number;
  sharePolicy?: (typeof SHARE)[number];
  powerControl?: 'yes' | 'no';
  keymap?: string;
  audioId: number;
  auth: GraphicsAuth;
  /** spice */
  defaultMode: ChannelMode;
  channels: Partial<Record<(typeof SPICE_CHANNELS)[number], ChannelMode>>;
  image?: (typeof IMAGE)[number];
  jpeg?: (typeof JPEG)[number];
  zlib?: (typeof JPEG)[number];
  playback?: 'on' | 'off';
  streaming?: (typeof STREAMING)[number];
  copypaste?: 'yes' | 'no';
  filetransfer?: 'yes' | 'no';
  mousemode?: (typeof MOUSE)[number];
  /** spice, sdl, dbus: <gl enable> */
  gl?: 'yes' | 'no';
  rendernode?: string;
  /** sdl, desktop */
  display?: string;
  xauth?: string;
  fullscreen?: boolean;
  /** rdp */
  replaceUser?: boolean;
  multiUser?: boolean;
  /** dbus */
  p2p?: boolean;
  dbusAddress?: string;
}

declare module '../model.js' {
  interface Devices {
    graphics: GraphicsDef[];
  }
}
