// Error messages on the sign-in and sign-up forms.
import assert from 'node:assert/strict';
import {
  PASSWORD, e2e, expectText, expectVisible, serverAndBrowser, logIn, signUp, uniqueEmail,
} from '../lib/browser.mjs';

const fixture = serverAndBrowser();

e2e('wrong credentials, taken email and a weak password each get a clear message', () => fixture.browser, async ({ newContext, newPage }) => {
  const email = uniqueEmail('errors');
  const first = await newPage(await newContext());
  await first.goto(fixture.server.baseURL);
  await signUp(first, { email });

  const page = await newPage(await newContext());
  await page.goto(fixture.server.baseURL);

  // Wrong password: 401 invalid_credentials.
  await page.locator('#login-email').fill(email);
  await page.locator('#login-password').fill('not the password at all');
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await expectText(page.getByTestId('login-error'), /email and password don’t match/);
  await expectVisible(page.locator('#login-password:focus'));

  // Taken email: 409 email_taken.
  await page.getByRole('tab', { name: 'Sign up' }).click();
  await page.locator('#signup-email').fill(email);
  await page.locator('#signup-password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expectText(page.getByTestId('signup-error'), /already exists/);

  // Too short (checked before sending) and too common (422 from the server).
  await page.locator('#signup-email').fill(uniqueEmail('weak'));
  await page.locator('#signup-password').fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expectText(page.locator('#signup-password-error'), /at least 8/);
  await page.locator('#signup-password').fill('password');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expectText(page.getByTestId('signup-error'), /fix the highlighted fields/);
  await expectText(page.locator('#signup-password-error'), /\S/);
  assert.equal(await page.locator('#signup-password').getAttribute('aria-invalid'), 'true');

  // Invalid email format is caught before sending.
  await page.locator('#signup-email').fill('not-an-email');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expectText(page.locator('#signup-email-error'), /valid email/);

  // And the right password still works.
  await logIn(page, { email });
});

e2e('rate limiting shows the Retry-After wait and holds the button', () => fixture.browser, async ({ newPage }) => {
  const page = await newPage();
  await page.goto(fixture.server.baseURL);
  await expectVisible(page.locator('#auth-view'));
  // The suite's server runs with rate limiting off, so answer as a limited server would.
  await page.route('**/api/auth/login', (route) => route.fulfill({
    status: 429,
    headers: { 'Retry-After': '30' },
    contentType: 'application/json',
    body: JSON.stringify({ error: { code: 'rate_limited', message: 'Too many requests' } }),
  }));
  await page.locator('#login-email').fill(uniqueEmail('limited'));
  await page.locator('#login-password').fill(PASSWORD);
  await page.getByRole('button', { name: /^Log in/ }).click();
  await expectText(page.getByTestId('login-error'), /wait 30 seconds/);
  const button = page.locator('#login-form button[type="submit"]');
  assert.equal(await button.isDisabled(), true);
  await expectText(button, /Log in \(\d+\)/);
});

e2e('a lost connection is reported, not mistaken for a logout', () => fixture.browser, async ({ newPage }) => {
  const page = await newPage();
  await page.goto(fixture.server.baseURL);
  await signUp(page, { email: uniqueEmail('offline') });
  await page.route('**/api/tasks*', (route) => route.abort('internetdisconnected'));
  await page.getByLabel('New task', { exact: true }).fill('Written while offline');
  await page.getByRole('button', { name: 'Add task' }).click();
  await expectText(page.getByTestId('app-error'), /Can’t reach the server/);
  // Still signed in, and the text is still there to retry.
  await expectVisible(page.locator('#tasks-view'));
  assert.equal(await page.getByLabel('New task', { exact: true }).inputValue(), 'Written while offline');

  await page.unroute('**/api/tasks*');
  await page.getByRole('button', { name: 'Add task' }).click();
  await expectText(page.getByTestId('task-title'), 'Written while offline');
});
