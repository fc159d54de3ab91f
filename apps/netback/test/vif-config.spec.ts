// A vif's settings from its backend dir keys (as libxl writes them), each bad value named by its path.
import { describe, expect, it } from '@jest/globals';
import { XenbusError, XenbusKeyReader } from '@dominion/xenbus';
import { readVifConfig } from '../src/index.js';

const DIR = '/local/domain/1/backend/vif/5/0';
const ID = { domid: 5, devid: 0 };

/** The backend dir's leaf values, read as a XenStore transaction would read them. */
function dir(keys: Record<string, string>): XenbusKeyReader {
  return new XenbusKeyReader({ tryRead: (p) => Promise.resolve(keys[p.slice(DIR.length + 1)]) }, DIR);
}

async function refused(keys: Record<string, string>): Promise<XenbusError> {
  const e = await readVifConfig(dir(keys), ID).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(XenbusError);
  return e as XenbusError;
}

describe('readVifConfig', () => {
  it('reads mac, bridge, ip, rate, vlan, vifname and mtu; defaults bridge xenbr0 and name vif<dom>.<dev>', async () => {
    expect(await readVifConfig(dir({ mac: '00:16:3E:0A:0B:0C' }), ID)).toEqual({
      bridge: 'xenbr0',
      mtu: 1500,
      port: { name: 'vif5.0', owner: 'domain 5 vif 0', mac: '00:16:3e:0a:0b:0c' },
    });
    const full = await readVifConfig(
      dir({
        mac: '00:16:3e:0a:0b:0c',
        bridge: 'xenbr1',
        ip: ' 10.0.0.5  10.0.0.6 ',
        rate: '62500,50000',
        vlan: '10p/20-21',
        vifname: 'web0',
        mtu: '9000',
      }),
      ID,
    );
    expect(full).toEqual({
      bridge: 'xenbr1',
      mtu: 9000,
      port: {
        name: 'web0',
        owner: 'domain 5 vif 0',
        mac: '00:16:3e:0a:0b:0c',
        ips: ['10.0.0.5', '10.0.0.6'],
        rate: { bytesPerInterval: 62_500, intervalUsecs: 50_000 },
        vlan: {
          pvid: 10,
          members: [
            { vid: 10, untagged: true },
            { vid: 20, untagged: false },
            { vid: 21, untagged: false },
          ],
        },
      },
    });
  });

  it('refuses a missing mac and bad values, naming the key path', async () => {
    expect(await refused({})).toMatchObject({ kind: 'ENOENT', message: `${DIR}/mac: missing` });
    const mac = '00:16:3e:0a:0b:0c';
    expect(await refused({ mac: '00:16:3e' })).toMatchObject({
      kind: 'EINVAL',
      message: `${DIR}/mac: "00:16:3e" is not a MAC address`,
    });
    expect(await refused({ mac, ip: '10.0.0.5 10.0.0.500' })).toMatchObject({
      message: `${DIR}/ip: "10.0.0.500" is not an IPv4 address`,
    });
    expect(await refused({ mac, rate: '10Mb/s' })).toMatchObject({
      message: `${DIR}/rate: "10Mb/s" is not "<bytes>,<usecs>"`,
    });
    expect((await refused({ mac, vlan: '10/20' })).message).toBe(
      `${DIR}/vlan: "10/20" is not a vlan spec: one VLAN id must be marked as the PVID with \`p\``,
    );
    expect(await refused({ mac, bridge: 'br/0' })).toMatchObject({
      message: `${DIR}/bridge: "br/0" is not a bridge name`,
    });
    expect(await refused({ mac, mtu: '40' })).toMatchObject({ message: `${DIR}/mtu: 40 is outside 68..65535` });
  });
});
