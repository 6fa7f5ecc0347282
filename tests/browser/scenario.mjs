// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

// The browser scenario of issue 2: two people sign up, one founds a co-op
// and invites the other, who joins by the link; one proposes a yes/no
// question, both vote, the founder closes it, and the result page shows
// "passed". Then the second member delegates to the first, who votes on a
// second question; each sees where the vote went and who carries whom,
// and the delegation is revoked (RULES.md 2.4). run.sh starts the server
// and sets BASE_URL and OUT_DIR.
import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { base, outDir, step, expect, expectStatus, finish } from './lib.mjs';

const userDataDir = mkdtempSync(path.join(outDir, 'chromium-'));

const context0 = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 390, height: 844 },
  javaScriptEnabled: false,
});
// A persistent context is one profile; the second person needs her own
// cookies, so she gets a second, incognito-like context of the same browser.
const browser = context0.browser();
const ada = context0;
const bo = browser ? await browser.newContext({ viewport: { width: 390, height: 844 }, javaScriptEnabled: false }) : null;

const pa = await ada.newPage();
const slug = 'bakery-' + Date.now().toString(36);
let joinURL = '';
let proposalURL = '';
const screenshots = [];

async function signUp(page, handle, name) {
  await page.goto(base + '/signup');
  await page.getByLabel('Handle').fill(handle);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('E-mail').fill(`${handle}@example.org`);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(u => !u.pathname.startsWith('/signup'));
  expect(await page.getByText(`Signed in as ${handle}`).isVisible(), 'header does not show the handle');
}

try {
  await step('ada signs up', async () => {
    await signUp(pa, 'ada', 'Ada Baker');
  });

  await step('a bad founding form is shown again with 422 and the input kept', async () => {
    await pa.goto(base + '/coops/new');
    await pa.getByLabel('Name of the co-op').fill('River Bakery');
    await pa.getByLabel('Address').fill(slug);
    const [resp] = await Promise.all([
      pa.waitForResponse(r => r.url().endsWith('/coops/new') && r.request().method() === 'POST'),
      pa.getByRole('button', { name: 'Found the co-op' }).click(),
    ]);
    await expectStatus(resp, 422, 'found without purpose');
    expect(await pa.getByText('every co-op states its purpose').isVisible(), 'no purpose message');
    expect(await pa.getByLabel('Name of the co-op').inputValue() === 'River Bakery', 'name not kept');
  });

  await step('ada founds a co-op from the somerset preset', async () => {
    await pa.getByLabel('Purpose').fill('Bake good bread for the neighbourhood at fair prices.');
    await pa.getByLabel('Your class').selectOption('workers');
    await pa.getByRole('button', { name: 'Found the co-op' }).click();
    await pa.waitForURL(`**/coops/${slug}`);
    expect(await pa.getByRole('heading', { level: 1, name: 'River Bakery' }).isVisible(), 'no co-op heading');
    expect(await pa.getByText('Bake good bread').first().isVisible(), 'purpose not shown');
  });

  await step('ada creates an invitation for the users class', async () => {
    await pa.goto(`${base}/coops/${slug}/invitations`);
    await pa.getByLabel('Class').selectOption('users');
    await pa.getByRole('button', { name: 'Create invitation' }).click();
    await pa.waitForURL(/invitations\?new=/);
    joinURL = await pa.locator('li.new a.join-link').getAttribute('href');
    expect(joinURL && joinURL.includes('/join/'), `no join link: ${joinURL}`);
  });

  const pb = await bo.newPage();
  await step('bo opens the link, signs up and joins', async () => {
    await pb.goto(joinURL);
    expect(await pb.getByRole('heading', { name: 'Join River Bakery' }).isVisible(), 'no join heading');
    await pb.getByRole('link', { name: 'Sign up' }).last().click();
    await pb.waitForURL('**/signup**');
    await pb.getByLabel('Handle').fill('bo');
    await pb.getByLabel('Name').fill('Bo Miller');
    await pb.getByLabel('E-mail').fill('bo@example.org');
    await pb.getByLabel('Password').fill('correct horse battery');
    await pb.getByRole('button', { name: 'Create account' }).click();
    await pb.waitForURL('**/join/**');
    await pb.getByRole('button', { name: /Join River Bakery/ }).click();
    await pb.waitForURL(`**/coops/${slug}`);
    expect(await pb.getByText('You are a member in users').isVisible(), 'bo is not shown as a member');
  });

  await step('ada proposes a yes/no question', async () => {
    await pa.goto(`${base}/coops/${slug}/proposals/new`);
    await pa.getByLabel('Title').fill('Open on Sundays?');
    await pa.getByLabel('Text').fill('We would bake on Sunday mornings from May.');
    await pa.getByLabel('How members decide').selectOption('yesno');
    await pa.getByRole('button', { name: 'Put it to the members' }).click();
    await pa.waitForURL(/\/proposals\/\d+/);
    proposalURL = pa.url().replace(/[?#].*$/, '');
    expect(await pa.getByRole('heading', { name: 'Open on Sundays?' }).isVisible(), 'no proposal heading');
  });

  await step('both vote yes', async () => {
    for (const page of [pa, pb]) {
      await page.goto(proposalURL);
      await page.getByLabel('Yes').check();
      await page.getByRole('button', { name: 'Cast your vote' }).click();
      await page.waitForURL(/voted=1/);
      expect(await page.getByRole('button', { name: 'Change your vote' }).isVisible(), 'no change-vote button');
      expect(await page.getByLabel('Yes').isChecked(), 'ballot not preselected');
    }
  });

  await step('ada closes the proposal and the result says passed', async () => {
    await pa.goto(proposalURL);
    await pa.getByRole('button', { name: 'Close voting now' }).click();
    await pa.waitForURL(proposalURL);
    const outcome = (await pa.locator('.result .outcome').textContent()).trim();
    expect(outcome.startsWith('passed'), `outcome is ${JSON.stringify(outcome)}, want passed`);
    expect(await pa.locator('svg.chart rect').count() === 3, 'chart does not have three bars');
  });

  await step('bo sees the same result', async () => {
    await pb.goto(proposalURL);
    const outcome = (await pb.locator('.result .outcome').textContent()).trim();
    expect(outcome.startsWith('passed'), `bo sees ${JSON.stringify(outcome)}`);
    screenshots.push(path.join(outDir, 'result.png'));
    await pb.screenshot({ path: screenshots.at(-1), fullPage: true });
  });

  let secondURL = '';
  await step('ada proposes a second question', async () => {
    await pa.goto(`${base}/coops/${slug}/proposals/new`);
    await pa.getByLabel('Title').fill('Buy a second oven?');
    await pa.getByLabel('Topic').fill('ovens');
    await pa.getByRole('button', { name: 'Put it to the members' }).click();
    await pa.waitForURL(/\/proposals\/\d+/);
    secondURL = pa.url().replace(/[?#].*$/, '');
    expect(await pa.locator('dd .key', { hasText: 'ovens' }).isVisible(), 'the topic is not shown');
  });

  await step('bo delegates his vote in the co-op to ada', async () => {
    await pb.goto(`${base}/coops/${slug}/delegations`);
    expect(await pb.getByRole('heading', { level: 1, name: 'My delegations' }).isVisible(), 'no delegations heading');
    await pb.getByLabel('Everything in the co-op').check();
    await pb.getByLabel('Delegate to').selectOption('ada');
    await pb.getByRole('button', { name: 'Save the delegation' }).click();
    await pb.waitForURL(/done=set/);
    expect(await pb.getByText('your vote goes to @ada').isVisible(), 'the delegation is not listed');
  });

  await step('ada votes no; bo sees where his vote went', async () => {
    await pa.goto(secondURL);
    expect(await pa.getByText('1 member delegates to you').isVisible(), 'ada is not told she has a delegator');
    await pa.getByLabel('No', { exact: true }).check();
    await pa.getByRole('button', { name: 'Cast your vote' }).click();
    await pa.waitForURL(/voted=1/);
    await pb.goto(secondURL);
    const trace = (await pb.locator('.notice.trace').textContent()).trim();
    expect(/^Your vote goes to @ada, who voted No/.test(trace), `bo's trace says ${JSON.stringify(trace)}`);
  });

  await step('ada sees she carries bo', async () => {
    await pa.goto(secondURL);
    const carries = (await pa.locator('.carries').textContent()).trim();
    expect(carries.includes('counts for 1 other member'), `ada's page says ${JSON.stringify(carries)}`);
    await pa.goto(`${base}/coops/${slug}/delegations`);
    expect(await pa.getByText('You carry 1 member').isVisible(), 'ada does not carry 1 member');
  });

  await step('bo revokes his delegation and his vote counts for nobody', async () => {
    await pb.goto(`${base}/coops/${slug}/delegations`);
    await pb.getByRole('button', { name: /^Revoke/ }).click();
    await pb.waitForURL(/done=revoked/);
    expect(await pb.getByText('You have not delegated your vote').isVisible(), 'the delegation is still listed');
    await pb.goto(secondURL);
    const trace = (await pb.locator('.notice.trace').textContent()).trim();
    expect(trace.startsWith('Your vote counts for nobody yet'), `bo's trace says ${JSON.stringify(trace)}`);
    await pa.goto(`${base}/coops/${slug}/delegations`);
    expect(await pa.getByText('You carry no members').isVisible(), 'ada still carries bo');
    screenshots.push(path.join(outDir, 'delegation.png'));
    await pb.goto(secondURL);
    await pb.screenshot({ path: screenshots.at(-1), fullPage: true });
  });

  await step('a stranger is refused the proposal', async () => {
    const cx = await browser.newContext({ javaScriptEnabled: false });
    const pc = await cx.newPage();
    await signUp(pc, 'cy', 'Cy Stranger');
    const resp = await pc.goto(proposalURL);
    await expectStatus(resp, 403, 'stranger opens the proposal');
    await cx.close();
  });
} catch {
  // The failing step has been reported; count it and stop.
} finally {
  await bo?.close();
  await ada.close();
}

for (const s of screenshots) console.log(`screenshot: ${s}`);
finish();
