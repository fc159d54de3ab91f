// `npm start`: the whole system on one machine. Starts nats-server on loopback, then the hypervisor and dom0,
// waits until each is ready, prints where to look, and stops everything on Ctrl-C. The bus runs in operator
// (JWT) mode, every service with its own credentials; DOMINION_NATS_AUTH=off runs it open (debugging only).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DOMID } from '@dominion/abi';
import { ServiceProcess } from './child.js';
import { domainOfUserKey, prepareBusIdentity, type BusIdentity } from './identity.js';
import { createDemoGuests } from './demo.js';
import { spawnNatsServer, type NatsServer } from './nats-server.js';
import { freeLoopbackPort } from './proc.js';
import { coreServices } from './services.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const smoke = process.argv.includes('--smoke'); // start, check readiness, stop: used by the launcher's test
const demo = process.argv.includes('--demo'); // create the guests of examples/*.cfg (npm start does)

/**
 * nats-server's warnings and errors (permission violations, refused logins) join the merged log, with the
 * offender's domid when the server names a user key the identity tables know.
 */
function natsLogger(identityDir?: string): (line: string) => void {
  return (line) => {
    if (!/\[(WRN|ERR|FTL)\]/.test(line)) return;
    const text = `nats | ${line.replace(/^\[\d+\] [\d/: .]+ /, '')}`;
    const key = /Nkey "(U[A-Z2-7]+)"/.exec(line)?.[1];
    if (!identityDir || !key) return console.log(text);
    void domainOfUserKey(identityDir, key).then((d) =>
      console.log(d === undefined ? text : `${text} (domain ${d === DOMID.DOMID_XEN ? 'DOMID_XEN' : d})`),
    );
  };
}

async function main(): Promise<void> {
  const stateDir = resolve(process.env.DOMINION_HOME ?? join(root, 'var', 'run'));
  mkdirSync(stateDir, { recursive: true });
  let port = Number(process.env.DOMINION_NATS_PORT ?? 4222);
  const auth = process.env.DOMINION_NATS_AUTH !== 'off';
  let identity: BusIdentity | undefined;
  let nats: NatsServer;
  try {
    if (auth) {
      if (port === 0) port = await freeLoopbackPort(); // the configuration names the port
      identity = await prepareBusIdentity(stateDir, port);
      nats = await spawnNatsServer({ configFile: identity.configFile }, { onLine: natsLogger(identity.identityDir) });
    } else {
      console.log('launcher: DOMINION_NATS_AUTH=off: the bus accepts anyone (debugging only)');
      nats = await spawnNatsServer({ port }, { onLine: natsLogger() });
    }
  } catch (e) {
    console.error(`launcher: could not start nats-server on 127.0.0.1:${port}: ${(e as Error).message}`);
    console.error('launcher: set DOMINION_NATS_PORT to another port (or 0 for any free port)');
    process.exit(1);
  }
  const services = coreServices(stateDir).map(
    (s) =>
      new ServiceProcess(
        { ...s, env: { ...s.env, ...identity?.env[s.name] } },
        root,
        { DOMINION_NATS_URL: nats.url },
        (l) => console.log(l),
      ),
  );
  // Where dom0's tools (xl) find the bus; present only while the system is up.
  const busFile = join(stateDir, 'bus.json');
  let stopping = false;
  const stopAll = async (code: number): Promise<never> => {
    stopping = true;
    rmSync(busFile, { force: true });
    for (const s of [...services].reverse()) await s.stop();
    await nats.stop();
    process.exit(code);
  };
  for (const s of services) {
    s.onExit = (code, signal) => {
      if (stopping) return;
      console.error(`launcher: ${s.spec.name} exited (${signal ?? code}); stopping the system`);
      void stopAll(1);
    };
    await s.start();
    await s.waitReady();
    console.log(`launcher: ${s.spec.name} is ready`);
  }
  const dom0Env = identity?.env.dom0;
  const bus = { url: nats.url, creds: dom0Env?.DOMINION_NATS_CREDS, inboxPrefix: dom0Env?.DOMINION_NATS_INBOX_PREFIX };
  writeFileSync(busFile, `${JSON.stringify(bus, null, 2)}\n`, { mode: 0o600 });
  const xsPath = services.find((s) => s.spec.name === 'dom0')?.spec.env.XENSTORED_PATH;
  console.log(
    [
      '',
      'Dominion is up.',
      `  bus (NATS)     ${nats.url}${identity ? ` (operator mode; credentials in ${join(stateDir, 'creds')})` : ' (no auth)'}`,
      `  xenstored      XENSTORED_PATH=${xsPath}`,
      `  try            XENSTORED_PATH=${xsPath} xenstore-ls /local/domain`,
      `  state          ${stateDir}`,
      '  xl             npx xl list',
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  if (smoke) return stopAll(0);
  // Before the demo: a Ctrl-C while its domains are being created must still stop everything.
  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));
  if (demo) await createDemoGuests(root, bus, (l) => console.log(l));
}

void main().catch((e: unknown) => {
  console.error(`launcher: ${(e as Error).message}`);
  process.exit(1);
});
