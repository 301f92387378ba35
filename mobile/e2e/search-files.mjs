// The Search and Files parts of the browser end-to-end run (chat.spec.mjs calls them with its page and
// helpers). Search runs against the stack's SearXNG, the research tests' fake internet (scripts/e2e.sh);
// the files are a PDF and a PNG that Chromium itself prints, read by the stack's files worker
// (pdfium, Tesseract). Each leaves no conversation behind and Search switched off.
import assert from 'node:assert/strict';

const QUESTION = 'Why is the sky blue?';
const PDF_TEXT = 'Humpback whales travel eight thousand kilometres each year between feeding and breeding grounds.';
const PNG_TEXT = 'INVOICE 4711 TOTAL 42 EUR';

/** Turns a composer switch on or off; answers how it was. */
async function setSwitch(page, name, on) {
  const toggle = page.getByRole('switch', { name });
  const was = (await toggle.getAttribute('aria-checked')) === 'true';
  if (was !== on) await toggle.click();
  assert.equal(await toggle.getAttribute('aria-checked'), String(on), `the ${name} switch says it is ${on ? 'on' : 'off'}`);
  return was;
}

/**
 * Search: the toggle, "Searching the web…" while the provider answers (the fake one takes 1.5 s),
 * "Read N pages" opening the numbered sources the server saved, citation chips instead of raw
 * [citation:X] markers, a chip opening its page, and the sources still there after a reload.
 */
export async function checkSearch(t) {
  const { page, api, baseUrl, step, shot, axeEverywhere, lastAnswer, waitForAnswerDone, finishedAnswer, PHONE, DESKTOP, sleep } = t;
  step('Search: the toggle on, "Searching the web…", then "Read N pages" with the sources the server saved');
  await page.goto(`${baseUrl}/`);
  await page.getByText("Hi, I'm Whale.").waitFor();
  // The chat model: the tiny demo's reasoning can spend the answer's 256 tokens on a prompt this long.
  const deepthink = await setSwitch(page, 'DeepThink (R1)', false);
  await setSwitch(page, 'Search', true);
  await page.getByLabel('Message Whale').fill(QUESTION);
  await page.getByRole('button', { name: 'Send message' }).click();
  await page.waitForURL(/\/c\/[0-9a-f-]{36}$/);
  const conversationId = page.url().split('/').pop();
  await lastAnswer(page).getByText('Searching the web…').waitFor({ timeout: 10_000 });
  await waitForAnswerDone(page);
  const answer = await finishedAnswer(api, conversationId);
  assert.equal(answer.status, 'done');
  assert.ok(answer.content.length > 0, 'the answer has text');
  assert.equal(answer.search, true, 'the answer was made with Search');
  assert.ok(answer.sources.length >= 1, `the server saved the sources: ${JSON.stringify(answer.sources)}`);
  assert.deepEqual(answer.notices, [], 'no "Search was unavailable": the pages fit the context');

  const checkSources = async () => {
    const summary = answer.sources.length === 1 ? 'Read 1 page' : `Read ${answer.sources.length} pages`;
    const toggle = lastAnswer(page).getByRole('button', { name: summary });
    await toggle.waitFor();
    if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
    for (const source of answer.sources) {
      const link = lastAnswer(page).getByRole('link', { name: `${source.n}. ${source.title} (${source.site})` });
      await link.waitFor();
      assert.equal(await link.getAttribute('href'), source.url, `source ${source.n} links to its page`);
    }
    // The demo model cites the pages (inference/demo_model/build.py): each marker is a chip, never the raw text.
    const text = await lastAnswer(page).innerText();
    assert.ok(!text.includes('[citation:'), `no raw [citation:X] on the page:\n${text}`);
    const cited = [...new Set([...answer.content.matchAll(/\[citation:(\d+)\]/g)].map((m) => Number(m[1])))];
    const chips = cited.filter((n) => answer.sources.some((s) => s.n === n));
    assert.ok(chips.length >= 1, `the answer cites one of its ${answer.sources.length} sources: ${answer.content}`);
    for (const n of chips) {
      const source = answer.sources.find((s) => s.n === n);
      // Waited for: after a reload the answer's markdown (its own bundle) may still be on its way.
      await lastAnswer(page).getByLabel(`Source ${n}: ${source.title}`, { exact: true }).first().waitFor({ timeout: 10_000 });
    }
    return chips;
  };
  const chips = await checkSources();
  step(`the sources open: ${answer.sources.map((s) => s.site).join(', ')}; citation chips ${chips.join(', ')}, no raw markers`);

  step('a citation chip opens its source: on the web a link to the page, in a new tab');
  const cited = answer.sources.find((s) => s.n === chips[0]);
  const chip = lastAnswer(page).getByRole('link', { name: `Source ${cited.n}: ${cited.title}`, exact: true }).first();
  assert.equal(await chip.getAttribute('href'), cited.url, `chip ${cited.n} links to its source`);
  assert.equal(await chip.getAttribute('target'), '_blank', 'the source opens in a new tab, the answer stays');
  const [tab] = await Promise.all([page.context().waitForEvent('page'), chip.click()]);
  await tab.waitForLoadState();
  assert.equal(tab.url(), cited.url, 'the new tab shows the cited page');
  await tab.close();
  await shot('search-sources-desktop-light');
  await page.setViewportSize(PHONE);
  await sleep(300);
  await shot('search-sources-phone-light');
  await page.setViewportSize(DESKTOP);
  await axeEverywhere(page, 'answer with search sources');

  step('the sources survive a reload');
  await page.reload();
  await waitForAnswerDone(page);
  await checkSources();

  await page.goto(`${baseUrl}/`);
  await page.getByText("Hi, I'm Whale.").waitFor();
  await setSwitch(page, 'Search', false);
  await setSwitch(page, 'DeepThink (R1)', deepthink);
  assert.equal((await api(`/conversations/${conversationId}`, { method: 'DELETE' })).status, 204);
}

/** A PDF with a text layer and a PNG of printed text, made by Chromium: what a user would attach. */
async function makeFiles(context) {
  const maker = await context.newPage();
  try {
    await maker.setContent(`<body style="font-family: sans-serif; margin: 40px"><h1>Whale report</h1><p style="font-size: 18px">${PDF_TEXT}</p></body>`);
    const pdf = await maker.pdf({ format: 'A5' });
    await maker.setViewportSize({ width: 900, height: 200 });
    await maker.setContent(`<body style="margin: 0; background: #fff"><p id="t" style="font: bold 56px sans-serif; color: #000; padding: 40px; margin: 0; display: inline-block">${PNG_TEXT}</p></body>`);
    const png = await maker.locator('#t').screenshot({ type: 'png' });
    return [
      { name: 'whale-report.pdf', mimeType: 'application/pdf', buffer: pdf },
      { name: 'invoice.png', mimeType: 'image/png', buffer: png },
    ];
  } finally {
    await maker.close();
  }
}

/** Records the statuses the attachment chips show, in order, from the moment it is called. */
async function watchChipStatuses(page) {
  await page.evaluate(() => {
    const seen = [];
    window.__chipStatuses = seen;
    const look = () => {
      const list = document.querySelector('[aria-label="Attached files"]');
      if (!list) return;
      for (const item of list.querySelectorAll('[role="listitem"]')) {
        const text = item.textContent;
        const file = text.includes('whale-report.pdf') ? 'pdf' : text.includes('invoice.png') ? 'png' : text;
        const status = /Uploading \d+%/.test(text) ? 'uploading' : text.includes('Reading…') ? 'reading' : text.includes('Ready') ? 'ready' : text;
        const last = seen.filter((s) => s.file === file).pop();
        if (!last || last.status !== status) seen.push({ file, status });
      }
    };
    new MutationObserver(look).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  return async () => page.evaluate(() => window.__chipStatuses);
}

/**
 * Files: a PDF and a PNG through the attach button's file input; the chips go uploading → reading →
 * ready (the files worker is paused meanwhile, so "reading" lasts) and Send waits for them; the sent
 * question shows file cards, and a card shows the text Whale read (the PDF's text layer, the image's OCR).
 */
export async function checkFiles(t) {
  const { page, context, api, baseUrl, step, shot, axeEverywhere, waitForAnswerDone, finishedAnswer, filesPgid, PHONE, DESKTOP, sleep } = t;
  step('Files: a PDF and a PNG attached through the file input; Send waits while they are read');
  const files = await makeFiles(context);
  await page.goto(`${baseUrl}/`);
  await page.getByText("Hi, I'm Whale.").waitFor();
  const deepthink = await setSwitch(page, 'DeepThink (R1)', false);
  const statuses = await watchChipStatuses(page);
  if (filesPgid) process.kill(-filesPgid, 'SIGSTOP');
  try {
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Attach files' }).click()]);
    assert.ok(chooser.isMultiple(), 'the file input takes several files');
    await chooser.setFiles(files);
    await page.getByLabel('Message Whale').fill('What do these files say?');
    const chips = page.getByRole('list', { name: 'Attached files' });
    if (filesPgid) {
      await chips.getByText(/Reading…$/).nth(1).waitFor({ timeout: 15_000 });
      await page.getByText('Waiting for the files to be read…').waitFor();
      assert.equal(await page.getByRole('button', { name: 'Send message' }).isDisabled(), true, 'Send waits for the files');
      await shot('attachments-reading-desktop-light');
      await axeEverywhere(page, 'composer with files being read');
    }
  } finally {
    if (filesPgid) process.kill(-filesPgid, 'SIGCONT');
  }
  const chips = page.getByRole('list', { name: 'Attached files' });
  await chips.getByText(/Ready$/).nth(1).waitFor({ timeout: 60_000 });
  const send = page.getByRole('button', { name: 'Send message' });
  await t.waitFor(async () => !(await send.isDisabled()), 'Send to be on once the files are read', 10_000);
  const seen = await statuses();
  for (const file of ['pdf', 'png']) {
    const order = seen.filter((s) => s.file === file).map((s) => s.status);
    // Paused, the files worker makes "reading" certain; running, it may read a small file before a frame shows it.
    const expected = filesPgid || order.includes('reading') ? ['uploading', 'reading', 'ready'] : ['uploading', 'ready'];
    assert.deepEqual(order, expected, `the ${file} chip went ${order.join(' → ')}`);
  }
  step(`the chips went ${seen.filter((s) => s.file === 'pdf').map((s) => s.status).join(' → ')}; send`);
  await send.click();
  await page.waitForURL(/\/c\/[0-9a-f-]{36}$/);
  const conversationId = page.url().split('/').pop();
  const main = page.getByRole('main');
  const pdfCard = main.getByRole('button', { name: 'Show the text of whale-report.pdf' });
  const pngCard = main.getByRole('button', { name: 'Show the text of invoice.png' });
  await pdfCard.waitFor();
  await pngCard.waitFor();
  await waitForAnswerDone(page);
  const answer = await finishedAnswer(api, conversationId);
  assert.equal(answer.status, 'done');

  step('a file card shows the text Whale read: the PDF text layer, the image by OCR');
  const readText = async (card, name) => {
    await card.click();
    const dialog = page.getByRole('dialog', { name });
    const text = dialog.getByLabel(name, { exact: true });
    await text.waitFor();
    return { dialog, text: (await text.innerText()).replace(/\s+/g, ' ').trim() };
  };
  let opened = await readText(pdfCard, 'whale-report.pdf');
  assert.ok(opened.text.includes(PDF_TEXT), `the PDF's text: ${opened.text}`);
  await shot('attachments-desktop-light');
  await axeEverywhere(page, 'the text of an attached PDF');
  await opened.dialog.getByRole('button', { name: 'Close' }).last().click();
  await opened.dialog.waitFor({ state: 'detached' });
  opened = await readText(pngCard, 'invoice.png');
  assert.match(opened.text, /INVOICE\s*4711/i, `the image's text by OCR: ${opened.text}`);
  await opened.dialog.getByRole('button', { name: 'Close' }).last().click();
  await opened.dialog.waitFor({ state: 'detached' });
  await page.setViewportSize(PHONE);
  await sleep(300);
  await shot('attachments-phone-light');
  await page.setViewportSize(DESKTOP);
  await axeEverywhere(page, 'a question with file cards');
  assert.equal((await api(`/conversations/${conversationId}`, { method: 'DELETE' })).status, 204);
  await page.goto(`${baseUrl}/`);
  await page.getByText("Hi, I'm Whale.").waitFor();
  await setSwitch(page, 'DeepThink (R1)', deepthink);
}
