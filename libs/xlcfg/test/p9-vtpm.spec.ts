// p9 specs (xl_parse.c + libxl__device_p9_setdefault, xen-facts §9) and vtpm specs (xl_parse.c).
import { XlCfgError, parseP9Spec, parseVtpmSpec } from '../src/index.js';

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof XlCfgError) return e.message;
    throw e;
  }
  throw new Error('accepted');
}

describe('p9 spec', () => {
  it("reads xen-facts' example: a qemu share served by dom0", () => {
    expect(parseP9Spec('tag=share0,security_model=none,path=/srv/share,backend=dom0', { devid: 1 })).toEqual({
      spec: 'tag=share0,security_model=none,path=/srv/share,backend=dom0',
      devid: 1,
      type: 'qemu',
      tag: 'share0',
      path: '/srv/share',
      securityModel: 'none',
      backend: 'dom0',
    });
  });

  it('trims blanks around keys and values, skips empty pairs, and keeps `=` inside a value', () => {
    expect(parseP9Spec(' tag = t , security_model=none,, path = /a=b ')).toMatchObject({ tag: 't', path: '/a=b' });
  });

  it("xen_9pfsd takes the limits, and defaults tag to Xen and path to the domain's log directory", () => {
    expect(
      parseP9Spec('type=xen_9pfsd,security_model=none,max-files=100,max-open-files=10,max-space=64,auto-delete=1', {
        domainName: 'vm1',
      }),
    ).toEqual({
      spec: expect.any(String),
      devid: 0,
      type: 'xen_9pfsd',
      tag: 'Xen',
      path: '/var/log/xen/guests/vm1',
      securityModel: 'none',
      maxFiles: 100,
      maxOpenFiles: 10,
      maxSpace: 64,
      autoDelete: true,
    });
    expect(parseP9Spec('type=XEN_9PFSD,security_model=none,path=/p,auto-delete=0x0').autoDelete).toBe(false);
  });

  it.each([
    ['tag=a,security_model=none,path=/p,readonly=1', "Unknown 9pfs parameter 'readonly'"],
    ['tag=a,security_model=none,path', 'failed to parse 9pfs configuration: path'],
    ['tag=a,security_model=none,path=', 'failed to parse 9pfs configuration: path='],
    ['tag=a,security_model=none,path=/p,type=nfs', 'failed to parse 9pfs type: nfs'],
    ['type=xen_9pfsd,security_model=none,path=/p,max-files=ten', 'failed to convert "ten" to number'],
    ['type=xen_9pfsd,security_model=none,path=/p,auto-delete=yes', 'failed to convert "yes" to number'],
    [
      'tag=a,security_model=none,path=/p,max-space=10',
      'Illegal 9pfs parameter combination (max-files, max-open-files, max-space and auto-delete need type=xen_9pfsd)',
    ],
    ['security_model=none,path=/p', '9pfs spec missing required field! (tag)'],
    ['tag=a', '9pfs spec missing required field! (path, security_model)'],
    ['type=xen_9pfsd,security_model=none', '9pfs spec missing required field! (path)'],
    ['tag=a,path=/p,security_model=mapped', "security_model `mapped' is not supported, only `none'"],
  ])('refuses %s', (spec, msg) => {
    expect(refusal(() => parseP9Spec(spec))).toBe(`command line: ${msg} in p9 spec \`${spec}'`);
  });

  it('says where the spec was written', () => {
    expect(refusal(() => parseP9Spec('tag=a,bogus=1', { where: { source: 'vm.cfg', line: 9, column: 8 } }))).toBe(
      "vm.cfg:9:8: Unknown 9pfs parameter 'bogus' in p9 spec `tag=a,bogus=1'",
    );
  });
});

describe('vtpm spec', () => {
  it('reads backend and uuid', () => {
    expect(parseVtpmSpec('backend=vtpmmgr, uuid=6A0F1C3E-2B34-4B1A-8C9D-1E2F3A4B5C6D', { devid: 0 })).toEqual({
      spec: 'backend=vtpmmgr, uuid=6A0F1C3E-2B34-4B1A-8C9D-1E2F3A4B5C6D',
      devid: 0,
      backend: 'vtpmmgr',
      uuid: '6a0f1c3e-2b34-4b1a-8c9d-1e2f3a4b5c6d',
    });
    expect(parseVtpmSpec('backend=vtpm-vm1')).toEqual({ spec: 'backend=vtpm-vm1', devid: 0, backend: 'vtpm-vm1' });
  });

  it.each([
    ['backend=v,uuid=xyz', 'Failed to parse vtpm UUID: xyz'],
    ['backend=v,colour=red', "Unknown string `colour' in vtpm spec `backend=v,colour=red'"],
    ['backend=v,oops', "Unknown string `oops' in vtpm spec `backend=v,oops'"],
    [
      'uuid=6a0f1c3e-2b34-4b1a-8c9d-1e2f3a4b5c6d',
      "vtpm spec `uuid=6a0f1c3e-2b34-4b1a-8c9d-1e2f3a4b5c6d' has no backend=",
    ],
  ])('refuses %s', (spec, msg) => expect(refusal(() => parseVtpmSpec(spec))).toBe(`command line: ${msg}`));
});
