// The web studio on a server that needs an API key: the page asks for it,
// keeps it, and media elements (which cannot send headers) load with it.
// Usage: node key.mjs BASE_URL KEY SCREENSHOT_DIR   (prints a JSON summary)
import { launch } from "./browser.mjs";
import { mkdirSync } from "node:fs";

const [base, key, shots] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const browser = await launch();
const summary = {};
try {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  // With a session in the address, as a shared link would open it.
  await page.goto(base + "/?session=shared-link");
  await page.waitForSelector("#key-form:not([hidden])");
  summary.asked = true;
  await page.screenshot({ path: `${shots}/key-asked.png` });

  await page.fill("#key-input", "cs_wrong");
  await page.click("#key-form button[type=submit]");
  await page.waitForSelector('[data-error-for="key"]:not(:empty)');
  // The session's poll (every 3 s) must not wipe the reason away.
  await page.waitForTimeout(4000);
  summary.wrong_key_message = await page.textContent('[data-error-for="key"]');

  await page.fill("#key-input", key);
  await page.click("#key-form button[type=submit]");
  await page.waitForSelector("#key-form", { state: "hidden" });
  // Nothing said for want of the key stays on the page.
  summary.errors_after_key = await page.$$eval("[data-error-for]", (nodes) =>
    nodes.map((n) => n.textContent).filter((t) => t.includes("API key") || t.includes("Authorization")));
  // The voices load once the key is in (asynchronously: wait for them).
  await page.waitForFunction(() => document.querySelectorAll("#voice-select option").length > 0,
    null, { timeout: 15000 }).catch(() => {});
  summary.voices_after_key = await page.$$eval("#voice-select option", (o) => o.length);
  await page.click("#new-session");
  await page.waitForSelector("#studio:not([hidden])");
  await page.fill("#image-form input[name=prompt]", "a lighthouse at night");
  await page.click("#image-form button[type=submit]");
  const img = await page.waitForSelector("#gallery img");
  summary.image_width = await img.evaluate((i) => new Promise((resolve) => {
    if (i.complete) resolve(i.naturalWidth);
    i.addEventListener("load", () => resolve(i.naturalWidth));
    i.addEventListener("error", () => resolve(0));
  }));

  // Kept in the browser: a reload does not ask again.
  await page.reload();
  await page.waitForSelector("#studio:not([hidden])");
  summary.asked_after_reload = await page.isVisible("#key-form");
} finally {
  await browser.close();
}
console.log(JSON.stringify(summary));
