// The editor as a creator new to it finds it (issue: four bugs and a first
// screen), in headless Chromium against the real server:
// the first screen says what to do and makes a video from a pasted text; the
// automatic result comes into sight and stays in the chat after a reload;
// undo after a reload walks back version by version; a scene shorter than its
// narration says so and fits back; deleting a picture a scene uses asks first,
// names the scene and explains the gap; an empty timeline cannot be rendered.
// Usage: node creator.mjs BASE_URL SCREENSHOT_DIR   (prints a JSON summary)
import { launch, savedAfter, version } from "./browser.mjs";
import { mkdirSync, writeFileSync } from "node:fs";

const [base, shots] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const browser = await launch();
const summary = { steps: [] };
let shot = 0;
const snap = async (page, name) => { shot += 1; await page.screenshot({ path: `${shots}/creator-${String(shot).padStart(2, "0")}-${name}.png`, fullPage: true }); summary.steps.push(name); };
const title = (page, k) => page.inputValue(`#timeline .scene[data-scene="${k}"] input[aria-label="Title"]`);

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));

  // 5. The first screen: one line, the box focused, a sample to try.
  await page.goto(base + "/");
  summary.welcome_visible = await page.isVisible("#welcome");
  summary.welcome_line = await page.textContent("#welcome h2");
  summary.focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
  await page.click("#welcome-sample");
  summary.sample_filled = (await page.inputValue("#welcome-text")).length > 100;
  await snap(page, "first-screen");

  // 3. Make the video; its result comes into sight.
  await page.click("#welcome-form button[type=submit]");
  await page.waitForSelector("#studio:not([hidden])");
  summary.welcome_hidden = !(await page.isVisible("#welcome"));
  const ready = await page.waitForSelector('#chat-log .msg.bot:has-text("Your video is ready")', { timeout: 240000 });
  await page.waitForSelector("#result video#result-video");
  await page.waitForTimeout(300);
  // The line that says so is in the chat's view (the chat scrolled to it).
  summary.result_in_sight = await ready.evaluate((line) => {
    const log = document.querySelector("#chat-log");
    const a = line.getBoundingClientRect(), b = log.getBoundingClientRect();
    return a.top >= b.top - 2 && a.top < b.bottom - 10;
  });
  summary.result_area_video = await page.$eval("#result video", (v) => new URL(v.src).pathname.split("/").at(-2));
  await snap(page, "automatic-result");
  const session = await page.inputValue("#session-id");
  const s = `/api/v1/sessions/${session}`;

  // ... and stays in the conversation after a reload.
  await page.reload();
  await page.waitForSelector('#timeline .scene[data-scene="2"]');
  await page.waitForSelector("#chat-log .msg.bot");
  summary.kept_after_reload = await page.locator('#chat-log .msg.bot:has-text("Your video is ready")').count();
  summary.chat_video_after_reload = await page.locator("#chat-log .msg.bot video").count();

  // 1. Undo after a reload walks back one saved version at a time.
  const typeTitle = async (k, text) => {
    const v = await version(page);
    await page.fill(`#timeline .scene[data-scene="${k}"] input[aria-label="Title"]`, text);
    await page.press(`#timeline .scene[data-scene="${k}"] input[aria-label="Title"]`, "Tab");
    await savedAfter(page, v);
  };
  await typeTitle(0, "First title");
  await typeTitle(1, "Second title");
  await page.reload();
  await page.waitForSelector('#timeline .scene[data-scene="2"]');
  summary.titles_after_reload = [await title(page, 0), await title(page, 1)];
  const undo = async () => { const v = await version(page); await page.click("#undo"); await savedAfter(page, v); };
  await undo();
  summary.titles_after_undo_1 = [await title(page, 0), await title(page, 1)];
  await undo();
  summary.titles_after_undo_2 = [await title(page, 0), await title(page, 1)];
  await snap(page, "undo-after-reload");

  // 4. A scene shorter than its narration says so, and fits back.
  const v4 = await version(page);
  await page.fill('#timeline .scene[data-scene="0"] input.duration', "1");
  await page.press('#timeline .scene[data-scene="0"] input.duration', "Tab");
  await savedAfter(page, v4);
  summary.cut_warning = await page.textContent('#timeline .scene[data-scene="0"] .warning');
  await snap(page, "cut-warning");
  const v4b = await version(page);
  await page.click('#timeline .scene[data-scene="0"] .warning button:text("Fit to voice")');
  await savedAfter(page, v4b);
  summary.warning_after_fit = await page.locator('#timeline .scene[data-scene="0"] .warning').count();
  summary.duration_after_fit = await page.inputValue('#timeline .scene[data-scene="0"] input.duration');

  // 2. Deleting a picture scene 2 uses: asked first, the scene explains.
  const timeline = await (await fetch(`${base}${s}/timeline`)).json();
  const visuals = timeline.timeline.filter((i) => i.asset_id.startsWith("image_")).map((i) => i.asset_id);
  const second = visuals[1];
  let dialog = null;
  page.once("dialog", async (d) => { dialog = d.message(); await d.dismiss(); });
  await page.click(`.card[data-asset="${second}"] button:text("Delete")`);
  await page.waitForTimeout(300);
  summary.confirm_message = dialog;
  summary.kept_when_dismissed = (await (await fetch(`${base}${s}/assets/${second}`)).status);
  page.once("dialog", async (d) => { await d.accept(); });
  await page.click(`.card[data-asset="${second}"] button:text("Delete")`);
  await page.waitForSelector('#timeline .scene[data-scene="1"] .thumb-missing');
  summary.missing_card = await page.textContent('#timeline .scene[data-scene="1"] .thumb-missing');
  await page.click("#preview");
  await page.waitForFunction(() => document.querySelector('[data-error-for="compose"]').textContent.length > 0);
  summary.preview_error = await page.textContent('[data-error-for="compose"]');
  await snap(page, "deleted-picture");
  // ... replaced from the card.
  const v2 = await version(page);
  await page.selectOption('#timeline .scene[data-scene="1"] select[aria-label="Replace the picture"]', visuals[0]);
  await savedAfter(page, v2);
  summary.missing_after_replace = await page.locator("#timeline .thumb-missing").count();

  // 6. An empty timeline cannot be previewed or exported.
  await page.click("#new-session");
  await page.waitForFunction((old) => document.querySelector("#session-id").value !== old, session);
  await page.waitForTimeout(300);
  summary.empty_preview_disabled = await page.isDisabled("#preview");
  summary.empty_export_disabled = await page.isDisabled("#export");
  await snap(page, "empty-session");

  summary.page_errors = pageErrors;
  console.log(JSON.stringify(summary));
} catch (e) {
  summary.error = String(e);
  console.log(JSON.stringify(summary));
  process.exitCode = 1;
} finally {
  writeFileSync(`${shots}/creator-summary.json`, JSON.stringify(summary, null, 2));
  await browser.close();
}
