// The officer console end to end in headless Chromium: open it with an
// officer certificate, find a declaration, release it, then find the
// release acknowledgement in the enterprise's feed.
//
// Chromium cannot present a client certificate headless without a policy
// and a certificate store, so the browser talks plain HTTP to a small
// proxy on 127.0.0.1 that makes the mutual-TLS connection to the daemon
// with the officer's certificate.
//
// Environment (set by tests/integration/test_browser.sh):
//   DECLARED_URL   https://127.0.0.1:PORT of the daemon
//   PKI_DIR        the demo PKI (officer.pem/.key, enterprise.pem/.key, ca.pem)
//   TARGET_LRN     the LRN of an accepted declaration to release
//   SHOT_DIR       where the screenshots go
//   CHROMIUM       the browser (default /usr/bin/chromium)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const env = (k, d) => process.env[k] || d;
const DAEMON = new URL(env('DECLARED_URL', 'https://127.0.0.1:8443'));
const PKI = env('PKI_DIR', '');
const LRN = env('TARGET_LRN', '');
// made only when SHOT_DIR is not given (env()'s default would be made anyway)
const SHOTS = process.env.SHOT_DIR || fs.mkdtempSync(path.join(os.tmpdir(), 'declared-shots-'));
const read = (f) => fs.readFileSync(path.join(PKI, f));

function tlsOptions(who) {
  return { cert: read(`${who}.pem`), key: read(`${who}.key`), ca: read('ca.pem'),
    servername: 'localhost' };
}

// One HTTPS request with a client certificate; resolves {status, headers, body}.
function call(who, method, p, body) {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: DAEMON.hostname, port: DAEMON.port, method, path: p,
      headers: body ? { 'Content-Type': 'application/json' } : {}, ...tlsOptions(who) }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers,
        body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// The plain-HTTP to mutual-TLS proxy the browser uses.
function startProxy(who) {
  const agent = new https.Agent({ keepAlive: true, ...tlsOptions(who) });
  const server = http.createServer((req, res) => {
    const headers = { ...req.headers };
    delete headers.host;
    delete headers.connection;
    const up = https.request({ host: DAEMON.hostname, port: DAEMON.port, method: req.method,
      path: req.url, headers, agent }, (ures) => {
      res.writeHead(ures.statusCode, ures.headers);
      ures.pipe(res);
    });
    up.on('error', (e) => {
      res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end('proxy: ' + e.message);
    });
    req.pipe(up);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let proxy, context, page, base, userDir;
const consoleErrors = [];

before(async () => {
  assert.ok(PKI && LRN, 'PKI_DIR and TARGET_LRN must be set');
  fs.mkdirSync(SHOTS, { recursive: true });
  proxy = await startProxy('officer');
  base = `http://127.0.0.1:${proxy.address().port}`;
  userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'declared-chromium-'));
  context = await chromium.launchPersistentContext(userDir, {
    executablePath: env('CHROMIUM', '/usr/bin/chromium'),
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(15000);
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
});

after(async () => {
  if (context) await context.close();
  if (proxy) proxy.close();
  if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
});

const shot = (name) => page.screenshot({ path: path.join(SHOTS, name), fullPage: true });

test('the console opens with the officer certificate and shows live counters', async () => {
  const r = await page.goto(base + '/');
  assert.equal(r.status(), 200);
  assert.match(r.headers()['content-security-policy'] || '', /default-src 'self'/);
  await page.waitForSelector('#results-body tr');
  await page.waitForSelector('#count-accepted b');
  const accepted = Number(await page.textContent('#count-accepted b'));
  assert.ok(accepted >= 1, `accepted counter ${accepted}`);
  await shot('01-console.png');
});

let declId;

test('an officer finds the declaration by its LRN', async () => {
  await page.fill('#f-lrn', LRN);
  await page.click('#search-button');
  // the console lists the latest declarations before the search, this one
  // among them: wait for the search's answer to replace that list
  await page.waitForFunction((lrn) => {
    const rows = document.querySelectorAll('#results-body tr');
    return rows.length === 1 && rows[0].textContent.includes(lrn);
  }, LRN, { timeout: 10000 });
  const row = page.locator('#results-body tr', { hasText: LRN });
  assert.equal(await page.locator('#results-body tr').count(), 1);
  declId = await row.getAttribute('data-id');
  assert.match(declId, /^[0-9]+$/);
  await shot('02-search.png');
  await row.click();
  await page.waitForFunction(() => document.getElementById('d-status').textContent === 'accepted');
  assert.equal(await page.textContent('#d-id'), declId);
  await page.waitForSelector('#d-items tbody tr td.codes');
  assert.ok(await page.locator('#d-items tbody tr').count() >= 1, 'items from the signed document');
  assert.ok(await page.locator('#d-history tbody tr').count() >= 1, 'history');
  assert.equal(await page.isDisabled('#act-release'), false);
  await shot('03-declaration.png');
});

test('the officer releases it; the console shows the new state', async () => {
  await page.fill('#d-reason', 'checked in the browser test');
  await page.click('#act-release');
  await page.waitForFunction(() => document.getElementById('d-status').textContent === 'released');
  const msg = await page.textContent('#d-message');
  assert.match(msg, /release: accepted → released; acknowledgement #\d+/);
  assert.equal(await page.isDisabled('#act-release'), true, 'no action left on a released declaration');
  const last = page.locator('#d-history tbody tr').last();
  assert.match(await last.textContent(), /OFF0001.*accepted.*released.*checked in the browser test/);
  await shot('04-released.png');
});

test('the release acknowledgement is in the enterprise feed, signed', async () => {
  let found = null;
  for (let i = 0; i < 50 && !found; i++) {
    const r = await call('enterprise', 'GET', '/v1/acks?after=0&limit=1000');
    assert.equal(r.status, 200);
    const page1 = JSON.parse(r.body.toString());
    found = page1.acks.find((a) => a.declaration_id === declId && a.kind === '08');
    if (!found) await new Promise((res) => setTimeout(res, 100));
  }
  assert.ok(found, 'an acknowledgement 08 for the declaration');
  const xml = Buffer.from(found.body, 'base64').toString();
  assert.match(xml, /<(\w+:)?FunctionCode>08</);
  assert.match(xml, /released/);
  assert.match(xml, /checked in the browser test/);
  assert.match(xml, /SignatureValue/);
  fs.writeFileSync(path.join(SHOTS, 'release-ack.xml'), xml);
});

test('an enterprise certificate cannot open the console', async () => {
  const r = await call('enterprise', 'GET', '/');
  assert.equal(r.status, 403);
});

test('no script errors in the page', () => {
  assert.deepEqual(consoleErrors, []);
});
