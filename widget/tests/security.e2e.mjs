// Browser test of the widget on the open internet, against a real
// `morelike serve` in Debian's headless Chromium:
//  - a shop page on a second origin embeds the widget exactly as
//    docs/WIDGET.md shows and gets a page;
//  - the same page on an origin the store does not allow gets a clear error
//    in the widget, not a silent empty box;
//  - hostile ids, names and image URLs never execute, on the demo page or
//    in an embedded widget.
//
//   MORELIKE_BIN=target/debug/morelike node widget/tests/security.e2e.mjs
//
// The shop's two origins (shop.test, evil.test) are names Chromium resolves
// to 127.0.0.1 (--host-resolver-rules); a small Node server serves the shop
// page on its own port. It prints "N passed, M failed" and never skips.

import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

import { BIN, CHROMIUM, CHROMIUM_ARGS, check, finish, freePort, serve, stop, waitReady } from './harness.mjs';

const ADMIN = 'browser-test-admin-key-0123456789';

// The embed exactly as docs/WIDGET.md shows it (the block with key="pk_demo").
function documentedEmbed(port) {
  const doc = readFileSync(new URL('../../docs/WIDGET.md', import.meta.url), 'utf8');
  const blocks = [...doc.matchAll(/```html\n([\s\S]*?)```/g)].map((m) => m[1]);
  const embed = blocks.find((b) => b.includes('key="pk_demo"'));
  if (!embed) throw new Error('docs/WIDGET.md has no ```html block with key="pk_demo"');
  return embed.replaceAll('http://127.0.0.1:7700', `http://127.0.0.1:${port}`);
}

if (!existsSync(BIN)) throw new Error(`no morelike binary at ${BIN}: build it or set MORELIKE_BIN`);
if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium (scripts/test does)`);

const dataDir = mkdtempSync(join(tmpdir(), 'morelike-security-e2e-'));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
// Sockets silent for 3 s are closed, so the idle check below is quick.
const server = serve(port, dataDir, { MORELIKE_ADMIN_KEY: ADMIN, MORELIKE_IDLE_SOCKET_SECS: '3' });

// The shop's own web server: one page per path, on both shop origins.
const shopPort = await freePort();
const shopPages = new Map();
const shop = createServer((req, res) => {
  const page = shopPages.get(new URL(req.url, 'http://x').pathname);
  res.writeHead(page ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
  res.end(page || 'not found');
});
await new Promise((ok) => shop.listen(shopPort, '127.0.0.1', ok));
const SHOP = `http://shop.test:${shopPort}`;
const EVIL = `http://evil.test:${shopPort}`;

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP shop.test 127.0.0.1, MAP evil.test 127.0.0.1'],
});

async function api(method, path, key, body, type = 'application/json') {
  const headers = { authorization: `Bearer ${key}` };
  if (body !== undefined) headers['content-type'] = type;
  const response = await fetch(`${base}${path}`, {
    method, headers, body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
  });
  const text = await response.text();
  let json;
  try { json = JSON.parse(text); } catch (_) { json = text; }
  return { status: response.status, body: json };
}

// A page that records the widget's events and anything hostile running.
async function watchedPage(context) {
  const page = await context.newPage();
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
  await page.addInitScript(() => {
    window.__pages = [];
    window.__errors = [];
    addEventListener('morelike:page', (e) => window.__pages.push(e.detail));
    addEventListener('morelike:error', (e) => window.__errors.push(e.detail));
  });
  return { page, dialogs };
}

const pwned = (page) => page.evaluate(() => window.__pwned);

try {
  await waitReady(base, server);
  const rotated = await api('POST', '/v1/stores/demo/keys/rotate', ADMIN, { keys: 'secret' });
  assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
  assert.equal(rotated.body.publishable_key, undefined, 'pk_demo stays');
  const secret = rotated.body.secret_key;
  const origins = await api('PATCH', '/v1/stores/demo/settings', secret, { allowed_origins: [SHOP] });
  assert.equal(origins.status, 200, JSON.stringify(origins.body));
  shopPages.set('/', `<!doctype html><meta charset="utf-8"><title>A shop</title>\n${documentedEmbed(port)}`);
  const context = await browser.newContext();

  await check('a shop page on another origin embeds the widget exactly as docs/WIDGET.md shows and gets a page', async () => {
    const { page } = await watchedPage(context);
    await page.goto(`${SHOP}/`);
    await page.waitForFunction(() => window.__pages.length > 0, null, { timeout: 20000 });
    const first = (await page.evaluate(() => window.__pages))[0];
    assert.equal(first.items.length, 8);
    assert.equal(await page.locator('morelike-recs li.card').count(), 8);
    // And a vote works from there.
    await page.locator('morelike-recs li.card').first().locator('button[data-vote="up"]').click();
    await page.waitForFunction(() => window.__pages.length > 1, null, { timeout: 20000 });
    await page.close();
  });

  await check('after an idle close the widget sleeps, and resumes when the shopper comes back', async () => {
    const { page } = await watchedPage(context);
    await page.goto(`${SHOP}/`);
    await page.waitForFunction(() => window.__pages.length > 0, null, { timeout: 20000 });
    const first = (await page.evaluate(() => window.__pages))[0];
    await page.waitForTimeout(4500);
    assert.equal((await page.evaluate(() => window.__pages)).length, 1, 'no reconnect while nobody is there');
    const status = await page.evaluate(() => document.querySelector('morelike-recs').shadowRoot.querySelector('.status').textContent);
    assert.doesNotMatch(status, /reconnecting/i);
    await page.locator('morelike-recs li.card').first().hover();
    await page.waitForFunction(() => window.__pages.length > 1, null, { timeout: 20000 });
    const resumed = (await page.evaluate(() => window.__pages))[1];
    assert.equal(resumed.resumed, true);
    assert.equal(resumed.session, first.session);
    await page.close();
  });

  await check('on an origin the store does not allow, the widget shows a clear error, not an empty box', async () => {
    const { page } = await watchedPage(context);
    await page.goto(`${EVIL}/`);
    await page.waitForFunction(() => window.__errors.length > 0, null, { timeout: 20000 });
    const errors = await page.evaluate(() => window.__errors);
    assert.equal(errors[0].code, 'origin_not_allowed');
    const recs = page.locator('morelike-recs');
    assert.equal(await recs.getAttribute('data-state'), 'refused');
    const status = await page.evaluate(() => document.querySelector('morelike-recs').shadowRoot.querySelector('.status').textContent);
    assert.match(status, /not enabled for this website/);
    assert.match(status, /allowed_origins/, 'the message tells the merchant what to change');
    assert.ok(await recs.locator('.status').isVisible(), 'the error is visible');
    assert.equal(await recs.locator('li.card').count(), 0);
    // It does not hammer the server: no reconnect after a refusal.
    await page.waitForTimeout(1500);
    assert.equal((await page.evaluate(() => window.__errors)).length, 1);
    await page.close();
  });

  await check('a wrong key gets a clear error too', async () => {
    shopPages.set('/wrong-key', `<!doctype html><meta charset="utf-8">\n${documentedEmbed(port).replace('key="pk_demo"', 'key="pk_demo_typo"')}`);
    const { page } = await watchedPage(context);
    await page.goto(`${SHOP}/wrong-key`);
    await page.waitForFunction(() => window.__errors.length > 0, null, { timeout: 20000 });
    assert.equal((await page.evaluate(() => window.__errors))[0].code, 'unauthorized');
    await page.close();
  });

  // Hostile products: on the demo store (the demo page) and on a store with images.
  const seedRow = { gender: 'Men', masterCategory: 'Apparel', subCategory: 'Topwear', articleType: 'Shirts',
    baseColour: 'Navy Blue', season: 'Fall', year: 2011, usage: 'Casual' };
  const hostile = [
    { id: '"><img src=x onerror="window.__pwned=1">', productDisplayName: '<img src=x onerror="window.__pwned=2"> Zqx Navy Check Shirt' },
    { id: "<script>window.__pwned=3</script>", productDisplayName: "<script>window.__pwned=4</script> Zqx Navy Turtle Check Shirt" },
    { id: "javascript:window.__pwned=5", productDisplayName: "<svg onload=window.__pwned=6> Zqx Navy Men Check Shirt" },
  ].map((p) => ({ ...seedRow, ...p }));

  await check('hostile_ids_do_not_execute_on_the_demo_page', async () => {
    const upload = await api('POST', '/v1/stores/demo/products', secret, hostile);
    assert.equal(upload.status, 200, JSON.stringify(upload.body));
    assert.equal(upload.body.imported, 3, JSON.stringify(upload.body));
    const { page, dialogs } = await watchedPage(context);
    await page.goto(`${base}/?product=15970`);
    await page.waitForFunction(() => window.__pages.length > 0, null, { timeout: 20000 });
    // Search for them: the results list shows their names as text.
    await page.fill('#q', 'zqx');
    await page.locator('#results button').first().waitFor({ timeout: 5000 });
    const results = await page.locator('#results').textContent();
    assert.match(results, /<img src=x onerror=|<script>|<svg onload=/, 'the markup shows as text');
    assert.equal(await page.locator('#results img, #results script, #results svg').count(), 0);
    // Start from a hostile product and page through its hostile neighbours.
    const pick = page.locator('#results button', { hasText: '<script>' }).first();
    await pick.click();
    await page.waitForFunction(() => window.__pages.length > 1, null, { timeout: 20000 });
    assert.match(await page.locator('#seed-name').textContent(), /<script>window.__pwned=4<\/script>/);
    assert.equal(new URL(page.url()).searchParams.get('product'), hostile[1].id, 'the id went through as text');
    const count = (await page.evaluate(() => window.__pages)).length;
    await page.locator('morelike-recs li.card').first().locator('button[data-vote="up"]').click();
    await page.waitForFunction((n) => window.__pages.length > n, count, { timeout: 20000 });
    assert.equal(await page.locator('#votes img, #rounds img, #seed img, #seed script').count(), 0);
    await page.waitForTimeout(300);
    assert.equal(await pwned(page), undefined, 'no hostile script ran');
    assert.deepEqual(dialogs, []);
    // A hostile id in the page's own URL is text too.
    await page.goto(`${base}/?product=${encodeURIComponent('<img src=x onerror="window.__pwned=7">')}`);
    await page.waitForTimeout(500);
    assert.equal(await pwned(page), undefined);
    assert.match(await page.locator('#seed-name').textContent(), /<img/);
    await page.close();
  });

  await check('hostile ids, names and image URLs never execute in an embedded widget', async () => {
    const created = await api('PUT', '/v1/stores/pics', ADMIN,
      '[fields]\nid = "id"\nname = "name"\nimage = "image"\ncategorical = ["colour"]\n', 'application/toml');
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const pics = created.body;
    const rows = [
      { id: 'seed', name: 'Seed', colour: 'red', image: 'https://img.invalid/seed.jpg' },
      ...hostile.map((h) => ({ id: h.id, name: h.productDisplayName, colour: 'red' })),
      { id: 'js', name: 'Script', colour: 'red', image: 'javascript:window.__pwned=8' },
      { id: 'data', name: 'Data', colour: 'red', image: 'data:text/html,<script>window.__pwned=9</script>' },
      { id: 'quote', name: 'Quote " onerror="window.__pwned=10', colour: 'red', image: 'https://img.invalid/a.jpg" onerror="window.__pwned=11' },
      { id: 'ok', name: 'Fine <b>bold</b>', colour: 'red', image: 'https://img.invalid/ok.jpg' },
    ];
    const upload = await api('POST', '/v1/stores/pics/products', pics.secret_key, rows);
    assert.equal(upload.status, 200);
    assert.equal(upload.body.rejected, 2, JSON.stringify(upload.body));
    assert.deepEqual(upload.body.errors.map((e) => e.field), ['image', 'image']);
    const set = await api('PATCH', '/v1/stores/pics/settings', pics.secret_key, { allowed_origins: [SHOP] });
    assert.equal(set.status, 200);
    shopPages.set('/pics', `<!doctype html><meta charset="utf-8">
<script type="module" src="${base}/widget/morelike-recs.js"></script>
<morelike-recs store="pics" product="seed" key="${pics.publishable_key}" server="${base}"></morelike-recs>`);
    const { page, dialogs } = await watchedPage(context);
    await page.goto(`${SHOP}/pics`);
    await page.waitForFunction(() => window.__pages.length > 0, null, { timeout: 20000 });
    const shown = await page.evaluate(() => [...document.querySelector('morelike-recs').shadowRoot.querySelectorAll('li.card')]
      .map((li) => li.dataset.product));
    for (const h of hostile) assert.ok(shown.includes(h.id), `${h.id} is on the page as its own text`);
    const imgs = await page.evaluate(() => [...document.querySelector('morelike-recs').shadowRoot.querySelectorAll('img')]
      .map((i) => i.getAttribute('src')));
    assert.ok(imgs.every((src) => src.startsWith('https://')), imgs.join(' '));
    assert.equal(await page.locator('morelike-recs b').count(), 0, 'a name is text, not markup');
    const refused = await page.evaluate(async (url) => {
      const { safeImage } = await import(url);
      return ['javascript:alert(1)', ' JAVASCRIPT:alert(1)', 'data:image/png;base64,AA', 'vbscript:x']
        .map((u) => safeImage(u));
    }, `${base}/widget/morelike-recs.js`);
    assert.deepEqual(refused, [null, null, null, null]);
    await page.waitForTimeout(300);
    assert.equal(await pwned(page), undefined);
    assert.deepEqual(dialogs, []);
    await page.close();
  });
} finally {
  await browser.close();
  await stop(server);
  await new Promise((ok) => shop.close(ok));
  rmSync(dataDir, { recursive: true, force: true });
}

finish();
