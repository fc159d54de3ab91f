#!/usr/bin/env node
// `zfs`: a thin client of the ZFS storage domain, acting as dom0 on the Dominion bus.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectZfs } from './bus.js';
import type { ZfsCall } from './io.js';
import { runZfs } from './zfs.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

async function main(): Promise<number> {
  let conn: Awaited<ReturnType<typeof connectZfs>> | undefined;
  // Connects on the first call, so that usage errors need no bus.
  const call: ZfsCall = async (verb, body) => {
    conn ??= await connectZfs(process.env, repoRoot);
    return conn.call(verb, body);
  };
  try {
    return await runZfs(process.argv.slice(2), call, {
      out: (t) => process.stdout.write(t),
      err: (t) => process.stderr.write(t),
      stdin: process.stdin,
      stdout: process.stdout,
    });
  } finally {
    await conn?.close().catch(() => undefined);
  }
}

void main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`zfs: ${(e as Error).message}\n`);
    process.exitCode = 1;
  },
);
