// Collects var/bench/*.json (written by each project's `bench` target) into one table on stdout.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
const dir = new URL('../var/bench/', import.meta.url);
if (!existsSync(dir)) process.exit(0);
for (const f of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
  const r = JSON.parse(readFileSync(new URL(f, dir), 'utf8'));
  console.log(`\n## ${r.name ?? f}`);
  for (const row of r.rows ?? []) console.log('  ' + Object.entries(row).map(([k, v]) => `${k}=${v}`).join('  '));
}
