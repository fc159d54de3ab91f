// `npm start` creates the domains of examples/*.cfg through dom0's toolstack, exactly as `xl create` would,
// so a new user sees domains in `xl list` at once: the driver domains (driver_domain = 1) first, then the
// guests, each given a vif on xenbr0 if the netback driver domain came up and a disk if blkback did (a
// 64 MiB sparse image named after the guest, which blkback creates in dom0's <state>/images). A guest that does not come up with those devices is created without them, so
// the demo keeps working whichever driver domains are built.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { busRequest, messageOf, subjects } from '@dominion/bus';

export interface DemoBus {
  url: string;
  creds?: string;
  inboxPrefix?: string;
}

const isDriverDomain = (text: string): boolean => /^\s*driver_domain\s*=\s*1\s*(#.*)?$/m.test(text);
const nameOf = (text: string): string | undefined => /^\s*name\s*=\s*["']([^"']+)["']/m.exec(text)?.[1];

/** The demo devices of guest `name`, xl.cfg lines given as create overrides. */
export function demoDevices(name: string, running: ReadonlySet<string>): string[] {
  const out: string[] = [];
  if (running.has('blkback'))
    out.push(`disk = ['format=raw, vdev=xvda, access=rw, backend=blkback, size=64M, target=${name}.img']`);
  if (running.has('netback')) out.push("vif = ['bridge=xenbr0, backend=netback']");
  return out;
}

async function create(nc: NatsConnection, config: string, source: string, overrides: string[]): Promise<number> {
  const r = await busRequest<{ domid: number }>(
    nc,
    subjects.toolstack(0, 'create'),
    { config, source, ...(overrides.length > 0 && { overrides }) },
    { timeoutMs: 30000 },
  );
  return r.domid;
}

export async function createDemoGuests(root: string, bus: DemoBus, say: (line: string) => void): Promise<void> {
  const dir = join(root, 'examples');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cfg'))
    .sort()
    .map((f) => ({ source: join('examples', f), text: readFileSync(join(dir, f), 'utf8') }));
  const nc = await connect({
    servers: bus.url,
    authenticator: bus.creds ? credsAuthenticator(readFileSync(bus.creds)) : undefined,
    inboxPrefix: bus.inboxPrefix,
    name: 'launcher (demo guests)',
  });
  const running = new Set<string>();
  try {
    for (const f of [...files.filter((x) => isDriverDomain(x.text)), ...files.filter((x) => !isDriverDomain(x.text))]) {
      const name = nameOf(f.text) ?? f.source;
      const devices = isDriverDomain(f.text) ? [] : demoDevices(name, running);
      try {
        const domid = await create(nc, f.text, f.source, devices);
        if (isDriverDomain(f.text)) running.add(name);
        say(`launcher: created ${f.source} as domain ${domid}${devices.length > 0 ? ' (with a vif/disk)' : ''}`);
      } catch (e) {
        if (devices.length === 0) {
          say(`launcher: could not create ${f.source}: ${messageOf(e)}`);
          continue;
        }
        say(`launcher: ${f.source} with its demo devices failed (${messageOf(e)}); creating it without`);
        try {
          say(`launcher: created ${f.source} as domain ${await create(nc, f.text, f.source, [])}`);
        } catch (e2) {
          say(`launcher: could not create ${f.source}: ${messageOf(e2)}`);
        }
      }
    }
  } finally {
    await nc.close();
  }
}
