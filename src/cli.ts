#!/usr/bin/env node
// The `webgpu-cnn` command line (see src/tools/main.ts for the commands and exit codes).
import { runCli } from './tools/main.js';

runCli(process.argv.slice(2)).then((code) => process.exit(code));
