// The API reference at /docs/: Swagger UI embedded in the binary, reading the served OpenAPI
// document, working under the page's strict Content-Security-Policy.
import assert from 'node:assert/strict';
import { e2e, serverAndBrowser } from '../lib/browser.mjs';

const fixture = serverAndBrowser();

e2e('the API reference lists the task routes and tries /healthz for real', () => fixture.browser, async ({ newPage }) => {
  const page = await newPage();
  const violations = [];
  const foreignRequests = [];
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) violations.push(msg.text());
  });
  page.on('request', (request) => {
    if (!request.url().startsWith(fixture.server.baseURL) && !request.url().startsWith('data:')) {
      foreignRequests.push(request.url());
    }
  });

  // /docs redirects to /docs/, where the reference loads the document it is pointed at.
  await page.goto(`${fixture.server.baseURL}/docs`);
  assert.equal(new URL(page.url()).pathname, '/docs/');
  await page.locator('.opblock').first().waitFor({ state: 'visible' });

  const paths = await page.locator('.opblock-summary-path').allInnerTexts();
  const normalized = paths.map((p) => p.replace(/\u200b/g, '').trim());
  for (const route of ['/api/tasks', '/api/tasks/{task_id}', '/api/tasks/{task_id}/complete', '/api/{user_id}/tasks', '/healthz']) {
    assert.ok(normalized.includes(route), `${route} is listed: ${normalized.join(', ')}`);
  }

  // Try it out: GET /healthz from the page, answered by this server.
  const healthz = page.locator('.opblock-get').filter({
    has: page.locator('.opblock-summary-path', { hasText: /^\/healthz$/ }),
  });
  await healthz.locator('.opblock-summary-control').click();
  await healthz.getByRole('button', { name: 'Try it out' }).click();
  await healthz.getByRole('button', { name: 'Execute' }).click();
  const live = healthz.locator('.live-responses-table .response');
  await live.first().waitFor({ state: 'visible' });
  assert.equal((await live.locator('.response-col_status').first().innerText()).trim(), '200');
  assert.match(await live.locator('.response-col_description').first().innerText(), /"status":\s*"ok"/);

  assert.deepEqual(violations, [], 'the reference runs under its CSP without violations');
  assert.deepEqual(foreignRequests, [], 'nothing is fetched from another origin');
});
