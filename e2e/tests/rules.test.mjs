// The client checks input by the server's rules in the server's units: characters
// are Unicode scalar values (an emoji is one, not two UTF-16 units), titles are
// trimmed, descriptions are stored exactly as typed, and editing checks the same
// rules as creating.
import assert from 'node:assert/strict';
import {
  PASSWORD, addTask, e2e, expectCount, expectText, expectValue, expectVisible,
  serverAndBrowser, signUp, taskItem, taskItems, uniqueEmail,
} from '../lib/browser.mjs';

const fixture = serverAndBrowser();

const EMOJI = '😀'; // one character, two UTF-16 units

/** Count the requests the page sends to a task endpoint with `method`. */
function countTaskWrites(page, method) {
  const seen = { count: 0 };
  page.on('request', (req) => {
    if (req.method() === method && new URL(req.url()).pathname.startsWith('/api/tasks')) seen.count += 1;
  });
  return seen;
}

/** Title → description, as the server stores them, read through the app's own API module. */
async function storedDescriptions(page) {
  const items = await page.evaluate(async () => {
    const api = await import('/api.js');
    return (await api.listTasks({ limit: 100 })).items;
  });
  return Object.fromEntries(items.map((task) => [task.title, task.description]));
}

e2e('a title of 200 emoji is accepted and 201 are refused before sending', () => fixture.browser, async ({ newPage }) => {
  const page = await newPage();
  await page.goto(fixture.server.baseURL);
  await signUp(page, { email: uniqueEmail('emoji') });
  const posts = countTaskWrites(page, 'POST');

  const longest = EMOJI.repeat(200);
  await addTask(page, longest);
  await expectText(taskItem(page, longest).getByTestId('task-title'), longest);
  assert.equal(posts.count, 1);

  await page.getByLabel('New task', { exact: true }).fill(EMOJI.repeat(201));
  await page.getByRole('button', { name: 'Add task' }).click();
  await expectText(page.locator('#new-task-title-error'), /under 201 characters/);
  assert.equal(await page.locator('#new-task-title').getAttribute('aria-invalid'), 'true');
  // The text stays as typed (nothing cut it short), and nothing was sent.
  await expectValue(page.getByLabel('New task', { exact: true }), EMOJI.repeat(201));
  assert.equal(posts.count, 1);
  await expectCount(taskItems(page), 1);

  // Surrounding spaces do not count: the title is trimmed first, as the server does.
  await page.getByLabel('New task', { exact: true }).fill(`   ${EMOJI.repeat(199)}x   `);
  await page.getByRole('button', { name: 'Add task' }).click();
  await expectCount(taskItem(page, `${EMOJI.repeat(199)}x`), 1);
  assert.equal(posts.count, 2);
});

e2e('a description is stored exactly as typed; an empty one as none', () => fixture.browser, async ({ newPage }) => {
  const page = await newPage();
  await page.goto(fixture.server.baseURL);
  await signUp(page, { email: uniqueEmail('verbatim') });

  const typed = '  indented first line\n\n  and a trailing newline\n';
  await addTask(page, 'With details', typed);
  await addTask(page, 'Without details');
  // A description of 1000 emoji is within the limit (2000 UTF-16 units).
  await addTask(page, 'Long details', EMOJI.repeat(1000));

  assert.deepEqual(await storedDescriptions(page), {
    'With details': typed,
    'Without details': null,
    'Long details': EMOJI.repeat(1000),
  });

  // Editing shows it as stored, and saving it unchanged keeps it so.
  await taskItem(page, 'With details').getByRole('button', { name: /^Edit/ }).click();
  await expectValue(page.getByTestId('edit-description'), typed);
  await page.getByTestId('edit-title').fill('With details, renamed');
  await page.getByRole('button', { name: 'Save' }).click();
  await expectCount(taskItem(page, 'With details, renamed'), 1);
  assert.equal((await storedDescriptions(page))['With details, renamed'], typed);

  // 1001 characters are refused before sending.
  const posts = countTaskWrites(page, 'POST');
  await page.getByLabel('New task', { exact: true }).fill('Too much detail');
  await page.locator('#new-task-description').fill(EMOJI.repeat(1001));
  await page.getByRole('button', { name: 'Add task' }).click();
  await expectText(page.locator('#new-task-description-error'), /under 1001 characters/);
  assert.equal(posts.count, 0);
});

e2e('editing checks the title by the same rule as creating', () => fixture.browser, async ({ newPage }) => {
  const page = await newPage();
  await page.goto(fixture.server.baseURL);
  await signUp(page, { email: uniqueEmail('edit-rules') });
  await addTask(page, 'Short title');
  const patches = countTaskWrites(page, 'PATCH');

  await taskItem(page, 'Short title').getByRole('button', { name: /^Edit/ }).click();
  await page.getByTestId('edit-title').fill('x'.repeat(201));
  await page.getByRole('button', { name: 'Save' }).click();
  const error = taskItems(page).locator('[data-field-error="title"]');
  await expectText(error, /under 201 characters/);
  assert.equal(await page.getByTestId('edit-title').getAttribute('aria-invalid'), 'true');
  await expectVisible(page.locator('[data-testid="edit-title"]:focus'));
  assert.equal(patches.count, 0);

  // Blank is refused too; 200 emoji are fine.
  await page.getByTestId('edit-title').fill('   ');
  await page.getByRole('button', { name: 'Save' }).click();
  await expectText(error, /Give the task a title/);
  assert.equal(patches.count, 0);

  const longest = EMOJI.repeat(200);
  await page.getByTestId('edit-title').fill(longest);
  await page.getByRole('button', { name: 'Save' }).click();
  await expectCount(taskItem(page, longest), 1);
  await expectCount(page.getByTestId('edit-title'), 0);
  assert.equal(patches.count, 1);
});

e2e('sign-up counts characters in the name and password as the server does', () => fixture.browser, async ({ newPage }) => {
  const page = await newPage();
  await page.goto(fixture.server.baseURL);
  await expectVisible(page.locator('#auth-view'));
  await page.getByRole('tab', { name: 'Sign up' }).click();
  const registers = { count: 0 };
  page.on('request', (req) => {
    if (new URL(req.url()).pathname === '/api/auth/register') registers.count += 1;
  });

  // Four emoji are eight UTF-16 units but only four characters.
  await page.locator('#signup-email').fill(uniqueEmail('short-emoji'));
  await page.locator('#signup-password').fill(EMOJI.repeat(4));
  await page.getByRole('button', { name: 'Create account' }).click();
  await expectText(page.locator('#signup-password-error'), /at least 8/);

  // A name over 100 characters is refused before sending, and not cut short while typing.
  await page.locator('#signup-password').fill(PASSWORD);
  await page.getByLabel('Name').fill('n'.repeat(101));
  await page.getByRole('button', { name: 'Create account' }).click();
  await expectText(page.locator('#signup-name-error'), /at most 100/);
  assert.equal(await page.getByLabel('Name').inputValue(), 'n'.repeat(101));
  assert.equal(registers.count, 0);

  // 100 emoji (200 UTF-16 units) are a valid name.
  const name = EMOJI.repeat(100);
  await signUp(page, { email: uniqueEmail('emoji-name'), name });
  await expectText(page.getByTestId('current-user'), name);
  assert.equal(registers.count, 1);
});
