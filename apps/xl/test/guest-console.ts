// A guest's shell driven through `xl console` as a user types into it: one attached xl per guest, a line
// sent and its output taken up to the next prompt (minios runs lines one after another).
import { spawn } from 'node:child_process';
import { waitFor } from '@dominion/testing';
import { xlMain, type Dominion } from './dominion-e2e.js';

const PROMPT = 'minios# ';

/** waitFor, with what was printed in the timeout's message. */
async function until(check: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  try {
    await waitFor(check, timeoutMs);
  } catch {
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
  }
}

export interface GuestConsole {
  /** Types `line`; resolves with what the guest printed for it (the echo and the prompt left out). */
  run(line: string, timeoutMs?: number): Promise<string>;
  /** Everything printed so far. */
  output(): string;
  /** Ctrl-]: detaches; resolves with xl's exit code. */
  detach(): Promise<number | null>;
}

export async function attachConsole(dominion: Dominion, domain: string): Promise<GuestConsole> {
  const p = spawn(process.execPath, [xlMain, 'console', domain], {
    env: { ...process.env, ...dominion.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((r) => p.once('close', (code) => r(code)));
  await until(
    () => out.endsWith(PROMPT),
    10000,
    () => `the prompt of ${domain}: ${out}${err}`,
  );
  return {
    output: () => out,
    run: async (line, timeoutMs = 15000) => {
      const from = out.length;
      p.stdin.write(`${line}\n`);
      const echo = `${line}\n`;
      await until(
        () => out.length > from + echo.length && out.endsWith(PROMPT) && out.slice(from).startsWith(echo),
        timeoutMs,
        () => `"${line}" to finish in ${domain}: ${out.slice(from)}${err}`,
      );
      return out.slice(from + echo.length, out.length - PROMPT.length);
    },
    detach: async () => {
      p.stdin.write('\x1d');
      return exit;
    },
  };
}
