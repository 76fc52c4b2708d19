// Drives the gateway's live page (/live) in headless Chromium as a person would: enter the
// demo widget's token, schedule a delayed leave through the API, and watch its row count
// down, jump back on a restart and go when the homeserver sends it. Prints one JSON line
// per observation for the JUnit test that runs this script, and saves a screenshot.
//
// node live-page.mjs <gateway base URL> <screenshot path> [chromium path]
import { chromium } from 'playwright-core';

const [base, screenshot, executable = '/usr/bin/chromium'] = process.argv.slice(2);
const token = 'demo-token';
const report = (what, value) => console.log(JSON.stringify({ what, value }));

async function api(path, body) {
  const response = await fetch(base + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    throw new Error(path + ' answered ' + response.status + ': ' + (await response.text()));
  }
  return response.status === 204 ? null : response.json();
}

const browser = await chromium.launch({
  executablePath: executable,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 460 } });
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(base + '/live');
  report('title', await page.title());
  await page.fill('#token', token);
  await page.click('#connect-button');
  await page.waitForSelector('#status.connected', { timeout: 20000 });
  report('status', await page.textContent('#status'));
  report('token kept in the field', await page.inputValue('#token'));
  report('storage', await page.evaluate(() => localStorage.length + sessionStorage.length + document.cookie.length));

  const stateKey = '_@demo:localhost_LIVEPAGE_m.call';
  await api('/v1/send_event', { type: 'org.matrix.msc3401.call.member', state_key: stateKey,
    content: { application: 'm.call' } });
  const leave = await api('/v1/send_event', { type: 'org.matrix.msc3401.call.member', state_key: stateKey,
    content: {}, delay: 15000 });
  const row = `#delayed li[data-delay-id="${leave.delay_id}"]`;
  await page.waitForSelector(row + ' .remaining[data-remaining-ms]', { timeout: 20000 });
  const remaining = async () => Number(await page.getAttribute(row + ' .remaining', 'data-remaining-ms'));
  const first = await remaining();
  await page.waitForTimeout(1500);
  const later = await remaining();
  report('counts down', { first, later });
  await page.waitForSelector('#stream li[data-action="send_event"]', { timeout: 20000 });
  await page.screenshot({ path: screenshot, fullPage: true });

  await page.waitForTimeout(1500);
  const beforeRestart = await remaining();
  await api('/v1/delayed_events/' + leave.delay_id + '/restart', {});
  await page.waitForSelector(row + '[data-restarts="1"]', { timeout: 20000 });
  report('restart', { before: beforeRestart, after: await remaining() });

  await page.waitForSelector(row + '[data-gone="true"]', { timeout: 45000 });
  report('gone', await page.textContent(row + ' .detail'));
  report('stream', await page.$$eval('#stream li', (items) => items.map((item) => item.dataset.action)));
  report('page errors', errors);
} finally {
  await browser.close();
}
