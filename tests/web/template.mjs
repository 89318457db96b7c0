// The template panel (issue #24), in headless Chromium against the real
// server: an empty timeline cannot be saved as a template (said in plain
// words); a timeline with {{city}} in its title is saved as one, whose field
// the panel shows as an input; one row renders into a video shown in the
// panel; three rows of CSV render as a batch followed row by row to three
// videos; a missing value is named by its row; on a phone every control of
// the panel can be tapped.
// Usage: node template.mjs BASE_URL SESSION EMPTY_SESSION SCREENSHOT_DIR
//   (prints a JSON summary)
import { launch } from "./browser.mjs";
import { mkdirSync } from "node:fs";

const [base, session, empty, shots] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const browser = await launch();
const summary = { steps: [] };
let shot = 0;
const snap = async (page, name) => {
  shot += 1;
  await page.screenshot({ path: `${shots}/template-${String(shot).padStart(2, "0")}-${name}.png` });
  summary.steps.push(name);
};
const text = (page, sel) => page.textContent(sel).then((t) => t.trim());

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));

  // An empty session: nothing to make a template of.
  await page.goto(`${base}/?session=${empty}`);
  await page.waitForSelector("#studio:not([hidden])");
  summary.panel_hidden_before = await page.isHidden("#template-panel");
  await page.click("#template-open");
  await page.waitForSelector("#template-panel:not([hidden])");
  await page.click("#template-save");
  await page.waitForSelector('[data-error-for="template.save"]:not(:empty)');
  summary.empty_error = await text(page, '[data-error-for="template.save"]');
  await snap(page, "empty-timeline");

  // The session with a {{city}} title.
  await page.goto(`${base}/?session=${session}`);
  await page.waitForSelector("#timeline .scene");
  await page.click("#template-open");
  await page.fill("#template-name", "City card");
  await page.click("#template-save");
  await page.waitForFunction(() => document.querySelector("#template-about").textContent.startsWith("Saved"));
  summary.saved_about = await text(page, "#template-about");
  summary.template_option = await page.$eval("#template-select", (s) => s.selectedOptions[0].textContent);
  summary.field_inputs = await page.$$eval("#template-fields [data-field]", (n) => n.map((i) => i.dataset.field));
  summary.csv_header = await page.inputValue("#template-csv");
  await snap(page, "saved");

  // One row: a video in the panel.
  await page.fill('#template-fields [data-field="city"]', "Lisbon");
  await page.click("#template-render");
  await page.waitForSelector("#template-row-result video", { timeout: 90000 });
  summary.row_status = await text(page, "#template-row-status");
  summary.row_video = await page.$eval("#template-row-result video", (v) => new Promise((resolve) => {
    if (v.readyState >= 1) resolve(v.duration);
    v.addEventListener("loadedmetadata", () => resolve(v.duration));
    v.addEventListener("error", () => resolve(-1));
  }));
  await snap(page, "one-row");

  // A row without its value is named.
  await page.fill("#template-csv", "city\nOslo\n\"\"\n");
  await page.click("#template-batch");
  await page.waitForSelector('[data-error-for="template.batch"]:not(:empty)');
  summary.batch_error = await text(page, '[data-error-for="template.batch"]');

  // Three rows: a batch, followed to three videos.
  await page.fill("#template-csv", "city\nOslo\nRome\nVienna\n");
  await page.click("#template-batch");
  await page.waitForSelector("#template-batch-rows li");
  summary.cancel_shown_while_running = await page.isVisible("#template-batch-cancel");
  await page.waitForFunction(() => document.querySelector("#template-batch-status").textContent.startsWith("Finished"), null, { timeout: 120000 });
  summary.batch_status = await text(page, "#template-batch-status");
  summary.batch_rows = await page.$$eval("#template-batch-rows li", (items) => items.map((li) => ({
    label: li.querySelector("strong").textContent, status: li.dataset.status, video: Boolean(li.querySelector("a.row-video")),
  })));
  summary.batch_progress = await page.$eval("#template-batch-progress", (p) => p.value);
  summary.cancel_hidden_after = await page.isHidden("#template-batch-cancel");
  await snap(page, "batch-finished");

  // On a phone: every control of the panel at least 40 px tall.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(200);
  summary.phone_small = await page.$$eval("#template-panel button:not([hidden]), #template-panel select, #template-panel input",
    (nodes) => nodes.filter((n) => n.offsetParent !== null)
      .map((n) => { const r = n.getBoundingClientRect(); return { id: n.id || n.dataset.field, h: Math.round(r.height), w: Math.round(r.width) }; })
      .filter((b) => b.h < 40 || b.w < 40));
  await snap(page, "phone");
  summary.page_errors = pageErrors;
} finally {
  await browser.close();
}
console.log(JSON.stringify(summary));
