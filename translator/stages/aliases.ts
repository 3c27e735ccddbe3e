// QEMU ids (qemuAssignDeviceAliases), given on the way to a command line: each kind
// names its devices, counting within its own list.
import { eachDevice } from '../devices/registry.js';
import type { DomainDef } from '../model.js';
import { ALIAS_ORDER } from './order.js';

export function assignAliases(def: DomainDef): void {
  for (const kind of ALIAS_ORDER) {
    eachDevice(def.devices, kind, (k, dev, i) => {
      const info = k.info?.(dev);
      const alias = k.alias?.(dev, i, def);
      if (info && alias !== undefined) info.alias = alias;
    });
  }
}
