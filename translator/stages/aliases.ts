// QEMU ids (qemuAssignDeviceAliases), given on the way to a command line: a user alias
// is the id; otherwise each kind names its device, counting within its own list (the
// devices before it already named, so a kind that scans for `prefixN` sees them).
import { eachDevice } from '../devices/registry.js';
import type { DomainDef } from '../model.js';
import { ALIAS_ORDER } from './order.js';

export function assignAliases(def: DomainDef): void {
  for (const kind of ALIAS_ORDER) {
    eachDevice(def.devices, kind, (k, dev, i) => {
      const info = k.info?.(dev);
      if (!info) return;
      const alias = info.userAlias ?? k.alias?.(dev, i, def);
      if (alias !== undefined) info.alias = alias;
    });
  }
}
