// End-to-end run of the web chat against a real stack (backend, Redis, backend worker, GPU worker
// with vLLM and the tiny model), with playwright-core and Debian's Chromium. `scripts/e2e.sh` starts
// a private stack and runs this (`make test` calls it); or run `npm run e2e` against a stack of yours.
//
//   WHALE_E2E_BASE_URL   the backend that serves the web build (default http://127.0.0.1:8000)
//   WHALE_E2E_CODE_HOOK  a module whose default export is `async getVerificationCode(email, baseUrl)`
//                        (default: ./verification-code.mjs, which reads a dev endpoint or the mail folder)
//   WHALE_E2E_GPU_PGID   the GPU worker's process group. With it the run slows the worker (SIGSTOP /
//                        SIGCONT duty cycle) and freezes it mid-answer, so "reload mid-answer" is
//                        certain; the tiny model otherwise answers in a third of a second.
//   WHALE_E2E_SCREENSHOTS  where screenshots go (scripts/e2e.sh sets var/e2e/screenshots; make screenshots: docs/screenshots)
//   CHROMIUM_PATH        default /usr/bin/chromium
//   WHALE_E2E_DRY_RUN=1  only check that the browser starts and this file loads
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const baseUrl = (process.env.WHALE_E2E_BASE_URL ?? 'http://127.0.0.1:8000').replace(/\/$/, '');
const shotsDir = resolve(process.env.WHALE_E2E_SCREENSHOTS ?? join(here, '..', '..', 'docs', 'screenshots'));
const hookPath = resolve(process.env.WHALE_E2E_CODE_HOOK ?? join(here, 'verification-code.mjs'));
const gpuPgid = Number(process.env.WHALE_E2E_GPU_PGID ?? '') || null;
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
const ANSWER_TIMEOUT = 120_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const normalize = (text) => text.replace(/\s+/g, ' ').trim();
const started = Date.now();

function step(name) {
  console.log(`• [${((Date.now() - started) / 1000).toFixed(1)} s] ${name}`);
}

/**
 * Holds and steps vLLM's engine (EngineCore and its workers, in the GPU worker's process group)
 * with SIGSTOP/SIGCONT, as if the GPU were very slow: the tiny model answers in a third of a second,
 * far too fast to reload in the middle otherwise. The worker's main process keeps running, so it
 * renews the turn's lease, sends heartbeats and writes out what the engine made. Without a process
 * group (a stack that is not ours) every method does nothing.
 */
class GpuStepper {
  constructor(pgid) {
    this.pgid = pgid;
    this.enginePids = null;
  }

  /** The engine's processes: in the worker's group and named VLLM::… */
  engine() {
    if (this.enginePids === null) {
      this.enginePids = [];
      for (const entry of readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        try {
          const [, comm, rest] = /^\d+ \((.*)\) (.*)$/s.exec(readFileSync(`/proc/${entry}/stat`, 'utf8'));
          if (Number(rest.split(' ')[2]) === this.pgid && comm.startsWith('VLLM::')) this.enginePids.push(Number(entry));
        } catch {
          // The process ended while we looked.
        }
      }
      assert.ok(this.enginePids.length > 0, `no vLLM engine process in the GPU worker's process group ${this.pgid}`);
    }
    return this.enginePids;
  }

  holdEngine() {
    if (this.pgid) for (const pid of this.engine()) process.kill(pid, 'SIGSTOP');
  }

  /** CPU time (clock ticks) the worker's main process has used so far. */
  mainCpu() {
    const [, , rest] = /^\d+ \((.*)\) (.*)$/s.exec(readFileSync(`/proc/${this.pgid}/stat`, 'utf8'));
    const fields = rest.split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  }

  /** Waits until the main process has handled what the engine sent it (it stops using the CPU). */
  async mainSettled(maxMs = 3_000) {
    const deadline = Date.now() + maxMs;
    for (let last = this.mainCpu(); Date.now() < deadline; ) {
      await sleep(100);
      const now = this.mainCpu();
      if (now - last <= 1) return;
      last = now;
    }
  }

  /**
   * Lets the held engine run a moment at a time until `done()`; after each step the worker's main
   * process gets to write out what the engine made before the next. The engine makes dozens of
   * tokens in a few milliseconds, so the steps start at half a millisecond; a loaded machine may
   * not schedule it that briefly, so each step is a little longer than the one before, up to 10 ms.
   */
  async stepEngine(done, what, timeout = ANSWER_TIMEOUT) {
    if (!this.pgid) return;
    const deadline = Date.now() + timeout;
    for (let runMs = 0.5; !done(); runMs = Math.min(runMs * 1.2, 10)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      for (const pid of this.engine()) process.kill(pid, 'SIGCONT');
      // Busy-wait: a timer would let the engine run for as long as Node's event loop is busy.
      for (const until = performance.now() + runMs; performance.now() < until; );
      for (const pid of this.engine()) process.kill(pid, 'SIGSTOP');
      await this.mainSettled();
      await sleep(150); // the backend relays what the worker wrote
    }
  }

  release() {
    for (const pid of this.enginePids ?? []) process.kill(pid, 'SIGCONT');
  }
}

/**
 * Reads a turn's events from the API's SSE stream (as the app's fallback transport does) and calls
 * `onEvent(type)` synchronously for each, so a test can act within a millisecond of an event.
 */
function watchTurnEvents(access, turnId, onEvent) {
  const controller = new AbortController();
  const types = [];
  const reading = (async () => {
    const response = await fetch(`${baseUrl}/api/v1/turns/${turnId}/events`, {
      headers: { Authorization: `Bearer ${access}`, Accept: 'text/event-stream' },
      signal: controller.signal,
    });
    assert.equal(response.status, 200, `the turn's event stream answered ${response.status}`);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const type = /^event: (.*)$/m.exec(buffer.slice(0, end))?.[1];
        buffer = buffer.slice(end + 2);
        if (type) {
          types.push(type);
          onEvent(type);
        }
      }
    }
  })().catch((error) => {
    if (error.name !== 'AbortError') throw error;
  });
  return { types, close: () => controller.abort(), reading };
}

async function launch(viewport, colorScheme = 'light') {
  const userDataDir = mkdtempSync(join(tmpdir(), 'whale-e2e-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    viewport,
    colorScheme,
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  context.removeProfile = () => rmSync(userDataDir, { recursive: true, force: true, maxRetries: 3 });
  return context;
}

/** The API as this user, from Node, to check what the page shows against what the server stored. */
async function apiSession(email, password) {
  const login = await fetch(`${baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  assert.equal(login.status, 200, `API login answered ${login.status}`);
  const { access } = await login.json();
  const api = async (path, { method = 'GET' } = {}) => {
    const response = await fetch(`${baseUrl}/api/v1${path}`, { method, headers: { Authorization: `Bearer ${access}` } });
    return { status: response.status, body: response.status === 204 ? null : await response.json() };
  };
  api.access = access;
  return api;
}

async function signUp(page, email, password, getVerificationCode) {
  step(`sign up as ${email}`);
  await page.goto(`${baseUrl}/signup`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByLabel('Verification code').waitFor();
  step('read the verification code from the email');
  const code = await getVerificationCode(email, baseUrl);
  assert.match(String(code), /^\d{6}$/);
  await page.getByLabel('Verification code').fill(String(code));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByLabel('Message Whale').waitFor();
  await page.getByText("Hi, I'm Whale.").waitFor();
}

const lastAnswer = (page) => page.getByTestId('assistant-message').last();
const reasoningText = (page) => lastAnswer(page).getByTestId('reasoning-text');
const answerText = (page) => lastAnswer(page).getByTestId('answer-content');

async function waitFor(predicate, what, timeout = ANSWER_TIMEOUT) {
  const deadline = Date.now() + timeout;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function textOf(locator) {
  return (await locator.count()) ? normalize(await locator.first().innerText({ timeout: 1_000 }).catch(() => '')) : '';
}

/** The last answer as the page shows it right now (nothing clicked). */
async function visibleAnswer(page) {
  return {
    thinking: (await lastAnswer(page).getByRole('button', { name: 'Thinking…' }).count()) > 0,
    reasoning: await textOf(reasoningText(page)),
    content: await textOf(answerText(page)),
    generating: (await page.getByRole('button', { name: 'Stop generating' }).count()) > 0,
  };
}

/** The assistant message on the branch the server shows, as stored. */
async function storedAnswer(api, conversationId) {
  const { status, body } = await api(`/conversations/${conversationId}`);
  assert.equal(status, 200);
  const answers = body.messages.filter((m) => m.role === 'assistant');
  return answers[answers.length - 1];
}

/** The same once the backend has saved how it ended (its worker does so just after the stream's `done`). */
async function finishedAnswer(api, conversationId) {
  let answer = null;
  await waitFor(async () => !['queued', 'streaming'].includes((answer = await storedAnswer(api, conversationId)).status), 'the backend to save the answer', 30_000);
  return answer;
}

async function waitForAnswerDone(page) {
  await lastAnswer(page).getByRole('button', { name: 'Regenerate' }).waitFor({ timeout: ANSWER_TIMEOUT });
  await page.getByRole('button', { name: 'Send message' }).waitFor();
}

async function openReasoning(page) {
  const header = lastAnswer(page).getByRole('button', { name: /^Thought for / });
  if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
  await reasoningText(page).waitFor();
}

async function main() {
  const { getVerificationCode } = dryRun
    ? { getVerificationCode: async () => '000000' }
    : await import(pathToFileURL(hookPath).href).then((m) => ({ getVerificationCode: m.default ?? m.getVerificationCode }));

  const context = await launch(DESKTOP);
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors = [];
  page.on('pageerror', (error) => {
    pageErrors.push(error.message);
    console.error('page error:', error.message);
  });
  if (dryRun) {
    await page.setContent('<p>ok</p>');
    console.log('dry run: Chromium started and the spec loaded');
    await context.close();
    context.removeProfile();
    return;
  }
  mkdirSync(shotsDir, { recursive: true });
  // Every event the page gets on a turn's WebSocket, in order (a reload opens a new socket).
  const turnEvents = [];
  page.on('websocket', (socket) => {
    if (!socket.url().includes('/ws/turns/')) return;
    socket.on('framereceived', ({ payload }) => {
      try {
        turnEvents.push(JSON.parse(String(payload)));
      } catch {
        // Not an event.
      }
    });
  });
  const gpu = new GpuStepper(gpuPgid);
  const shot = async (name) => {
    await page.screenshot({ path: join(shotsDir, `${name}.png`) });
    step(`screenshot ${name}.png`);
  };

  try {
    const email = `e2e-${Date.now()}@example.com`;
    const password = 'e2e-password-123';
    await signUp(page, email, password, getVerificationCode);
    const api = await apiSession(email, password);

    step('send a question with DeepThink on');
    const deepthink = page.getByRole('switch', { name: 'DeepThink (R1)' });
    if ((await deepthink.getAttribute('aria-checked')) !== 'true') await deepthink.click();
    assert.equal(await deepthink.getAttribute('aria-checked'), 'true', 'the DeepThink switch says it is on');
    // One try: send, step the engine until the first text is written, and see it on the page.
    const sendAndCatchFirstText = async () => {
      gpu.holdEngine();
      await page.getByLabel('Message Whale').fill('Why is the sky blue? Explain briefly.');
      await page.getByRole('button', { name: 'Send message' }).click();
      await page.waitForURL(/\/c\/[0-9a-f-]{36}$/);
      const conversationId = page.url().split('/').pop();
      await page.getByRole('button', { name: 'Stop generating' }).waitFor();
      const turnId = (await storedAnswer(api, conversationId)).id;
      let firstText = null;
      const watcher = watchTurnEvents(api.access, turnId, (type) => {
        if (firstText === null && ['reasoning', 'content', 'done', 'error'].includes(type)) firstText = type;
      });
      await gpu.stepEngine(() => firstText !== null, 'the first reasoning');
      watcher.close();
      let seen = null;
      await waitFor(async () => {
        seen = await visibleAnswer(page);
        return seen.reasoning.length > 0 || seen.content.length > 0 || !seen.generating;
      }, 'the first text on the page');
      return { conversationId, conversationUrl: page.url(), firstText, seen };
    };

    step('the reasoning starts streaming into "Thinking…"; the engine stands still from the first text on');
    let attempt = await sendAndCatchFirstText();
    // Now and then the engine makes the whole answer in one step, before the worker writes a word
    // of it: then there is no "Thinking…" to reload in. Try again in a new chat (at most 4 tries).
    for (let tries = 1; gpu.pgid && tries < 4 && !(attempt.seen.thinking && attempt.seen.generating); tries += 1) {
      console.log(`  (the first text already ended the reasoning: ${JSON.stringify(attempt.seen)}; trying again in a new chat)`);
      gpu.release();
      await waitForAnswerDone(page);
      assert.equal((await api(`/conversations/${attempt.conversationId}`, { method: 'DELETE' })).status, 204);
      await page.goto(`${baseUrl}/`);
      await page.getByText("Hi, I'm Whale.").waitFor();
      attempt = await sendAndCatchFirstText();
    }
    const { conversationId, conversationUrl, firstText, seen: before } = attempt;
    if (gpu.pgid) {
      assert.equal(firstText, 'reasoning', 'the first event with text is reasoning');
      assert.ok(before.thinking && before.generating && before.reasoning.length > 0, `reasoning shows under "Thinking…" while generating: ${JSON.stringify(before)}`);
      const running = await storedAnswer(api, conversationId);
      assert.ok(['queued', 'streaming'].includes(running.status), `the server is still generating the answer (${running.status})`);
      await shot('chat-streaming-desktop-light');
    }

    step('reload mid-answer');
    const eventsBeforeReload = turnEvents.length;
    await page.reload();
    let after = null;
    if (gpu.pgid) {
      // The worker stands still: all the page can show is what came back over the resumed stream.
      await waitFor(async () => {
        after = await visibleAnswer(page);
        return after.generating && after.thinking && after.reasoning.length >= before.reasoning.length;
      }, 'the answer to come back after the reload', 30_000);
      assert.ok(after.reasoning.startsWith(before.reasoning), `the reasoning goes on where it was:\n  before: ${before.reasoning}\n  after:  ${after.reasoning}`);
    }

    step('the rest of the reasoning and then the answer stream in');
    gpu.release();
    await waitForAnswerDone(page);
    await lastAnswer(page).getByRole('button', { name: /^Thought for \d+ seconds?$/ }).waitFor();
    if (gpu.pgid) {
      const resumedTypes = turnEvents.slice(eventsBeforeReload).map((e) => e.type);
      assert.ok(resumedTypes.includes('content') && resumedTypes.includes('done'), `the answer came over the resumed stream: ${resumedTypes.join(', ')}`);
    }

    step('what the page shows is exactly what the server stored: no gaps, no doubles');
    const stored = await finishedAnswer(api, conversationId);
    assert.equal(stored.status, 'done');
    assert.equal(stored.deepthink, true);
    assert.ok(stored.reasoning_content.length > 0 && stored.content.length > 0, 'the answer has reasoning and content');
    assert.equal(normalize(await answerText(page).innerText()), normalize(stored.content));
    await openReasoning(page);
    const finalReasoning = normalize(await reasoningText(page).innerText());
    assert.equal(finalReasoning, normalize(stored.reasoning_content));
    assert.ok(finalReasoning.startsWith(before.reasoning), 'the reasoning seen before the reload is the start of the final one');

    step('regenerate twice: versions 2 / 2, then 3 / 3; the arrows go back to 2 / 3');
    await lastAnswer(page).getByRole('button', { name: 'Regenerate' }).click();
    await lastAnswer(page).getByText('2 / 2').waitFor({ timeout: ANSWER_TIMEOUT });
    await waitForAnswerDone(page);
    await lastAnswer(page).getByRole('button', { name: 'Regenerate' }).click();
    await lastAnswer(page).getByText('3 / 3').waitFor({ timeout: ANSWER_TIMEOUT });
    await waitForAnswerDone(page);
    const third = await finishedAnswer(api, conversationId);
    assert.equal(third.sibling_count, 3);
    assert.equal(third.sibling_index, 2);
    assert.equal(normalize(await answerText(page).innerText()), normalize(third.content));
    await lastAnswer(page).getByRole('button', { name: 'Previous version' }).click();
    await lastAnswer(page).getByText('2 / 3').waitFor();
    const second = await finishedAnswer(api, conversationId);
    assert.equal(second.sibling_index, 1, 'the server shows version 2 after the arrow');
    assert.equal(normalize(await answerText(page).innerText()), normalize(second.content));
    assert.equal(await page.getByTestId('assistant-message').count(), 1, 'one answer on screen: the branch switched, nothing doubled');

    step('rename the conversation');
    await page.getByRole('button', { name: /^Actions for / }).first().click();
    await page.getByRole('button', { name: 'Rename' }).click();
    const renameDialog = page.getByRole('dialog', { name: 'Rename chat' });
    await renameDialog.getByRole('textbox').fill('Why the sky is blue');
    await renameDialog.getByRole('button', { name: 'Save' }).click();
    await renameDialog.waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'Why the sky is blue' }).waitFor();
    assert.equal((await api(`/conversations/${conversationId}`)).body.title, 'Why the sky is blue');

    for (const [name, viewport, scheme] of [
      ['chat-desktop-light', DESKTOP, 'light'],
      ['chat-desktop-dark', DESKTOP, 'dark'],
      ['chat-phone-light', PHONE, 'light'],
      ['chat-phone-dark', PHONE, 'dark'],
    ]) {
      await page.setViewportSize(viewport);
      await page.emulateMedia({ colorScheme: scheme });
      await page.goto(conversationUrl);
      await waitForAnswerDone(page);
      await openReasoning(page);
      await shot(name);
    }
    step('the history drawer on a phone');
    await page.getByRole('button', { name: 'Open history' }).click();
    await page.getByRole('link', { name: 'Why the sky is blue' }).waitFor();
    await page.getByText('Today').waitFor();
    await sleep(800); // the drawer fades in
    await shot('history-phone-dark');
    await page.getByRole('button', { name: 'Close' }).click();
    await page.setViewportSize(DESKTOP);
    await page.emulateMedia({ colorScheme: 'light' });

    step('delete the conversation (with confirm)');
    await page.goto(conversationUrl);
    await page.getByRole('button', { name: 'Actions for Why the sky is blue' }).click();
    await page.getByRole('button', { name: 'Delete' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete chat?' });
    await confirm.getByText('"Why the sky is blue" will be deleted permanently.').waitFor();
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('link', { name: 'Why the sky is blue' }).waitFor({ state: 'detached' });
    await page.getByText("Hi, I'm Whale.").waitFor();
    assert.equal((await api(`/conversations/${conversationId}`)).status, 404, 'the server deleted it');
    await shot('empty-desktop-light');

    step('log out; the login screen');
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    await shot('login-desktop-light');
    await page.setViewportSize(PHONE);
    await shot('login-phone-light');

    assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
  } catch (error) {
    await page.screenshot({ path: join(tmpdir(), 'whale-e2e-failure.png') }).catch(() => {});
    console.error(`the page at the failure: ${join(tmpdir(), 'whale-e2e-failure.png')}`);
    throw error;
  } finally {
    gpu.release();
    await context.close();
    context.removeProfile();
  }
  console.log(`e2e passed in ${((Date.now() - started) / 1000).toFixed(0)} s; screenshots in ${shotsDir}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
