// Arch and machine-name predicates libvirt's qemu driver asks everywhere (ARCH_IS_X86,
// qemuDomainIsQ35, qemuDomainIsI440FX), on the names as written in the definition.

/** ARCH_IS_X86 */
export const isX86 = (arch: string | undefined) => arch === 'x86_64' || arch === 'i686';

/** qemuDomainIsQ35, on the domain's machine name (an alias or a canonical name) */
export const isQ35Machine = (machine: string | undefined) => !!machine && (machine.startsWith('pc-q35') || machine === 'q35');

/** qemuDomainIsI440FX, on the domain's machine name */
export const isI440fxMachine = (machine: string | undefined) => !!machine && (machine.startsWith('pc-i440fx') || machine === 'pc');
