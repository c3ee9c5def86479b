// The main task flow: sign up, add, edit, complete, filter, delete, reload.
import assert from 'node:assert/strict';
import {
  addTask, e2e, eventually, expectCount, expectHidden, expectText, expectValue, expectVisible,
  serverAndBrowser, signUp, taskItem, taskItems, titles, uniqueEmail,
} from '../lib/browser.mjs';

const fixture = serverAndBrowser();

const filter = (page, name) => page.locator('#filters label').getByText(name, { exact: true });

e2e('sign up, add three tasks, edit, complete, filter, delete, and reload', () => fixture.browser, async ({ newPage }) => {
  const page = await newPage();
  await page.goto(fixture.server.baseURL);
  await expectVisible(page.locator('#auth-view'));

  await signUp(page, { email: uniqueEmail('flow'), name: 'Ada Lovelace' });
  await expectText(page.getByTestId('current-user'), 'Ada Lovelace');
  await expectVisible(page.getByTestId('empty-state'));

  await addTask(page, 'Buy milk', '2 litres, semi-skimmed');
  await addTask(page, 'Write report');
  await addTask(page, 'Call the plumber');
  assert.deepEqual(await titles(page), ['Call the plumber', 'Write report', 'Buy milk']);
  await expectText(taskItem(page, 'Buy milk').getByTestId('task-description'), '2 litres, semi-skimmed');
  await expectHidden(page.getByTestId('empty-state'));

  // Edit title and description in place.
  await taskItem(page, 'Write report').getByRole('button', { name: /^Edit/ }).click();
  await expectValue(page.getByTestId('edit-title'), 'Write report');
  await page.getByTestId('edit-title').fill('Write quarterly report');
  await page.getByTestId('edit-description').fill('Due Friday');
  await page.getByRole('button', { name: 'Save' }).click();
  await expectCount(taskItem(page, 'Write quarterly report'), 1);
  await expectText(taskItem(page, 'Write quarterly report').getByTestId('task-description'), 'Due Friday');
  await expectCount(page.getByTestId('edit-title'), 0);

  // Escape abandons an edit.
  await taskItem(page, 'Buy milk').getByRole('button', { name: /^Edit/ }).click();
  await page.getByTestId('edit-title').fill('Something else');
  await page.keyboard.press('Escape');
  await expectCount(taskItem(page, 'Buy milk'), 1);
  await expectCount(taskItem(page, 'Something else'), 0);

  // Complete one.
  await taskItem(page, 'Buy milk').getByRole('checkbox').check();
  await eventually(async () => assert.equal(await taskItem(page, 'Buy milk').getAttribute('data-completed'), 'true'));

  // Filters.
  await filter(page, 'Completed').click();
  await expectCount(taskItems(page), 1);
  assert.deepEqual(await titles(page), ['Buy milk']);
  await filter(page, 'Pending').click();
  await expectCount(taskItems(page), 2);
  assert.deepEqual(await titles(page), ['Call the plumber', 'Write quarterly report']);
  await filter(page, 'All').click();
  await expectCount(taskItems(page), 3);

  // Delete, undo, then delete for real.
  await taskItem(page, 'Call the plumber').getByRole('button', { name: /^Delete/ }).click();
  await expectCount(taskItem(page, 'Call the plumber'), 0);
  await expectText(page.getByTestId('toast'), /Deleted “Call the plumber”/);
  await page.getByTestId('toast-action').click();
  await expectCount(taskItem(page, 'Call the plumber'), 1);
  assert.deepEqual(await titles(page), ['Call the plumber', 'Write quarterly report', 'Buy milk']);

  const deleted = page.waitForResponse(
    (r) => r.request().method() === 'DELETE' && r.url().includes('/api/tasks/'),
    { timeout: 15_000 },
  );
  await taskItem(page, 'Call the plumber').getByRole('button', { name: /^Delete/ }).click();
  await expectCount(taskItem(page, 'Call the plumber'), 0);
  assert.equal((await deleted).status(), 204);

  // Reload: still signed in, everything persisted.
  await page.reload();
  await expectVisible(page.locator('#tasks-view'));
  await expectCount(taskItems(page), 2);
  assert.deepEqual(await titles(page), ['Write quarterly report', 'Buy milk']);
  assert.equal(await taskItem(page, 'Buy milk').getAttribute('data-completed'), 'true');
  assert.equal(await taskItem(page, 'Write quarterly report').getAttribute('data-completed'), 'false');
  await expectText(page.getByTestId('current-user'), 'Ada Lovelace');
});

e2e('works from the keyboard alone', () => fixture.browser, async ({ newPage }) => {
  const page = await newPage();
  await page.goto(fixture.server.baseURL);
  await signUp(page, { email: uniqueEmail('keys') });

  // After sign-in the new-task field has focus; Enter adds.
  await expectVisible(page.locator('#new-task-title:focus'));
  await page.keyboard.type('Keyboard task');
  await page.keyboard.press('Enter');
  await expectCount(taskItem(page, 'Keyboard task'), 1);
  await expectVisible(page.locator('#new-task-title:focus'));

  // Tab: Add button, description, filter group, then the task's checkbox.
  for (let i = 0; i < 4; i++) await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('data-testid')), 'task-toggle');
  await page.keyboard.press('Space');
  await eventually(async () => assert.equal(await taskItem(page, 'Keyboard task').getAttribute('data-completed'), 'true'));

  // Focus stays on the checkbox; Tab to Edit, Enter opens the editor.
  await eventually(async () => assert.equal(await page.evaluate(() => document.activeElement.getAttribute('data-testid')), 'task-toggle'));
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await expectVisible(page.locator('[data-testid="edit-title"]:focus'));
  await page.keyboard.type('Renamed by keyboard');
  await page.keyboard.press('Enter');
  await expectCount(taskItem(page, 'Renamed by keyboard'), 1);

  // Focus is back on Edit; Tab to Delete, Enter deletes, Ctrl+Z undoes.
  await eventually(async () => assert.equal(await page.evaluate(() => document.activeElement.dataset.action), 'edit'));
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await expectCount(taskItems(page), 0);
  await page.keyboard.press('Control+z');
  await expectCount(taskItem(page, 'Renamed by keyboard'), 1);

  // Filter radios move with arrow keys.
  await page.locator('#filter-all').focus();
  await page.keyboard.press('ArrowRight');
  await expectVisible(page.locator('#filter-pending:checked'));
  await expectVisible(page.getByTestId('empty-state'));
});

e2e('"Load more" pages through a long list', () => fixture.browser, async ({ newPage }) => {
  const page = await newPage();
  await page.goto(fixture.server.baseURL);
  await signUp(page, { email: uniqueEmail('paging') });
  // Seed 25 tasks through the app's own API module (same session).
  await page.evaluate(async () => {
    const api = await import('/api.js');
    for (let i = 1; i <= 25; i++) await api.createTask({ title: `Task ${String(i).padStart(2, '0')}` });
  });
  await page.reload();
  await expectCount(taskItems(page), 20);
  const loadMore = page.getByRole('button', { name: 'Load more' });
  await expectVisible(loadMore);
  assert.equal((await titles(page))[0], 'Task 25');
  await loadMore.click();
  await expectCount(taskItems(page), 25);
  await expectHidden(loadMore);
  const all = await titles(page);
  assert.equal(all.at(-1), 'Task 01');
  assert.equal(new Set(all).size, 25);
});
