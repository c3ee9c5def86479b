// Task text is data: markup in it is shown literally and never runs.
import assert from 'node:assert/strict';
import {
  addTask, e2e, expectCount, expectText, expectVisible, serverAndBrowser, signUp, taskItems, uniqueEmail,
} from '../lib/browser.mjs';

const fixture = serverAndBrowser();

const PAYLOAD = '<img src=x onerror=alert(1)>';
const DESCRIPTION = '<script>alert(2)</script><b>bold?</b>';

e2e('a task titled with HTML shows as literal text and runs nothing', () => fixture.browser, async ({ newPage }) => {
  const page = await newPage();
  const dialogs = [];
  page.on('dialog', async (dialog) => {
    dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  const violations = [];
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) violations.push(msg.text());
  });

  await page.goto(fixture.server.baseURL);
  await signUp(page, { email: uniqueEmail('xss'), name: '<i>Mallory</i>' });
  await expectText(page.getByTestId('current-user'), '<i>Mallory</i>');
  await addTask(page, PAYLOAD, DESCRIPTION);

  const check = async () => {
    await expectCount(taskItems(page), 1);
    await expectText(page.getByTestId('task-title'), PAYLOAD);
    await expectText(page.getByTestId('task-description'), DESCRIPTION);
    assert.equal(await page.locator('#task-list img, #task-list script, #task-list b, header i').count(), 0);
    await page.waitForTimeout(500);
    assert.deepEqual(dialogs, []);
  };
  await check();

  // Also through the editor, and after a reload.
  await page.getByRole('button', { name: /^Edit/ }).click();
  assert.equal(await page.getByTestId('edit-title').inputValue(), PAYLOAD);
  await page.keyboard.press('Escape');
  await page.reload();
  await expectVisible(page.locator('#tasks-view'));
  await check();
  assert.deepEqual(violations, [], 'the page itself causes no CSP violations');
});
