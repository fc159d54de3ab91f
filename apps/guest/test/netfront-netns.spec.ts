// A real host on the guest's wire: a network namespace whose TAP is netback's TAP uplink on xenbr0
// (socat, supervised by netback), pinging a PV guest's netfront with the real iputils ping, and the guest
// pinging back. Needs root, ip, socat and ping; elsewhere a todo says why.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { waitFor } from '@dominion/testing';
import { NetWorld, type TestGuest } from './netfront-world.js';

const run = promisify(execFile);

function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (network namespaces and TAP devices need CAP_NET_ADMIN)';
  for (const tool of ['ip', 'socat', 'ping']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  return undefined;
}

async function sh(argv: string[], timeoutMs = 15_000): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(argv[0], argv.slice(1), { timeout: timeoutMs });
    return { code: 0, stdout };
  } catch (e) {
    const err = e as { code?: number; stdout?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '' };
  }
}

const why = unavailable();

describe('a network namespace on xenbr0 and a PV guest', () => {
  if (why) {
    it.todo(`needs root, ip, socat and ping: ${why}`);
    return;
  }
  const suffix = Math.random().toString(36).slice(2, 7);
  const ns = `nf-${suffix}`;
  const tap = `nft${suffix}`;
  let w: NetWorld;
  let g: TestGuest;

  beforeAll(async () => {
    w = await NetWorld.start();
    await w.startNetback({ uplinks: `xenbr0:tap:${tap},down` });
    g = await w.guest('g', ['mac=00:16:3e:00:05:02,bridge=xenbr0,ip=10.0.5.2']);
    await g.nics[0].whenConnected();
    expect((await sh(['ip', 'netns', 'add', ns])).code).toBe(0);
    await sh(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
    await waitFor(async () => (await sh(['ip', 'link', 'show', tap])).code === 0, 10_000, `TAP ${tap}`);
    for (const argv of [
      ['ip', 'link', 'set', tap, 'netns', ns],
      ['ip', '-n', ns, 'addr', 'add', '10.0.5.1/24', 'dev', tap],
      ['ip', '-n', ns, 'link', 'set', tap, 'up'],
    ])
      expect((await sh(argv)).code).toBe(0);
  }, 30_000);

  afterAll(async () => {
    await sh(['ip', 'netns', 'del', ns]);
    await w?.stop();
  });

  it("the namespace's ping reaches the guest, and the guest pings the namespace", async () => {
    const r = await sh(['ip', 'netns', 'exec', ns, 'ping', '-c', '3', '-i', '0.2', '-W', '2', '10.0.5.2']);
    expect(r.stdout).toMatch(/3 packets transmitted, 3 received, 0% packet loss/);
    expect(r.code).toBe(0);
    const back = await g.nics[0].ip.ping('10.0.5.1', { count: 2, intervalMs: 100, timeoutMs: 1000 });
    expect(back.received).toBe(2);
  }, 20_000);
});
