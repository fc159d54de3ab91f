#!/usr/bin/env node
// `xl`: Xen's toolstack CLI, a thin client acting as dom0 on the Dominion bus.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { busRequest, subjects } from '@dominion/bus';
import { HypervisorClient } from '@dominion/hypervisor';
import type { XlSession } from './commands.js';
import { findBus } from './bus-location.js';
import { natsConsoleLink } from './console-link.js';
import { runXl } from './xl.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

async function main(): Promise<number> {
  let nc: NatsConnection | undefined;
  const open = async (): Promise<XlSession> => {
    const bus = findBus(process.env, repoRoot);
    try {
      const authenticator = bus.creds ? credsAuthenticator(await readFile(bus.creds)) : undefined;
      nc = await connect({
        servers: bus.url,
        name: 'xl',
        authenticator,
        inboxPrefix: bus.inboxPrefix,
        reconnect: false,
        timeout: 3000,
      });
    } catch (e) {
      throw new Error(
        `cannot reach the Dominion bus at ${bus.url} (from ${bus.source}): ${(e as Error).message}: is \`npm start\` running?`,
        { cause: e },
      );
    }
    const conn = nc;
    return {
      hv: new HypervisorClient(conn, 0),
      toolstack: (verb, body, timeoutMs) => busRequest(conn, subjects.toolstack(0, verb), body, { timeoutMs }),
      console: natsConsoleLink(conn, bus.inboxPrefix),
    };
  };
  try {
    return await runXl(process.argv.slice(2), open, {
      out: (t) => process.stdout.write(t),
      err: (t) => process.stderr.write(t),
      stdin: process.stdin,
    });
  } catch (e) {
    process.stderr.write(`xl: ${(e as Error).message}\n`);
    return 1;
  } finally {
    if (nc && !nc.isClosed()) await nc.close();
  }
}

void main().then((code) => {
  process.exitCode = code;
});
