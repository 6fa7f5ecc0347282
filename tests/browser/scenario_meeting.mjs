// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

// The browser scenario of a general meeting (RULES.md 2.6): a secretary
// founds a co-op with no notice period and calls a meeting with one
// resolution starting at the next minute; a member appoints and revokes a
// proxy and votes remotely; the secretary opens the session, records
// herself present, votes in the room and closes the meeting; both read
// the minutes and the register with the resolution's number. run.sh
// starts the server and sets BASE_URL and OUT_DIR; handles carry a tag so
// the scenario can share a server with the others.
import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { base, outDir, step, expect, expectStatus, finish } from './lib.mjs';

const userDataDir = mkdtempSync(path.join(outDir, 'chromium-meeting-'));

// submit clicks a button and returns the response to the form's POST.
async function submit(page, button) {
  const [resp] = await Promise.all([
    page.waitForResponse(r => r.request().method() === 'POST'),
    button.click(),
  ]);
  await page.waitForLoadState();
  return resp;
}
// localUTC writes t as an <input type="datetime-local"> value in UTC, as
// the pages read it.
function localUTC(t) {
  return t.toISOString().slice(0, 16);
}

const context0 = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 390, height: 844 },
  javaScriptEnabled: false,
});
const browser = context0.browser();
const sec = context0;
const mem = browser ? await browser.newContext({ viewport: { width: 390, height: 844 }, javaScriptEnabled: false }) : null;

const tag = Date.now().toString(36).slice(-6);
const slug = 'mill-' + tag;
const ada = 'ada-' + tag;
const bo = 'bo-' + tag;
const pa = await sec.newPage();
let pb;
let meetingURL = '';
let resolutionURL = '';
let startsAt;
const screenshots = [];

async function signUp(page, handle, name) {
  await page.goto(base + '/signup');
  await page.getByLabel('Handle').fill(handle);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('E-mail').fill(`${handle}@example.org`);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(u => !u.pathname.startsWith('/signup'));
}

try {
  await step('the secretary founds a co-op and sets no notice period', async () => {
    await signUp(pa, ada, 'Ada Miller');
    await pa.goto(base + '/coops/new');
    await pa.getByLabel('Name of the co-op').fill('Village Mill');
    await pa.getByLabel('Address').fill(slug);
    await pa.getByLabel('Purpose').fill('Grind the village grain at a fair price.');
    await pa.getByLabel('Your class').selectOption('workers');
    await pa.getByRole('button', { name: 'Found the co-op' }).click();
    await pa.waitForURL(`**/coops/${slug}`);
    await pa.getByText('Change the settings').click();
    await pa.getByLabel('Notice of a general meeting (days)').fill('0');
    await pa.getByRole('button', { name: 'Save the settings' }).click();
    await pa.waitForURL(/saved=1/);
    expect(await pa.getByRole('link', { name: 'General meetings' }).isVisible(), 'no link to the meetings');
  });

  await step('a member joins by invitation', async () => {
    await pa.goto(`${base}/coops/${slug}/invitations`);
    await pa.getByLabel('Class').selectOption('users');
    await pa.getByRole('button', { name: 'Create invitation' }).click();
    await pa.waitForURL(/invitations\?new=/);
    const joinURL = await pa.locator('li.new a.join-link').getAttribute('href');
    pb = await mem.newPage();
    await signUp(pb, bo, 'Bo Farmer');
    await pb.goto(joinURL);
    await pb.getByRole('button', { name: /Join Village Mill/ }).click();
    await pb.waitForURL(`**/coops/${slug}`);
  });

  await step('a meeting in the past is refused with 422 and the form kept', async () => {
    await pa.goto(`${base}/coops/${slug}/meetings`);
    await pa.getByLabel('Title').fill('Harvest meeting');
    await pa.getByLabel('Starts (UTC)').fill(localUTC(new Date(Date.now() - 3600e3)));
    await pa.locator('#item_title_1').fill('New millstone');
    await pa.locator('#item_kind_1').selectOption('ordinary');
    await pa.locator('#item_body_1').fill('That we buy a new millstone.');
    const resp = await submit(pa, pa.getByRole('button', { name: 'Call the meeting' }));
    await expectStatus(resp, 422, 'meeting in the past');
    expect(await pa.getByText(/give at least 0 days' notice/).isVisible(), 'no notice message');
    expect(await pa.locator('#item_body_1').inputValue() === 'That we buy a new millstone.', 'motion not kept');
  });

  await step('the secretary calls the meeting for the next minute', async () => {
    // The next whole minute at least 15 seconds away: the form has minutes.
    startsAt = new Date(Math.ceil((Date.now() + 15e3) / 60e3) * 60e3);
    await pa.getByLabel('Starts (UTC)').fill(localUTC(startsAt));
    await pa.getByRole('button', { name: 'Call the meeting' }).click();
    await pa.waitForURL(/\/meetings\/\d+$/);
    meetingURL = pa.url();
    expect(await pa.getByRole('heading', { level: 1, name: 'Harvest meeting' }).isVisible(), 'no meeting heading');
    expect(await pa.getByText('Remote voting is open').isVisible(), 'remote voting is not said to be open');
    resolutionURL = base + await pa.getByRole('link', { name: /vote on New millstone/ }).getAttribute('href');
  });

  await step('the member appoints a directed proxy, then revokes it', async () => {
    await pb.goto(meetingURL);
    await pb.getByLabel('Proxy holder').selectOption(ada);
    await pb.getByLabel('New millstone').selectOption('yes');
    await pb.getByRole('button', { name: 'Appoint your proxy' }).click();
    await pb.waitForURL(/done=proxy/);
    expect(await pb.getByText(`@${ada} holds your proxy`).isVisible(), 'the proxy is not shown');
    await pb.getByRole('button', { name: 'Revoke your proxy' }).click();
    await pb.waitForURL(/done=revoked/);
    expect(await pb.getByRole('button', { name: 'Appoint your proxy' }).isVisible(), 'the proxy form is not back');
  });

  await step('the member votes remotely', async () => {
    await pb.goto(resolutionURL);
    await pb.getByLabel('Yes').check();
    await pb.getByRole('button', { name: 'Cast your vote' }).click();
    await pb.waitForURL(/voted=1/);
  });

  await step('the secretary opens the session when the meeting starts', async () => {
    const wait = startsAt.getTime() - Date.now() + 1500;
    if (wait > 0) await new Promise(r => setTimeout(r, wait));
    await pa.goto(meetingURL);
    await pa.getByRole('button', { name: 'Open the session' }).click();
    await pa.waitForURL(/done=opened/);
    expect(await pa.getByText('The meeting is in session').isVisible(), 'not in session');
  });

  await step('in session an absent member is told why she cannot vote', async () => {
    await pb.goto(resolutionURL);
    await pb.getByText('Remote voting closed when the session opened').waitFor();
    if (await pb.getByRole('button', { name: 'Change your vote' }).count() !== 0) {
      throw new Error('the vote form is offered to a member not present in session');
    }
  });

  await step('the secretary records herself present, votes and closes', async () => {
    await pa.goto(meetingURL);
    await pa.getByLabel(`@${ada} present`).check();
    await pa.getByRole('button', { name: 'Record attendance' }).click();
    await pa.waitForURL(/done=attendance/);
    screenshots.push(path.join(outDir, 'meeting-session.png'));
    await pa.screenshot({ path: screenshots.at(-1), fullPage: true });
    await pa.goto(resolutionURL);
    await pa.getByLabel('Yes').check();
    await pa.getByRole('button', { name: 'Cast your vote' }).click();
    await pa.waitForURL(/voted=1/);
    await pa.goto(meetingURL);
    await pa.getByRole('button', { name: 'Close the meeting' }).click();
    await pa.waitForURL(/\/minutes$/);
    const text = await pa.locator('article.minutes').textContent();
    const year = new Date().getUTCFullYear();
    expect(text.includes(`Present (1): @${ada}`), `minutes lack the attendance: ${text}`);
    expect(text.includes('For 2, against 0, abstain 0.'), `minutes lack the result: ${text}`);
    expect(text.includes(`Passed as resolution ${year}/1.`), `minutes lack the register number: ${text}`);
  });

  await step('the member reads the register', async () => {
    await pb.goto(`${base}/coops/${slug}/resolutions`);
    const year = new Date().getUTCFullYear();
    expect(await pb.getByRole('rowheader', { name: `${year}/1` }).isVisible(), 'no register number');
    expect(await pb.getByRole('link', { name: 'New millstone' }).isVisible(), 'no resolution in the register');
    await pb.goto(meetingURL + '/minutes');
    screenshots.push(path.join(outDir, 'minutes.png'));
    await pb.screenshot({ path: screenshots.at(-1), fullPage: true });
  });
} catch {
  // The failing step has been reported; count it and stop.
} finally {
  await mem?.close();
  await sec.close();
}

for (const s of screenshots) console.log(`screenshot: ${s}`);
finish();
