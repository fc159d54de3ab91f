// Network namespaces for the TAP tests: each created with a random suffix, IPv6 off (no router
// solicitations or MLD on the wire), and removed by close() whatever happened. Commands run
// asynchronously (execFile), never blocking the event loop that carries the frames. Needs root.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Why this machine cannot run the netns tests, or undefined when it can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (network namespaces and TAP devices need CAP_NET_ADMIN)';
  for (const tool of ['ip', 'socat', 'ping']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  return undefined;
}

export async function sh(file: string, args: string[], timeoutMs = 15_000): Promise<ExecResult> {
  try {
    const { stdout, stderr } = await run(file, args, { timeout: timeoutMs });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number | string; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

async function must(file: string, args: string[]): Promise<string> {
  const r = await sh(file, args);
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

export class Netns {
  private created = false;
  private constructor(readonly name: string) {}

  static async create(name: string): Promise<Netns> {
    const n = new Netns(name);
    await must('ip', ['netns', 'add', name]);
    n.created = true;
    try {
      await must('ip', [
        'netns',
        'exec',
        name,
        'sysctl',
        '-qw',
        'net.ipv6.conf.all.disable_ipv6=1',
        'net.ipv6.conf.default.disable_ipv6=1',
      ]);
      await must('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    } catch (e) {
      await n.close();
      throw e;
    }
    return n;
  }

  /** Moves a TAP of the host namespace in here, gives it `cidr` and brings it up. */
  async adoptTap(tap: string, cidr: string): Promise<void> {
    await must('ip', ['link', 'set', tap, 'netns', this.name]);
    await must('ip', ['-n', this.name, 'addr', 'add', cidr, 'brd', '+', 'dev', tap]);
    await must('ip', ['-n', this.name, 'link', 'set', tap, 'up']);
  }

  async mac(dev: string): Promise<string> {
    const out = await must('ip', ['-n', this.name, '-br', 'link', 'show', dev]);
    return out.trim().split(/\s+/)[2];
  }

  /** Runs a command inside; never rejects on a non-zero exit. */
  exec(argv: string[], timeoutMs = 15_000): Promise<ExecResult> {
    return sh('ip', ['netns', 'exec', this.name, ...argv], timeoutMs);
  }

  async ip(...args: string[]): Promise<string> {
    return must('ip', ['-n', this.name, ...args]);
  }

  async close(): Promise<void> {
    if (this.created) await sh('ip', ['netns', 'del', this.name]);
    this.created = false;
  }
}
