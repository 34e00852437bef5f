// `npm run demo:web`: serves the repository on 127.0.0.1 and prints the demo's URL.
import { serveRepo } from './test-browser.mjs';

const port = Number(process.env.PORT ?? 8080);
const { origin } = await serveRepo({ '/': '<meta http-equiv="refresh" content="0; url=/demo/index.html">' }, port);
console.log(`webgpu-cnn demo: ${origin}/demo/index.html  (Ctrl-C to stop)`);
