// The host libvirt runs on, where an answer depends on it.

/** libvirt runs on an x86_64 host here: that is the arch it picks when the XML names none. */
export const HOST_ARCH = 'x86_64';
