// Browser helpers: launch Debian's Chromium through playwright-core, a test
// wrapper that saves a screenshot on failure, and UI steps shared by tests.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from './server.mjs';

const E2E_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ARTIFACTS_DIR = path.join(E2E_DIR, 'artifacts');

export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Starts one server (with `serverOptions`, see startServer) and one browser for the calling
 * test file, and stops both after it. Read them from the returned object inside tests.
 */
export function serverAndBrowser(serverOptions = {}) {
  const fixture = { server: null, browser: null };
  before(async () => {
    fixture.server = await startServer(serverOptions);
    fixture.browser = await launchBrowser();
  });
  after(async () => {
    await fixture.browser?.close();
    await fixture.server?.stop();
  });
  return fixture;
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
  });
}

function slug(name) {
  return name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase().slice(0, 100) || 'test';
}

/**
 * Like node:test's `test`, but hands the body a `session` that tracks
 * browser contexts and pages; on failure each open page is saved as
 * `artifacts/<test-name>[-n].png` (plus console output next to it).
 *
 *   e2e('does a thing', () => browser, async ({ newPage }) => { ... })
 */
export function e2e(name, getBrowser, fn, options = {}) {
  return test(name, { timeout: 60_000, ...options }, async (t) => {
    const contexts = [];
    const pages = [];
    const consoleLines = [];
    const session = {
      t,
      async newContext(contextOptions = {}) {
        const context = await getBrowser().newContext({ viewport: { width: 1280, height: 800 }, ...contextOptions });
        context.setDefaultTimeout(DEFAULT_TIMEOUT_MS);
        contexts.push(context);
        return context;
      },
      async newPage(context) {
        const ctx = context || (await session.newContext());
        const page = await ctx.newPage();
        const index = pages.length;
        page.on('console', (msg) => consoleLines.push(`[page ${index}] ${msg.type()}: ${msg.text()}`));
        page.on('pageerror', (err) => consoleLines.push(`[page ${index}] pageerror: ${err.message}`));
        pages.push(page);
        return page;
      },
      consoleLines,
    };
    try {
      await fn(session);
    } catch (err) {
      await fs.mkdir(ARTIFACTS_DIR, { recursive: true });
      const base = slug(name);
      for (const [i, page] of pages.entries()) {
        if (page.isClosed()) continue;
        const file = path.join(ARTIFACTS_DIR, `${base}${i === 0 ? '' : `-${i + 1}`}.png`);
        await page.screenshot({ path: file, fullPage: true }).catch(() => {});
      }
      if (consoleLines.length) {
        await fs.writeFile(path.join(ARTIFACTS_DIR, `${base}.console.txt`), consoleLines.join('\n') + '\n').catch(() => {});
      }
      throw err;
    } finally {
      for (const context of contexts) await context.close().catch(() => {});
    }
  });
}

// ------------------------------------------------------------ UI steps

let counter = 0;
export function uniqueEmail(prefix = 'user') {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}@example.com`;
}

export const PASSWORD = 'correct horse battery staple';

export async function signUp(page, { email, password = PASSWORD, name = '' }) {
  await page.getByRole('tab', { name: 'Sign up' }).click();
  if (name) await page.getByLabel('Name').fill(name);
  await page.locator('#signup-email').fill(email);
  await page.locator('#signup-password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.locator('#tasks-view').waitFor({ state: 'visible' });
}

export async function logIn(page, { email, password = PASSWORD }) {
  await page.getByRole('tab', { name: 'Log in' }).click();
  await page.locator('#login-email').fill(email);
  await page.locator('#login-password').fill(password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await page.locator('#tasks-view').waitFor({ state: 'visible' });
}

export function taskItems(page) {
  return page.getByTestId('task-item');
}

export function taskItem(page, title) {
  return page.getByTestId('task-item').filter({ has: page.getByTestId('task-title').getByText(title, { exact: true }) });
}

export async function addTask(page, title, description = '') {
  const before = await taskItem(page, title).count();
  await page.getByLabel('New task', { exact: true }).fill(title);
  if (description) await page.locator('#new-task-description').fill(description);
  await page.getByRole('button', { name: 'Add task' }).click();
  await expectCount(taskItem(page, title), before + 1);
  await expectValue(page.getByLabel('New task', { exact: true }), '');
}

/** Poll until `fn` stops throwing (a tiny stand-in for Playwright Test's expect.poll). */
export async function eventually(fn, { timeout = DEFAULT_TIMEOUT_MS, interval = 100 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
  }
}

export async function expectCount(locator, n, options) {
  await eventually(async () => assert.equal(await locator.count(), n), options);
}

export async function expectText(locator, expected, options) {
  await eventually(async () => {
    const text = (await locator.textContent()) ?? '';
    if (expected instanceof RegExp) assert.match(text, expected);
    else assert.equal(text.trim(), expected);
  }, options);
}

export async function expectValue(locator, expected, options) {
  await eventually(async () => assert.equal(await locator.inputValue(), expected), options);
}

export async function expectVisible(locator, options) {
  await locator.waitFor({ state: 'visible', ...(options || {}) });
}

export async function expectHidden(locator, options) {
  await locator.waitFor({ state: 'hidden', ...(options || {}) });
}

export async function titles(page) {
  return page.getByTestId('task-title').allTextContents();
}
