// The module-boundary rules (tools/boundaries.mjs) must fail the lint when broken. This lints virtual files
// placed in the real tree, with the real rules, and expects the violations and only them.
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { join } from 'node:path';
import { repoRoot } from '../src/index.js';
// @ts-expect-error: plain ESM module without types
import { boundaryRules } from '../../../tools/boundaries.mjs';

const root = repoRoot();
const eslint = new ESLint({
  cwd: root,
  overrideConfigFile: true,
  overrideConfig: [
    {
      files: ['**/*.ts'],
      languageOptions: { parser: tseslint.parser },
      plugins: { '@typescript-eslint': tseslint.plugin },
    },
    ...boundaryRules,
  ],
});

async function violations(file: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: join(root, file) });
  return r.messages.map((m) => m.message);
}

describe('module boundaries', () => {
  it('a pure library may not import NestJS, gRPC, sockets or open a NATS connection', async () => {
    expect(
      await violations('libs/abi/src/x.ts', "import { Module } from '@nestjs/common';\nexport { Module };"),
    ).toEqual([expect.stringMatching(/import no NestJS/)]);
    expect(
      await violations('libs/xenstore/src/x.ts', "import * as g from '@grpc/grpc-js';\nexport { g };"),
    ).toHaveLength(1);
    expect(
      await violations('libs/xenstore/src/x.ts', "import { createServer } from 'node:net';\nexport { createServer };"),
    ).toHaveLength(1);
    expect(
      await violations(
        'libs/xenstore/src/x.ts',
        "import { connect } from '@nats-io/transport-node';\nexport { connect };",
      ),
    ).toHaveLength(1);
  });
  it('a pure library may take NATS types and use nats-core helpers', async () => {
    expect(
      await violations(
        'libs/xenstore/src/x.ts',
        "import type { NatsConnection } from '@nats-io/transport-node';\nexport type N = NatsConnection;",
      ),
    ).toEqual([]);
    expect(
      await violations('libs/bus/src/x.ts', "import { headers } from '@nats-io/nats-core';\nexport { headers };"),
    ).toEqual([]);
  });
  it('the runtime may import NestJS', async () => {
    expect(
      await violations('libs/runtime/src/x.ts', "import { Module } from '@nestjs/common';\nexport { Module };"),
    ).toEqual([]);
  });
  it('nothing imports an app', async () => {
    expect(
      await violations('apps/dom0/src/x.ts', "import { X } from '@dominion/app-hypervisor';\nexport { X };"),
    ).toEqual([expect.stringMatching(/apps are leaves/)]);
    expect(
      await violations('libs/runtime/src/x.ts', "import { X } from '../../../apps/dom0/src/main.js';\nexport { X };"),
    ).toHaveLength(1);
    expect(await violations('apps/dom0/src/x.ts', "import { X } from '@dominion/xenstore';\nexport { X };")).toEqual(
      [],
    );
  });
});
