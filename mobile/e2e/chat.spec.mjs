// End-to-end run of the web chat against a real stack (backend + worker), with playwright-core
// and Debian's Chromium. Not part of `npm test`; run it with `npm run e2e` once the stack is up.
//
//   WHALE_E2E_BASE_URL   the backend that serves the web build (default http://127.0.0.1:8000)
//   WHALE_E2E_CODE_HOOK  a module whose default export is `async getVerificationCode(email, baseUrl)`
//                        (default: ./verification-code.mjs, which reads a dev endpoint or the mail folder)
//   WHALE_E2E_SCREENSHOTS  where screenshots go (default ../../docs/screenshots)
//   CHROMIUM_PATH        default /usr/bin/chromium
//   WHALE_E2E_DRY_RUN=1  only check that the browser starts and this file loads
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const baseUrl = (process.env.WHALE_E2E_BASE_URL ?? 'http://127.0.0.1:8000').replace(/\/$/, '');
const shotsDir = resolve(process.env.WHALE_E2E_SCREENSHOTS ?? join(here, '..', '..', 'docs', 'screenshots'));
const hookPath = resolve(process.env.WHALE_E2E_CODE_HOOK ?? join(here, 'verification-code.mjs'));
const dryRun = process.env.WHALE_E2E_DRY_RUN === '1';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

function step(name) {
  console.log(`• ${name}`);
}

async function launch(viewport, colorScheme = 'light') {
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'whale-e2e-')), {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    viewport,
    colorScheme,
  });
}

async function signUp(page, email, password, getVerificationCode) {
  step(`sign up as ${email}`);
  await page.goto(`${baseUrl}/signup`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByLabel('Verification code').waitFor();
  step('read the verification code');
  const code = await getVerificationCode(email, baseUrl);
  await page.getByLabel('Verification code').fill(String(code));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByLabel('Message Whale').waitFor();
}

async function sendWithDeepThink(page, text) {
  const toggle = page.getByRole('switch', { name: 'DeepThink (R1)' });
  if ((await toggle.getAttribute('aria-checked')) !== 'true') await toggle.click();
  await page.getByLabel('Message Whale').fill(text);
  await page.getByRole('button', { name: 'Send message' }).click();
}

async function main() {
  const { getVerificationCode } = dryRun ? { getVerificationCode: async () => '000000' } : await import(pathToFileURL(hookPath).href).then((m) => ({ getVerificationCode: m.default ?? m.getVerificationCode }));

  const context = await launch(DESKTOP);
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => console.error('page error:', error.message));
  if (dryRun) {
    await page.setContent('<p>ok</p>');
    console.log('dry run: Chromium started and the spec loaded');
    await context.close();
    return;
  }
  mkdirSync(shotsDir, { recursive: true });

  const email = `e2e-${Date.now()}@example.com`;
  const password = 'e2e-password-123';
  await signUp(page, email, password, getVerificationCode);

  step('send a question with DeepThink on; reasoning then answer stream in');
  await sendWithDeepThink(page, 'Why is the sky blue? Explain briefly.');
  await page.getByRole('button', { name: 'Thinking…' }).waitFor({ timeout: 60_000 });
  await page.waitForURL(/\/c\/[0-9a-f-]+/);

  step('reload mid-answer; the stream resumes from the start or its cursor');
  await page.reload();
  await page.getByRole('button', { name: /Thinking…|Thought for/ }).waitFor({ timeout: 60_000 });
  await page.getByRole('button', { name: /Thought for/ }).waitFor({ timeout: 120_000 });
  await page.getByRole('button', { name: 'Regenerate' }).waitFor({ timeout: 120_000 });

  step('regenerate: a second version appears with 2 / 2');
  await page.getByRole('button', { name: 'Regenerate' }).click();
  await page.getByText('2 / 2').first().waitFor({ timeout: 120_000 });
  await page.getByRole('button', { name: 'Regenerate' }).waitFor({ timeout: 120_000 });

  step('screenshots: desktop light');
  await page.screenshot({ path: join(shotsDir, 'chat-desktop-light.png') });

  step('rename the conversation');
  const conversationUrl = page.url();
  await page.getByRole('button', { name: /^Actions for / }).first().click();
  await page.getByRole('button', { name: 'Rename' }).click();
  await page.getByLabel('Rename chat').fill('E2E renamed chat');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('link', { name: 'E2E renamed chat' }).waitFor();

  for (const [name, viewport, scheme] of [
    ['chat-phone-light', PHONE, 'light'],
    ['chat-phone-dark', PHONE, 'dark'],
    ['chat-desktop-dark', DESKTOP, 'dark'],
  ]) {
    step(`screenshot ${name}`);
    await page.setViewportSize(viewport);
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto(conversationUrl);
    await page.getByRole('button', { name: 'Regenerate' }).waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(shotsDir, `${name}.png`) });
  }
  await page.setViewportSize(DESKTOP);
  await page.emulateMedia({ colorScheme: 'light' });

  step('delete the conversation (with confirm)');
  await page.goto(conversationUrl);
  await page.getByRole('button', { name: 'Actions for E2E renamed chat' }).click();
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('button', { name: 'Delete' }).last().click();
  await page.getByRole('link', { name: 'E2E renamed chat' }).waitFor({ state: 'detached' });

  step('screenshots: the login screen, phone and desktop');
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('button', { name: 'Log in' }).waitFor();
  await page.screenshot({ path: join(shotsDir, 'login-desktop-light.png') });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: join(shotsDir, 'login-phone-light.png') });

  await context.close();
  console.log(`e2e passed; screenshots in ${shotsDir}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
