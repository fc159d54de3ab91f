// `npm start` creates the demo guests of examples/*.cfg through dom0's toolstack, exactly as
// `xl create` would, so a new user sees domains in `xl list` at once.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, credsAuthenticator } from '@nats-io/transport-node';
import { busRequest, messageOf, subjects } from '@dominion/bus';

export interface DemoBus {
  url: string;
  creds?: string;
  inboxPrefix?: string;
}

export async function createDemoGuests(root: string, bus: DemoBus, say: (line: string) => void): Promise<void> {
  const dir = join(root, 'examples');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cfg'))
    .sort();
  const nc = await connect({
    servers: bus.url,
    authenticator: bus.creds ? credsAuthenticator(readFileSync(bus.creds)) : undefined,
    inboxPrefix: bus.inboxPrefix,
    name: 'launcher (demo guests)',
  });
  try {
    for (const f of files) {
      const source = join('examples', f);
      try {
        const r = await busRequest<{ domid: number }>(
          nc,
          subjects.toolstack(0, 'create'),
          { config: readFileSync(join(dir, f), 'utf8'), source },
          { timeoutMs: 30000 },
        );
        say(`launcher: created ${source} as domain ${r.domid}`);
      } catch (e) {
        say(`launcher: could not create ${source}: ${messageOf(e)}`);
      }
    }
  } finally {
    await nc.close();
  }
}
