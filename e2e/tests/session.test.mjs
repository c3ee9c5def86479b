// Sessions: reload, new tab, isolation between users, logging out.
import assert from 'node:assert/strict';
import {
  addTask, e2e, expectCount, expectHidden, expectText, expectVisible,
  serverAndBrowser, logIn, signUp, taskItems, titles, uniqueEmail,
} from '../lib/browser.mjs';

const fixture = serverAndBrowser();

e2e('stays signed in across a reload and in a new tab, with the token kept out of storage', () => fixture.browser, async ({ newContext, newPage }) => {
  const context = await newContext();
  const page = await newPage(context);
  await page.goto(fixture.server.baseURL);
  await signUp(page, { email: uniqueEmail('reload') });
  await addTask(page, 'Survives reloads');

  await page.reload();
  await expectVisible(page.locator('#tasks-view'));
  assert.deepEqual(await titles(page), ['Survives reloads']);

  const second = await newPage(context);
  await second.goto(fixture.server.baseURL);
  await expectVisible(second.locator('#tasks-view'));
  await expectCount(taskItems(second), 1);

  // Nothing about the session is readable from JavaScript storage.
  const stored = await page.evaluate(() => ({
    local: Object.keys(localStorage).length,
    session: Object.keys(sessionStorage).length,
    cookie: document.cookie,
  }));
  assert.deepEqual(stored, { local: 0, session: 0, cookie: '' });
  // The refresh cookie exists, and it is HttpOnly.
  const cookies = await context.cookies();
  assert.ok(cookies.length >= 1, 'a refresh cookie is set');
  assert.ok(cookies.every((c) => c.httpOnly), 'every cookie is HttpOnly');
});

e2e('a second user in another browser context sees none of the first user’s tasks', () => fixture.browser, async ({ newContext, newPage }) => {
  const alice = await newPage(await newContext());
  await alice.goto(fixture.server.baseURL);
  await signUp(alice, { email: uniqueEmail('alice'), name: 'Alice' });
  await addTask(alice, 'Alice secret plan');
  await addTask(alice, 'Alice groceries');

  const bob = await newPage(await newContext());
  await bob.goto(fixture.server.baseURL);
  await expectVisible(bob.locator('#auth-view'));
  await signUp(bob, { email: uniqueEmail('bob'), name: 'Bob' });
  await expectVisible(bob.getByTestId('empty-state'));
  await expectCount(taskItems(bob), 0);
  await addTask(bob, 'Bob only');
  await bob.locator('#filters label').getByText('Completed', { exact: true }).click();
  await expectVisible(bob.getByTestId('empty-state'));
  await expectCount(taskItems(bob), 0);
  await bob.locator('#filters label').getByText('All', { exact: true }).click();
  await expectCount(taskItems(bob), 1);
  assert.deepEqual(await titles(bob), ['Bob only']);

  await alice.reload();
  await expectCount(taskItems(alice), 2);
  assert.deepEqual(await titles(alice), ['Alice groceries', 'Alice secret plan']);
  await expectText(alice.getByTestId('current-user'), 'Alice');
});

e2e('log out removes the list, and a reload stays logged out', () => fixture.browser, async ({ newPage }) => {
  const page = await newPage();
  const email = uniqueEmail('logout');
  await page.goto(fixture.server.baseURL);
  await signUp(page, { email });
  await addTask(page, 'Private task');

  await page.getByRole('button', { name: 'Log out', exact: true }).click();
  await expectVisible(page.locator('#auth-view'));
  await expectHidden(page.locator('#tasks-view'));
  await expectCount(taskItems(page), 0);
  assert.equal(await page.locator('body').innerText().then((t) => t.includes('Private task')), false);

  await page.reload();
  await expectVisible(page.locator('#auth-view'));
  await expectCount(taskItems(page), 0);

  // Logging back in brings the list back.
  await logIn(page, { email });
  await expectCount(taskItems(page), 1);
});

e2e('log out everywhere ends the session in other browsers too', () => fixture.browser, async ({ newContext, newPage }) => {
  const email = uniqueEmail('everywhere');
  const laptop = await newPage(await newContext());
  await laptop.goto(fixture.server.baseURL);
  await signUp(laptop, { email });

  const phone = await newPage(await newContext({ viewport: { width: 390, height: 844 } }));
  await phone.goto(fixture.server.baseURL);
  await logIn(phone, { email });

  await laptop.getByRole('button', { name: 'Log out everywhere' }).click();
  await expectVisible(laptop.locator('#auth-view'));

  await phone.reload();
  await expectVisible(phone.locator('#auth-view'));
  await laptop.reload();
  await expectVisible(laptop.locator('#auth-view'));
});

e2e('a refresh_conflict on page load (another tab rotated first) is retried once', () => fixture.browser, async ({ newContext, newPage }) => {
  const context = await newContext();
  const page = await newPage(context);
  await page.goto(fixture.server.baseURL);
  await signUp(page, { email: uniqueEmail('conflict') });
  await addTask(page, 'Still here');

  let calls = 0;
  await page.route('**/api/auth/refresh', async (route) => {
    calls += 1;
    if (calls === 1) {
      await route.fulfill({
        status: 409,
        contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'refresh_conflict', message: 'Refresh token was just rotated' } }),
      });
    } else {
      await route.continue();
    }
  });
  await page.reload();
  await expectVisible(page.locator('#tasks-view'));
  assert.deepEqual(await titles(page), ['Still here']);
  assert.equal(calls, 2);
});
