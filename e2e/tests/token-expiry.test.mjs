// Short-lived access tokens: refreshed silently, one refresh for many calls,
// and a failed refresh keeps what the user typed.
import assert from 'node:assert/strict';
import { waitForAccessTokenExpiry } from '../lib/server.mjs';
import {
  PASSWORD, addTask, e2e, expectCount, expectHidden, expectText, expectValue, expectVisible,
  serverAndBrowser, signUp, taskItem, taskItems, uniqueEmail,
} from '../lib/browser.mjs';

const TTL_SECONDS = 2;
// Waits for the server's real cut-off: about TTL_SECONDS plus its clock leeway.
const SLOW = { timeout: 150_000 };

async function waitForExpiry(t) {
  const waited = await waitForAccessTokenExpiry(fixture.server.baseURL);
  t.diagnostic(`access tokens expired after ${waited.toFixed(1)}s`);
}

const fixture = serverAndBrowser({ accessTokenTtlSeconds: TTL_SECONDS });

function countRequests(page, suffix) {
  const seen = { count: 0 };
  page.on('request', (req) => {
    if (new URL(req.url()).pathname === suffix) seen.count += 1;
  });
  return seen;
}

e2e('an access token that expires during use is refreshed without the user noticing', () => fixture.browser, async ({ t, newPage }) => {
  const page = await newPage();
  const refreshes = countRequests(page, '/api/auth/refresh');
  const unauthorized = [];
  page.on('response', (res) => {
    if (res.status() === 401 && new URL(res.url()).pathname.startsWith('/api/tasks')) unauthorized.push(res.url());
  });
  await page.goto(fixture.server.baseURL);
  await signUp(page, { email: uniqueEmail('expiry') });
  await addTask(page, 'Before expiry');
  await addTask(page, 'Also before expiry');
  const refreshesBefore = refreshes.count;

  await waitForExpiry(t);
  // Several actions in a row, the first of them with a stale token.
  await taskItem(page, 'Before expiry').getByRole('checkbox').check();
  await expectVisible(taskItem(page, 'Before expiry').locator('.task-check:checked'));
  await addTask(page, 'After expiry');
  await page.locator('#filters label').getByText('Completed', { exact: true }).click();
  await expectCount(taskItems(page), 1);
  await expectHidden(page.locator('#auth-view'));
  assert.ok(unauthorized.length >= 1, 'the stale token was refused by the server');
  assert.ok(refreshes.count > refreshesBefore, 'the client refreshed the session');
  assert.equal(await page.locator('#app-error-text').textContent(), '');
}, SLOW);

e2e('concurrent calls with an expired token share one refresh', () => fixture.browser, async ({ t, newPage }) => {
  const page = await newPage();
  await page.goto(fixture.server.baseURL);
  await signUp(page, { email: uniqueEmail('concurrent') });
  await addTask(page, 'Only task');
  await waitForExpiry(t);

  const refreshes = countRequests(page, '/api/auth/refresh');
  const results = await page.evaluate(async () => {
    const api = await import('/api.js');
    const pages = await Promise.all([api.listTasks(), api.listTasks({ status: 'pending' }), api.listTasks(), api.me()]);
    return pages.map((p) => (p.items ? p.items.length : p.email ? 'me' : '?'));
  });
  assert.deepEqual(results, [1, 1, 1, 'me']);
  assert.equal(refreshes.count, 1, 'exactly one refresh request for four concurrent calls');
}, SLOW);

e2e('when the session cannot be renewed, the login view keeps the unsaved task text', () => fixture.browser, async ({ t, newContext, newPage }) => {
  const context = await newContext();
  const page = await newPage(context);
  const email = uniqueEmail('lost');
  await page.goto(fixture.server.baseURL);
  await signUp(page, { email });
  await addTask(page, 'Saved earlier');

  // Lose the refresh cookie, let the access token run out, then act.
  await context.clearCookies();
  await waitForExpiry(t);
  await page.getByLabel('New task', { exact: true }).fill('Unsaved idea');
  await page.locator('#new-task-description').fill('with some details');
  await page.getByRole('button', { name: 'Add task' }).click();

  await expectVisible(page.locator('#auth-view'));
  await expectText(page.locator('#session-notice'), /session has expired/);
  await expectValue(page.locator('#login-email'), email);
  await expectCount(taskItems(page), 0);

  await page.locator('#login-password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await expectVisible(page.locator('#tasks-view'));
  await expectValue(page.getByLabel('New task', { exact: true }), 'Unsaved idea');
  await expectValue(page.locator('#new-task-description'), 'with some details');
  await expectCount(taskItem(page, 'Saved earlier'), 1);

  await page.getByRole('button', { name: 'Add task' }).click();
  await expectCount(taskItem(page, 'Unsaved idea'), 1);
}, SLOW);
