#!/usr/bin/env bash
# Scaffolds a workspace project: tools/new-project.sh libs <name> | apps <name>
set -euo pipefail
kind=$1; name=$2; dir=$kind/$name
[ -e "$dir" ] && { echo "$dir exists"; exit 1; }
mkdir -p "$dir/src" "$dir/test"
if [ "$kind" = apps ]; then pkg="@dominion/app-$name"; else pkg="@dominion/$name"; fi
start=''; exports=''
if [ "$kind" = apps ]; then start=', "start": "node dist/main.js"'; else
  exports=', "exports": { ".": { "types": "./dist/index.d.ts", "default": "./dist/index.js" } }'; fi
cat > "$dir/package.json" <<JSON
{
  "name": "$pkg",
  "version": "0.0.0",
  "private": true,
  "type": "module"$exports,
  "scripts": {
    "build": "tsc -b tsconfig.lib.json",
    "typecheck": "tsc -b tsconfig.json",
    "lint": "eslint .",
    "test": "node --experimental-vm-modules --disable-warning=ExperimentalWarning ../../node_modules/jest/bin/jest.js"$start
  }
}
JSON
cat > "$dir/tsconfig.json" <<JSON
{ "files": [], "references": [{ "path": "./tsconfig.lib.json" }, { "path": "./tsconfig.spec.json" }] }
JSON
cat > "$dir/tsconfig.lib.json" <<JSON
{
  "extends": "../../tsconfig.base.json",
  "compilerOptions": { "rootDir": "src", "outDir": "dist", "tsBuildInfoFile": "dist/tsconfig.lib.tsbuildinfo" },
  "include": ["src/**/*.ts"],
  "exclude": ["src/**/*.spec.ts"],
  "references": []
}
JSON
cat > "$dir/tsconfig.spec.json" <<JSON
{
  "extends": "../../tsconfig.base.json",
  "compilerOptions": {
    "rootDir": ".", "outDir": "out-tsc/spec", "tsBuildInfoFile": "out-tsc/spec.tsbuildinfo",
    "emitDeclarationOnly": true, "types": ["node", "jest"]
  },
  "include": ["src/**/*.ts", "test/**/*.ts"],
  "references": [{ "path": "./tsconfig.lib.json" }]
}
JSON
echo "module.exports = require('../../jest.preset.cjs')(__dirname);" > "$dir/jest.config.cjs"
echo "created $dir ($pkg)"
npx prettier --log-level warn --write "$dir"
