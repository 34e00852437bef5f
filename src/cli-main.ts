// The `webgpu-cnn` command line without the stderr wrapper of src/cli.ts (which runs this file).
import { runCli } from './tools/main.js';

runCli(process.argv.slice(2)).then((code) => process.exit(code));
