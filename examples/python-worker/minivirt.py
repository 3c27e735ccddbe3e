#!/usr/bin/env python3
"""minivirt: a deliberately small libvirt domain XML to QEMU command line translator.

It is an example of a tool, written in another language than virtgold, that keeps its
own corpus and goldens with virtgold (see README.md beside it). Python 3.8+, stdlib only.

Usage:
  minivirt.py xml2argv|xml2xml --caps CAPS.xml DOMAIN.xml   (DOMAIN.xml may be -)
      One translation, as `virtgold xml2argv` does it (virtgold's --translator-cmd):
      the result on stdout, exit 0; a translation error (the domain is refused) on
      stderr, exit 1; a tool error (a file it cannot read, bad usage) on stderr, exit 2.
  minivirt.py --serve
      virtgold's worker protocol (--translator-worker): one JSON request a line on
      stdin, one JSON answer a line on stdout, in order.

What it translates. Anything else in the domain is refused, never silently dropped:
  <domain type='qemu|kvm'>, <name> (letters, digits, '.', '_', '-'), <uuid>,
  <memory unit='…'>, <vcpu>, <os><type arch='…' machine='…'>hvm</type></os>,
  <devices> with
    <emulator>               (must be the QEMU binary the snapshot was probed from)
    <disk type='file' device='disk|cdrom'> with <driver name='qemu' type='raw|qcow2'/>,
        <source file='…'/> (optional for a cdrom), <target dev='vdX|hdX' bus='virtio|ide'/>,
        <readonly/>; IDE only on i440fx machines
    <interface type='user'> with <mac address='…'/>, <model type='virtio|e1000|rtl8139'/>
From the QEMU capabilities snapshot (libvirt's <qemuCaps> file) it reads the emulator,
the architecture, the version, the 'kvm' flag and the machine types.
"""
import json
import math
import os
import re
import sys
import xml.etree.ElementTree as ET


class TranslationError(Exception):
    """The domain is refused; virtgold compares the message with an .err golden."""


class ToolError(Exception):
    """minivirt could not do its job (a file it cannot read); never compared with a golden."""


# --- the capabilities snapshot ------------------------------------------------------------

class Caps:
    def __init__(self, path, arch, version, emulator, flags, machines):
        self.path = path
        self.arch = arch
        self.version = version          # "8.1.0"
        self.emulator = emulator
        self.flags = flags              # {"kvm", …}
        self.machines = machines        # {"kvm"|"tcg": [{name, alias, default, max_cpus}]}


def read_file(path, what):
    try:
        with open(path, 'rb') as f:
            return f.read()
    except OSError as e:
        raise ToolError(f'cannot read {what} {path}: {e.strerror}') from None


def load_caps(path):
    data = read_file(path, 'capabilities file')
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise ToolError(f'{path}: not a QEMU capabilities file ({e})') from None
    if root.tag != 'qemuCaps':
        raise ToolError(f'{path}: not a QEMU capabilities file (root element <{root.tag}>)')
    arch = (root.findtext('arch') or '').strip()
    number = (root.findtext('version') or '').strip()
    emulator = (root.findtext('emulator') or '').strip()
    if not arch or not number.isdigit():
        raise ToolError(f'{path}: a capabilities file needs <arch> and a numeric <version>')
    if not emulator:
        # libvirt's probe cache names the binary; minivirt runs exactly that one.
        raise ToolError(f'{path}: no <emulator> (minivirt runs the QEMU binary the snapshot was probed from)')
    n = int(number)
    machines = {}
    for m in root.findall('machine'):
        machines.setdefault(m.get('type', 'kvm'), []).append({
            'name': m.get('name'),
            'alias': m.get('alias'),
            'default': m.get('default') == 'yes',
            'max_cpus': int(m.get('maxCpus', '1')),
        })
    flags = {f.get('name') for f in root.findall('flag')}
    return Caps(path, arch, f'{n // 1000000}.{n // 1000 % 1000}.{n % 1000}', emulator, flags, machines)


_caps_cache = {}


def caps_for(path):
    """A worker serves many requests: each snapshot is parsed once (again if it changed)."""
    try:
        st = os.stat(path)
        key = (path, st.st_mtime_ns, st.st_size)
    except OSError:
        key = None  # load_caps says why
    caps = _caps_cache.get(key) if key else None
    if caps is None:
        caps = load_caps(path)
        _caps_cache[key] = caps
    return caps


# --- the domain ------------------------------------------------------------------------------

def check(el, attrs=(), children=()):
    """Refuse what minivirt does not handle, rather than translate the domain without it."""
    for a in el.attrib:
        if a not in attrs:
            raise TranslationError(f"unsupported: attribute '{a}' of <{el.tag}> is not handled by minivirt")
    seen = set()
    for c in el:
        if c.tag not in children:
            raise TranslationError(f'unsupported: <{c.tag}> in <{el.tag}> is not handled by minivirt')
        if c.tag in seen and c.tag not in ('disk', 'interface'):
            raise TranslationError(f'XML error: more than one <{c.tag}> in <{el.tag}>')
        seen.add(c.tag)


def text(el):
    return (el.text or '').strip() if el is not None else ''


MEMORY_UNITS = {
    'b': 1, 'bytes': 1, 'KB': 1000, 'k': 1024, 'KiB': 1024, 'MB': 1000 ** 2, 'M': 1024 ** 2,
    'MiB': 1024 ** 2, 'GB': 1000 ** 3, 'G': 1024 ** 3, 'GiB': 1024 ** 3, 'TB': 1000 ** 4,
    'T': 1024 ** 4, 'TiB': 1024 ** 4,
}
UUID = re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')
MAC = re.compile(r'^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$')
NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]*$')
NIC_MODELS = {'virtio': 'virtio-net-pci', 'e1000': 'e1000', 'rtl8139': 'rtl8139'}


def parse_domain(data, caps):
    """The domain as a dict, with defaults filled in from the snapshot, or TranslationError."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise TranslationError(f'XML error: {e}') from None
    if root.tag != 'domain':
        raise TranslationError(f'XML error: the root element is <{root.tag}>, not <domain>')
    check(root, ('type',), ('name', 'uuid', 'memory', 'vcpu', 'os', 'devices'))
    virt = root.get('type')
    if virt not in ('qemu', 'kvm'):
        raise TranslationError(f"unsupported: domain type '{virt}' is not handled by minivirt")
    if virt == 'kvm' and 'kvm' not in caps.flags:
        raise TranslationError(f'unsupported configuration: QEMU {caps.version} has no KVM')

    name = text(root.find('name'))
    if not name:
        raise TranslationError('XML error: missing <name>')
    if not NAME.match(name):
        raise TranslationError(f"XML error: a domain name is letters, digits, '.', '_' and '-', not '{name}'")
    uuid = text(root.find('uuid'))
    if uuid and not UUID.match(uuid):
        raise TranslationError(f"XML error: malformed uuid '{uuid}'")

    mem = root.find('memory')
    if mem is None:
        raise TranslationError('XML error: missing <memory>')
    check(mem, ('unit',))
    unit = mem.get('unit', 'KiB')
    if unit not in MEMORY_UNITS:
        raise TranslationError(f"XML error: unknown memory unit '{unit}'")
    if not text(mem).isdigit() or int(text(mem)) == 0:
        raise TranslationError(f"XML error: memory size must be a positive integer, not '{text(mem)}'")
    memory_kib = math.ceil(int(text(mem)) * MEMORY_UNITS[unit] / 1024)

    vcpu_el = root.find('vcpu')
    if vcpu_el is not None:
        check(vcpu_el)
    vcpus = text(vcpu_el) or '1'
    if not vcpus.isdigit() or int(vcpus) == 0:
        raise TranslationError(f"XML error: vcpu count must be a positive integer, not '{vcpus}'")

    os_el = root.find('os')
    type_el = os_el.find('type') if os_el is not None else None
    if type_el is None:
        raise TranslationError('XML error: missing <os><type>')
    check(os_el, (), ('type',))
    check(type_el, ('arch', 'machine'))
    if text(type_el) != 'hvm':
        raise TranslationError(f"unsupported: OS type '{text(type_el)}' is not handled by minivirt")
    arch = type_el.get('arch', caps.arch)
    if arch != caps.arch:
        raise TranslationError(f'unsupported configuration: this QEMU emulates {caps.arch}, not {arch}')
    machine = resolve_machine(type_el.get('machine'), virt, caps)
    if int(vcpus) > machine['max_cpus']:
        raise TranslationError(f"unsupported configuration: {vcpus} vCPUs are more than machine type '{machine['name']}' takes ({machine['max_cpus']})")

    dom = {'type': virt, 'name': name, 'uuid': uuid.lower(), 'memory_kib': memory_kib,
           'vcpus': int(vcpus), 'arch': arch, 'machine': machine['name'],
           'emulator': caps.emulator, 'disks': [], 'nics': []}
    devices = root.find('devices')
    if devices is not None:
        check(devices, (), ('emulator', 'disk', 'interface'))
        emulator = devices.find('emulator')
        if emulator is not None and text(emulator) != caps.emulator:
            raise TranslationError(f"unsupported configuration: emulator '{text(emulator)}' is not the QEMU of this snapshot ({caps.emulator})")
        for el in devices:
            if el.tag == 'disk':
                dom['disks'].append(parse_disk(el, dom))
            elif el.tag == 'interface':
                dom['nics'].append(parse_nic(el))
    return dom


def resolve_machine(wanted, virt, caps):
    machines = caps.machines.get('kvm' if virt == 'kvm' else 'tcg', [])
    for m in machines:
        if (m['default'] if wanted is None else wanted in (m['name'], m['alias'])):
            return m
    if wanted is None:
        raise TranslationError(f'unsupported configuration: QEMU {caps.version} has no default machine type')
    raise TranslationError(f"unsupported configuration: machine type '{wanted}' is not known to QEMU {caps.version}")


def parse_disk(el, dom):
    check(el, ('type', 'device'), ('driver', 'source', 'target', 'readonly'))
    if el.get('type') != 'file':
        raise TranslationError(f"unsupported: disk type '{el.get('type')}' is not handled by minivirt")
    device = el.get('device', 'disk')
    if device not in ('disk', 'cdrom'):
        raise TranslationError(f"unsupported: disk device '{device}' is not handled by minivirt")
    fmt = 'raw'
    driver = el.find('driver')
    if driver is not None:
        check(driver, ('name', 'type'))
        if driver.get('name', 'qemu') != 'qemu' or driver.get('type', 'raw') not in ('raw', 'qcow2'):
            raise TranslationError(f"unsupported: disk driver '{driver.get('name')}' type '{driver.get('type')}' is not handled by minivirt")
        fmt = driver.get('type', 'raw')
    source = el.find('source')
    if source is not None:
        check(source, ('file',))
    path = source.get('file') if source is not None else None
    if not path and device == 'disk':
        raise TranslationError('XML error: a disk needs <source file=…>')
    target = el.find('target')
    if target is None or not target.get('dev'):
        raise TranslationError('XML error: missing <target dev=…> of a disk')
    check(target, ('dev', 'bus'))
    dev = target.get('dev')
    bus = target.get('bus', 'virtio' if dev.startswith('vd') else 'ide')
    if bus not in ('virtio', 'ide'):
        raise TranslationError(f"unsupported: disk bus '{bus}' is not handled by minivirt")
    if not re.match(r'^vd[a-z]$' if bus == 'virtio' else r'^hd[a-d]$', dev):
        raise TranslationError(f"XML error: target '{dev}' is not a disk name on bus {bus}")
    if any(d['dev'] == dev for d in dom['disks']):
        raise TranslationError(f"XML error: target '{dev}' is used twice")
    if bus == 'virtio' and device == 'cdrom':
        raise TranslationError(f"unsupported configuration: disk '{dev}' on bus virtio cannot be a cdrom")
    if bus == 'ide' and '-q35-' in dom['machine']:
        raise TranslationError(f"unsupported configuration: IDE is not available on machine type '{dom['machine']}'")
    index = ord(dev[2]) - ord('a')
    return {'device': device, 'format': fmt, 'path': path, 'dev': dev, 'bus': bus, 'index': index,
            'readonly': device == 'cdrom' or el.find('readonly') is not None}


def parse_nic(el):
    check(el, ('type',), ('mac', 'model'))
    if el.get('type') != 'user':
        raise TranslationError(f"unsupported: interface type '{el.get('type')}' is not handled by minivirt")
    mac = el.find('mac')
    address = ''
    if mac is not None:
        check(mac, ('address',))
        address = (mac.get('address') or '').lower()
        if not MAC.match(address):
            raise TranslationError(f"XML error: malformed mac address '{mac.get('address')}'")
        if int(address[:2], 16) & 1:
            raise TranslationError(f"XML error: mac address '{address}' is a multicast address")
    model = el.find('model')
    if model is not None:
        check(model, ('type',))
    kind = model.get('type') if model is not None else 'virtio'
    if kind not in NIC_MODELS:
        raise TranslationError(f"unsupported: interface model '{kind}' is not handled by minivirt")
    return {'mac': address, 'model': kind}


# --- xml2argv: the command line in virtgold's .args format -------------------------------------

SH_SAFE = re.compile(r'^[A-Za-z0-9_@%+=:,./-]+$')


def sh_quote(s):
    return s if SH_SAFE.match(s) else "'" + s.replace("'", "'\\''") + "'"


def qemu_opt(s):
    """A value inside QEMU's key=value,… syntax: a comma is written twice."""
    return s.replace(',', ',,')


def command_line(dom):
    home = f"/var/lib/libvirt/qemu/domain--1-{dom['name']}"
    env = ['LC_ALL=C', 'PATH=/bin', f'HOME={home}', 'USER=test', 'LOGNAME=test',
           f'XDG_DATA_HOME={home}/.local/share', f'XDG_CACHE_HOME={home}/.cache',
           f'XDG_CONFIG_HOME={home}/.config']
    accel = 'kvm' if dom['type'] == 'kvm' else 'tcg'
    args = [('-name', f"guest={dom['name']}"),
            ('-machine', f"{dom['machine']},accel={accel}"),
            ('-m', f"size={dom['memory_kib']}k"),
            ('-smp', str(dom['vcpus']))]
    if dom['uuid']:
        args.append(('-uuid', dom['uuid']))
    args += [('-no-user-config',), ('-nodefaults',),
             ('-chardev', 'socket,id=charmonitor,fd=1729,server=on,wait=off'),
             ('-mon', 'chardev=charmonitor,id=monitor,mode=control'),
             ('-display', 'none')]
    for d in dom['disks']:
        ide = d['bus'] == 'ide'
        alias = f"ide0-{d['index'] // 2}-{d['index'] % 2}" if ide else f"virtio-disk{d['index']}"
        drive = [f"file={qemu_opt(d['path'])}", f"format={d['format']}"] if d['path'] else []
        drive += ['if=none', f'id=drive-{alias}']
        if d['device'] == 'cdrom':
            drive.append('media=cdrom')
        if d['readonly']:
            drive.append('readonly=on')
        args.append(('-drive', ','.join(drive)))
        if ide:
            model = 'ide-cd' if d['device'] == 'cdrom' else 'ide-hd'
            args.append(('-device', f"{model},bus=ide.{d['index'] // 2},unit={d['index'] % 2},drive=drive-{alias},id={alias}"))
        else:
            args.append(('-device', f'virtio-blk-pci,drive=drive-{alias},id={alias}'))
    for i, n in enumerate(dom['nics']):
        args.append(('-netdev', f'user,id=hostnet{i}'))
        device = f"{NIC_MODELS[n['model']]},netdev=hostnet{i},id=net{i}"
        args.append(('-device', device + (f",mac={n['mac']}" if n['mac'] else '')))
    lines = env + [dom['emulator']] + [' '.join([a[0]] + [sh_quote(v) for v in a[1:]]) for a in args]
    return ' \\\n'.join(lines) + '\n'


# --- xml2xml: the domain as minivirt understood it, defaults filled in ----------------------------

def xml_attr(s):
    return (s.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')
            .replace("'", '&apos;').replace('"', '&quot;'))


def xml_text(s):
    return s.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')


def normalized_xml(dom):
    out = [f"<domain type='{dom['type']}'>", f"  <name>{dom['name']}</name>"]
    if dom['uuid']:
        out.append(f"  <uuid>{dom['uuid']}</uuid>")
    out += [f"  <memory unit='KiB'>{dom['memory_kib']}</memory>",
            f"  <vcpu>{dom['vcpus']}</vcpu>",
            '  <os>',
            f"    <type arch='{dom['arch']}' machine='{xml_attr(dom['machine'])}'>hvm</type>",
            '  </os>',
            '  <devices>',
            f"    <emulator>{xml_text(dom['emulator'])}</emulator>"]
    for d in dom['disks']:
        out.append(f"    <disk type='file' device='{d['device']}'>")
        out.append(f"      <driver name='qemu' type='{d['format']}'/>")
        if d['path']:
            out.append(f"      <source file='{xml_attr(d['path'])}'/>")
        out.append(f"      <target dev='{d['dev']}' bus='{d['bus']}'/>")
        if d['readonly']:
            out.append('      <readonly/>')
        out.append('    </disk>')
    for n in dom['nics']:
        out.append("    <interface type='user'>")
        if n['mac']:
            out.append(f"      <mac address='{n['mac']}'/>")
        out.append(f"      <model type='{n['model']}'/>")
        out.append('    </interface>')
    out += ['  </devices>', '</domain>']
    return '\n'.join(out) + '\n'


def translate(mode, data, caps):
    dom = parse_domain(data, caps)
    return command_line(dom) if mode == 'xml2argv' else normalized_xml(dom)


# --- the two ways virtgold runs it ------------------------------------------------------------------

MODES = ('xml2argv', 'xml2xml')


def handle(line):
    """One worker request (a JSON line) to its answer (a dict)."""
    try:
        req = json.loads(line)
    except ValueError:
        return {'id': None, 'ok': False, 'protocol': 'request is not JSON'}
    rid = req.get('id') if isinstance(req, dict) else None
    if not isinstance(rid, int) or isinstance(rid, bool):
        rid = None
    if rid is None or req.get('mode') not in MODES or not isinstance(req.get('caps'), str) \
            or not isinstance(req.get('input', req.get('xml')), str):
        return {'id': rid, 'ok': False, 'protocol': 'a request needs id, mode, caps and input (or xml)'}
    try:
        caps = caps_for(req['caps'])
        data = req['xml'].encode('utf-8') if isinstance(req.get('xml'), str) else read_file(req['input'], 'domain XML')
        return {'id': rid, 'ok': True, 'output': translate(req['mode'], data, caps)}
    except TranslationError as e:
        return {'id': rid, 'ok': False, 'error': str(e)}
    except ToolError as e:
        return {'id': rid, 'ok': False, 'tool': str(e)}
    except Exception as e:  # a bug in minivirt: virtgold reports the entry broken
        return {'id': rid, 'ok': False, 'protocol': f'internal error: {type(e).__name__}: {e}'}


def serve():
    for line in sys.stdin.buffer:
        if line.strip():
            sys.stdout.write(json.dumps(handle(line)) + '\n')
            sys.stdout.flush()
    return 0


USAGE = 'usage: minivirt.py xml2argv|xml2xml --caps CAPS.xml DOMAIN.xml | minivirt.py --serve'


def main(argv):
    if argv == ['--serve']:
        return serve()
    if len(argv) != 4 or argv[0] not in MODES or argv[1] != '--caps':
        print(USAGE, file=sys.stderr)
        return 2
    mode, _, caps_path, input_path = argv
    try:
        caps = load_caps(caps_path)
        data = sys.stdin.buffer.read() if input_path == '-' else read_file(input_path, 'domain XML')
        sys.stdout.write(translate(mode, data, caps))
        return 0
    except TranslationError as e:
        print(e, file=sys.stderr)
        return 1
    except ToolError as e:
        print(e, file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
