// The compose stack's `identity` one-shot: what `npm start` does before it starts nats-server, done by the
// launcher's own code (tools/launch prepareBusIdentity: generate or load the store, revoke the previous
// start's users, write the operator-mode configuration, mint the hypervisor's and dom0's users), then laid
// out for containers: the server listens on DOMINION_NATS_HOST (0.0.0.0: other containers connect), and
// each service's .creds file goes into that service's own volume, so no container holds another's.
//
// Environment: DOMINION_HOME (where identity/, nats/ and creds/ live; identity/ and nats/ are volumes),
// DOMINION_NATS_HOST, DOMINION_NATS_PORT, and DOMINION_CREDS_OUT_<NAME>=<file> for each minted user
// (names: XEN, DOM0).
import { copyFile, chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { prepareBusIdentity } from '@dominion/launch/dist/identity.js';
import { IdentityStore, writeNatsServerConfig } from '@dominion/identity';

const home = process.env.DOMINION_HOME ?? '/var/lib/dominion';
const host = process.env.DOMINION_NATS_HOST ?? '0.0.0.0';
const port = Number(process.env.DOMINION_NATS_PORT ?? 4222);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`identity: DOMINION_NATS_PORT=${JSON.stringify(process.env.DOMINION_NATS_PORT)}: expected a TCP port`);
  process.exit(1);
}

const bus = await prepareBusIdentity(home, port);
// The launcher's configuration listens on loopback only; a container's server must accept the network.
const store = await IdentityStore.open(join(home, 'identity'));
await writeNatsServerConfig(store, bus.configFile, { port, host, resolverDir: join(home, 'nats', 'resolver') });
// The trust part alone (no listen, no resolver), which hand-written configurations include: the three nodes
// of docker/nats-cluster. JWTs only, nothing secret: it may be copied to every host of a cluster.
const q = JSON.stringify;
const operatorConf = [
  '# Written by docker/identity-init.mjs at every start, from the identity store. Do not edit.',
  `operator: ${q(store.operator.jwt)}`,
  `system_account: ${q(store.system.publicKey)}`,
  'resolver_preload: {',
  `  ${store.system.publicKey}: ${q(store.system.jwt)}`,
  `  ${store.account.publicKey}: ${q(store.account.jwt)}`,
  '}',
  '',
].join('\n');
await writeFile(join(home, 'nats', 'operator.conf'), operatorConf, { mode: 0o600 });

for (const [name, env] of Object.entries(bus.env)) {
  const out = process.env[`DOMINION_CREDS_OUT_${name.toUpperCase()}`];
  if (!out) continue;
  await copyFile(env.DOMINION_NATS_CREDS, out);
  await chmod(out, 0o600);
  console.log(`identity: ${name} credentials in ${out} (inbox prefix ${env.DOMINION_NATS_INBOX_PREFIX})`);
}
console.log(`identity: nats-server configuration ${bus.configFile} (listen ${host}:${port})`);
