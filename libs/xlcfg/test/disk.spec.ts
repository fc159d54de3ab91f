// Disk specs (xl-disk-configuration(5), libxlu_disk_l.l). Expected parses come from the man page's
// examples, from Xen's own tools/xl/check-xl-disk-parse data, and from xl 4.17's libxlutil
// (test/golden/README.md); error messages are the lines libxlutil printed for the same specs.
import { XlCfgError, parseDiskSpec, type DiskSpec } from '../src/index.js';

const ERR = 'command line: config parsing error in disk specification';

function refusal(spec: string | string[]): string {
  try {
    parseDiskSpec(spec);
  } catch (e) {
    if (e instanceof XlCfgError) return e.message;
    throw e;
  }
  throw new Error(`accepted ${JSON.stringify(spec)}`);
}

/** The fields check-xl-disk-parse prints, in its words. */
function xlView(d: DiskSpec) {
  return {
    pdev_path: d.target,
    vdev: d.vdev,
    format: d.format,
    readwrite: d.readwrite ? 1 : 0,
    ...(d.isCdrom ? { removable: 1, is_cdrom: 1 } : {}),
    ...(d.script ? { script: d.script } : {}),
    ...(d.backendtype ? { backend: d.backendtype } : {}),
  };
}

describe('the examples of xen-facts §8 and xl-disk-configuration(5)', () => {
  it("'/dev/vg/guest,raw,xvda,rw': positional target, format, vdev, access", () => {
    expect(parseDiskSpec('/dev/vg/guest,raw,xvda,rw')).toEqual({
      spec: '/dev/vg/guest,raw,xvda,rw',
      target: '/dev/vg/guest',
      format: 'raw',
      vdev: 'xvda',
      devid: 51712,
      readwrite: true,
      isCdrom: false,
      removable: false,
      directIoSafe: false,
    });
  });

  it("'format=raw, vdev=xvda, access=rw, backend=storagedom, target=/dev/zvol/pool/vm1': named, with a driver domain", () => {
    expect(
      parseDiskSpec('format=raw, vdev=xvda, access=rw, backend=storagedom, target=/dev/zvol/pool/vm1'),
    ).toMatchObject({
      target: '/dev/zvol/pool/vm1',
      format: 'raw',
      vdev: 'xvda',
      devid: 51712,
      readwrite: true,
      backend: 'storagedom',
    });
  });

  it("'/root/image.iso,,hdc,cdrom': an empty format is the default and cdrom makes it read-only and removable", () => {
    expect(parseDiskSpec('/root/image.iso,,hdc,cdrom')).toMatchObject({
      target: '/root/image.iso',
      format: 'raw',
      vdev: 'hdc',
      devid: (22 << 8) | 0,
      readwrite: false,
      isCdrom: true,
      removable: true,
    });
  });

  it('target= swallows the rest of the spec, commas included (one trailing comma stripped)', () => {
    expect(parseDiskSpec('vdev=xvdb, access=r, target=/srv/a,b=c, d,').target).toBe('/srv/a,b=c, d');
    // libxlutil: pdev_path=/x,target=/y
    expect(parseDiskSpec('vdev=xvda,target=/x,target=/y').target).toBe('/x,target=/y');
  });
});

describe("Xen's check-xl-disk-parse cases", () => {
  const guest = { pdev_path: '/dev/vg/guest-volume', vdev: 'hda', format: 'raw', readwrite: 1 };
  it.each([
    '/dev/vg/guest-volume,,hda',
    '/dev/vg/guest-volume,raw,hda,rw',
    'format=raw, vdev=hda, access=rw, target=/dev/vg/guest-volume',
    'raw:/dev/vg/guest-volume,hda,w',
  ])('%s', (spec) => expect(xlView(parseDiskSpec(spec))).toEqual(guest));

  const iso = { pdev_path: '/root/image.iso', vdev: 'hdc', format: 'raw', readwrite: 0, removable: 1, is_cdrom: 1 };
  it.each([
    '/root/image.iso,,hdc,cdrom',
    '/root/image.iso,,hdc,,cdrom',
    '/root/image.iso,raw,hdc,devtype=cdrom',
    'format=raw, vdev=hdc, access=ro, devtype=cdrom, target=/root/image.iso',
    'raw:/root/image.iso,hdc:cdrom,ro',
  ])('%s', (spec) => expect(xlView(parseDiskSpec(spec))).toEqual(iso));

  it('format=raw  vdev=hda  access=rw  target=… as separate words (block-attach)', () => {
    expect(xlView(parseDiskSpec(['format=raw', 'vdev=hda', 'access=rw', 'target=/dev/vg/guest-volume']))).toEqual(
      guest,
    );
  });

  it('backendtype=phy,vdev=xvdb,access=w,target=/dev/vg/guest-volume', () => {
    expect(xlView(parseDiskSpec('backendtype=phy,vdev=xvdb,access=w,target=/dev/vg/guest-volume'))).toEqual({
      pdev_path: '/dev/vg/guest-volume',
      vdev: 'xvdb',
      backend: 'phy',
      format: 'raw',
      readwrite: 1,
    });
  });

  const emptyCd = { pdev_path: '', vdev: 'hdc', format: 'empty', readwrite: 0, removable: 1, is_cdrom: 1 };
  it.each([
    'devtype=cdrom,,,hdc',
    ',,hdc:cdrom,r',
    ',hdc:cdrom,r',
    'vdev=hdc,access=r,devtype=cdrom,target=',
    ',empty,hdc:cdrom,r',
  ])('an empty cdrom drive: %s', (spec) => expect(xlView(parseDiskSpec(spec))).toEqual(emptyCd));

  it.each(['vdev=hdc,access=r,devtype=cdrom,format=empty', 'vdev=hdc,access=r,devtype=cdrom'])(
    'no target at all: %s',
    (spec) => expect(xlView(parseDiskSpec(spec))).toEqual({ ...emptyCd, pdev_path: undefined }),
  );

  const iqn = 'iqn.2001-05.com.equallogic:0-8a0906-23fe93404-c82797962054a96d-examplehost';
  it.each([`iscsi:${iqn},xvda,w`, `vdev=xvda,access=w,script=block-iscsi,target=${iqn}`])(
    'a script target: %s',
    (spec) =>
      expect(xlView(parseDiskSpec(spec))).toEqual({
        pdev_path: iqn,
        vdev: 'xvda',
        format: 'raw',
        script: 'block-iscsi',
        readwrite: 1,
      }),
  );

  it.each(['drbd:app01,hda,w', 'vdev=hda,access=w,script=block-drbd,target=app01'])('%s', (spec) =>
    expect(xlView(parseDiskSpec(spec))).toEqual({
      pdev_path: 'app01',
      vdev: 'hda',
      format: 'raw',
      script: 'block-drbd',
      readwrite: 1,
    }),
  );

  it('foo: no vdev', () => expect(refusal('foo')).toBe(`${ERR}: no vdev specified in \`foo'`));
});

describe('parameters and flags', () => {
  it('reads every key and flag', () => {
    expect(
      parseDiskSpec(
        '/img,qcow2,xvdb,r,backend=blk,backendtype=qdisk,script=my,direct-io-safe,no-discard,untrusted,specification=virtio,grant_usage=0',
      ),
    ).toEqual({
      spec: '/img,qcow2,xvdb,r,backend=blk,backendtype=qdisk,script=my,direct-io-safe,no-discard,untrusted,specification=virtio,grant_usage=0',
      target: '/img',
      format: 'qcow2',
      vdev: 'xvdb',
      devid: 51728,
      readwrite: false,
      isCdrom: false,
      removable: false,
      backend: 'blk',
      backendtype: 'qdisk',
      script: 'my',
      directIoSafe: true,
      discardEnable: false,
      trusted: false,
      specification: 'virtio',
      grantUsage: false,
    });
    expect(
      parseDiskSpec('/img,,xvda,discard,trusted,grant_usage=1,specification=xen,backendtype=standalone'),
    ).toMatchObject({
      discardEnable: true,
      trusted: true,
      grantUsage: true,
      specification: 'xen',
      backendtype: 'standalone',
    });
  });

  it('takes each format xl knows', () => {
    for (const f of ['raw', 'qcow', 'qcow2', 'vhd', 'qed']) expect(parseDiskSpec(`/i,${f},xvda`).format).toBe(f);
  });

  it('access: r and ro are read-only, w, rw and empty read-write (the default)', () => {
    expect(['r', 'ro', 'w', 'rw', ''].map((a) => parseDiskSpec(`/i,,xvda,${a}`).readwrite)).toEqual([
      false,
      false,
      true,
      true,
      true,
    ]);
    expect(parseDiskSpec('/i,,xvda').readwrite).toBe(true);
  });

  it('a cdrom is read-only whatever access says (xl forces it)', () => {
    // libxlutil: readwrite=0 is_cdrom=1
    expect(parseDiskSpec('/x,raw,xvda,rw,cdrom,access=rw').readwrite).toBe(false);
  });

  it('takes the deprecated prefixes as xl does', () => {
    expect(parseDiskSpec('phy:/dev/vg/x,xvda,w')).toMatchObject({ target: '/dev/vg/x', format: 'raw', vdev: 'xvda' });
    expect(parseDiskSpec('file:/x.img,xvda:cdrom,r')).toMatchObject({ target: '/x.img', isCdrom: true });
    expect(parseDiskSpec('tap:aio:/x.img,xvda,w')).toMatchObject({ target: '/x.img', format: 'raw' });
    expect(parseDiskSpec('tap2:aio:/x.img,xvda,w')).toMatchObject({ target: '/x.img' });
    expect(parseDiskSpec('qcow2:/x.q,xvda,w')).toMatchObject({ target: '/x.q', format: 'qcow2' });
    expect(parseDiskSpec('vhd:/x.vhd,xvda')).toMatchObject({ format: 'vhd' });
    expect(parseDiskSpec('nbd:host:1234,xvda')).toMatchObject({ target: 'host:1234', script: 'block-nbd' });
    // a colon followed by a letter or digit is part of the target
    expect(parseDiskSpec('foo:1,,xvda').target).toBe('foo:1');
  });

  it('a positional value may contain blanks inside; blanks before a parameter are skipped', () => {
    expect(parseDiskSpec('/a b,,xvda').target).toBe('/a b');
    expect(parseDiskSpec('\t/x, ,  xvda').vdev).toBe('xvda');
  });

  it('an empty value may be given again, and an enum again with the same value', () => {
    expect(parseDiskSpec('vdev=,vdev=xvda,target=/x').vdev).toBe('xvda');
    expect(parseDiskSpec('format=raw,format=raw,vdev=xvda,target=/x').format).toBe('raw');
  });

  it("names the vdev device number by Xen's rules", () => {
    expect(
      ['xvda', 'xvdb', 'hda', 'sda', 'xvdaa', 'd0p1', '51712'].map((v) => parseDiskSpec(`/x,,${v}`).devid),
    ).toEqual([51712, 51728, 768, 2048, 268442112, 51713, 51712]);
  });

  it('says where the spec was written when it came from a config file', () => {
    expect(() => parseDiskSpec('/x,,xvda,zz', { where: { source: 'vm.cfg', line: 7, column: 10 } })).toThrow(
      "vm.cfg:7:10: config parsing error in disk specification: unknown value for access: near `zz' in `/x,,xvda,zz'",
    );
  });
});

describe('disk spec errors, as libxlutil prints them', () => {
  it.each([
    ['foo=xyz,xvda', "unknown parameter: near `foo=x'"],
    ['foo:/dev/x,xvda', "unknown deprecated disk prefix: near `foo:'"],
    [',,hdc:,r', "unknown deprecated disk prefix: near `hdc:'"],
    ['/dev/x,raw,xvda,rw,extra', "too many positional parameters: near `extra'"],
    ['/x,,xvda,rw,,', "too many positional parameters: near `'"],
    ['vdev=xvda,/x,,,rw', "too many positional parameters: near `rw'"],
    ['/dev/x,raw,xvda,rw,devtype=floppy', "unknown value for type: near `devtype=floppy'"],
    ['vdev=xvda,vdev=xvdb,target=/x', "vdev respecified: near `xvdb'"],
    ['vdev=xvda,vdev=,target=/x', "vdev respecified: near `'"],
    ['/x,target=/y,vdev=xvda', "target respecified: near `/y,vdev=xvda'"],
    ['script=a,script=b,/x,,xvda', "script respecified: near `b'"],
    ['iscsi:x,script=b,xvda', "script respecified: near `b'"],
    ['backend=a,backend=,/x,,xvda', "backend respecified: near `'"],
    ['format=raw,format=qcow2,vdev=xvda,target=/x', "format respecified: near `qcow2'"],
    ['backendtype=phy,backendtype=qdisk,/x,,xvda', "backend respecified: near `qdisk'"],
    ['backendtype=bogus,/x,,xvda', "unknown value for backendtype: near `bogus'"],
    ['specification=bad,/x,,xvda', "unknown value for specification: near `bad'"],
    ['/x,,xvda,access=bogus', "unknown value for access: near `bogus'"],
    ['/x,,xvda,zz', "unknown value for access: near `zz'"],
    ['/x,,xvda,a=', "unknown value for access: near `a'"],
    ['/x,xvda', "unknown value for format: near `xvda'"],
    [' /x , raw , xvda', "unknown value for format: near `raw '"],
    ['raw:/x,raw,hda', "unknown value for access: near `hda'"],
    [',,hdc:floppy,r', "unknown deprecated type: near `floppy'"],
    ['colo-port=0,/x,,xvda', "unknown value for colo_port: near `0'"],
    ['/path=,xvda', "bad disk syntax: near `=,xvda'"],
    ['foo=,xvda', "bad disk syntax: near `=,xvda'"],
    ['Vdev=xvda', "bad disk syntax: near `=xvda'"],
    ['Format=raw', "bad disk syntax: near `=raw'"],
    ['xvda', 'no vdev specified'],
    ['target=', 'no vdev specified'],
    ['devtype=cdrom', 'no vdev specified'],
    ['target=/a,b,c,', 'no vdev specified'],
    ['raw:', 'no vdev specified'],
  ])('%s', (spec, msg) => expect(refusal(spec)).toBe(`${ERR}: ${msg} in \`${spec}'`));

  it('a readable spec next to each refusal parses', () => {
    expect(parseDiskSpec('/x,,xvda,access=r').readwrite).toBe(false);
    expect(parseDiskSpec('colo-port=12,/x,,xvda').colo).toEqual({ port: 12 });
  });

  it('refuses a vdev libxl would refuse at creation', () => {
    // libxlutil accepts these; libxl then fails with "Invalid or unsupported virtual disk identifier"
    for (const vdev of ['', 'xvd', 'hde', 'sdq', 'xvda01', 'floppy']) {
      const spec = `/x,,${vdev},`;
      expect(refusal(spec)).toBe(
        `${ERR}: Invalid or unsupported virtual disk identifier: near \`${vdev}' in \`${spec}'`,
      );
    }
  });

  it('refuses a trailing `=`, which xl skips at the end of a spec and dies on before a newline', () => {
    // libxlutil accepts '/x,,xvda,=' as /x on xvda, and exits with "flex scanner jammed" on '/x=\n,xvda'
    expect(refusal('/x,,xvda,=')).toBe(`${ERR}: bad disk syntax: near \`=' in \`/x,,xvda,='`);
    expect(refusal('/x=\n,xvda')).toBe(`${ERR}: bad disk syntax: near \`=' in \`/x=\n,xvda'`);
  });

  it('with several words, reports the missing vdev against the last one, as xl does', () => {
    expect(refusal(['/x', 'raw'])).toBe(`${ERR}: no vdev specified in \`raw'`);
    expect(parseDiskSpec(['/x', 'raw', 'xvdc']).devid).toBe(51744);
  });
});

describe("Dominion's size= (an extension)", () => {
  it('is kept for the toolstack, in bytes or binary units', () => {
    expect(parseDiskSpec('format=raw, vdev=xvda, size=64M, target=a.img').size).toBe('64M');
    expect(parseDiskSpec('vdev=xvda, size=1048576, target=a.img').size).toBe('1048576');
    expect(parseDiskSpec('vdev=xvda, target=a.img').size).toBeUndefined();
  });

  it('refuses a size that is not one, naming it', () => {
    expect(() => parseDiskSpec('vdev=xvda, size=64MB, target=a.img')).toThrow(
      "command line: config parsing error in disk specification: unknown value for size (bytes, or a number with K, M, G or T): near `64MB' in `vdev=xvda, size=64MB, target=a.img'",
    );
  });
});
