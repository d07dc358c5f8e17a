// Drives a production Volto 18 build against cairn as an editor would, in
// Debian's headless Chromium (see run.sh). Each step leaves a screenshot in
// $ARTIFACTS; what the UI did is checked again through cairn's API.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const VOLTO = process.env.VOLTO_URL;
const API = process.env.API_URL;
const ARTIFACTS = process.env.ARTIFACTS;
const AUTH = 'Basic ' + Buffer.from(`admin:${process.env.ADMIN_PASSWORD}`).toString('base64');

/** A call to cairn's API as admin; the parsed JSON answer. */
async function api(method, url, body) {
  const r = await fetch(`${API}${url}`, {
    method,
    headers: { Accept: 'application/json', 'Content-Type': 'application/json', Authorization: AUTH },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${url}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// What the editor finds: a published folder with two pages, and a group.
await api('POST', '/en', { '@type': 'Folder', id: 'folder', title: 'Folder' });
await api('POST', '/en/folder/@workflow/publish', {});
await api('POST', '/en/folder', { '@type': 'Document', id: 'alpha', title: 'Alpha' });
await api('POST', '/en/folder', { '@type': 'Document', id: 'beta', title: 'Beta' });
await api('POST', '/@groups', { groupname: 'redaktion', title: 'Redaktion' });

const png = path.join(ARTIFACTS, 'fixture.png');
fs.writeFileSync(
  png,
  Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAEAAAAAwCAIAAAAuKetIAAAARElEQVR42u3PQQkAAAgEsEvi2/4pjGUFv8JgBZapfi0CAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAlcL0FyotdHwlpMAAAAASUVORK5CYII=',
    'base64',
  ),
);

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ['--no-sandbox'] });
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
page.setDefaultTimeout(20000);
const problems = [];
const calls = fs.createWriteStream(path.join(ARTIFACTS, 'api-calls.log'));
page.on('response', (r) => {
  if (!r.url().includes('/++api++')) return;
  calls.write(`${r.request().method()} ${r.status()} ${r.url()}\n`);
  // A refused call is logged with what was sent and what came back.
  if (r.status() >= 400) {
    r.text()
      .then((t) => calls.write(`  sent: ${(r.request().postData() || '').slice(0, 2000)}\n  got: ${t.slice(0, 2000)}\n`))
      .catch(() => {});
  }
  // An API error the UI swallowed still fails the run.
  if (r.url().includes('/++api++') && r.status() >= 500) problems.push(`${r.status()} ${r.url()}`);
});
let n = 0;
async function step(name, run) {
  n += 1;
  const file = path.join(ARTIFACTS, `${String(n).padStart(2, '0')}-${name}.png`);
  const started = Date.now();
  try {
    await run();
  } catch (e) {
    // The page as it was, to see what a selector missed.
    fs.writeFileSync(file.replace(/\.png$/, '.html'), await page.content());
    throw e;
  } finally {
    await page.screenshot({ path: file, fullPage: true });
  }
  console.log(`ok ${n} ${name} (${Date.now() - started} ms)`);
}
const responded = (method, part, status) =>
  page.waitForResponse(
    (r) => r.request().method() === method && r.url().includes(part) && (status === undefined || r.status() === status),
  );
const rowIds = () =>
  page.$$eval('#content-core table tbody tr', (rows) => rows.map((r) => r.getAttribute('aria-label')));

try {
  await step('log-in', async () => {
    await page.goto(`${VOLTO}/login`);
    await page.fill('#login', 'admin');
    await page.fill('#password', process.env.ADMIN_PASSWORD);
    await page.click('#login-form-submit');
    await page.waitForSelector('body.has-toolbar');
  });

  await step('add-page-with-text-and-image', async () => {
    const schema = responded('GET', '/@types/Document');
    await page.goto(`${VOLTO}/en/folder/add?type=Document`);
    await schema;
    const title = page.locator('.block.inner.title [contenteditable="true"]');
    await title.click();
    await title.pressSequentially('Budget 2027');
    await page.keyboard.press('Enter');
    const text = page.locator('.content-area .slate-editor [contenteditable=true]').last();
    await text.click();
    await text.pressSequentially('The canton plans its budget.');
    await page.keyboard.press('Enter');
    await page.click('.ui.basic.icon.button.block-add-button');
    await page.locator('.blocks-chooser .ui.basic.icon.button.image').first().click();
    const upload = responded('POST', '/en/folder', 201);
    await page.locator('.block-editor-image input[type="file"]').setInputFiles(png);
    await upload;
    await page.locator('.block-editor-image img').waitFor();
  });

  await step('saved-and-rendered', async () => {
    await page.click('#toolbar-save');
    await page.waitForURL('**/en/folder/budget-2027');
    await page.locator('#page-document h1.documentFirstHeading', { hasText: 'Budget 2027' }).waitFor();
    await page.locator('#page-document p', { hasText: 'The canton plans its budget.' }).waitFor();
    await page.locator('#page-document img').first().waitFor();
    const saved = await api('GET', '/en/folder/budget-2027');
    const types = Object.values(saved.blocks).map((b) => b['@type']);
    assert.ok(types.includes('slate') && types.includes('image'), `blocks: ${types}`);
  });

  await step('published', async () => {
    await page.click('#toolbar-more');
    await page.click('.menu-more .state-select .react-select-container');
    const wf = responded('POST', '/@workflow/publish');
    await page.locator('.react-select__option', { hasText: /^Publish$/ }).click();
    assert.equal((await wf).status(), 200);
    assert.equal((await api('GET', '/en/folder/budget-2027')).review_state, 'published');
  });

  await step('folder-contents-reordered', async () => {
    await page.goto(`${VOLTO}/en/folder/contents`);
    await page.locator('tr[aria-label="/en/folder/budget-2027"]').waitFor();
    const before = await rowIds();
    const last = before[before.length - 1];
    const handle = page.locator(`tr[aria-label="${last}"] svg.drag.handle`);
    const target = await page.locator(`tr[aria-label="${before[0]}"]`).boundingBox();
    await handle.hover();
    await page.mouse.down();
    await page.mouse.move(target.x + target.width / 2, target.y + target.height / 2, { steps: 15 });
    await page.mouse.move(target.x + target.width / 2, target.y + 4, { steps: 5 });
    const ordered = responded('PATCH', '/en/folder');
    await page.mouse.up();
    assert.equal((await ordered).status(), 204);
    const items = (await api('GET', '/en/folder')).items.map((i) => new URL(i['@id']).pathname);
    assert.equal(items[0], `/Plone${last}`, `order: ${items}`);
  });

  await step('renamed', async () => {
    await page.locator('tr[aria-label="/en/folder/alpha"] svg.icon.unchecked').click();
    await page.click('svg.icon.rename');
    await page.fill('input[name="0_title"]', 'Alpha renamed');
    await page.fill('input[name="0_id"]', 'alpha-renamed');
    const renamed = responded('PATCH', '/en/folder/alpha');
    await page.click('.modal button[title="Save"]');
    await renamed;
    await page.locator('#content-core table', { hasText: 'Alpha renamed' }).waitFor();
    assert.equal((await api('GET', '/en/folder/alpha-renamed')).title, 'Alpha renamed');
  });

  await step('copied-and-pasted', async () => {
    await page.goto(`${VOLTO}/en/folder/contents`);
    await page.locator('tr[aria-label="/en/folder/beta"] svg.icon.unchecked').click();
    await page.click('svg.icon.copy');
    const pasted = responded('POST', '/@copy');
    await page.click('svg.icon.paste');
    assert.equal((await pasted).status(), 200);
    await page.locator('tr[aria-label="/en/folder/copy_of_beta"]').waitFor();
    assert.equal((await api('GET', '/en/folder/copy_of_beta')).title, 'Beta');
  });

  await step('shared-with-a-group', async () => {
    await page.goto(`${VOLTO}/en/folder/budget-2027/sharing`);
    await page.fill('#sharing-component-search', 'redaktion');
    const found = responded('GET', '/@sharing');
    await page.press('#sharing-component-search', 'Enter');
    await found;
    await page.locator('input[value="redaktion:Editor"]').locator('xpath=..').click();
    const saved = responded('POST', '/@sharing');
    await page.click('button[title="Save"][type="submit"]');
    assert.equal((await saved).status(), 204);
    const sharing = await api('GET', '/en/folder/budget-2027/@sharing');
    const entry = sharing.entries.find((e) => e.id === 'redaktion');
    assert.ok(entry && entry.roles.Editor === true, JSON.stringify(sharing.entries));
  });

  await step('history', async () => {
    await page.goto(`${VOLTO}/en/folder/budget-2027/historyview`);
    await page.locator('#page-history', { hasText: 'History of' }).waitFor();
    const rows = await page.locator('#page-history table tbody tr').count();
    assert.ok(rows >= 2, `history rows: ${rows}`);
    await page.locator('#page-history table tbody', { hasText: 'Publish' }).waitFor();
  });

  await step('site-setup-title', async () => {
    await page.goto(`${VOLTO}/controlpanel/site`);
    await page.fill('input#field-site_title', 'Kanton Beispiel (neu)');
    const saved = responded('PATCH', '@controlpanels/site');
    await page.click('#toolbar-save');
    assert.equal((await saved).status(), 204);
    await page.locator('.toast-inner-content', { hasText: 'Changes saved' }).waitFor();
    assert.equal((await api('GET', '/@site'))['plone.site_title'], 'Kanton Beispiel (neu)');
  });

  await step('translated', async () => {
    await page.goto(`${VOLTO}/en/folder/budget-2027`);
    await page.click('#toolbar-add');
    await page.getByText('Translate to deutsch').click();
    await page.waitForURL(/\/de(\/.*)?\/add\?type=Document$/);
    const title = page.locator('.new-translation .block.inner.title [contenteditable="true"]');
    await title.click();
    await title.pressSequentially('Budget 2027 DE');
    await page.click('#toolbar-save');
    await page.waitForURL('**/de/budget-2027-de');
    const translations = await api('GET', '/en/folder/budget-2027/@translations');
    const de = translations.items.find((t) => t.language === 'de');
    assert.ok(de && de['@id'].endsWith('/de/budget-2027-de'), JSON.stringify(translations));
  });

  await step('logged-out-public-page', async () => {
    await page.goto(`${VOLTO}/logout`);
    await page.waitForFunction(() => !document.body.classList.contains('has-toolbar'));
    // The next page is rendered on the server from the cookies: wait until
    // Volto has dropped the token, or it renders the toolbar once more.
    for (let i = 0; i < 100 && (await page.context().cookies()).some((c) => c.name === 'auth_token'); i += 1) {
      await page.waitForTimeout(50);
    }
    await page.goto(`${VOLTO}/en/folder/budget-2027`);
    await page.locator('#page-document h1.documentFirstHeading', { hasText: 'Budget 2027' }).waitFor();
    assert.equal(await page.locator('body.has-toolbar').count(), 0);
  });

  await step('private-page-hidden', async () => {
    await page.goto(`${VOLTO}/en/folder/beta`);
    await page.locator('h1', { hasText: 'Unauthorized' }).waitFor();
    assert.equal(await page.getByText('Beta').count(), 0);
  });
  assert.deepEqual(problems, [], 'server errors seen by the browser');
  console.log(`all ${n} steps passed; screenshots in ${ARTIFACTS}`);
} finally {
  await browser.close();
}
