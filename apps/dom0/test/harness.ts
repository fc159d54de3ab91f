// Boots dom0's xenstored as the service runs it (Nest module, real nats-server, real state dir), and runs
// Debian's xenstore-utils against its socket.
import 'reflect-metadata';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { RuntimeModule } from '@dominion/runtime';
import { XenstoredModule } from '../src/dom0.module.js';
import { XenstoredService } from '../src/xenstored.service.js';

export interface Dom0 {
  app: TestingModule;
  svc: XenstoredService;
  close(): Promise<void>;
}

export async function bootDom0(natsUrl: string, stateDir: string): Promise<Dom0> {
  @Module({
    imports: [
      RuntimeModule.forRoot({
        service: 'dom0',
        env: { DOMINION_NATS_URL: natsUrl, DOMINION_STATE_DIR: stateDir, DOMINION_LOG_LEVEL: 'silent' },
      }),
      XenstoredModule,
    ],
  })
  class TestDom0Module {}
  const app = await Test.createTestingModule({ imports: [TestDom0Module] }).compile();
  await app.init();
  return { app, svc: app.get(XenstoredService), close: () => app.close() };
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a stock xenstore-* tool against `socket` (XENSTORED_PATH, as libxenstore reads it). */
export function tool(socket: string, name: string, ...args: string[]): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(name, args, { env: { ...process.env, XENSTORED_PATH: socket }, timeout: 10000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      if (err && code === -1) reject(err);
      else resolve({ code, stdout, stderr });
    });
  });
}

/** A long-running tool (xenstore-watch) with its output lines as they come. */
export function spawnTool(
  socket: string,
  name: string,
  ...args: string[]
): { child: ChildProcess; lines: string[]; exited: Promise<number | null> } {
  const child = spawn(name, args, {
    env: { ...process.env, XENSTORED_PATH: socket },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  child.stdout.on('data', (d: Buffer) => {
    partial += d.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, lines, exited };
}
