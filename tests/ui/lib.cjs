'use strict';
// Shared helpers for the browser tests: a tiny TAP reporter, the browser
// launch, light/dark screenshots, and a JSON client for the same API the
// UI talks to (used to check what the UI did, and to clean up).
//
// playwright-core is a devDependency of static/ (run `cd static && npm ci`
// once); nothing is installed or downloaded here. The browser is Debian's
// chromium.

const path = require('node:path');
const fs = require('node:fs');
const assert = require('node:assert/strict');

const ROOT = path.resolve(__dirname, '..', '..');

function loadPlaywright() {
  const candidates = [
    process.env.PLAYWRIGHT_CORE,
    path.join(ROOT, 'static', 'node_modules', 'playwright-core'),
    'playwright-core',
  ].filter(Boolean);
  for (const c of candidates) {
    try {
      return require(c);
    } catch (e) {
      /* try the next one */
    }
  }
  throw new Error('playwright-core not found: run `cd static && npm ci` first');
}

const BASE = (process.env.DGEN_URL || '').replace(/\/+$/, '');
const SHOTS = process.env.DGEN_SCREENSHOTS || path.join(__dirname, 'screenshots');
const CHROMIUM = process.env.DGEN_CHROMIUM || '/usr/bin/chromium';

// The stack's first admin, as `contrib/dgenctl up` leaves it in the data
// dir (admin.password, admin.token, mode 0600); DGEN_ADMIN_PASSWORD and
// DGEN_TOKEN win when set. Empty when the server has no accounts.
const DATA = process.env.DGEN_DATA || '';
function secret(env, file) {
  if (process.env[env]) return process.env[env].trim();
  if (!DATA) return '';
  try {
    return fs.readFileSync(path.join(DATA, file), 'utf8').trim();
  } catch {
    return '';
  }
}
const ADMIN = { name: process.env.DGEN_ADMIN_NAME || 'admin', password: secret('DGEN_ADMIN_PASSWORD', 'admin.password') };
const TOKEN = secret('DGEN_TOKEN', 'admin.token');

// Headers that make a test's own API call the admin's (a Bearer token needs
// no X-Requested-With). `token: ''` calls anonymously.
function authHeaders(token = TOKEN) {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

// --- TAP -------------------------------------------------------------------

let count = 0;
let failed = 0;
const failedNames = new Set();

function yamlBlock(err) {
  const msg = String((err && err.stack) || err).split('\n').slice(0, 12);
  return ['  ---', '  message: |', ...msg.map((l) => `    ${l}`), '  ...'].join('\n');
}

// Reports a test as skipped, with the reason.
function skip(name, reason) {
  count++;
  console.log(`ok ${count} - ${name} # SKIP ${reason}`);
}

// Runs one named test. `needs` lists earlier tests it builds on; when one of
// them failed this test is reported as skipped instead of failing again.
async function test(name, fn, needs = []) {
  count++;
  const missing = needs.filter((n) => failedNames.has(n));
  if (missing.length) {
    failedNames.add(name);
    console.log(`ok ${count} - ${name} # SKIP needs: ${missing.join(', ')}`);
    return;
  }
  const t0 = Date.now();
  try {
    await fn();
    console.log(`ok ${count} - ${name}`);
  } catch (e) {
    failed++;
    failedNames.add(name);
    console.log(`not ok ${count} - ${name}`);
    console.log(yamlBlock(e));
    if (currentPage) {
      try {
        fs.mkdirSync(SHOTS, { recursive: true });
        const f = path.join(SHOTS, `FAILED-${count}-${name.replace(/[^A-Za-z0-9]+/g, '_').slice(0, 60)}.png`);
        await currentPage.screenshot({ path: f, fullPage: true });
        console.log(`# screenshot of the failure: ${f}`);
      } catch {
        /* the page may be gone */
      }
    }
  }
  if (process.env.DGEN_UI_VERBOSE) console.log(`# ${name}: ${Date.now() - t0} ms`);
}

function diag(msg) {
  console.log(`# ${String(msg).replace(/\n/g, '\n# ')}`);
}

function done() {
  console.log(`1..${count}`);
  if (failed) diag(`${failed} of ${count} failed`);
  return failed ? 1 : 0;
}

// --- browser -----------------------------------------------------------------

let currentPage = null;

async function launch() {
  const { chromium } = loadPlaywright();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 }, // a common laptop: every page must work here
    colorScheme: 'light',
    acceptDownloads: true,
  });
  context.setDefaultTimeout(Number(process.env.DGEN_UI_TIMEOUT_MS || 20000));
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  currentPage = page;
  return { browser, context, page, pageErrors };
}

// Signs in the way a person does: the login page (where the app sent us, or
// /login), name and password typed in, Sign in. Waits until the header
// shows the user.
async function login(page, name, password) {
  const form = page.locator('[data-testid="login-page"]');
  if (!(await form.isVisible().catch(() => false))) {
    await page.goto(BASE + '/login');
    await form.waitFor();
  }
  await page.locator('[data-testid="login-name"]').fill(name);
  await page.locator('[data-testid="login-password"]').fill(password);
  await page.locator('[data-testid="login-submit"]').click();
  await page.waitForFunction((n) => document.querySelector('[data-testid="current-user"]')?.textContent === n, name);
}

async function logout(page) {
  await page.locator('[data-testid="logout"]').click();
  await page.locator('[data-testid="login-page"]').waitFor();
}

// Screenshots the page as it is, in light and then dark colour scheme (the
// UI follows the system scheme when the toggle is on "System").
async function shoot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.waitForFunction((s) => document.documentElement.dataset.colorMode === s, scheme);
    await page.waitForTimeout(150); // let transitions settle before the capture
    await page.screenshot({ path: path.join(SHOTS, `${name}-${scheme}.png`), fullPage: true });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

// Drags from one point to another with real mouse events (React Flow
// connections).
async function stableBox(page, locator) {
  let prev = null;
  for (let i = 0; i < 50; i++) {
    const box = await locator.boundingBox();
    if (box && prev && Math.abs(box.x - prev.x) < 0.5 && Math.abs(box.y - prev.y) < 0.5) return box;
    prev = box;
    await page.waitForTimeout(100);
  }
  return prev;
}

async function mouseDrag(page, from, to) {
  // The canvas may still be panning or zooming (fit view): wait for both
  // ends to stay put before grabbing.
  const a = await stableBox(page, from);
  const b = await stableBox(page, to);
  assert.ok(a && b, 'drag endpoints must be visible');
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2 + a.width / 2, (a.y + b.y) / 2 + a.height / 2, { steps: 5 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 10 });
  await page.mouse.up();
}

// --- API client ----------------------------------------------------------------

// Calls the API as the admin's token, or as `opts.token` ('' for nobody).
async function apiCall(method, p, body, opts = {}) {
  const init = { method, headers: { Accept: 'application/json', ...authHeaders(opts.token === undefined ? TOKEN : opts.token) } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(BASE + p, init);
  const text = await res.text();
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = text;
  }
  return { status: res.status, data, headers: res.headers };
}

async function apiOk(method, p, body, opts) {
  const r = await apiCall(method, p, body, opts);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${p} -> ${r.status} ${JSON.stringify(r.data)}`);
  return r.data;
}

async function waitFor(fn, { timeoutMs = 30000, intervalMs = 500, what = 'condition' } = {}) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

module.exports = {
  assert, BASE, SHOTS, ADMIN, TOKEN, test, skip, diag, done, launch, login, logout, shoot, mouseDrag, stableBox,
  authHeaders, apiCall, apiOk, waitFor,
};
