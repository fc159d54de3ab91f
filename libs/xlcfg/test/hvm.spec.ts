// The HVM device-model keys as xl reads them for type = "hvm": boot, serial (a string or a list), vnc*,
// device_model_args(_hvm); ignored with xl's "not used" warning for other types.
import { XlCfgError, parseDomainConfigText } from '../src/index.js';

const parse = (text: string) => parseDomainConfigText(text, { source: 'vm.cfg' });

function refusal(text: string): string {
  try {
    parse(text);
  } catch (e) {
    if (e instanceof XlCfgError) return e.message;
    throw e;
  }
  throw new Error('accepted');
}

describe('HVM keys', () => {
  it('reads them for type = "hvm", with no warning', () => {
    const r = parse(
      'name="vm"\ntype="hvm"\nboot="dc"\nserial="pty"\nvnc=1\nvnclisten="127.0.0.1:3"\nvncdisplay=2\nvncunused=0\n' +
        'device_model_args=["-device","pvpanic"]\ndevice_model_args_hvm=["-rtc","base=utc"]\n',
    );
    expect(r.warnings).toEqual([]);
    expect(r.config.hvm).toEqual({
      boot: 'dc',
      serial: ['pty'],
      vnc: true,
      vnclisten: '127.0.0.1:3',
      vncdisplay: 2,
      vncunused: false,
      deviceModelArgs: ['-device', 'pvpanic', '-rtc', 'base=utc'],
    });
  });

  it('has defaults: boot "cd", no serial, no VNC on loopback, no extra arguments; serial may be a list', () => {
    expect(parse('name="vm"\nbuilder="hvm"\n').config.hvm).toEqual({
      boot: 'cd',
      serial: [],
      vnc: false,
      vnclisten: '127.0.0.1',
      vncunused: true,
      deviceModelArgs: [],
    });
    expect(parse('name="vm"\ntype="hvm"\nserial=["pty","null"]\n').config.hvm!.serial).toEqual(['pty', 'null']);
  });

  it('is absent for a PV domain, whose HVM keys are warned about as xl-only', () => {
    const r = parse('name="vm"\nboot="c"\nserial="pty"\n');
    expect(r.config.hvm).toBeUndefined();
    expect(r.warnings).toEqual([
      "vm.cfg:2: warning: `boot' is not used by Dominion, ignored",
      "vm.cfg:3: warning: `serial' is not used by Dominion, ignored",
    ]);
  });

  it('refuses a boot order QEMU would read as more options, and takes a good one beside it', () => {
    expect(refusal('name="vm"\ntype="hvm"\nboot="c,menu=on"\n')).toBe(
      'vm.cfg:3:6: boot "c,menu=on": expected QEMU boot order letters (c disk, d cdrom, n network)',
    );
    expect(parse('name="vm"\ntype="hvm"\nboot="n"\n').config.hvm!.boot).toBe('n');
  });

  it('refuses a VNC display beyond the TCP ports', () => {
    expect(refusal('name="vm"\ntype="hvm"\nvncdisplay=70000\n')).toMatch(/^vm\.cfg:3:\d+: parameter `vncdisplay'/);
  });
});
