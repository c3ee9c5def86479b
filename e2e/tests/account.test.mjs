// The account's own pages: forgot password and the reset page, confirming the address from the
// mailed link, downloading one's data, and deleting the account. Mail goes through a real SMTP
// server on loopback.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { after, before } from 'node:test';
import {
  PASSWORD, addTask, e2e, expectHidden, expectText, expectVisible, logIn, serverAndBrowser, signUp, uniqueEmail,
} from '../lib/browser.mjs';
import { startMailbox } from '../lib/mailbox.mjs';

const serverOptions = { env: {} };
let mailbox;
before(async () => {
  mailbox = await startMailbox();
  serverOptions.env.SMTP_URL = mailbox.url;
});
const fixture = serverAndBrowser(serverOptions);
after(async () => mailbox?.close());

const NEW_PASSWORD = 'a fresh passphrase nobody guesses';

/** Sign up as `email`, log out, ask for a reset link from the log-in page; the mailed link. */
async function signUpAndAskForResetLink(page, email) {
  await page.goto(fixture.server.baseURL);
  await signUp(page, { email });
  await page.locator('#logout-btn').click();
  await expectVisible(page.locator('#auth-view'));

  await page.locator('#login-email').fill(email);
  await page.getByRole('button', { name: 'Forgot your password?' }).click();
  await expectVisible(page.locator('#recovery-view'));
  assert.equal(await page.locator('#forgot-email').inputValue(), email, 'the address carries over');
  await page.getByRole('button', { name: 'Send me a link' }).click();
  await expectText(page.getByTestId('recovery-text'), new RegExp(`If ${email.replace(/[.+]/g, '\\$&')} has an account`));
  return mailbox.link(email, '#reset-password=');
}

e2e('forgot password: the mailed link opens the reset page and the new password works', () => fixture.browser, async ({ newPage }) => {
  const page = await newPage();
  const email = uniqueEmail('forgot');
  const link = await signUpAndAskForResetLink(page, email);
  await page.goto(link);
  await expectText(page.locator('#recovery-heading'), 'Choose a new password');
  assert.equal(new URL(page.url()).hash, '', 'the token leaves the address bar');
  await page.locator('#reset-password').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Set new password' }).click();
  await expectVisible(page.locator('#auth-view'));
  await expectText(page.locator('#session-notice'), /password is changed/);

  await logIn(page, { email, password: NEW_PASSWORD });
  await expectVisible(page.locator('#tasks-view'));

  // The link was used: opening it again says so and offers a new one.
  await page.locator('#logout-btn').click();
  await page.goto(link);
  await page.locator('#reset-password').fill('yet another passphrase here');
  await page.getByRole('button', { name: 'Set new password' }).click();
  await expectText(page.getByTestId('recovery-error'), /doesn’t work any more/);
  await expectVisible(page.locator('#forgot-form'));
});

e2e('a reset link opened while the logout is still in flight keeps the reset page', () => fixture.browser, async ({ newPage }) => {
  const page = await newPage();
  const email = uniqueEmail('forgot-race');
  const link = await signUpAndAskForResetLink(page, email);
  await page.getByRole('button', { name: 'Back to log in' }).click();
  await logIn(page, { email });
  await expectVisible(page.locator('#tasks-view'));

  // The logout's answer is held until the link has opened in the same tab; the page the
  // user went to must win over the log-in page the logout would have shown.
  let releaseLogout;
  const logoutHeld = new Promise((resolve) => { releaseLogout = resolve; });
  let logoutSeen;
  const logoutSent = new Promise((resolve) => { logoutSeen = resolve; });
  await page.route('**/api/auth/logout', async (route) => {
    logoutSeen();
    await logoutHeld;
    await route.continue();
  });
  await page.locator('#logout-btn').click();
  await logoutSent;
  await page.goto(link);
  await expectText(page.locator('#recovery-heading'), 'Choose a new password');
  const logoutAnswered = page.waitForResponse('**/api/auth/logout');
  releaseLogout();
  assert.equal((await logoutAnswered).status(), 204, 'the logout itself went through');
  // The button is enabled again once the client has finished logging out.
  await page.waitForFunction(() => !document.getElementById('logout-btn').disabled);
  await expectVisible(page.locator('#recovery-view'));
  await expectHidden(page.locator('#auth-view'));
  await page.unroute('**/api/auth/logout');

  await page.locator('#reset-password').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Set new password' }).click();
  await expectText(page.locator('#session-notice'), /password is changed/);
  await logIn(page, { email, password: NEW_PASSWORD });
  await expectVisible(page.locator('#tasks-view'));
});

e2e('the verification link confirms the address and the reminder goes away', () => fixture.browser, async ({ newPage }) => {
  const page = await newPage();
  const email = uniqueEmail('verify');
  await page.goto(fixture.server.baseURL);
  await signUp(page, { email });
  await expectVisible(page.getByTestId('verify-banner'));
  await expectText(page.locator('#verify-banner-email'), email);

  const link = await mailbox.link(email, '#verify-email=');
  await page.goto(link);
  await expectText(page.locator('#recovery-heading'), 'Your address is confirmed');
  await page.getByRole('button', { name: 'Back to log in' }).click();
  // Still signed in: straight back to the list, without the reminder.
  await expectVisible(page.locator('#tasks-view'));
  await expectHidden(page.getByTestId('verify-banner'));
});

e2e('download my data saves every task as JSON', () => fixture.browser, async ({ newPage }) => {
  const page = await newPage();
  const email = uniqueEmail('export');
  await page.goto(fixture.server.baseURL);
  await signUp(page, { email });
  await addTask(page, 'first thing');
  await addTask(page, 'second thing', 'with details');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download my data' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'todo-export.json');
  const saved = JSON.parse(await fs.readFile(await download.path(), 'utf8'));
  assert.equal(saved.user.email, email);
  assert.deepEqual(saved.tasks.map((task) => task.title).sort(), ['first thing', 'second thing']);
});

e2e('deleting the account asks for the password, then everything is gone', () => fixture.browser, async ({ newPage }) => {
  const page = await newPage();
  const email = uniqueEmail('delete');
  await page.goto(fixture.server.baseURL);
  await signUp(page, { email });
  await addTask(page, 'soon gone');

  await page.getByRole('button', { name: 'Delete account' }).click();
  const dialog = page.locator('#delete-dialog');
  await expectVisible(dialog);
  await page.getByRole('button', { name: 'Keep my account' }).click();
  await expectHidden(dialog);

  await page.getByRole('button', { name: 'Delete account' }).click();
  await page.locator('#delete-password').fill('not my password');
  await page.getByRole('button', { name: 'Delete my account' }).click();
  await expectText(page.getByTestId('delete-error'), 'That’s not your password.');
  await page.locator('#delete-password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Delete my account' }).click();

  await expectVisible(page.locator('#auth-view'));
  await expectText(page.locator('#session-notice'), /deleted/);
  await page.reload();
  await expectVisible(page.locator('#auth-view'));
  await page.locator('#login-email').fill(email);
  await page.locator('#login-password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await expectText(page.getByTestId('login-error'), /don’t match/);
});
