// The overlay lane (issue #23), in headless Chromium against the real server:
// "+ Text" adds a lower third, its text is edited and the bottom_right preset
// picked in the panel; its bar is dragged later in time (its length kept)
// and its right edge dragged to end it later; an end before the start is
// refused in plain words; a gallery picture is added as a logo; Undo takes
// the logo away again; on a phone every control of the lane and its panel is
// big enough to tap.
// Usage: node overlays.mjs BASE_URL SESSION LOGO SCREENSHOT_DIR
//   (prints a JSON summary)
import { launch, savedAfter, version } from "./browser.mjs";
import { mkdirSync, writeFileSync } from "node:fs";

const [base, session, logo, shots] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const browser = await launch();
const summary = { steps: [] };
let shot = 0;
const snap = async (page, name) => { shot += 1; await page.screenshot({ path: `${shots}/overlays-${String(shot).padStart(2, "0")}-${name}.png`, fullPage: true }); summary.steps.push(name); };
const s = `${base}/api/v1/sessions/${session}`;
const savedOverlays = async () => (await (await fetch(`${s}/timeline`)).json()).overlays ?? null;
const bar = (i) => `#overlay-lane .ov-bar[data-overlay="${i}"]`;

/// Drags from (x, y) by dx pixels with the mouse, in steps.
async function drag(page, x, y, dx) {
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x + dx, y, { steps: 8 });
  await page.mouse.up();
}

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  await page.goto(`${base}/?session=${session}`);
  await page.waitForSelector('#timeline .scene[data-scene="0"]');
  summary.lane_hidden_before = await page.isHidden("#overlay-lane");
  // The scale of the strip: the card's pixels per second of its scene.
  const card = await page.locator('#timeline .scene[data-scene="0"]').boundingBox();
  const length = parseFloat(await page.textContent('#timeline .scene[data-scene="0"] .scene-head .muted'));
  const perSecond = card.width / length;
  summary.scale = { card_width: card.width, length };

  // + Text: a lower third from 1 s to 4 s, selected for editing.
  let v = await version(page);
  await page.click("#overlay-add-text");
  await savedAfter(page, v);
  summary.after_add_text = await savedOverlays();
  const box = await page.locator(bar(0)).boundingBox();
  summary.bar_at = { left: Math.round(box.x - card.x), width: Math.round(box.width), expected_left: Math.round(perSecond * 1), expected_width: Math.round(perSecond * 3) };
  summary.panel_open = await page.isVisible('#overlay-edit input[data-key="text"]');

  // Its text, then a position preset.
  v = await version(page);
  await page.fill('#overlay-edit input[data-key="text"]', "Ada Lovelace");
  await page.press('#overlay-edit input[data-key="text"]', "Enter");
  await savedAfter(page, v);
  summary.bar_label = await page.textContent(bar(0));
  v = await version(page);
  await page.click('#overlay-edit [data-preset="bottom_right"]');
  await savedAfter(page, v);
  summary.preset_pressed = await page.getAttribute('#overlay-edit [data-preset="bottom_right"]', "aria-pressed");
  await snap(page, "text-added");

  // Dragged 2 s later: its length kept.
  let b = await page.locator(bar(0)).boundingBox();
  v = await version(page);
  await drag(page, b.x + 10, b.y + b.height / 2, Math.round(2 * perSecond));
  await savedAfter(page, v);
  summary.after_move = await savedOverlays();
  summary.start_field = await page.inputValue('#overlay-edit input[data-key="start"]');
  // Its right edge dragged 1 s later.
  b = await page.locator(bar(0)).boundingBox();
  v = await version(page);
  await drag(page, b.x + b.width - 4, b.y + b.height / 2, Math.round(perSecond));
  await savedAfter(page, v);
  summary.after_end_drag = await savedOverlays();
  // Dragged far past the end: clamped to the video's length.
  b = await page.locator(bar(0)).boundingBox();
  const before = await version(page);
  await page.mouse.move(b.x + 10, b.y + b.height / 2);
  await page.mouse.down();
  await page.mouse.move(b.x + 10 + 40 * perSecond, b.y + b.height / 2, { steps: 8 });
  summary.clamped_left = Math.round((await page.locator(bar(0)).boundingBox()).x + (await page.locator(bar(0)).boundingBox()).width - card.x);
  summary.card_right = Math.round(card.width);
  await page.mouse.up();
  await savedAfter(page, before);
  summary.after_clamp = await savedOverlays();
  // Back where it was, with the undo button.
  v = await version(page);
  await page.click("#undo");
  await savedAfter(page, v);
  summary.after_clamp_undo = await savedOverlays();

  // An end before the start: refused in plain words, nothing saved.
  const versionBefore = await version(page);
  await page.fill('#overlay-edit input[data-key="end"]', "1");
  await page.press('#overlay-edit input[data-key="end"]', "Enter");
  summary.end_error = await page.textContent('[data-error-for="overlays"]');
  summary.end_field_after_error = await page.inputValue('#overlay-edit input[data-key="end"]');
  await page.waitForTimeout(800);
  summary.saved_after_error = (await version(page)) === versionBefore;

  // The logo from the gallery.
  v = await version(page);
  await page.click(`.card[data-asset="${logo}"] .as-overlay`);
  await savedAfter(page, v);
  summary.saved = await savedOverlays();
  summary.bars = await page.locator("#overlay-lane .ov-bar").count();
  summary.logo_thumb = await page.$eval(`${bar(1)} img`, (img) => new URL(img.src).pathname).catch(() => null);
  summary.logo_panel_width = await page.inputValue('#overlay-edit input[data-key="width"]').catch(() => null);
  await snap(page, "logo-added");

  // Undo takes the logo away.
  v = await version(page);
  await page.click("#undo");
  await savedAfter(page, v);
  summary.after_undo = await savedOverlays();
  summary.bars_after_undo = await page.locator("#overlay-lane .ov-bar").count();

  // On a phone: the lane, the add buttons, the chooser and the panel can be tapped.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  await page.click(bar(0));
  await page.click("#overlay-add-asset");
  await page.waitForSelector("#overlay-choices:not([hidden])");
  summary.phone = await page.evaluate(() => {
    const scope = [...document.querySelectorAll("#overlay-tools, #overlay-lane")];
    const nodes = scope.flatMap((root) => [...root.querySelectorAll("button, input, select, .ov-bar")]).filter((n) => n.offsetParent !== null);
    const short = nodes.filter((n) => n.getBoundingClientRect().height < 40).map((n) => n.dataset.key || n.dataset.preset || n.id || n.textContent.trim());
    return { controls: nodes.length, short, panel_open: !document.querySelector("#overlay-edit").hidden,
      fits: document.documentElement.scrollWidth <= window.innerWidth };
  });
  // The bar follows the narrower phone cards.
  const phoneCard = await page.locator('#timeline .scene[data-scene="0"]').boundingBox();
  const phoneBar = await page.locator(bar(0)).boundingBox();
  summary.phone_bar = { left: Math.round(phoneBar.x - phoneCard.x), expected: Math.round(phoneCard.width / length * 3) };
  await page.locator("#overlay-tools").scrollIntoViewIfNeeded();
  await snap(page, "phone");

  summary.page_errors = pageErrors;
  console.log(JSON.stringify(summary));
} catch (e) {
  summary.error = String(e);
  console.log(JSON.stringify(summary));
  process.exitCode = 1;
} finally {
  writeFileSync(`${shots}/overlays-summary.json`, JSON.stringify(summary, null, 2));
  await browser.close();
}
