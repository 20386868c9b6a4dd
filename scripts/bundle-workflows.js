#!/usr/bin/env node
'use strict';
// Bundles the workflow code once, at image build time, so that workers start without webpack:
//   node scripts/bundle-workflows.js [output]      (default dist/workflow-bundle.js)
// The worker loads it when NIGHTJAR_WORKFLOW_BUNDLE points at it. Bundles the compiled
// dist/src/workflows when present (after `tsc -p tsconfig.build.json`), else the TypeScript sources.
// A bundle only runs with the SDK version it was built with: build it in the same image.
const fs = require('node:fs');
const path = require('node:path');
const { bundleWorkflowCode } = require('@temporalio/worker');

const root = path.resolve(__dirname, '..');
const output = path.resolve(process.argv[2] ?? path.join(root, 'dist', 'workflow-bundle.js'));
const compiled = path.join(root, 'dist', 'src', 'workflows', 'index.js');
const useDist = fs.existsSync(compiled);
const workflowsPath = useDist ? compiled : path.join(root, 'src', 'workflows', 'index.ts');
// The failure converter runs inside the workflow sandbox, so it is part of the bundle: failure
// messages and stack traces become encoded payloads (encrypted when the worker has keys), the
// same as a worker bundling at start with encryption configured.
const failureConverterPath = useDist ? path.join(root, 'dist', 'src', 'codec', 'failure-converter.js') : path.join(root, 'src', 'codec', 'failure-converter.ts');

const quiet = () => {};
const logger = { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: (m) => console.warn(m), error: (m) => console.error(m) };

async function main() {
  const started = Date.now();
  const { code } = await bundleWorkflowCode({ workflowsPath, failureConverterPath, logger });
  fs.mkdirSync(path.dirname(output), { recursive: true });
  const tmp = `${output}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, code);
  fs.renameSync(tmp, output);
  console.log(`workflow bundle: ${path.relative(process.cwd(), output) || output} (${Math.round(code.length / 1024)} KiB from ${path.relative(root, workflowsPath)}, ${Date.now() - started} ms)`);
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
