// Readiness is the conjunction of named checks that components register; liveness is "the process answers".
import { createServer, type Server } from 'node:http';

export class Health {
  private readonly checks = new Map<string, () => boolean>();
  private server?: Server;

  register(name: string, ready: () => boolean): void {
    this.checks.set(name, ready);
  }

  status(): { ready: boolean; checks: Record<string, boolean> } {
    const checks: Record<string, boolean> = {};
    for (const [k, f] of this.checks) checks[k] = safe(f);
    return { ready: Object.values(checks).every(Boolean), checks };
  }

  /** GET /healthz (alive) and /readyz (every check passes) on 127.0.0.1 or the given host. */
  async listen(port: number, host = '0.0.0.0'): Promise<number> {
    this.server = createServer((req, res) => {
      const st = this.status();
      const ok = req.url === '/healthz' || (req.url === '/readyz' && st.ready);
      res.writeHead(req.url === '/healthz' || req.url === '/readyz' ? (ok ? 200 : 503) : 404, {
        'content-type': 'application/json',
      });
      res.end(JSON.stringify(st));
    });
    await new Promise<void>((r) => this.server!.listen(port, host, r));
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : port;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}

function safe(f: () => boolean): boolean {
  try {
    return f();
  } catch {
    return false;
  }
}
