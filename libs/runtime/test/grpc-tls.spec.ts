import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '@dominion/testing';
import {
  ConfigError,
  grpcClientTransport,
  loadGrpcTls,
  loadProto,
  startGrpcServer,
  type GrpcHost,
} from '../src/index.js';
import { makeTestPki, type TestPki } from '@dominion/testing';

const proto = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'echo.proto');
const Echo = (loadProto(proto) as any).dominion.test.Echo;
const echo = {
  service: Echo.service,
  impl: { Say: (call: any, cb: any) => cb(null, { text: call.request.text.toUpperCase() }) },
};

function say(address: string, creds: grpc.ChannelCredentials, options: grpc.ChannelOptions = {}): Promise<string> {
  const client = new Echo(address, creds, options);
  return new Promise<string>((res, rej) =>
    client.Say({ text: 'hi' }, { deadline: Date.now() + 3000 }, (e: any, r: any) => {
      client.close();
      if (e) rej(e);
      else res(r.text);
    }),
  ).finally(() => client.close());
}

describe('gRPC TLS from DOMINION_GRPC_TLS_*', () => {
  const tmp = tempDir('dominion-tls-');
  let pki: TestPki;
  beforeAll(() => {
    execFileSync('openssl', ['version']); // a Debian base tool; fails loudly if absent
    pki = makeTestPki(tmp.path);
  });
  afterAll(() => tmp.remove());

  it('is off when no variable is set, and startGrpcServer serves plaintext', async () => {
    expect(loadGrpcTls({})).toBeUndefined();
    const host = await startGrpcServer('127.0.0.1:0', [echo], {}, null);
    expect(host.tls).toBe(false);
    expect(await say(host.address, grpc.credentials.createInsecure())).toBe('HI');
    await host.close();
  });

  describe('a TLS server', () => {
    let host: GrpcHost;
    beforeAll(async () => {
      const tls = loadGrpcTls({ DOMINION_GRPC_TLS_CERT: pki.cert, DOMINION_GRPC_TLS_KEY: pki.key });
      host = await startGrpcServer('127.0.0.1:0', [echo], {}, tls ?? null);
    });
    afterAll(() => host.close());

    it('answers a client trusting its CA, checked against the endpoint host (IP 127.0.0.1)', async () => {
      expect(host.tls).toBe(true);
      const t = grpcClientTransport(loadGrpcTls({ DOMINION_GRPC_TLS_CA: pki.ca }));
      expect(await say(host.address, t.credentials, t.options)).toBe('HI');
    });

    it('refuses a plaintext client', async () => {
      await expect(say(host.address, grpc.credentials.createInsecure())).rejects.toMatchObject({
        code: grpc.status.UNAVAILABLE,
      });
    });

    it('is refused by a client trusting another CA', async () => {
      const t = grpcClientTransport(loadGrpcTls({ DOMINION_GRPC_TLS_CA: pki.otherCa }));
      await expect(say(host.address, t.credentials, t.options)).rejects.toMatchObject({
        code: grpc.status.UNAVAILABLE,
      });
    });

    it('checks DOMINION_GRPC_TLS_SERVER_NAME instead of the host when set', async () => {
      const good = grpcClientTransport(
        loadGrpcTls({ DOMINION_GRPC_TLS_CA: pki.ca, DOMINION_GRPC_TLS_SERVER_NAME: 'blkback.dominion' }),
      );
      expect(await say(host.address, good.credentials, good.options)).toBe('HI');
      const bad = grpcClientTransport(
        loadGrpcTls({ DOMINION_GRPC_TLS_CA: pki.ca, DOMINION_GRPC_TLS_SERVER_NAME: 'netback.dominion' }),
      );
      await expect(say(host.address, bad.credentials, bad.options)).rejects.toMatchObject({
        code: grpc.status.UNAVAILABLE,
      });
    });
  });

  it('with a client certificate set, requires one: mutual TLS', async () => {
    const env = {
      DOMINION_GRPC_TLS_CERT: pki.cert,
      DOMINION_GRPC_TLS_KEY: pki.key,
      DOMINION_GRPC_TLS_CA: pki.ca,
      DOMINION_GRPC_TLS_CLIENT_CERT: pki.clientCert,
      DOMINION_GRPC_TLS_CLIENT_KEY: pki.clientKey,
    };
    const host = await startGrpcServer('127.0.0.1:0', [echo], {}, loadGrpcTls(env) ?? null);
    try {
      const withCert = grpcClientTransport(loadGrpcTls(env));
      expect(await say(host.address, withCert.credentials, withCert.options)).toBe('HI');
      const noCert = grpcClientTransport(loadGrpcTls({ DOMINION_GRPC_TLS_CA: pki.ca }));
      await expect(say(host.address, noCert.credentials, noCert.options)).rejects.toMatchObject({
        code: grpc.status.UNAVAILABLE,
      });
    } finally {
      await host.close();
    }
  });

  describe('a half-made setting fails at start, naming the variable and the file', () => {
    it('a certificate without its key, or a key without its certificate', () => {
      expect(() => loadGrpcTls({ DOMINION_GRPC_TLS_CERT: pki.cert })).toThrow(
        new ConfigError(
          `DOMINION_GRPC_TLS_CERT=${pki.cert} is set but DOMINION_GRPC_TLS_KEY is not: a certificate needs its key`,
        ),
      );
      expect(() => loadGrpcTls({ DOMINION_GRPC_TLS_CLIENT_KEY: pki.clientKey })).toThrow(
        /^DOMINION_GRPC_TLS_CLIENT_KEY=.*client\.key is set but DOMINION_GRPC_TLS_CLIENT_CERT is not/,
      );
      // the complete pair beside it loads
      expect(loadGrpcTls({ DOMINION_GRPC_TLS_CERT: pki.cert, DOMINION_GRPC_TLS_KEY: pki.key })?.cert?.path).toBe(
        pki.cert,
      );
    });

    it('a missing, unreadable or non-PEM file', () => {
      const missing = join(tmp.path, 'nope.pem');
      expect(() => loadGrpcTls({ DOMINION_GRPC_TLS_CA: missing })).toThrow(
        `DOMINION_GRPC_TLS_CA=${missing}: cannot read the CA bundle (ENOENT)`,
      );
      const junk = join(tmp.path, 'junk.pem');
      writeFileSync(junk, 'not a certificate\n');
      expect(() => loadGrpcTls({ DOMINION_GRPC_TLS_CA: junk })).toThrow(
        `DOMINION_GRPC_TLS_CA=${junk}: not a PEM CA bundle`,
      );
      if (process.getuid?.() !== 0) {
        const locked = join(tmp.path, 'locked.key');
        writeFileSync(locked, '-----BEGIN PRIVATE KEY-----\n');
        chmodSync(locked, 0o000);
        expect(() => loadGrpcTls({ DOMINION_GRPC_TLS_CERT: pki.cert, DOMINION_GRPC_TLS_KEY: locked })).toThrow(
          `DOMINION_GRPC_TLS_KEY=${locked}: cannot read the server key (EACCES)`,
        );
      }
      expect(() => loadGrpcTls({ DOMINION_GRPC_TLS_SERVER_NAME: 'a b' })).toThrow(
        /^DOMINION_GRPC_TLS_SERVER_NAME="a b"/,
      );
    });

    it('a server with only client-side settings, or mutual TLS without a CA, does not bind', async () => {
      await expect(
        startGrpcServer('127.0.0.1:0', [echo], {}, loadGrpcTls({ DOMINION_GRPC_TLS_CA: pki.ca }) ?? null),
      ).rejects.toThrow(/DOMINION_GRPC_TLS_CERT and DOMINION_GRPC_TLS_KEY are not set/);
      const noCa = loadGrpcTls({
        DOMINION_GRPC_TLS_CERT: pki.cert,
        DOMINION_GRPC_TLS_KEY: pki.key,
        DOMINION_GRPC_TLS_CLIENT_CERT: pki.clientCert,
        DOMINION_GRPC_TLS_CLIENT_KEY: pki.clientKey,
      });
      await expect(startGrpcServer('127.0.0.1:0', [echo], {}, noCa ?? null)).rejects.toThrow(
        /^DOMINION_GRPC_TLS_CLIENT_CERT=.* asks for mutual TLS but DOMINION_GRPC_TLS_CA is not set/,
      );
    });
  });
});
