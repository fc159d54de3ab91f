// The typed domain configuration (xl_parse.c's parse_config_data with libxl's defaults), and the typed
// reads underneath it, whose messages are libxlu_cfg.c's.
import { XlCfgError, domainConfig, parseDomainConfigText, parseXlCfg } from '../src/index.js';

const parse = (text: string, overrides?: string[]) => parseDomainConfigText(text, { source: 'vm.cfg', overrides });

function refusal(text: string, overrides?: string[]): string {
  try {
    parse(text, overrides);
  } catch (e) {
    if (e instanceof XlCfgError) return e.message;
    throw e;
  }
  throw new Error('accepted');
}

const FULL = `# a guest with one of everything
name = "web1"
uuid = "6A0F1C3E-2B34-4B1A-8C9D-1E2F3A4B5C6D"
type = "pvh"
memory = 512
maxmem = 1024
vcpus = 2
maxvcpus = 4
cpu_weight = 512
cap = 150
kernel = "builtin:minios"
ramdisk = "/boot/initrd"
root = "/dev/xvda1"
extra = "console=hvc0"
on_poweroff = "destroy"
on_reboot = "rename-restart"
on_watchdog = "preserve"
on_crash = "coredump-restart"
on_soft_reset = "soft-reset"
driver_domain = 0
max_event_channels = 2047
disk = [ '/dev/vg/guest,raw,xvda,rw',
         'format=raw, vdev=xvdb, access=rw, backend=storagedom, target=/dev/zvol/pool/vm1',
         '/root/image.iso,,hdc,cdrom' ]
vif = [ 'mac=00:16:3e:00:00:01,bridge=xenbr0', 'bridge=dmz,backend=netdom,rate=10Mb/s' ]
p9 = [ 'tag=share0,security_model=none,path=/srv/share,backend=dom0' ]
vtpm = [ 'backend=vtpm-web1' ]
`;

describe('domain config', () => {
  it('reads every key', () => {
    const { config, warnings } = parse(FULL);
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({
      name: 'web1',
      uuid: '6a0f1c3e-2b34-4b1a-8c9d-1e2f3a4b5c6d',
      type: 'pvh',
      memory: 512,
      maxmem: 1024,
      vcpus: 2,
      maxvcpus: 4,
      cpuWeight: 512,
      cap: 150,
      kernel: 'builtin:minios',
      ramdisk: '/boot/initrd',
      root: '/dev/xvda1',
      extra: 'console=hvc0',
      cmdline: 'root=/dev/xvda1 console=hvc0',
      onPoweroff: 'destroy',
      onReboot: 'rename-restart',
      onWatchdog: 'preserve',
      onCrash: 'coredump-restart',
      onSoftReset: 'soft-reset',
      driverDomain: false,
      maxEventChannels: 2047,
    });
    expect(config.disks.map((d) => [d.vdev, d.devid, d.target, d.backend, d.readwrite])).toEqual([
      ['xvda', 51712, '/dev/vg/guest', undefined, true],
      ['xvdb', 51728, '/dev/zvol/pool/vm1', 'storagedom', true],
      ['hdc', 5632, '/root/image.iso', undefined, false],
    ]);
    expect(config.vifs.map((v) => [v.devid, v.mac, v.bridge, v.backend, v.rate?.bytesPerInterval])).toEqual([
      [0, '00:16:3e:00:00:01', 'xenbr0', undefined, undefined],
      [1, undefined, 'dmz', 'netdom', 62500],
    ]);
    expect(config.p9s).toMatchObject([{ devid: 0, tag: 'share0', path: '/srv/share', backend: 'dom0' }]);
    expect(config.vtpms).toEqual([{ spec: 'backend=vtpm-web1', devid: 0, backend: 'vtpm-web1' }]);
    expect(config.raw).toEqual({
      disk: [
        '/dev/vg/guest,raw,xvda,rw',
        'format=raw, vdev=xvdb, access=rw, backend=storagedom, target=/dev/zvol/pool/vm1',
        '/root/image.iso,,hdc,cdrom',
      ],
      vif: ['mac=00:16:3e:00:00:01,bridge=xenbr0', 'bridge=dmz,backend=netdom,rate=10Mb/s'],
      p9: ['tag=share0,security_model=none,path=/srv/share,backend=dom0'],
      vtpm: ['backend=vtpm-web1'],
    });
  });

  it("has xl's and libxl's defaults", () => {
    expect(parse('name = "tiny"\n').config).toEqual({
      name: 'tiny',
      type: 'pv',
      memory: 32,
      maxmem: 32,
      vcpus: 1,
      maxvcpus: 1,
      cpuWeight: 256,
      cap: 0,
      onPoweroff: 'destroy',
      onReboot: 'restart',
      onWatchdog: 'destroy',
      onCrash: 'destroy',
      onSoftReset: 'soft-reset',
      driverDomain: false,
      maxEventChannels: 1023,
      disks: [],
      vifs: [],
      p9s: [],
      vtpms: [],
      raw: { disk: [], vif: [], p9: [], vtpm: [] },
    });
  });

  it('name is mandatory', () => {
    expect(refusal('memory = 64\n')).toBe('vm.cfg: Domain name must be specified.');
    expect(refusal('name = ""\n')).toBe('vm.cfg:1:8: Domain name must be specified.');
    expect(refusal('name = ["a"]\n')).toBe("vm.cfg:1:8: parameter `name' is a list but should be a single value");
  });

  it('uuid is validated', () => {
    expect(refusal('name = "a"\nuuid = "6a0f1c3e-2b34-4b1a-8c9d"\n')).toBe(
      'vm.cfg:2:8: Failed to parse UUID: 6a0f1c3e-2b34-4b1a-8c9d',
    );
  });

  it('type is pv, pvh or hvm; the old builder="hvm" still works', () => {
    expect(parse('name="a"\ntype="hvm"\n').config.type).toBe('hvm');
    const old = parse('name="a"\nbuilder="hvm"\n');
    expect(old.config.type).toBe('hvm');
    expect(old.warnings).toEqual(['vm.cfg:2: warning: `builder\' is deprecated since Xen 4.10, use type="hvm"']);
    expect(parse('name="a"\nbuilder="generic"\n').config.type).toBe('pv');
    expect(refusal('name="a"\ntype="kvm"\n')).toBe('vm.cfg:2:6: Invalid domain type kvm.');
    expect(refusal('name="a"\nbuilder="xen"\n')).toBe('vm.cfg:2:9: Invalid domain type xen.');
    expect(refusal('name="a"\ntype="pvh"\nbuilder="hvm"\n')).toBe(
      'vm.cfg:3:9: Contradicting "builder" and "type" options specified.',
    );
  });

  it('memory and maxmem are MiB; either stands for both, and maxmem may not be below memory', () => {
    expect(parse('name="a"\nmemory=256\n').config).toMatchObject({ memory: 256, maxmem: 256 });
    expect(parse('name="a"\nmaxmem=256\n').config).toMatchObject({ memory: 256, maxmem: 256 });
    expect(parse('name="a"\nmemory="0x100"\n').config.memory).toBe(256);
    expect(refusal('name="a"\nmemory=512\nmaxmem=256\n')).toBe(
      'vm.cfg:3:8: maxmem (256) must be equal to or greater than memory (512)',
    );
    expect(refusal('name="a"\nmemory=0\n')).toBe(
      "vm.cfg:2:8: parameter `memory': value `0' is smaller than minimum bound '1'",
    );
  });

  it('vcpus below one is one, as in xl; maxvcpus defaults to vcpus and may not be below it', () => {
    expect(parse('name="a"\nvcpus=0\n').config).toMatchObject({ vcpus: 1, maxvcpus: 1 });
    expect(parse('name="a"\nvcpus=3\n').config).toMatchObject({ vcpus: 3, maxvcpus: 3 });
    expect(refusal('name="a"\nvcpus=4\nmaxvcpus=2\n')).toBe('vm.cfg:3:10: xl: maxvcpus < vcpus (2 < 4)');
  });

  it('cpu_weight is 1..65535 and cap 0..100 per vcpu', () => {
    expect(parse('name="a"\ncpu_weight=1\n').config.cpuWeight).toBe(1);
    expect(parse('name="a"\ncpu_weight=65535\n').config.cpuWeight).toBe(65535);
    expect(refusal('name="a"\ncpu_weight=0\n')).toBe(
      "vm.cfg:2:12: parameter `cpu_weight': value `0' is smaller than minimum bound '1'",
    );
    expect(refusal('name="a"\ncpu_weight=65536\n')).toBe(
      "vm.cfg:2:12: parameter `cpu_weight': value `65536' is greater than maximum bound '65535'",
    );
    expect(parse('name="a"\nmaxvcpus=2\ncap=200\n').config.cap).toBe(200);
    expect(refusal('name="a"\nmaxvcpus=2\ncap=201\n')).toBe(
      'vm.cfg:3:5: Cpu cap out of range, valid range is from 0 to 200 for specified number of vcpus',
    );
  });

  it("cmdline overrides root and extra, with xl's warning", () => {
    const r = parse('name="a"\nroot="/dev/xvda"\nextra="quiet"\ncmdline="init=/bin/sh"\n');
    expect(r.config.cmdline).toBe('init=/bin/sh');
    expect(r.warnings).toEqual(['vm.cfg:4: Warning: ignoring root= and extra= in favour of cmdline=']);
    expect(parse('name="a"\nroot="/dev/xvda"\n').config.cmdline).toBe('root=/dev/xvda');
    expect(parse('name="a"\nextra="quiet"\n').config.cmdline).toBe('quiet');
  });

  it('takes every shutdown action xl knows and refuses others', () => {
    for (const a of [
      'destroy',
      'restart',
      'rename-restart',
      'preserve',
      'coredump-destroy',
      'coredump-restart',
      'soft-reset',
    ]) {
      expect(parse(`name="a"\non_crash="${a}"\n`).config.onCrash).toBe(a);
    }
    expect(refusal('name="a"\non_reboot="reboot"\n')).toBe('vm.cfg:2:11: Unknown on_reboot action "reboot" specified');
  });

  it('driver_domain is a number, any non-zero value true', () => {
    expect(parse('name="a"\ndriver_domain=1\n').config.driverDomain).toBe(true);
    expect(parse('name="a"\ndriver_domain=0\n').config.driverDomain).toBe(false);
    expect(parse('name="a"\ndriver_domain=2\n').config.driverDomain).toBe(true);
  });

  it('refuses a string where a number is needed, naming file:line:col and the key', () => {
    expect(refusal('name="a"\nmemory="lots"\n')).toBe("vm.cfg:2:8: parameter `memory' is not a valid number");
    expect(refusal('name="a"\nvcpus=[2]\n')).toBe(
      "vm.cfg:2:7: parameter `vcpus' is a list but should be a single value",
    );
    expect(refusal('name="a"\nmax_event_channels=99999999999999999999\n')).toBe(
      "vm.cfg:2:20: parameter `max_event_channels' could not be parsed as a number: Numerical result out of range",
    );
    expect(refusal('name="a"\nmemory=256\nmemory+=1\n')).toBe(
      "vm.cfg:3:9: can't use += with numbers for parameter `memory'",
    );
  });

  it('refuses a device list that is not a list of strings', () => {
    expect(refusal('name="a"\ndisk="/x,,xvda"\n')).toBe(
      "vm.cfg:2:6: parameter `disk' is a single value but should be a list",
    );
    expect(refusal('name="a"\ndisk=["/x,,xvda", ["/y,,xvdb"]]\n')).toBe(
      "vm.cfg:2:19: parameter `disk': value is not a string",
    );
  });

  it('reports a bad device spec at the list item that holds it', () => {
    expect(refusal('name="a"\ndisk=[\n  "/x,,xvda",\n  "/y,,xvdb,oops"\n]\n')).toBe(
      "vm.cfg:4:3: config parsing error in disk specification: unknown value for access: near `oops' in `/y,,xvdb,oops'",
    );
    expect(refusal('name="a"\nvif=["rate=fast"]\n')).toBe(
      "vm.cfg:2:6: config parsing error in vif: invalid rate in `fast'",
    );
    expect(refusal('name="a"\np9=["tag=t,path=/p,security_model=none,ro=1"]\n')).toBe(
      "vm.cfg:2:5: Unknown 9pfs parameter 'ro' in p9 spec `tag=t,path=/p,security_model=none,ro=1'",
    );
    expect(refusal('name="a"\nvtpm=["uuid=x"]\n')).toBe('vm.cfg:2:7: Failed to parse vtpm UUID: x');
  });

  it("gives xen_9pfsd shares the domain's log directory", () => {
    expect(parse('name="vm7"\np9=["type=xen_9pfsd,security_model=none"]\n').config.p9s[0].path).toBe(
      '/var/log/xen/guests/vm7',
    );
  });

  it('accepts keys xl ignores, and keys Dominion does not use, with a warning for each', () => {
    const r = parse('name="a"\nfavourite_colour="blue"\nvfb=["vnc=1"]\nvif=["bridge=br0,loud"]\n');
    expect(r.warnings).toEqual([
      "vm.cfg:2: warning: unknown key `favourite_colour' ignored (xl ignores unknown keys)",
      "vm.cfg:3: warning: `vfb' is not used by Dominion, ignored",
      "vm.cfg:4:6: warning: unrecognized argument `loud' in vif spec, ignored (as xl does)",
    ]);
    expect(r.cfg.get('favourite_colour')!.value).toBe('blue');
  });

  it('applies command-line overrides', () => {
    const { config } = parse(FULL, ['memory=768', 'name="web2"', 'vif+=["bridge=br9"]']);
    expect(config).toMatchObject({ name: 'web2', memory: 768 });
    expect(config.vifs.map((v) => [v.devid, v.bridge])).toEqual([
      [0, 'xenbr0'],
      [1, 'dmz'],
      [2, 'br9'],
    ]);
    expect(refusal(FULL, ['memory=4096'])).toBe(
      'vm.cfg:6:10: maxmem (1024) must be equal to or greater than memory (4096)',
    );
  });

  it('domainConfig works from an already parsed file', () => {
    expect(domainConfig(parseXlCfg('name = "x"\n', { source: 'x.cfg' })).config.name).toBe('x');
  });
});
