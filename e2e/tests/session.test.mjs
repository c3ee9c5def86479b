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

// The refresh cookie (the device cookie, also HttpOnly, is scoped to /api/auth/login).
async function refreshCookie(context) {
  const cookie = (await context.cookies()).find((c) => c.path === '/api/auth');
  assert.ok(cookie, 'a refresh cookie is set');
  return cookie;
}

e2e('a refresh whose response was lost is retried and the user stays signed in', () => fixture.browser, async ({ newContext, newPage }) => {
  const context = await newContext();
  const page = await newPage(context);
  await page.goto(fixture.server.baseURL);
  await signUp(page, { email: uniqueEmail('lost-response') });
  await addTask(page, 'Survives a lost answer');
  const before = await refreshCookie(context);

  // The first refresh reaches the server, which rotates the token, but its
  // answer never reaches the page. Later refreshes go through untouched.
  let calls = 0;
  let lostSuccessor = null;
  await page.route('**/api/auth/refresh', async (route) => {
    calls += 1;
    if (calls > 1) {
      await route.continue();
      return;
    }
    const response = await route.fetch();
    assert.equal(response.status(), 200, 'the server rotated the token');
    const setCookie = response.headersArray().find((h) => h.name.toLowerCase() === 'set-cookie'
      && h.value.startsWith(`${before.name}=`));
    lostSuccessor = setCookie.value.slice(before.name.length + 1).split(';')[0];
    // route.fetch() stores its cookies in the context; put the old one back,
    // as the browser would still hold it had the answer been lost.
    await context.addCookies([before]);
    await route.abort('connectionreset');
  });

  await page.reload();
  await expectVisible(page.locator('#tasks-view'));
  assert.deepEqual(await titles(page), ['Survives a lost answer']);
  assert.equal(calls, 2, 'one lost refresh, then one retry');
  assert.notEqual(lostSuccessor, before.value);
  // The retry got the very token whose delivery was lost: no second branch.
  assert.equal((await refreshCookie(context)).value, lostSuccessor);

  // The session is fully usable: new access token, and the next refresh too.
  await addTask(page, 'Added after the retry');
  await page.unroute('**/api/auth/refresh');
  await page.reload();
  await expectVisible(page.locator('#tasks-view'));
  assert.deepEqual(await titles(page), ['Added after the retry', 'Survives a lost answer']);
  assert.equal(await page.locator('#app-error-text').textContent(), '');
});

e2e('two tabs refreshing at once both stay signed in', () => fixture.browser, async ({ newContext, newPage }) => {
  const context = await newContext();
  const first = await newPage(context);
  await first.goto(fixture.server.baseURL);
  await signUp(first, { email: uniqueEmail('two-tabs') });
  await addTask(first, 'Shared between tabs');
  const second = await newPage(context);
  await second.goto(fixture.server.baseURL);
  await expectVisible(second.locator('#tasks-view'));
  const before = await refreshCookie(context);

  // Hold each tab's refresh until both have been sent, so both present the
  // same cookie to the server at the same moment. Nothing is mocked.
  const held = [];
  let release;
  const bothSent = new Promise((resolve) => {
    release = resolve;
  });
  await context.route('**/api/auth/refresh', async (route) => {
    held.push((await route.request().headerValue('cookie')) ?? '');
    if (held.length === 2) release();
    await Promise.race([bothSent, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    await route.continue();
  });
  const statuses = [];
  context.on('response', (res) => {
    if (new URL(res.url()).pathname === '/api/auth/refresh') statuses.push(res.status());
  });

  await Promise.all([first.reload(), second.reload()]);
  for (const page of [first, second]) {
    await expectVisible(page.locator('#tasks-view'));
    await expectCount(taskItems(page), 1);
  }
  assert.equal(held.length, 2, 'both tabs refreshed');
  for (const cookie of held) assert.ok(cookie.includes(`${before.name}=${before.value}`), 'both presented the same token');
  assert.deepEqual(statuses, [200, 200]);
  const after = await refreshCookie(context);
  assert.notEqual(after.value, before.value, 'the token was rotated');

  // Both tabs hold working access tokens.
  await addTask(first, 'From the first tab');
  await addTask(second, 'From the second tab');

  // The cookie both got is still good: a third tab signs in from it.
  await context.unroute('**/api/auth/refresh');
  const third = await newPage(context);
  await third.goto(fixture.server.baseURL);
  await expectVisible(third.locator('#tasks-view'));
  await expectCount(taskItems(third), 3);
  await first.reload();
  await expectVisible(first.locator('#tasks-view'));
  await expectCount(taskItems(first), 3);
});
