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
//   WHALE_E2E_FILES_PGID the files worker's process group: paused while the chips say "Reading…", so that
//                        state (Send waiting for the files) is certain.
//   WHALE_E2E_MANAGE     how to run the stack's `manage.py` (e.g. "../.venv/bin/python ../backend/manage.py", with
//                        the stack's environment): the run stores an answer with maths and code, lowers a limit
//                        and suspends the account through it. Without it those checks are skipped.
//   WHALE_E2E_SCREENSHOTS  where screenshots go (scripts/e2e.sh sets var/e2e/screenshots; make screenshots: docs/screenshots)
//   CHROMIUM_PATH        default /usr/bin/chromium
//   WHALE_E2E_DRY_RUN=1  only check that the browser starts and this file loads
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { chromium } from 'playwright-core';

import { checkFiles, checkSearch } from './search-files.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const baseUrl = (process.env.WHALE_E2E_BASE_URL ?? 'http://127.0.0.1:8000').replace(/\/$/, '');
const shotsDir = resolve(process.env.WHALE_E2E_SCREENSHOTS ?? join(here, '..', '..', 'docs', 'screenshots'));
const hookPath = resolve(process.env.WHALE_E2E_CODE_HOOK ?? join(here, 'verification-code.mjs'));
const gpuPgid = Number(process.env.WHALE_E2E_GPU_PGID ?? '') || null;
const filesPgid = Number(process.env.WHALE_E2E_FILES_PGID ?? '') || null;
const dryRun = process.env.WHALE_E2E_DRY_RUN === '1';
const manage = process.env.WHALE_E2E_MANAGE ? process.env.WHALE_E2E_MANAGE.split(' ') : null;
const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

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

  /** Nanoseconds of CPU the engine's processes have had so far, all their threads (schedstat). */
  engineCpuNs() {
    let total = 0;
    for (const pid of this.engine()) {
      let tasks = [];
      try {
        tasks = readdirSync(`/proc/${pid}/task`);
      } catch {
        continue; // the process ended
      }
      for (const task of tasks) {
        try {
          total += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
        } catch {
          // The thread ended while we looked.
        }
      }
    }
    return total;
  }

  /**
   * Lets the held engine run a moment at a time until `done()`; after each step the worker's main
   * process gets to write out what the engine made before the next. The engine makes dozens of
   * tokens in a few milliseconds, so the steps are a quarter of a millisecond. A loaded machine may not
   * schedule it that briefly: a step in which the engine got no CPU at all makes the next one a
   * little longer, up to 10 ms. A step in which it ran does not, so the steps that waited for the
   * prompt's prefill cannot add up to one long step that makes the whole answer at once.
   */
  async stepEngine(done, what, timeout = ANSWER_TIMEOUT) {
    if (!this.pgid) return;
    const deadline = Date.now() + timeout;
    for (let runMs = 0.25; !done(); ) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      const before = this.engineCpuNs();
      for (const pid of this.engine()) process.kill(pid, 'SIGCONT');
      // Busy-wait: a timer would let the engine run for as long as Node's event loop is busy.
      for (const until = performance.now() + runMs; performance.now() < until; );
      for (const pid of this.engine()) process.kill(pid, 'SIGSTOP');
      if (this.engineCpuNs() === before) runMs = Math.min(runMs * 1.2, 10);
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

/** Runs Python in the stack's Django (`manage.py shell -c`) and returns what it prints. */
function django(code) {
  assert.ok(manage, 'WHALE_E2E_MANAGE is not set');
  const [python, ...args] = manage;
  return execFileSync(python, [...args, 'shell', '-c', code], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

const VIEWS = [
  ['desktop', DESKTOP, 'light'],
  ['desktop', DESKTOP, 'dark'],
  ['phone', PHONE, 'light'],
  ['phone', PHONE, 'dark'],
];
/** Every axe-core violation seen, by impact, for the summary at the end. */
const axeSeen = { critical: 0, serious: 0, moderate: 0, minor: 0 };
const axePages = [];

/** axe-core on the page as it is now: 0 critical and 0 serious violations, or the run fails. */
async function axeCheck(page, name) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.addScriptTag({ path: axePath });
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 4).map((n) => n.target.join(' ')) }));
  });
  for (const v of violations) axeSeen[v.impact] = (axeSeen[v.impact] ?? 0) + 1;
  const blocking = violations.filter((v) => v.impact === 'critical' || v.impact === 'serious');
  assert.deepEqual(blocking, [], `axe-core on ${name}: critical or serious violations\n${JSON.stringify(blocking, null, 2)}`);
  axePages.push(name);
}

/** axe-core on one page at the desktop and phone sizes, light and dark; leaves it at desktop, light. */
async function axeEverywhere(page, name) {
  for (const [size, viewport, scheme] of VIEWS) {
    await page.setViewportSize(viewport);
    await page.emulateMedia({ colorScheme: scheme });
    await sleep(250); // the layout and theme follow the size and scheme
    await axeCheck(page, `${name} (${size}, ${scheme})`);
  }
  await page.setViewportSize(DESKTOP);
  await page.emulateMedia({ colorScheme: 'light' });
  step(`axe-core: ${name}: no critical or serious violation at 2 sizes x 2 themes`);
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
  const api = async (path, { method = 'GET', body } = {}) => {
    const headers = { Authorization: `Bearer ${access}`, ...(body ? { 'Content-Type': 'application/json' } : {}) };
    const send = () => fetch(`${baseUrl}/api/v1${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
    // A pooled keep-alive connection the server closed while idle (uvicorn after 5 s) can fail the
    // request before it is sent: undici says UND_ERR_SOCKET. Send it once more, as a browser would.
    const response = await send().catch((error) => {
      if (error?.cause?.code === 'UND_ERR_SOCKET') return send();
      throw error;
    });
    return { status: response.status, body: response.status === 204 ? null : await response.json() };
  };
  api.access = access;
  return api;
}

async function signUp(page, email, password, getVerificationCode) {
  step(`sign up as ${email}`);
  await page.goto(`${baseUrl}/signup`);
  await page.getByRole('button', { name: 'Sign up' }).waitFor();
  await axeEverywhere(page, 'sign-up page');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByLabel('Verification code').waitFor();
  await axeEverywhere(page, 'verify page');
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
    const sidebarChats = () => page.getByRole('navigation').getByRole('link');
    await axeEverywhere(page, 'empty chat');

    step('a message over the length limit: the counter says so before sending, and Send stays off');
    const usage = (await api('/me/usage')).body;
    const maxChars = usage.limits.max_message_chars;
    assert.ok(maxChars > 0, 'the plan has a message length limit');
    const composer = page.getByLabel('Message Whale');
    await composer.fill('x'.repeat(maxChars + 1));
    await page.getByText(`1 characters over the limit of ${maxChars.toLocaleString('en-US')}: shorten the message to send it`).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Send message' }).isDisabled(), true, 'Send is off over the limit');
    if (manage) {
      step('a send the server refuses (the limit lowered on the server after the page read it) keeps its text and leaves no chat');
      django(`from accounts.models import User; from ratelimits.models import Tier, UserLimit; u = User.objects.get(email='${email}'); UserLimit.objects.update_or_create(user=u, defaults={'tier': Tier.objects.get(slug='free'), 'max_message_chars': 100})`);
      const question = `${'A question that is far too long for a limit of one hundred characters. '.repeat(3)}`.trim();
      await composer.fill(question);
      await page.getByRole('button', { name: 'Send message' }).click();
      await page.getByText('This message is too long: at most 100 characters on your plan. Shorten it and send again.').waitFor();
      assert.equal(await composer.inputValue(), question, 'the refused question is still in the composer');
      assert.equal(await page.getByRole('alert').getByRole('button', { name: 'Retry' }).count(), 0, 'no Retry for a send that cannot succeed');
      assert.equal(new URL(page.url()).pathname, '/', 'still on the new chat');
      assert.equal(await sidebarChats().count(), 0, 'no empty "New chat" in the sidebar');
      assert.equal((await api('/conversations')).body.results.length, 0, 'the server has no conversation');
      await page.getByText(/ characters over the limit of 100: shorten the message to send it$/).waitFor(); // the counter learnt the new limit
      await shot('rejected-send-desktop-light');
      django(`from ratelimits.models import UserLimit; UserLimit.objects.filter(user__email='${email}').delete()`);
      await page.reload();
      await page.getByText("Hi, I'm Whale.").waitFor();
    }

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
    // of it: then there is no "Thinking…" to reload in. Try again in a new chat (at most 6 tries).
    for (let tries = 1; gpu.pgid && tries < 6 && !(attempt.seen.thinking && attempt.seen.generating); tries += 1) {
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

    await axeEverywhere(page, 'chat with an answer');

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
    // The switch shows at once (an optimistic update); the server has it once its write lands.
    let second = null;
    await waitFor(async () => (second = await finishedAnswer(api, conversationId)).sibling_index === 1, 'the server to show version 2 after the arrow', 15_000);
    // The counter moved at once; the text below it comes with the switch's own answer, which reaches the page
    // a moment after the server has the switch.
    let shown = null;
    await waitFor(async () => (shown = normalize(await answerText(page).innerText())) === normalize(second.content), 'the page to show version 2', 15_000)
      .catch(() => assert.equal(shown, normalize(second.content), 'the page shows the version the server has'));
    assert.equal(await page.getByTestId('assistant-message').count(), 1, 'one answer on screen: the branch switched, nothing doubled');

    step('rename the conversation');
    await page.getByRole('button', { name: /^Actions for / }).first().click();
    await page.getByRole('button', { name: 'Rename' }).click();
    const renameDialog = page.getByRole('dialog', { name: 'Rename chat' });
    await renameDialog.getByRole('textbox').fill('Why the sky is blue');
    await renameDialog.getByRole('button', { name: 'Save' }).click();
    await renameDialog.waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'Why the sky is blue' }).waitFor();
    // Rename and delete show at once (optimistic updates): wait for the server to have them.
    await waitFor(async () => (await api(`/conversations/${conversationId}`)).body.title === 'Why the sky is blue', 'the server to save the new title', 15_000);

    step('history is real navigation: sidebar links, Back and Forward between two chats and settings');
    const other = await api('/messages', { method: 'POST', body: { content: 'Hello there', deepthink: false } });
    assert.equal(other.status, 202, `POST /messages answered ${other.status}`);
    const otherId = other.body.conversation.id;
    await finishedAnswer(api, otherId);
    await page.goto(conversationUrl);
    // Found by its address: a conversation in the sidebar is an <a href> (its title comes from the backend's worker).
    const otherLink = page.getByRole('navigation').locator(`a[href="/c/${otherId}"]`);
    await otherLink.waitFor();
    assert.equal(await otherLink.evaluate((el) => el.tagName), 'A');
    assert.equal(await page.getByRole('link', { name: 'Why the sky is blue' }).getAttribute('aria-current'), 'page');
    const [tab] = await Promise.all([context.waitForEvent('page'), otherLink.click({ modifiers: ['Control'] })]);
    await tab.waitForLoadState('domcontentloaded');
    assert.equal(new URL(tab.url()).pathname, `/c/${otherId}`, 'Ctrl+click opens the chat in a new tab');
    await tab.close();
    assert.equal(page.url(), conversationUrl, 'Ctrl+click left this tab where it was');
    await otherLink.click();
    await page.waitForURL(`${baseUrl}/c/${otherId}`);
    await page.getByRole('main').getByText('Hello there').waitFor();
    await page.getByRole('button', { name: /Settings$/ }).click();
    await page.waitForURL(`${baseUrl}/settings`);
    await page.getByRole('heading', { name: 'Usage and limits' }).waitFor();
    await axeEverywhere(page, 'settings');
    const at = async (url, what) => {
      await page.waitForURL(url);
      await what.waitFor();
    };
    await page.goBack();
    await at(`${baseUrl}/c/${otherId}`, page.getByRole('main').getByText('Hello there'));
    await page.goBack();
    await at(conversationUrl, page.getByRole('main').getByText('Why is the sky blue? Explain briefly.'));
    await page.goForward();
    await at(`${baseUrl}/c/${otherId}`, page.getByRole('main').getByText('Hello there'));
    await page.goForward();
    await at(`${baseUrl}/settings`, page.getByRole('heading', { name: 'Usage and limits' }));
    // Settings' own back arrow stays in the app (after the browser's Back and Forward the router
    // knows only this page, so it opens a new chat rather than leave to whatever came before).
    await page.getByRole('button', { name: 'Back' }).click();
    await page.waitForURL((url) => url.origin === baseUrl && url.pathname !== '/settings');
    await page.getByLabel('Message Whale').waitFor();
    assert.equal((await api(`/conversations/${otherId}`, { method: 'DELETE' })).status, 204);

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

    if (manage) {
      step('an answer with maths and code (stored through the ORM: the demo model cannot write one) renders TeX and highlighting');
      const answer = [
        'The roots of $ax^2 + bx + c = 0$ are',
        '',
        '$$x = \\frac{-b \\pm \\sqrt{b^2 - 4ac}}{2a}$$',
        '',
        "and Euler's identity is \\(e^{i\\pi} + 1 = 0\\); a sum in display form:",
        '',
        '\\[\\sum_{n=1}^{\\infty} \\frac{1}{n^2} = \\frac{\\pi^2}{6}\\]',
        '',
        'A coffee costs $5 and a cake $10.',
        '',
        '```python',
        'def roots(a, b, c):',
        '    d = (b * b - 4 * a * c) ** 0.5  # the discriminant',
        '    return (-b + d) / (2 * a), (-b - d) / (2 * a)',
        '```',
      ].join('\n');
      const mathId = django(`
import datetime as dt
from django.utils import timezone
from accounts.models import User
from chat.models import Conversation, Message
u = User.objects.get(email=${JSON.stringify(email)})
now = timezone.now()
c = Conversation.objects.create(user=u, title='Maths and code')
q = Message.objects.create(conversation=c, role='user', content='Solve a quadratic, then write it in Python.', status='done', created_at=now - dt.timedelta(seconds=9))
a = Message.objects.create(conversation=c, parent=q, role='assistant', content=${JSON.stringify(answer)}, reasoning_content='The user wants the quadratic formula and code.', status='done', deepthink=True, model='whale-r1', finish_reason='stop', created_at=now - dt.timedelta(seconds=8), queued_at=now - dt.timedelta(seconds=8), started_at=now - dt.timedelta(seconds=7), first_token_at=now - dt.timedelta(seconds=6), finished_at=now, prompt_tokens=20, completion_tokens=100, reasoning_tokens=50)
c.current_message = a
c.save()
print(c.id)`).split('\n').pop();
      const mathUrl = `${baseUrl}/c/${mathId}`;
      const checkRendering = async (where) => {
        const body = lastAnswer(where);
        await body.getByTestId('code-text').locator('span', { hasText: /^def$/ }).first().waitFor();
        await body.locator('[data-testid="math-inline"] math').nth(1).waitFor();
        assert.equal(await body.locator('[data-testid="math-inline"] math').count(), 2, 'two inline formulas: $…$ and \\(…\\)');
        assert.equal(await body.locator('[data-testid="math-block"] math[display="block"]').count(), 2, 'two display formulas: $$…$$ and \\[…\\]');
        assert.ok((await body.locator('math').first().textContent()).includes('a'), 'the formula is MathML text');
        await body.getByText('A coffee costs $5 and a cake $10.').waitFor(); // prices stay text
        const color = await body.getByTestId('code-text').locator('span', { hasText: /^def$/ }).first().evaluate((el) => getComputedStyle(el).color);
        const plain = await body.getByTestId('code-text').evaluate((el) => getComputedStyle(el).color);
        assert.notEqual(color, plain, `the keyword is highlighted (${color} against ${plain})`);
      };
      await page.goto(mathUrl);
      await checkRendering(page);
      await shot('answer-math-code-desktop-light');
      await page.setViewportSize(PHONE);
      await page.emulateMedia({ colorScheme: 'dark' });
      await sleep(300);
      await shot('answer-math-code-phone-dark');
      await page.setViewportSize(DESKTOP);
      await page.emulateMedia({ colorScheme: 'light' });
      await axeEverywhere(page, 'chat with maths and code');

      step('share it: the dialog shows an absolute link, and the shared page renders it with "Thought for N seconds"');
      await page.getByRole('button', { name: 'Actions for Maths and code' }).click();
      await page.getByRole('button', { name: 'Share link' }).click();
      const shareDialog = page.getByRole('dialog', { name: 'Share link' });
      await shareDialog.getByRole('button', { name: 'Create link' }).click();
      const shownUrl = shareDialog.getByText(new RegExp(`^${baseUrl.replace(/[.]/g, '\\.')}/share/`));
      await shownUrl.waitFor();
      const shared = normalize(await shownUrl.innerText());
      await page.goto(shared);
      await page.getByText('Shared conversation · read only').waitFor();
      await checkRendering(page);
      await lastAnswer(page).getByRole('button', { name: /^Thought for \d+ seconds?$/ }).waitFor();
      await axeEverywhere(page, 'shared page');
      assert.equal((await api(`/conversations/${mathId}`, { method: 'DELETE' })).status, 204);

      step('the DeepThink allowance spent: the chat model answers, and the answer and the button say so');
      django(`from accounts.models import User; from ratelimits.models import Tier, UserLimit; u = User.objects.get(email='${email}'); UserLimit.objects.update_or_create(user=u, defaults={'tier': Tier.objects.get(slug='free'), 'reasoning_turns_per_day': 0})`);
      await page.goto(`${baseUrl}/`);
      await page.getByText("Hi, I'm Whale.").waitFor();
      const think = page.getByRole('switch', { name: 'DeepThink (R1)' });
      if ((await think.getAttribute('aria-checked')) !== 'true') await think.click();
      await page.getByLabel('Message Whale').fill('Is the sky blue?');
      await page.getByRole('button', { name: 'Send message' }).click();
      await page.waitForURL(/\/c\/[0-9a-f-]{36}$/);
      const fallbackId = page.url().split('/').pop();
      await lastAnswer(page).getByText('Answered by the chat model: the DeepThink limit for today is reached.').waitFor({ timeout: ANSWER_TIMEOUT });
      await page.getByText(/^DeepThink limit reached for today, answering with the chat model; resets in \d+ h$/).waitFor();
      await waitForAnswerDone(page);
      const fellBack = await finishedAnswer(api, fallbackId);
      assert.equal(fellBack.deepthink, false, 'the chat model answered');
      await shot('deepthink-fallback-desktop-light');
      django(`from ratelimits.models import UserLimit; UserLimit.objects.filter(user__email='${email}').delete()`);
      assert.equal((await api(`/conversations/${fallbackId}`, { method: 'DELETE' })).status, 204);
    }

    const helpers = { page, context, api, baseUrl, step, shot, axeEverywhere, lastAnswer, waitForAnswerDone, finishedAnswer, waitFor, sleep, filesPgid, PHONE, DESKTOP };
    await checkSearch(helpers);
    await checkFiles(helpers);

    step('delete the conversation (with confirm)');
    await page.goto(conversationUrl);
    await page.getByRole('button', { name: 'Actions for Why the sky is blue' }).click();
    await page.getByRole('button', { name: 'Delete' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete chat?' });
    await confirm.getByText('"Why the sky is blue" will be deleted permanently.').waitFor();
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('link', { name: 'Why the sky is blue' }).waitFor({ state: 'detached' });
    await page.getByText("Hi, I'm Whale.").waitFor();
    await waitFor(async () => (await api(`/conversations/${conversationId}`)).status === 404, 'the server to delete it', 15_000);
    await shot('empty-desktop-light');

    step('log out; the login screen');
    await page.getByRole('button', { name: /Settings$/ }).click();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    await shot('login-desktop-light');
    await page.setViewportSize(PHONE);
    await shot('login-phone-light');
    await axeEverywhere(page, 'login page');

    if (manage) {
      step('suspended by staff: the open tab says so at once, and so does the next login');
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password', { exact: true }).fill(password);
      await page.getByRole('button', { name: 'Log in' }).click();
      // The stack may keep the chat screen from before the logout mounted (hidden) under the new one.
      await page.getByText("Hi, I'm Whale.").filter({ visible: true }).waitFor();
      await sleep(1_000); // the user event socket opens
      django(`from accounts.models import User; from accounts.services import user_suspend; user_suspend(user=User.objects.get(email='${email}'), reason='e2e')`);
      const suspended = 'This account is suspended. Contact support if you think this is a mistake.';
      await page.getByText(suspended).waitFor({ timeout: 15_000 });
      await page.getByRole('button', { name: 'Log in' }).waitFor();
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password', { exact: true }).fill(password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('alert').getByText(suspended).last().waitFor();
      assert.equal(new URL(page.url()).pathname, '/login');
    }

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
  console.log(`axe-core on ${axePages.length} page views: ${JSON.stringify(axeSeen)} violations by impact (critical and serious fail the run)`);
  console.log(`e2e passed in ${((Date.now() - started) / 1000).toFixed(0)} s; screenshots in ${shotsDir}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
