// With REQUIRE_EMAIL_VERIFICATION: sign-up ends on "check your email", the mailed link confirms
// the address, and only then does logging in open the list.
import { after, before } from 'node:test';
import { PASSWORD, e2e, expectText, expectVisible, logIn, serverAndBrowser, uniqueEmail } from '../lib/browser.mjs';
import { startMailbox } from '../lib/mailbox.mjs';

const serverOptions = { env: { REQUIRE_EMAIL_VERIFICATION: 'true' } };
let mailbox;
before(async () => {
  mailbox = await startMailbox();
  serverOptions.env.SMTP_URL = mailbox.url;
});
const fixture = serverAndBrowser(serverOptions);
after(async () => mailbox?.close());

e2e('sign-up waits for the mailed link, then log-in works', () => fixture.browser, async ({ newPage }) => {
  const page = await newPage();
  const email = uniqueEmail('required');
  await page.goto(fixture.server.baseURL);
  await page.getByRole('tab', { name: 'Sign up' }).click();
  await page.locator('#signup-email').fill(email);
  await page.locator('#signup-password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expectText(page.locator('#recovery-heading'), 'Check your email');
  await expectText(page.getByTestId('recovery-text'), /To finish signing up/);

  // Logging in before following it lands on the same page.
  await page.getByRole('button', { name: 'Back to log in' }).click();
  await page.locator('#login-email').fill(email);
  await page.locator('#login-password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  // The heading is the same as after sign-up; the text says why we are here now.
  await expectText(page.getByTestId('recovery-text'), /before logging in/);

  await page.goto(await mailbox.link(email, '#verify-email='));
  await expectText(page.locator('#recovery-heading'), 'Your address is confirmed');
  await page.getByRole('button', { name: 'Back to log in' }).click();
  await logIn(page, { email });
  await expectVisible(page.locator('#tasks-view'));
});
