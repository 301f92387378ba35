// Measures what loading the web chat costs in Chromium (playwright-core, Debian's /usr/bin/chromium):
// bytes on the wire and time to the first screen, cold (empty cache) and warm (a second visit),
// plus every bundle of the build as the server sends it. `python -m bench.web_load` runs it
// against a backend it starts and writes the numbers into docs/benchmarks.md.
//
//   node scripts/web-load.mjs <base-url> <runs>     prints one JSON object
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const [baseUrl = 'http://127.0.0.1:8000', runsArg = '5'] = process.argv.slice(2);
const runs = Number(runsArg);
const dist = process.env.WEB_BUILD_DIR ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
// The first screen a visitor sees: the login page (signed out), ready when its button is.
const PAGE = '/login';
const READY = { role: 'button', name: 'Log in' };

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** One visit: bytes received (compressed, headers included) and its timings. */
async function visit(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  let bytes = 0;
  let requests = 0;
  let transferred = 0;
  const scripts = new Set();
  cdp.on('Network.requestWillBeSent', ({ request }) => {
    const name = /\/_expo\/static\/js\/web\/([^/?]+)$/.exec(new URL(request.url).pathname)?.[1];
    if (name) scripts.add(name);
  });
  cdp.on('Network.loadingFinished', (event) => {
    bytes += event.encodedDataLength;
    requests += 1;
    // A response from the cache arrives with no bytes over the network.
    if (event.encodedDataLength > 0) transferred += 1;
  });
  const start = Date.now();
  await page.goto(`${baseUrl}${PAGE}`, { waitUntil: 'load' });
  await page.getByRole(READY.role, { name: READY.name }).waitFor();
  const ready = Date.now() - start;
  await page.waitForLoadState('networkidle');
  const nav = await page.evaluate(() => {
    const [entry] = performance.getEntriesByType('navigation');
    return { domContentLoaded: entry.domContentLoadedEventEnd, load: entry.loadEventEnd };
  });
  await cdp.detach();
  return { bytes, requests, transferred, scripts: [...scripts], readyMs: ready, loadMs: Math.round(nav.load) };
}

async function main() {
  const cold = [];
  const warm = [];
  for (let i = 0; i < runs; i += 1) {
    const profile = mkdtempSync(join(tmpdir(), 'whale-web-load-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ARGS,
      viewport: { width: 1280, height: 800 },
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      cold.push(await visit(context, page));
      const again = await context.newPage();
      warm.push(await visit(context, again));
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
  }

  // Every bundle as the server sends it to a browser (brotli when accepted) and its cache policy.
  const firstScreen = new Set(cold.flatMap((v) => v.scripts));
  const bundles = [];
  const jsDir = join(dist, '_expo', 'static', 'js', 'web');
  for (const name of readdirSync(jsDir).filter((n) => n.endsWith('.js')).sort()) {
    const url = `${baseUrl}/_expo/static/js/web/${name}`;
    const sent = await fetch(url, { headers: { 'Accept-Encoding': 'br, gzip' } });
    const body = await sent.arrayBuffer();
    const plain = await fetch(url, { headers: { 'Accept-Encoding': 'identity' } });
    bundles.push({
      name: name.replace(/-[0-9a-f]{32}\.js$/, '.js'),
      firstScreen: firstScreen.has(name),
      bytes: (await plain.arrayBuffer()).byteLength,
      wireBytes: Number(sent.headers.get('content-length') ?? body.byteLength),
      encoding: sent.headers.get('content-encoding') ?? 'identity',
      cacheControl: sent.headers.get('cache-control') ?? '',
    });
  }
  const index = await fetch(`${baseUrl}${PAGE}`);
  const summary = (list) => ({
    bytes: median(list.map((v) => v.bytes)),
    requests: median(list.map((v) => v.requests)),
    transferred: median(list.map((v) => v.transferred)),
    readyMs: median(list.map((v) => v.readyMs)),
    loadMs: median(list.map((v) => v.loadMs)),
  });
  console.log(
    JSON.stringify({
      page: PAGE,
      runs,
      cold: summary(cold),
      warm: summary(warm),
      indexCacheControl: index.headers.get('cache-control') ?? '',
      bundles,
    }),
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
