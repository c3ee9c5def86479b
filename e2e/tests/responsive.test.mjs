// Phone-sized screens: nothing overflows sideways and everything is reachable.
import assert from 'node:assert/strict';
import {
  addTask, e2e, expectCount, expectVisible, serverAndBrowser, signUp, taskItem, uniqueEmail,
} from '../lib/browser.mjs';

const fixture = serverAndBrowser();

const noSidewaysScroll = (page) =>
  page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth);

e2e('fits a phone screen', () => fixture.browser, async ({ newContext, newPage }) => {
  const context = await newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const page = await newPage(context);
  await page.goto(fixture.server.baseURL);
  await expectVisible(page.locator('#auth-view'));
  assert.ok(await noSidewaysScroll(page), 'auth view fits');

  await signUp(page, { email: `a-rather-long-email-address-${Date.now()}@example.com` });
  const long = 'A very long task title that goes on and on '.repeat(4).trim();
  await addTask(page, long, 'Supercalifragilisticexpialidocious'.repeat(5));
  await addTask(page, 'Short one');
  assert.ok(await noSidewaysScroll(page), 'task view fits');

  // Actions stay tappable on a narrow screen.
  await taskItem(page, 'Short one').getByRole('button', { name: /^Delete/ }).tap();
  await expectCount(taskItem(page, 'Short one'), 0);
  for (const name of ['Log out', 'Log out everywhere']) {
    await expectVisible(page.getByRole('button', { name, exact: true }));
  }
});
