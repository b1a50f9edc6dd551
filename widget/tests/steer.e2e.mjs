// Browser test of what lets a shopper steer the widget, against real
// `morelike serve` processes driven in Debian's headless Chromium:
// page one is "more like this", downvotes are obeyed, Undo, Start over,
// More, the "You liked" strip and its per-product undo, a reload that
// resumes, voting while the server is down, the unknown-product empty
// state, the demo page without a demo store, the merchant's filters and
// href attributes, image loading and the SVG placeholders, and a hostile
// catalog.
//
//   MORELIKE_BIN=target/debug/morelike node widget/tests/steer.e2e.mjs
//
// It prints "N passed, M failed" and exits non-zero on any failure; it
// never skips. Screenshots go to $SCREENSHOTS (default target/screenshots).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { BIN, CHROMIUM, CHROMIUM_ARGS, check, finish, freePort, serve, stop, waitReady } from './harness.mjs';

const SHOTS = resolve(process.env.SCREENSHOTS || 'target/screenshots');
const SEED = '15970'; // Turtle Check Men Navy Blue Shirt

if (!existsSync(BIN)) throw new Error(`no morelike binary at ${BIN}: build it or set MORELIKE_BIN`);
if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium (scripts/test does)`);
mkdirSync(SHOTS, { recursive: true });

// --- what the page shows -----------------------------------------------------

const pages = (page) => page.evaluate(() => window.__pages);
const lastPage = async (page) => (await pages(page)).at(-1);
const votesSent = (page) => page.evaluate(() => window.__votes);
const inShadow = (page, fn, arg) => page.evaluate(([body, a]) => {
  const root = document.querySelector('morelike-recs').shadowRoot;
  return new Function('root', 'arg', body)(root, a); // eslint-disable-line no-new-func
}, [fn, arg]);
const state = (page) => page.locator('morelike-recs').getAttribute('data-state');
const status = (page) => inShadow(page, 'return root.querySelector(".status").textContent');
const likedIds = (page) => inShadow(page, 'return root.querySelector(".liked").hidden ? [] : [...root.querySelectorAll(".liked li")].map((li) => li.dataset.product)');
const cardIds = (page) => inShadow(page, 'return [...root.querySelectorAll("li.card")].map((li) => li.dataset.product)');
const toolDisabled = (page, tool) => inShadow(page, 'return root.querySelector(`button[data-tool="${arg}"]`).disabled', tool);

/** Waits for the widget's n-th page and for its buttons to be usable again. */
async function waitPages(page, n, timeout = 20000) {
  await page.waitForFunction((count) => window.__pages.length >= count, n, { timeout });
  await page.waitForFunction(() => {
    const cards = document.querySelector('morelike-recs').shadowRoot.querySelectorAll('.card');
    return cards.length > 0 && [...cards].every((c) => !c.querySelector('button.vote').disabled);
  }, null, { timeout: 20000 });
}

async function act(page, locator) {
  const before = (await pages(page)).length;
  await locator.click();
  await waitPages(page, before + 1);
  return lastPage(page);
}
const vote = (page, product, kind) => act(page, page.locator(`morelike-recs li.card[data-product="${product}"] button[data-vote="${kind}"]`));
const tool = (page, name) => act(page, page.locator(`morelike-recs button[data-tool="${name}"]`));

async function watched(context, url) {
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('dialog', (d) => { problems.push(`dialog: ${d.message()}`); d.dismiss(); });
  await page.addInitScript(() => {
    window.__pages = [];
    window.__votes = [];
    window.__errors = [];
    addEventListener('morelike:page', (e) => window.__pages.push(e.detail));
    addEventListener('morelike:vote', (e) => window.__votes.push(e.detail));
    addEventListener('morelike:error', (e) => window.__errors.push(e.detail));
  });
  if (url) await page.goto(url);
  return { page, problems };
}

const menShirt = (i) => i.attributes.gender === 'Men' && i.attributes.articleType === 'Shirts';

// --- the demo server ---------------------------------------------------------

const dataDir = mkdtempSync(join(tmpdir(), 'morelike-steer-e2e-'));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
// The admin key reads the demo store's stats (the clicks the widget sends).
const ADMIN = 'steer-e2e-admin-key-0123456789abcdef';
let server = serve(port, dataDir, { MORELIKE_ADMIN_KEY: ADMIN });

/** The demo store's event totals (GET /v1/stores/demo/stats). */
async function demoTotals() {
  const answer = await fetch(`${base}/v1/stores/demo/stats?minutes=1`, { headers: { authorization: `Bearer ${ADMIN}` } });
  assert.equal(answer.status, 200);
  return (await answer.json()).totals;
}

/** The session's votes as the server holds them (from explain: the seed, then every vote). */
async function serverVotes(session, product) {
  const r = await fetch(`${base}/v1/stores/demo/sessions/${session}/explain/${encodeURIComponent(product)}`);
  assert.equal(r.status, 200, await r.clone().text());
  const { explanation } = await r.json();
  return explanation.examples.filter((e) => e.vote != null).map((e) => `${e.vote}:${e.product}`);
}

const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
const extra = [];

try {
  await waitReady(base, server);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });

  // --- steering: page one, downvotes ----------------------------------------
  {
    const { page } = await watched(context, `${base}/?product=${SEED}`);
    await waitPages(page, 1);
    const first = await lastPage(page);

    await check('from seed 15970, page one shows at least six men\'s shirts', async () => {
      const shirts = first.items.filter(menShirt).length;
      assert.ok(shirts >= 6, `${shirts} of ${first.items.length} are men's shirts: ${first.items.map((i) => `${i.attributes.gender} ${i.attributes.articleType}`).join(', ')}`);
    });

    await check('three downvotes of one kind remove it from the next page', async () => {
      // Not My Style on a men's shirt, on each page that still shows one, at most three times.
      let current = first;
      let downvotes = 0;
      while (downvotes < 3 && current.items.some(menShirt)) {
        current = await vote(page, current.items.find(menShirt).id, 'down');
        downvotes += 1;
      }
      const left = current.items.filter(menShirt);
      assert.equal(left.length, 0, `after ${downvotes} downvotes of men's shirts, round ${current.round} still shows ${left.map((i) => i.name).join('; ')}`);
      assert.equal(current.items.length, 8, 'the page is filled with other kinds');
      // And they stay gone on the pages after.
      const more = await tool(page, 'more');
      assert.equal(more.items.filter(menShirt).length, 0, more.items.map((i) => i.name).join('; '));
    });
    await page.close();
  }

  // --- Undo, the liked strip, More, Start over --------------------------------
  {
    const { page, problems } = await watched(context, `${base}/?product=${SEED}`);
    await waitPages(page, 1);
    const first = await lastPage(page);

    await check('before any vote, Undo is disabled and the liked strip is hidden', async () => {
      assert.equal(await toolDisabled(page, 'undo'), true);
      assert.deepEqual(await likedIds(page), []);
      assert.equal(await toolDisabled(page, 'more'), false);
    });

    let a; let b;
    await check('a liked product joins the "You liked" strip, and Undo takes the latest vote back on the server', async () => {
      a = first.items[0];
      const second = await vote(page, a.id, 'up');
      assert.deepEqual(await likedIds(page), [a.id]);
      b = second.items[0];
      const third = await vote(page, b.id, 'up');
      assert.deepEqual(await likedIds(page), [b.id, a.id], 'the newest like first');
      assert.deepEqual(await serverVotes(third.session, third.items[0].id), [`up:${a.id}`, `up:${b.id}`]);
      const undone = await tool(page, 'undo');
      assert.equal(undone.request, 'undo');
      assert.equal(undone.round, third.round + 1);
      assert.deepEqual(await likedIds(page), [a.id], 'the undone like leaves the strip');
      assert.deepEqual(await serverVotes(undone.session, undone.items[0].id), [`up:${a.id}`]);
      assert.match(await status(page), /taken back/i);
    });

    await check('each liked product has its own undo, even from an earlier round', async () => {
      const current = await lastPage(page);
      b = current.items[0];
      await vote(page, b.id, 'up');
      const c = (await lastPage(page)).items[0];
      await vote(page, c.id, 'down');
      assert.deepEqual(await likedIds(page), [b.id, a.id]);
      const unliked = await act(page, page.locator(`morelike-recs .liked li[data-product="${a.id}"] button.unlike`));
      assert.deepEqual(await likedIds(page), [b.id]);
      assert.deepEqual(await serverVotes(unliked.session, unliked.items[0].id), [`up:${b.id}`, `down:${c.id}`],
        'the earlier like is gone, the later votes stay in order');
      const label = await page.locator(`morelike-recs .liked li[data-product="${b.id}"] button.unlike`).getAttribute('aria-label');
      assert.match(label, /Undo your like of/);
    });

    await check('More shows new products without a vote', async () => {
      const before = await lastPage(page);
      const session = before.session;
      const votes = await serverVotes(session, before.items[0].id);
      const more = await tool(page, 'more');
      assert.equal(more.request, 'more');
      assert.equal(more.round, before.round + 1);
      assert.equal(more.items.length, 8);
      for (const i of more.items) assert.ok(!before.items.some((j) => j.id === i.id), `${i.id} repeated`);
      assert.deepEqual(await serverVotes(session, more.items[0].id), votes, 'More casts no vote');
    });

    await check('Start over forgets every vote and shows page one again', async () => {
      const fresh = await tool(page, 'reset');
      assert.equal(fresh.request, 'reset');
      assert.equal(fresh.round, 1);
      assert.deepEqual(fresh.items.map((i) => i.id), first.items.map((i) => i.id), 'the seed\'s page one again');
      assert.deepEqual(await likedIds(page), []);
      assert.equal(await toolDisabled(page, 'undo'), true);
      assert.deepEqual(await serverVotes(fresh.session, fresh.items[0].id), []);
    });

    await check('the toolbar keeps keyboard focus and the page changes are announced', async () => {
      await page.locator('morelike-recs button[data-tool="more"]').focus();
      const before = (await pages(page)).length;
      await page.keyboard.press('Enter');
      await waitPages(page, before + 1);
      const focused = await inShadow(page, 'return root.activeElement && root.activeElement.dataset.tool');
      assert.equal(focused, 'more');
      const live = await inShadow(page, 'const s = root.querySelector(".status"); return [s.getAttribute("aria-live"), s.textContent]');
      assert.equal(live[0], 'polite');
      assert.match(live[1], /8 products shown/);
      const labels = await inShadow(page, 'return [...root.querySelectorAll("button")].filter((b) => !(b.getAttribute("aria-label") || b.textContent).trim()).length');
      assert.equal(labels, 0, 'every button has a label');
    });
    assert.deepEqual(problems, []);
    await page.close();
  }

  // --- reload resumes -----------------------------------------------------------
  await check('a reload resumes the session: the same session, the same cards, the votes and likes kept', async () => {
    const { page, problems } = await watched(context, `${base}/?product=${SEED}`);
    await waitPages(page, 1);
    const first = await lastPage(page);
    const liked = first.items[1];
    await vote(page, liked.id, 'up');
    const before = await vote(page, (await lastPage(page)).items[2].id, 'down');
    await page.reload();
    await waitPages(page, 1);
    const after = await lastPage(page);
    assert.equal(after.resumed, true, 'the first page after the reload is a resumed one');
    assert.equal(after.session, before.session);
    assert.equal(after.round, before.round);
    assert.deepEqual(after.items.map((i) => i.id), before.items.map((i) => i.id));
    assert.deepEqual(await cardIds(page), before.items.map((i) => i.id));
    assert.deepEqual(await likedIds(page), [liked.id]);
    assert.equal(await toolDisabled(page, 'undo'), false, 'the votes can still be undone');
    const next = await vote(page, after.items[0].id, 'up');
    assert.equal(next.round, before.round + 1, 'the round count went on');
    assert.equal((await serverVotes(next.session, next.items[0].id)).length, 3);
    assert.deepEqual(problems, []);
    await page.close();
  });

  await check('a stored session the server does not know (expired) starts afresh, and forgets its old likes', async () => {
    const { page } = await watched(context, `${base}/?product=${SEED}`);
    await waitPages(page, 1);
    const mine = (await lastPage(page)).session;
    await page.evaluate((seed) => sessionStorage.setItem(`morelike:demo:${seed}::`, JSON.stringify({
      session: '0123456789abcdef0123456789abcdef',
      votes: [{ id: '1163', vote: 'up', round: 1 }],
      liked: [{ id: '1163', name: 'A ghost from an expired session', image: null, attributes: {} }],
    })), SEED);
    await page.reload();
    await waitPages(page, 1);
    const fresh = await lastPage(page);
    assert.equal(fresh.request, 'start');
    assert.equal(fresh.round, 1);
    assert.notEqual(fresh.session, '0123456789abcdef0123456789abcdef');
    assert.notEqual(fresh.session, mine);
    assert.deepEqual(await likedIds(page), []);
    assert.equal(await toolDisabled(page, 'undo'), true);
    const errors = await page.evaluate(() => window.__errors.map((e) => e.code));
    assert.deepEqual(errors, ['unknown_session']);
    await page.close();
  });

  // --- voting while the server is down ------------------------------------------
  await check('while the server is down votes are disabled, nothing is reported sent, and on reconnect voting works', async () => {
    const { page } = await watched(context, `${base}/?product=${SEED}`);
    await waitPages(page, 1);
    const before = await lastPage(page);
    const sentBefore = (await votesSent(page)).length;
    await stop(server);
    await page.waitForFunction(() => document.querySelector('morelike-recs').dataset.state === 'reconnecting', null, { timeout: 10000 });
    const disabled = await inShadow(page, 'return [...root.querySelectorAll("button.vote, button.tool, button.unlike")].every((b) => b.disabled)');
    assert.equal(disabled, true, 'every vote and tool button is disabled');
    assert.match(await inShadow(page, 'return root.querySelector(".notice").textContent'), /reconnecting/i);
    await page.locator('morelike-recs li.card').first().locator('button[data-vote="up"]').click({ force: true, timeout: 2000 }).catch(() => {});
    await page.waitForTimeout(300);
    assert.equal((await votesSent(page)).length, sentBefore, 'no vote reported as sent');
    await page.screenshot({ path: join(SHOTS, 'widget-reconnecting.png') });
    server = serve(port, dataDir, { MORELIKE_ADMIN_KEY: ADMIN });
    await waitReady(base, server);
    // A restarted node is ready at once and loads the store on its first
    // call: the reconnect (back-off up to 5 s) waits for that load, which on
    // a busy CI machine with three browser suites running took over 20 s.
    await waitPages(page, (await pages(page)).length + 1, 60000);
    const resumed = await lastPage(page);
    assert.equal(resumed.resumed, true);
    assert.equal(resumed.session, before.session);
    assert.deepEqual(resumed.items.map((i) => i.id), before.items.map((i) => i.id), 'the click while down was not sent');
    const next = await vote(page, resumed.items[0].id, 'up');
    assert.equal(next.round, before.round + 1);
    assert.equal((await votesSent(page)).length, sentBefore + 1);
    assert.equal(await state(page), 'ready');
    await page.close();
  });

  await check('at phone width the liked strip scrolls by itself: the page never scrolls sideways', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const { page } = await watched(phone, `${base}/?product=${SEED}`);
    await waitPages(page, 1);
    for (const n of [0, 1, 2]) await vote(page, (await lastPage(page)).items[n].id, 'up');
    assert.equal((await likedIds(page)).length, 3);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
    const strip = await inShadow(page, 'const u = root.querySelector(".liked ul"); return [u.scrollWidth, u.clientWidth]');
    assert.ok(strip[1] <= 390, `the strip is ${strip[1]}px wide`);
    await page.evaluate(() => Promise.all(document.querySelector('morelike-recs').shadowRoot.getAnimations().map((a) => a.finished)));
    await page.locator('morelike-recs .bar').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'widget-phone.png') });
    await phone.close();
  });

  // --- an unknown product --------------------------------------------------------
  await check('an unknown product shows a clear empty state, not the previous cards or a raw error', async () => {
    const { page } = await watched(context, `${base}/?product=${SEED}`);
    await waitPages(page, 1);
    await page.evaluate(() => document.querySelector('morelike-recs').setAttribute('product', 'no-such-product'));
    await page.waitForFunction(() => document.querySelector('morelike-recs').dataset.state === 'empty', null, { timeout: 10000 });
    assert.deepEqual(await cardIds(page), []);
    const notice = await inShadow(page, 'const n = root.querySelector(".notice"); return n.hidden ? "" : n.textContent');
    assert.match(notice, /No recommendations for this product/);
    assert.match(notice, /no-such-product/);
    const text = await inShadow(page, 'return root.textContent');
    assert.doesNotMatch(text, /unknown_product|no product with id/);
    assert.equal(await toolDisabled(page, 'more'), true);
    // Back to a real product: the empty state goes.
    const count = (await pages(page)).length;
    await page.evaluate((seed) => document.querySelector('morelike-recs').setAttribute('product', seed), SEED);
    await waitPages(page, count + 1);
    assert.equal(await inShadow(page, 'return root.querySelector(".notice").hidden'), true);
    // And straight from the address.
    await page.goto(`${base}/?product=${encodeURIComponent('nope <b>x</b>')}`);
    await page.waitForFunction(() => document.querySelector('morelike-recs').dataset.state === 'empty', null, { timeout: 10000 });
    await page.close();
  });

  // --- filters and href ------------------------------------------------------------
  await check('the filters attribute goes into start; bad JSON and unknown fields get a clear error', async () => {
    const { page, problems } = await watched(context, `${base}/?product=${SEED}`);
    await waitPages(page, 1);
    let count = (await pages(page)).length;
    await page.evaluate(() => document.querySelector('morelike-recs').setAttribute('filters', '{"attributes":{"gender":["Women"]}}'));
    await waitPages(page, count + 1);
    const women = await lastPage(page);
    assert.equal(women.round, 1, 'new filters start a new session');
    assert.ok(women.items.length > 0 && women.items.every((i) => i.attributes.gender === 'Women'),
      women.items.map((i) => i.attributes.gender).join(','));
    await page.evaluate(() => document.querySelector('morelike-recs').setAttribute('filters', '{"in_stock": tru'));
    await page.waitForFunction(() => document.querySelector('morelike-recs').dataset.state === 'error', null, { timeout: 5000 });
    assert.match(await status(page), /not valid JSON/);
    assert.ok(problems.some((p) => /filters attribute is not valid JSON/.test(p)), problems.join('\n'));
    assert.deepEqual(await cardIds(page), []);
    await page.evaluate(() => document.querySelector('morelike-recs').setAttribute('filters', '{"attributes":{"fabric":["silk"]}}'));
    await page.waitForFunction(() => /bad_filter:.*fabric/.test(document.querySelector('morelike-recs').shadowRoot.querySelector('.status').textContent), null, { timeout: 10000 });
    assert.equal(await state(page), 'error');
    count = (await pages(page)).length;
    await page.evaluate(() => document.querySelector('morelike-recs').removeAttribute('filters'));
    await waitPages(page, count + 1);
    assert.equal(await state(page), 'ready');
    await page.close();
  });

  await check('a k the server does not take is a configuration error with the server\'s reason, fixed by a good k', async () => {
    const { page, problems } = await watched(context, `${base}/?product=${SEED}`);
    await waitPages(page, 1);
    for (const k of ['1000', '0']) {
      const before = (await page.evaluate(() => window.__errors)).length;
      await page.evaluate((v) => document.querySelector('morelike-recs').setAttribute('k', v), k);
      await page.waitForFunction(() => document.querySelector('morelike-recs').dataset.state === 'error', null, { timeout: 10000 });
      const text = await status(page);
      assert.match(text, /not set up correctly/, text);
      assert.match(text, new RegExp(`k = ${k} is out of range: ask for 1 to 100`), 'the server\'s own message');
      assert.doesNotMatch(text, /Something went wrong|try again/);
      const errors = (await page.evaluate(() => window.__errors)).slice(before);
      assert.equal(errors.length, 1, JSON.stringify(errors));
      assert.equal(errors[0].code, 'bad_field');
      assert.equal(errors[0].field, 'k');
      assert.match(errors[0].message, /out of range/);
      const refusal = await page.evaluate(() => document.querySelector('morelike-recs').refusal);
      assert.deepEqual(refusal, errors[0]);
      assert.ok(problems.some((p) => p.includes(`k = ${k} is out of range`)), `console.error says why: ${problems.join('\n')}`);
      assert.deepEqual(await cardIds(page), []);
      assert.equal(await toolDisabled(page, 'more'), true);
    }
    await page.evaluate(() => document.querySelector('morelike-recs').setAttribute('k', 'eight'));
    await page.waitForFunction(() => /k="eight" is not a whole number/.test(document.querySelector('morelike-recs').shadowRoot.querySelector('.status').textContent), null, { timeout: 5000 });
    assert.equal(await state(page), 'error');
    const count = (await pages(page)).length;
    await page.evaluate(() => document.querySelector('morelike-recs').setAttribute('k', '4'));
    await waitPages(page, count + 1);
    assert.equal(await state(page), 'ready');
    assert.equal((await lastPage(page)).items.length, 4);
    assert.doesNotMatch(await status(page), /not set up/);
    await page.close();
  });

  await check('a server attribute that is not http(s) is a configuration error, said once, never a socket or a retry', async () => {
    const { page, problems } = await watched(context, `${base}/?product=${SEED}`);
    await waitPages(page, 1);
    const sockets = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));
    for (const server of ['javascript:alert(1)', 'data:text/html,hi', 'ftp://127.0.0.1/']) {
      const before = (await page.evaluate(() => window.__errors)).length;
      await page.evaluate((v) => document.querySelector('morelike-recs').setAttribute('server', v), server);
      await page.waitForFunction(() => document.querySelector('morelike-recs').dataset.state === 'error', null, { timeout: 5000 });
      await page.waitForTimeout(1500); // longer than the first reconnect waits
      assert.equal(await state(page), 'error', 'not reconnecting');
      assert.match(await status(page), /server attribute is not an http\(s\) address/);
      const errors = (await page.evaluate(() => window.__errors)).slice(before);
      assert.deepEqual(errors.map((e) => [e.code, e.field]), [['bad_server', 'server']], 'said once');
      assert.ok(errors[0].message.includes(`server="${server}"`), errors[0].message);
      assert.deepEqual(await cardIds(page), []);
    }
    assert.deepEqual(sockets, [], 'no socket was opened');
    assert.equal(problems.filter((p) => /is not an http\(s\) address/.test(p)).length, 3, problems.join('\n'));
    assert.ok(problems.every((p) => /is not an http\(s\) address/.test(p)), problems.join('\n'));
    // Fixed: the widget connects again.
    const count = (await pages(page)).length;
    await page.evaluate((b) => document.querySelector('morelike-recs').setAttribute('server', b), base);
    await waitPages(page, count + 1);
    assert.equal(await state(page), 'ready');
    await page.close();
  });

  await check('at desktop width the liked strip shows the newest likes first, in view', async () => {
    const { page } = await watched(context, `${base}/?product=${SEED}`);
    await waitPages(page, 1);
    const liked = [];
    for (let n = 0; n < 8; n += 1) {
      const item = (await lastPage(page)).items[0];
      liked.push(item.id);
      await vote(page, item.id, 'up');
    }
    assert.deepEqual(await likedIds(page), [...liked].reverse());
    const seen = await inShadow(page, `const u = root.querySelector(".liked ul"); const box = u.getBoundingClientRect();
      return [u.scrollWidth > u.clientWidth, [...u.children].filter((li) => { const r = li.getBoundingClientRect(); return r.left >= box.left && r.right <= box.right; }).map((li) => li.dataset.product)]`);
    assert.equal(seen[0], true, 'eight likes overflow the strip at 1280 px');
    assert.ok(seen[1].length >= 2, `${seen[1].length} likes in view`);
    assert.deepEqual(seen[1], liked.slice(-seen[1].length).reverse(), 'the ones in view are the newest');
    await page.close();
  });

  await check('product links follow the href template, URL-encoded, and never make a javascript: link', async () => {
    const { page } = await watched(context, `${base}/?product=${SEED}`);
    await waitPages(page, 1);
    const current = await lastPage(page);
    const hrefs = await inShadow(page, 'return [...root.querySelectorAll("li.card a.picture")].map((a) => a.href)');
    assert.deepEqual(hrefs, current.items.map((i) => `${base}/?product=${encodeURIComponent(i.id)}`), 'the demo page links each card to its own page');
    const links = await page.evaluate(async (url) => {
      const { productLink } = await import(url);
      const item = { id: 'javascript:alert(1)', name: 'x', attributes: { baseColour: 'Navy Blue' } };
      return [
        productLink('/p/{id}', { id: 'a/b?c&d', attributes: {} }),
        productLink('{id}', item),
        productLink('javascript:{id}', item),
        productLink('JaVaScRiPt:alert({id})', item),
        productLink('https://shop.example/c/{baseColour}/{id}', item),
        productLink(null, { id: 'x', url: 'javascript:alert(1)' }),
        productLink(null, { id: 'x', url: 'https://shop.example/x' }),
      ];
    }, `${base}/widget/morelike-recs.js`);
    assert.deepEqual(links, [
      `${base}/p/a%2Fb%3Fc%26d`,
      `${base}/javascript%3Aalert(1)`,
      null, null,
      'https://shop.example/c/Navy%20Blue/javascript%3Aalert(1)',
      null,
      'https://shop.example/x',
    ]);
    // A template that cannot make an http(s) link: cards without links.
    await page.evaluate(() => document.querySelector('morelike-recs').setAttribute('href', 'javascript:alert("{id}")'));
    assert.equal(await inShadow(page, 'return root.querySelectorAll("a").length'), 0);
    assert.equal(await inShadow(page, 'return root.querySelectorAll("button.picture").length'), 8);
    // Following a link opens that product's page, which starts from it.
    await page.evaluate(() => document.querySelector('morelike-recs').setAttribute('href', '/?product={id}'));
    const target = current.items[3].id;
    const clicksBefore = (await demoTotals()).clicks;
    await page.locator(`morelike-recs li.card[data-product="${target}"] a.picture`).click();
    await page.waitForURL((u) => u.searchParams.get('product') === target);
    await waitPages(page, 1);
    // The widget told the server before the link was followed: one click counted.
    assert.equal((await demoTotals()).clicks, clicksBefore + 1);
    assert.equal((await lastPage(page)).round, 1);
    await page.close();
  });

  await check('without images, each card shows its kind\'s shape in its own colour', async () => {
    const { page } = await watched(context, `${base}/?product=${SEED}`);
    await waitPages(page, 1);
    await vote(page, (await lastPage(page)).items.find(menShirt).id, 'down');
    await vote(page, (await lastPage(page)).items.find(menShirt)?.id || (await lastPage(page)).items[0].id, 'down');
    const current = await lastPage(page);
    const drawn = await inShadow(page, 'return [...root.querySelectorAll("li.card")].map((li) => { const s = li.querySelector("svg.shape"); return s && [li.dataset.product, s.dataset.shape, s.dataset.fill, li.querySelector(".kind").textContent]; })');
    assert.ok(drawn.every(Boolean), 'every card has an SVG placeholder');
    for (const [id, shape, fill, label] of drawn) {
      const item = current.items.find((i) => i.id === id);
      if (item.attributes.articleType === 'Shirts') assert.equal(shape, 'shirt', `${item.name}`);
      if (item.attributes.articleType === 'Tshirts') assert.equal(shape, 'tee', `${item.name}`);
      if (/Shoes|Sandals|Flip Flops/.test(item.attributes.articleType)) assert.equal(shape, 'shoe', `${item.name}`);
      if (item.attributes.baseColour === 'Navy Blue') assert.equal(fill, '#1f2f5c');
      assert.match(fill, /^(#[0-9a-f]{6}|hsl\(\d+ 45% 58%\)|multi)$/, 'a colour from the widget, never catalog text');
      assert.equal(label, [item.attributes.baseColour, item.attributes.articleType].filter(Boolean).join(' · '));
    }
    const looks = new Set(drawn.map(([, shape, fill]) => `${shape} ${fill}`));
    assert.ok(looks.size >= 2, `not identical tiles: ${[...looks].join(', ')}`);
    await page.close();
  });

  // --- a server with no demo store (an import into a fresh data directory) ---------
  const bareDir = mkdtempSync(join(tmpdir(), 'morelike-bare-e2e-'));
  const hostileColour = 'url(javascript:window.__pwned=1)';
  const rows = [
    ['p1', 'Linen Shirt', 'https://img.shop.test/p1.png', 'Blue', 'Shirts'],
    ['p2', 'Canvas Shoes', 'https://img.shop.test/p2.png', 'Red', 'Shoes'],
    ['p3', 'Leather Bag', '', 'Brown', 'Handbags'],
    ['p4', 'Red Sneakers', '', 'Red', 'Sports Shoes'],
    ['p5', '<img src=x onerror="window.__pwned=2"> Blue Shirt', '', hostileColour, 'Shirts'],
    ['javascript:window.__pwned=3', 'Navy <b>Shirt</b>', '', 'Navy Blue', 'Shirts'],
    ['p7', 'Plain Watch', '', 'Silver', 'Watches'],
    ['p8', 'Summer Dress', '', 'Yellow', 'Dresses'],
    ['p9', 'Denim Jeans', '', 'Blue', 'Jeans'],
    // More of the same, so that pages do not run out.
    ...['Black', 'White', 'Green', 'Pink'].flatMap((colour, i) => ['Shirts', 'Shoes', 'Handbags', 'Jeans'].map((kind, j) =>
      [`q${i}${j}`, `${colour} ${kind} ${i}${j}`, `https://img.shop.test/q${i}${j}.png`, colour, kind])),
  ];
  const csv = ['id,name,image,colour,kind', ...rows.map((r) => r.map((v) => `"${v.replaceAll('"', '""')}"`).join(','))].join('\n');
  writeFileSync(join(bareDir, 'shop.csv'), `${csv}\n`);
  writeFileSync(join(bareDir, 'shop.toml'), '[fields]\nid = "id"\nname = "name"\nimage = "image"\ncategorical = ["colour", "kind"]\n');
  const imported = execFileSync(BIN, ['import', join(bareDir, 'shop.csv'), '--store', 'shop', '--mapping', join(bareDir, 'shop.toml'),
    '--data-dir', join(bareDir, 'data')], { encoding: 'utf8' });
  const pk = /pk_shop_[A-Za-z0-9_-]+/.exec(imported)?.[0];
  const barePort = await freePort();
  const bare = `http://127.0.0.1:${barePort}`;
  const bareServer = serve(barePort, join(bareDir, 'data'));
  extra.push(async () => { await stop(bareServer); rmSync(bareDir, { recursive: true, force: true }); });
  await waitReady(bare, bareServer);

  await check('the demo page says what to do when the server has no demo store', async () => {
    const { page, problems } = await watched(context, `${bare}/`);
    await page.locator('#setup').waitFor({ state: 'visible', timeout: 10000 });
    const text = await page.locator('#setup').textContent();
    assert.match(text, /no demo store/i);
    assert.match(text, /\?store=YOUR_STORE&key=pk_/);
    assert.match(text, /morelike serve --data-dir/);
    assert.equal(await page.locator('#shop').isVisible(), false, 'no empty search box and widget');
    await page.screenshot({ path: join(SHOTS, 'demo-no-store.png') });
    assert.deepEqual(problems.filter((p) => !/404/.test(p)), []);
    await page.close();
  });

  await check('images load with an animation; a hostile catalog stays text, colours stay the widget\'s own', async () => {
    assert.ok(pk, `morelike import printed the publishable key: ${imported}`);
    const { page, problems } = await watched(context);
    let release;
    const held = new Promise((ok) => { release = ok; });
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
    await page.route('https://img.shop.test/**', async (route) => { await held; await route.fulfill({ body: png, contentType: 'image/png' }); });
    await page.goto(`${bare}/?store=shop&key=${pk}&product=p1`);
    await page.waitForFunction(() => window.__pages.length > 0, null, { timeout: 20000 });
    const first = await lastPage(page);
    const ids = first.items.map((i) => i.id);
    assert.ok(ids.includes('p5') && ids.includes('javascript:window.__pwned=3'), ids.join(','));
    const withImage = first.items.filter((i) => i.image).map((i) => i.id);
    assert.ok(withImage.length > 0 && withImage.length < ids.length, `some cards have images: ${withImage}`);
    const loading = await inShadow(page, 'return [...root.querySelectorAll(".picture.loading")].map((p) => p.closest("li").dataset.product)');
    assert.deepEqual(loading, withImage, 'the images are loading, with their animation');
    await page.screenshot({ path: join(SHOTS, 'widget-shop-loading.png') });
    release();
    await page.waitForFunction((n) => document.querySelector('morelike-recs').shadowRoot.querySelectorAll('.picture.loaded').length === n,
      withImage.length, { timeout: 10000 });
    const drawn = await inShadow(page, 'return Object.fromEntries([...root.querySelectorAll("li.card")].filter((li) => li.querySelector("svg.shape")).map((li) => [li.dataset.product, [li.querySelector("svg.shape").dataset.shape, li.querySelector("svg.shape path").getAttribute("fill")]]))');
    const expected = { p3: ['bag', '#7b4a2a'], p4: ['shoe', '#d03b3b'], p7: ['watch', '#c0c0c0'], p8: ['dress', '#f2c431'],
      p9: ['bottom', '#2f6fd0'], 'javascript:window.__pwned=3': ['shirt', '#1f2f5c'] };
    for (const [id, look] of Object.entries(expected)) if (drawn[id]) assert.deepEqual(drawn[id], look, id);
    assert.ok(Object.keys(drawn).filter((id) => expected[id]).length >= 2, Object.keys(drawn).join(','));
    assert.equal(drawn.p5[0], 'shirt');
    assert.match(drawn.p5[1], /^hsl\(\d+ 45% 58%\)$/, `a hostile colour is never used as is: ${drawn.p5[1]}`);
    const markup = await inShadow(page, 'return root.querySelectorAll("li.card b, li.card .name img, li.card script").length');
    assert.equal(markup, 0, 'names are text');
    const hrefs = await inShadow(page, 'return [...root.querySelectorAll("a")].map((a) => a.href)');
    assert.ok(hrefs.length > 0 && hrefs.every((h) => h.startsWith(`${bare}/?`)), hrefs.join(' '));
    const link = await inShadow(page, 'return root.querySelector(`li[data-product="javascript:window.__pwned=3"] a.picture`).href');
    assert.equal(link, `${bare}/?store=shop&key=${pk}&product=javascript%3Awindow.__pwned%3D3`);
    // Like a product with an image and one without: the strip shows both.
    const second = await vote(page, 'p5', 'up');
    const pictured = second.items.find((i) => i.image);
    assert.ok(pictured, 'page two has a product with an image');
    await vote(page, pictured.id, 'up');
    const thumbs = await inShadow(page, 'return [...root.querySelectorAll(".liked li .thumb")].map((t) => t.firstElementChild.tagName.toLowerCase())');
    assert.deepEqual(thumbs, ['img', 'svg'], 'the newest like (with a picture) first');
    await page.screenshot({ path: join(SHOTS, 'widget-shop.png') });
    await page.waitForTimeout(300);
    assert.equal(await page.evaluate(() => window.__pwned), undefined, 'no hostile script ran');
    assert.deepEqual(problems, []);
    await page.close();
  });

  // --- the screenshot for the README (docs/screenshots/demo-desktop.png) ------------
  {
    const { page } = await watched(context, `${base}/?product=${SEED}`);
    await waitPages(page, 1);
    const first = await lastPage(page);
    await vote(page, first.items.find((i) => i.attributes.baseColour !== 'Navy Blue')?.id || first.items[1].id, 'up');
    await vote(page, (await lastPage(page)).items[3].id, 'down');
    await vote(page, (await lastPage(page)).items[0].id, 'up');
    await page.evaluate(() => Promise.all(document.querySelector('morelike-recs').shadowRoot.getAnimations().map((a) => a.finished)));
    await page.evaluate(() => scrollTo(0, 0));
    await page.screenshot({ path: join(SHOTS, 'widget-steer.png') });
    await page.close();
  }
} finally {
  await browser.close();
  await stop(server);
  for (const done of extra) await done();
  rmSync(dataDir, { recursive: true, force: true });
}

finish();
