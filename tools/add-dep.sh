#!/usr/bin/env bash
# tools/add-dep.sh <project dir> <lib name>: declares a workspace dependency (package.json + tsconfig references).
set -euo pipefail
dir=$1; lib=$2
node -e '
const fs=require("fs"), [dir, lib]=process.argv.slice(1);
const pj=dir+"/package.json", p=JSON.parse(fs.readFileSync(pj));
p.dependencies={...(p.dependencies||{}), ["@dominion/"+lib]:"*"}; fs.writeFileSync(pj, JSON.stringify(p,null,2)+"\n");
for (const f of ["tsconfig.lib.json","tsconfig.spec.json"]) {
  const t=JSON.parse(fs.readFileSync(dir+"/"+f)); const ref="../../libs/"+lib+"/tsconfig.lib.json";
  t.references=t.references||[]; if(!t.references.some(r=>r.path===ref)) t.references.push({path:ref});
  fs.writeFileSync(dir+"/"+f, JSON.stringify(t,null,2)+"\n"); }' "$dir" "$lib"
npx prettier --log-level warn --write "$dir/package.json" "$dir/tsconfig.lib.json" "$dir/tsconfig.spec.json"
