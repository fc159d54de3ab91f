// What `zfs` and `zpool` share as programs: connect to the bus as dom0 on the first call (so that usage
// errors need no bus), run the command, close, and turn the outcome into an exit status.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectZfs } from './bus.js';
import type { CliIo, ZfsCall } from './io.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

export type CliCommand = (argv: readonly string[], call: ZfsCall, io: CliIo) => Promise<number>;

export function runCli(name: string, command: CliCommand): void {
  const main = async (): Promise<number> => {
    let conn: Awaited<ReturnType<typeof connectZfs>> | undefined;
    const call: ZfsCall = async (verb, body) => {
      conn ??= await connectZfs(process.env, repoRoot);
      return conn.call(verb, body);
    };
    try {
      return await command(process.argv.slice(2), call, {
        out: (t) => process.stdout.write(t),
        err: (t) => process.stderr.write(t),
        stdin: process.stdin,
        stdout: process.stdout,
      });
    } finally {
      await conn?.close().catch(() => undefined);
    }
  };
  void main().then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`${name}: ${(e as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
