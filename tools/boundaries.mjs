// Module boundaries of the house (ARCHITECTURE §6), enforced by the lint:
//  - protocol/engine libraries (every lib but runtime and testing) import no NestJS, no gRPC, and only
//    *types* from the NATS client: they are pure and tested byte for byte;
//  - nothing imports an app, and apps never import other apps.
const noApps = [
  { group: ['@dominion/app-*', '**/apps/**'], message: 'apps are leaves: nothing imports an app (ARCHITECTURE §6)' },
];
const framework = [
  {
    group: ['@nestjs/*', 'rxjs', 'rxjs/*'],
    message: 'protocol and engine libraries import no NestJS (ARCHITECTURE §6)',
  },
  {
    group: ['@grpc/*'],
    message: 'protocol and engine libraries do no network I/O; gRPC wiring lives in apps and libs/runtime',
  },
  { group: ['@dominion/runtime', '@dominion/testing'], message: 'pure libraries do not depend on the runtime' },
  // nats-core's helpers (headers, errors) are pure; the transport opens sockets, so only its types are allowed.
  {
    group: ['@nats-io/transport-node'],
    allowTypeImports: true,
    message: 'pure libraries take an injected NatsConnection, never open one',
  },
  {
    group: ['node:net', 'node:dgram', 'node:http', 'node:http2', 'net', 'dgram', 'http', 'http2'],
    message: 'pure libraries do no network I/O',
  },
];
const pureLibs = ['libs/*/src/**/*.ts'];
// ringstream (the gRPC binding of the pure ring, ARCHITECTURE §2) and zvol (the gRPC client of the ZFS
// domain's block service) are transports, not protocol logic.
const impureLibs = ['libs/runtime/**/*.ts', 'libs/testing/**/*.ts', 'libs/ringstream/**/*.ts', 'libs/zvol/**/*.ts'];

export const boundaryRules = [
  {
    files: ['**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: noApps }] },
  },
  {
    files: pureLibs,
    ignores: [...impureLibs, '**/*.spec.ts', 'libs/*/test/**'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [...noApps, ...framework] }] },
  },
];
