// Renders var/bench/*.json (written by each project's `bench` target) into the generated part of
// docs/benchmarks.md, between the bench:begin and bench:end markers; the prose around them is hand-written.
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';

const dir = new URL('../var/bench/', import.meta.url);
const doc = new URL('../docs/benchmarks.md', import.meta.url);
if (!existsSync(dir)) process.exit(0);
const out = [];
for (const f of readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()) {
  const r = JSON.parse(readFileSync(new URL(f, dir), 'utf8'));
  out.push(`### ${r.name} (${r.date.slice(0, 16).replace('T', ' ')} UTC)`, '');
  if (r.notes) out.push(r.notes, '');
  const cols = [...new Set((r.rows ?? []).flatMap((row) => Object.keys(row)))];
  out.push(`| ${cols.join(' | ')} |`, `|${cols.map(() => '---').join('|')}|`);
  for (const row of r.rows ?? []) out.push(`| ${cols.map((c) => row[c] ?? '').join(' | ')} |`);
  out.push('');
}
const text = existsSync(doc) ? readFileSync(doc, 'utf8') : '# Benchmarks\n\n<!-- bench:begin -->\n<!-- bench:end -->\n';
const begin = text.indexOf('<!-- bench:begin -->');
const end = text.indexOf('<!-- bench:end -->');
if (begin < 0 || end < begin) throw new Error('docs/benchmarks.md lacks the bench:begin/bench:end markers');
writeFileSync(doc, text.slice(0, begin) + '<!-- bench:begin -->\n\n' + out.join('\n') + '\n' + text.slice(end));
console.log(`bench: ${out.filter((l) => l.startsWith('###')).length} result sets written to docs/benchmarks.md`);
