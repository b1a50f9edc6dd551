// Browser test of the widget and the demo page, against a real `morelike
// serve` (bundled demo store) driven in Debian's headless Chromium.
//
//   MORELIKE_BIN=target/debug/morelike node widget/tests/demo.e2e.mjs
//
// It starts the server itself on a free port with a fresh data directory,
// votes through the page, restarts the server mid-session, and saves
// screenshots at desktop and phone width to $SCREENSHOTS (default
// target/screenshots). It prints "N passed, M failed" and exits non-zero on
// any failure; it never skips.

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const BIN = resolve(process.env.MORELIKE_BIN || 'target/debug/morelike');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = resolve(process.env.SCREENSHOTS || 'target/screenshots');

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
  });
}

async function waitReady(base, child, ms = 120000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (child.exitCode != null) throw new Error(`morelike serve exited with ${child.exitCode}`);
    try { if ((await fetch(`${base}/readyz`)).ok) return; } catch (_) { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`morelike serve was not ready at ${base} within ${ms} ms`);
}

function serve(port, dataDir) {
  const child = spawn(BIN, ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, MORELIKE_LOG: process.env.MORELIKE_LOG || 'warn' },
  });
  return child;
}

function stop(child) {
  return new Promise((ok) => {
    if (child.exitCode != null) return ok();
    child.once('exit', () => ok());
    child.kill('SIGTERM');
  });
}

const results = [];
async function check(name, fn) {
  try { await fn(); results.push([name, true]); console.log(`ok   ${name}`); }
  catch (e) { results.push([name, false]); console.log(`FAIL ${name}\n     ${e.stack || e}`); }
}

// Reads the pages the widget has rendered, from the events it emitted.
const pages = (page) => page.evaluate(() => window.__pages);
const lastPage = async (page) => (await pages(page)).at(-1);

async function waitPages(page, n) {
  await page.waitForFunction((count) => window.__pages.length >= count, n, { timeout: 20000 });
  await page.waitForFunction(() => {
    const cards = document.querySelector('morelike-recs').shadowRoot.querySelectorAll('.card');
    return cards.length > 0 && [...cards].every((c) => !c.querySelector('button.vote').disabled);
  }, null, { timeout: 20000 });
}

// Lets the page's entry animation finish (for screenshots).
const settle = (page) => page.evaluate(() => Promise.all(
  document.querySelector('morelike-recs').shadowRoot.getAnimations().map((a) => a.finished)));

async function vote(page, product, kind) {
  const before = (await pages(page)).length;
  const recs = page.locator('morelike-recs');
  await recs.locator(`li.card[data-product="${product}"] button[data-vote="${kind}"]`).click();
  await waitPages(page, before + 1);
}

if (!existsSync(BIN)) throw new Error(`no morelike binary at ${BIN}: build it or set MORELIKE_BIN`);
if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium (scripts/test does)`);
mkdirSync(SHOTS, { recursive: true });
const dataDir = mkdtempSync(join(tmpdir(), 'morelike-e2e-'));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
let server = serve(port, dataDir);
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});

try {
  await waitReady(base, server);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
  await page.addInitScript(() => {
    window.__pages = [];
    window.__votes = [];
    addEventListener('morelike:page', (e) => window.__pages.push(e.detail));
    addEventListener('morelike:vote', (e) => window.__votes.push(e.detail));
  });
  const seed = '15970'; // Turtle Check Men Navy Blue Shirt
  await page.goto(`${base}/?product=${seed}`);
  await waitPages(page, 1);
  const first = await lastPage(page);
  const shown = new Set([seed]);

  await check('the demo page shows a first page of 8 products similar to the seed', async () => {
    assert.equal(first.items.length, 8);
    assert.ok(!first.items.some((i) => i.id === seed), 'the seed is not recommended to itself');
    const cards = await page.locator('morelike-recs li.card').count();
    assert.equal(cards, 8);
    for (const i of first.items) shown.add(i.id);
  });

  // The shopper wants the seed's kind of product in another colour. Page
  // one is "more like this" (the seed's kind, navy shirts, first), so they
  // say Not My Style to a navy shirt until another colour is on show, then
  // upvote a shown product of a new colour (the same article type when one
  // is shown), and keep upvoting that colour and downvoting other colours.
  const seedColour = 'Navy Blue';
  const offered = (p) => p.items.find((i) => i.attributes.baseColour !== seedColour && i.attributes.articleType === 'Shirts')
    || p.items.find((i) => i.attributes.baseColour !== seedColour);
  let liked;
  let colour;
  const fits = (i) => i.attributes.baseColour === colour;
  await check('More Like This and Not My Style bring new, never-repeated products', async () => {
    let current = first;
    for (let round = 0; round < 3 && !offered(current); round += 1) {
      await vote(page, current.items[0].id, 'down');
      current = await lastPage(page);
      for (const i of current.items) { assert.ok(!shown.has(i.id), `${i.id} shown twice`); shown.add(i.id); }
    }
    liked = offered(current);
    assert.ok(liked, 'Not My Style on the seed\'s kind brings another colour');
    colour = liked.attributes.baseColour;
    for (let round = 0; round < 3; round += 1) {
      const down = current.items.find((i) => !fits(i));
      if (down) {
        await vote(page, down.id, 'down');
        current = await lastPage(page);
        for (const i of current.items) { assert.ok(!shown.has(i.id), `${i.id} shown twice`); shown.add(i.id); }
      }
      // The liked product itself when it is still on show, else one of its colour.
      const up = current.items.find((i) => i.id === liked.id) || current.items.find(fits) || current.items[0];
      await vote(page, up.id, 'up');
      current = await lastPage(page);
      assert.equal(current.items.length, 8);
      for (const i of current.items) { assert.ok(!shown.has(i.id), `${i.id} shown twice`); shown.add(i.id); }
    }
  });

  await check('upvoted attributes dominate after a few rounds', async () => {
    const all = await pages(page);
    const share = (p) => p.items.filter(fits).length / p.items.length;
    const last = share(all.at(-1));
    assert.ok(last >= 0.5 && last > share(all[0]), `${colour}: ${last} of the last page, ${share(all[0])} of the first`);
  });

  await check('the side panel lists the votes and each round\'s timings', async () => {
    const votes = await page.locator('#votes li:not(.empty)').count();
    const recorded = (await page.evaluate(() => window.__votes)).length;
    assert.equal(votes, recorded);
    assert.ok(votes >= 3, `${votes} votes listed`);
    const rows = await page.locator('#rounds tr').count();
    assert.equal(rows, (await pages(page)).length);
  });

  await settle(page);
  await page.screenshot({ path: join(SHOTS, 'demo-desktop.png'), fullPage: false });

  await check('the widget resumes the session after the server restarts', async () => {
    const before = await lastPage(page);
    await stop(server);
    await page.waitForFunction(() => /reconnect/i.test(document.querySelector('morelike-recs').shadowRoot.querySelector('.status').textContent), null, { timeout: 10000 });
    server = serve(port, dataDir);
    await waitReady(base, server);
    const count = (await pages(page)).length;
    await waitPages(page, count + 1);
    const resumed = await lastPage(page);
    assert.equal(resumed.resumed, true, 'the page after reconnecting is a resumed one');
    assert.equal(resumed.session, before.session);
    assert.deepEqual(resumed.items.map((i) => i.id), before.items.map((i) => i.id));
    await vote(page, resumed.items[0].id, 'up');
    const next = await lastPage(page);
    assert.equal(next.round, before.round + 1, 'the round count went on');
    for (const i of next.items) assert.ok(!shown.has(i.id), `${i.id} shown twice after resuming`);
  });

  await check('the widget is usable with the keyboard alone', async () => {
    const count = (await pages(page)).length;
    await page.locator('morelike-recs li.card').first().locator('button[data-vote="up"]').focus();
    await page.keyboard.press('Enter');
    await waitPages(page, count + 1);
    const focused = await page.evaluate(() => document.querySelector('morelike-recs').shadowRoot.activeElement?.dataset.vote);
    assert.equal(focused, 'up', 'focus moves to the new page');
  });

  await check('the demo search finds products by name and starts from the one picked', async () => {
    await page.fill('#q', 'running shoes');
    await page.locator('#results button').first().waitFor({ timeout: 5000 });
    const name = await page.locator('#results button').first().textContent();
    assert.match(name.toLowerCase(), /running/);
    const count = (await pages(page)).length;
    await page.locator('#results button').first().click();
    await waitPages(page, count + 1);
    const fresh = await lastPage(page);
    assert.equal(fresh.round, 1, 'a new session starts at round 1');
  });

  // The session's votes as the server holds them (explain lists the seed, then every vote).
  const serverVotes = async (session, product) => {
    const r = await fetch(`${base}/v1/stores/demo/sessions/${session}/explain/${encodeURIComponent(product)}`);
    assert.equal(r.status, 200, await r.clone().text());
    return (await r.json()).explanation.examples.filter((e) => e.vote != null).map((e) => `${e.vote}:${e.product}`);
  };
  const panelVotes = (p) => p.locator('#votes li:not(.empty)').evaluateAll((lis) => lis.map((li) => `${li.className}:${li.dataset.product}`));

  await check('the side panel shows the session\'s votes as the server holds them, after a reload, Undo and Start over', async () => {
    const tab = await context.newPage();
    await tab.addInitScript(() => { window.__pages = []; addEventListener('morelike:page', (e) => window.__pages.push(e.detail)); });
    await tab.goto(`${base}/?product=${seed}`);
    await waitPages(tab, 1);
    for (const [n, kind] of [[0, 'up'], [1, 'down'], [2, 'up'], [0, 'down'], [3, 'up']]) {
      await vote(tab, (await lastPage(tab)).items[n].id, kind);
    }
    let current = await lastPage(tab);
    const cast = await serverVotes(current.session, current.items[0].id);
    assert.equal(cast.length, 5);
    assert.deepEqual(await panelVotes(tab), cast);
    await tab.reload();
    await waitPages(tab, 1);
    current = await lastPage(tab);
    assert.equal(current.resumed, true);
    assert.deepEqual(await panelVotes(tab), cast, 'a resumed session lists its votes');
    assert.equal(await tab.locator('#votes .empty').count(), 0);
    const names = await tab.locator('#votes li').allTextContents();
    assert.ok(names.every((t) => /^(▲ More like|▼ Not): \S/.test(t) && !/product \d/.test(t)), names.join(' | '));
    for (let n = 0; n < 3; n += 1) {
      const count = (await pages(tab)).length;
      await tab.locator('morelike-recs button[data-tool="undo"]').click();
      await waitPages(tab, count + 1);
      current = await lastPage(tab);
      assert.equal(current.request, 'undo');
      const held = await serverVotes(current.session, current.items[0].id);
      assert.equal(held.length, 4 - n);
      assert.deepEqual(await panelVotes(tab), held, `after undo ${n + 1}`);
    }
    const count = (await pages(tab)).length;
    await tab.locator('morelike-recs button[data-tool="reset"]').click();
    await waitPages(tab, count + 1);
    current = await lastPage(tab);
    assert.deepEqual(await serverVotes(current.session, current.items[0].id), []);
    assert.deepEqual(await panelVotes(tab), []);
    assert.equal(await tab.locator('#votes').textContent(), 'none yet');
    await tab.close();
  });

  await check('the demo search shows listings alike in everything once, and tells namesakes apart', async () => {
    const tab = await context.newPage();
    await tab.addInitScript(() => { window.__pages = []; addEventListener('morelike:page', (e) => window.__pages.push(e.detail)); });
    await tab.goto(`${base}/?product=${seed}`);
    await waitPages(tab, 1);
    for (const text of ['Q&Q Men Black Watch', 'navy shirt', 'watch']) {
      await tab.fill('#q', text);
      await tab.waitForFunction((t) => document.querySelector('#results button') && document.querySelector('#q').value === t, text, { timeout: 5000 });
      await tab.waitForTimeout(400); // the debounce, then the answer
      const rows = await tab.locator('#results button').allTextContents();
      assert.ok(rows.length > 1, `${text}: ${rows.join(' | ')}`);
      // Told apart by more than their ids.
      const told = rows.map((r) => r.replace(/( · )?#\w+/, ''));
      assert.equal(new Set(told).size, told.length, `${text}: rows look alike: ${rows.join(' | ')}`);
      if (text === 'Q&Q Men Black Watch') {
        // The catalog has 18 listings of that name alike in every attribute, and namesakes that differ.
        assert.ok(rows.some((r) => /^Q&Q Men Black Watch .*\d+ identical listings$/.test(r)), rows.join(' | '));
        assert.ok(rows.some((r) => /^Q&Q Men Black Watch .*Blue/.test(r)), rows.join(' | '));
      }
    }
    await tab.fill('#q', 'Q&Q Men Black Watch');
    await tab.waitForTimeout(600);
    const picked = tab.locator('#results button', { hasText: 'identical listings' }).first();
    const id = /#(\w+)/.exec(await picked.textContent())[1];
    const count = (await pages(tab)).length;
    await picked.click();
    await waitPages(tab, count + 1);
    assert.equal(new URL(tab.url()).searchParams.get('product'), id);
    assert.equal(await tab.locator('#seed-name').textContent(), 'Q&Q Men Black Watch');
    await tab.close();
  });

  await check('the demo page has an icon and loads without a failed request or a console error', async () => {
    const tab = await context.newPage();
    const problems = [];
    tab.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    tab.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`); });
    tab.on('requestfailed', (r) => problems.push(`failed ${r.url()}`));
    await tab.addInitScript(() => { window.__pages = []; addEventListener('morelike:page', (e) => window.__pages.push(e.detail)); });
    await tab.goto(`${base}/?product=${seed}`);
    await waitPages(tab, 1);
    const icon = await tab.evaluate(async () => {
      const link = document.querySelector('link[rel="icon"]');
      if (!link) return null;
      const img = new Image();
      img.src = link.href;
      await img.decode();
      return { scheme: new URL(link.href).protocol, width: img.naturalWidth };
    });
    assert.ok(icon, 'a <link rel="icon">');
    assert.equal(icon.scheme, 'data:', 'inline: the browser asks the server for no /favicon.ico');
    assert.ok(icon.width > 0, 'the icon is a picture');
    assert.deepEqual(problems, []);
    await tab.close();
  });

  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const small = await phone.newPage();
  await small.addInitScript(() => { window.__pages = []; addEventListener('morelike:page', (e) => window.__pages.push(e.detail)); });
  await small.goto(`${base}/?product=${seed}`);
  await waitPages(small, 1);
  await check('at phone width the cards fit the screen without sideways scrolling', async () => {
    const overflow = await small.evaluate(() => document.documentElement.scrollWidth - innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
    const box = await small.locator('morelike-recs li.card').first().boundingBox();
    assert.ok(box.width >= 140 && box.width <= 390, `card width ${box.width}`);
  });
  await settle(small);
  await small.screenshot({ path: join(SHOTS, 'demo-phone.png'), fullPage: false });
} finally {
  await browser.close();
  await stop(server);
  rmSync(dataDir, { recursive: true, force: true });
}

const passed = results.filter(([, ok]) => ok).length;
const failed = results.length - passed;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
