// The hook the e2e run uses to read a sign-up code. Replace or point WHALE_E2E_CODE_HOOK at your own.
//
// It tries, in order:
//   1. WHALE_E2E_CODE_URL: a backend dev-only endpoint, called as `${url}?email=<email>`, that
//      answers `{"code": "123456"}` (suggested: GET /api/v1/dev/last-code, DEBUG only);
//   2. WHALE_E2E_MAIL_DIR: a folder of emails written by Django's file email backend; the newest
//      file that mentions the address is searched for the 6-digit code in its body.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export default async function getVerificationCode(email, baseUrl) {
  const endpoint = process.env.WHALE_E2E_CODE_URL;
  if (endpoint) {
    const url = new URL(endpoint, baseUrl);
    url.searchParams.set('email', email);
    const response = await fetch(url);
    if (!response.ok) throw new Error(`verification code endpoint answered ${response.status}`);
    const { code } = await response.json();
    return code;
  }
  const dir = process.env.WHALE_E2E_MAIL_DIR;
  if (dir) {
    for (let tries = 0; tries < 20; tries += 1) {
      const files = readdirSync(dir)
        .map((name) => join(dir, name))
        .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
      for (const file of files) {
        // One file may hold several messages, each followed by a line of 79 dashes; newest last.
        const messages = readFileSync(file, 'utf8').split(/^-{79}$/m).reverse();
        for (const message of messages) {
          if (!message.includes(email)) continue;
          // The body, not the headers: a Message-ID may hold six digits in a row too.
          const body = message.slice(message.search(/\r?\n\r?\n/) + 1);
          const match = /code\b[^\n]*?\b(\d{6})\b/i.exec(body) ?? /\b(\d{6})\b/.exec(body);
          if (match) return match[1];
        }
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`no email with a code for ${email} in ${dir}`);
  }
  throw new Error('Set WHALE_E2E_CODE_URL or WHALE_E2E_MAIL_DIR so the e2e run can read the verification code.');
}
