// Which accelerator this host's QEMU can use: KVM only if it actually boots a guest, TCG otherwise. A
// /dev/kvm that opens is not enough: on a nested host (kvm-pvm) SeaBIOS and the kernel's real-mode setup
// run and then the kernel hangs, so a probe that stops before long mode would say yes wrongly. The probe
// boots a Linux kernel with no root at all under KVM: it gets to its "Kernel panic" (panic=-1 and
// -no-reboot make QEMU exit) within the timeout only if KVM works. Asked once per host: the answer is
// cached in a file with what it depends on (QEMU, host kernel, the probe kernel), and asked again when
// one of them changes.
import { spawn } from 'node:child_process';
import {
  constants,
  accessSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { release } from 'node:os';
import { dirname, join } from 'node:path';
import type { Accel } from './qemu-args.js';

export interface AccelAnswer {
  accel: Accel;
  /** Why: "kvm booted a kernel in 2.1 s", "/dev/kvm is not usable", "kvm did not boot … within 15 s". */
  why: string;
  /** True when it came from the cache file. */
  cached: boolean;
}

export interface ProbeOptions {
  qemu: string;
  cacheFile: string;
  /** A bzImage to boot; default the newest /boot/vmlinuz-*. */
  kernel?: string;
  timeoutMs: number;
  /** /dev/kvm (tests name a missing one). */
  kvmDevice?: string;
}

export const PROBE_TIMEOUT_MS = 15_000;
const PANIC = 'Kernel panic';

interface CacheRecord {
  key: string;
  accel: Accel;
  why: string;
}

/** The newest /boot/vmlinuz-*, the kernel a probe (and Dominion's tests) boot when none is named. */
export function hostKernel(): string | undefined {
  let names: string[];
  try {
    names = readdirSync('/boot').filter((n) => n.startsWith('vmlinuz-'));
  } catch {
    return undefined;
  }
  names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return names.length ? join('/boot', names[names.length - 1]) : undefined;
}

export async function probeAccel(o: ProbeOptions): Promise<AccelAnswer> {
  const kvm = o.kvmDevice ?? '/dev/kvm';
  const kernel = o.kernel ?? hostKernel();
  const key = JSON.stringify({ qemu: o.qemu, host: release(), kvm: existsSync(kvm), kernel: kernel ?? null });
  const cached = readCache(o.cacheFile);
  if (cached?.key === key) return { accel: cached.accel, why: cached.why, cached: true };

  const answer = await ask(o, kvm, kernel);
  writeCache(o.cacheFile, { key, ...answer });
  return { ...answer, cached: false };
}

async function ask(o: ProbeOptions, kvm: string, kernel: string | undefined): Promise<Omit<AccelAnswer, 'cached'>> {
  try {
    accessSync(kvm, constants.R_OK | constants.W_OK);
  } catch {
    return { accel: 'tcg', why: `${kvm} is not usable` };
  }
  if (!kernel) return { accel: 'tcg', why: 'no kernel to probe KVM with (/boot/vmlinuz-* is missing)' };
  const t0 = Date.now();
  const r = await bootToPanic(o.qemu, kernel, o.timeoutMs);
  const s = ((Date.now() - t0) / 1000).toFixed(1);
  if (r === 'panic') return { accel: 'kvm', why: `kvm booted ${kernel} to its panic in ${s} s` };
  return { accel: 'tcg', why: `kvm did not boot ${kernel} to its panic: ${r}` };
}

function bootToPanic(qemu: string, kernel: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const args = [
      ...['-accel', 'kvm', '-cpu', 'host', '-m', '128', '-smp', '1', '-nodefaults', '-nographic', '-no-reboot'],
      ...['-serial', 'stdio', '-kernel', kernel, '-append', 'console=ttyS0 panic=-1 root=/dev/null'],
    ];
    let out = '';
    let done = false;
    const child = spawn(qemu, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const finish = (r: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
      resolve(r);
    };
    const timer = setTimeout(() => finish(`no panic within ${timeoutMs / 1000} s`), timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      out = (out + d).slice(-4096);
      if (out.includes(PANIC)) finish('panic');
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (out = (out + d).slice(-4096)));
    child.on('error', (e) => finish(`cannot run ${qemu}: ${e.message}`));
    child.on('exit', (code, sig) =>
      finish(out.includes(PANIC) ? 'panic' : `QEMU exited with ${sig ?? code}: ${out.trim().split('\n').pop() ?? ''}`),
    );
  });
}

function readCache(file: string): CacheRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as CacheRecord;
    return (r.accel === 'kvm' || r.accel === 'tcg') && typeof r.key === 'string' ? r : undefined;
  } catch {
    return undefined;
  }
}

/** Written whole and renamed, so that two guests probing at once never read half a file. */
function writeCache(file: string, r: CacheRecord): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(r) + '\n');
  renameSync(tmp, file);
}
