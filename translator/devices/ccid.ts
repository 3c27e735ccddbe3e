// <controller type='ccid'>: a usb-ccid (smartcard reader) on a USB port. Its model and
// address come with the controller kind (controller.ts); here is what is its own.
import { notImplemented } from '../errors.js';
import type { ControllerDef } from './controller-def.js';
import { addressProps } from './info.js';
import type { StageContext } from './kind.js';

/** A CCID controller sits on a USB port, or is given one. */
export function checkCcidAddress(c: ControllerDef): void {
  const a = c.info.address;
  if (a && a.type !== 'usb') throw notImplemented(`<controller type='ccid'> with an <address type='${a.type}'>`);
}

/** qemuBuildControllersByTypeCommandLine for CCID, which qemuBuildCommandLine calls after the hubs */
export function ccidCommands({ def }: StageContext): string[][] {
  return def.devices.controller
    .filter((c) => c.type === 'ccid')
    .map((c) => ['-device', JSON.stringify({ driver: 'usb-ccid', id: c.info.alias, ...addressProps(c.info, def) })]);
}
