// The brand kit side panel and the stills (issue #23), in headless Chromium
// against the real server: the panel shows the key's default kit; a font is
// uploaded through it (its gallery card reads "Aa — family"); a watermark
// without a logo is refused in plain words next to it; a logo is uploaded,
// the three colours and a corner picked, the kit saved, and the preview is a
// PNG still whose chosen corner wears the logo's colour; a selected overlay
// shows the still at its start, drawn again after a saved change; a session
// with nothing in it says so; on a phone every new control can be tapped.
// Usage: node brand.mjs BASE_URL SESSION LOGO_PNG FONT_FILE SCREENSHOT_DIR
//   (prints a JSON summary)
import { launch, savedAfter, version } from "./browser.mjs";
import { mkdirSync, writeFileSync } from "node:fs";

const [base, session, logoPath, fontPath, shots] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const browser = await launch();
const summary = { steps: [] };
let shot = 0;
const snap = async (page, name, fullPage = false) => {
  shot += 1;
  await page.screenshot({ path: `${shots}/brand-${String(shot).padStart(2, "0")}-${name}.png`, fullPage });
  summary.steps.push(name);
};
const s = `${base}/api/v1/sessions/${session}`;
const savedKit = async () => (await fetch(`${s}/brand`)).json();
const text = (page, sel) => page.textContent(sel).then((t) => t.trim());
const errors = (page) => page.$$eval('[data-error-for^="brand."]', (nodes) => nodes.map((n) => n.textContent).join(""));

/// The still in `figure`: a real PNG? its size, and the mean colour of
/// regions given as fractions of the frame [x, y, w, h], read from a canvas.
/// (The page's policy keeps its scripts from fetching the blob: the bytes
/// are the server's answer for the same moment.)
const stillPixels = async (page, figure, regions) => {
  const seen = await page.evaluate(async ([figure, regions]) => {
  const box = document.querySelector(figure);
  const img = box.querySelector("img");
  const canvas = document.createElement("canvas");
  const [w, h] = [img.naturalWidth, img.naturalHeight];
  canvas.width = w; canvas.height = h;
  const g = canvas.getContext("2d");
  g.drawImage(img, 0, 0);
  const mean = ([x, y, rw, rh]) => {
    const d = g.getImageData(Math.round(x * w), Math.round(y * h), Math.max(1, Math.round(rw * w)), Math.max(1, Math.round(rh * h))).data;
    const sum = [0, 0, 0];
    for (let i = 0; i < d.length; i += 4) for (let k = 0; k < 3; k += 1) sum[k] += d[i + k];
    return sum.map((v) => Math.round(v / (d.length / 4)));
  };
  return { width: w, height: h, shown: !img.hidden && img.getBoundingClientRect().width > 0, t: box.dataset.t,
    caption: box.querySelector("figcaption").textContent, colours: Object.fromEntries(Object.entries(regions).map(([k, r]) => [k, mean(r)])) };
  }, [figure, regions]);
  const resp = await fetch(`${s}/frame?t=${seen.t}`);
  const bytes = new Uint8Array(await resp.arrayBuffer());
  seen.png = resp.headers.get("content-type") === "image/png" && [137, 80, 78, 71, 13, 10, 26, 10].every((b, i) => bytes[i] === b);
  return seen;
};

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  await page.goto(`${base}/?session=${session}`);
  await page.waitForSelector('#timeline .scene[data-scene="0"]');
  summary.panel_hidden_before = await page.isHidden("#brand-panel");

  // The panel: the key's default kit, said so.
  await page.click("#brand-open");
  await page.waitForSelector("#brand-panel[data-source]");
  summary.source_before = await page.getAttribute("#brand-panel", "data-source");
  summary.source_text = await text(page, "#brand-source");
  summary.accent_before = await page.inputValue("#brand-color-accent");
  summary.text_colour_note = await text(page, '.brand-colour[data-color="text"] .hex');
  await snap(page, "default-kit");

  // A font, uploaded through the panel: chosen, shown by its family, and a
  // gallery card that reads "Aa — family".
  await page.setInputFiles("#brand-font-file", fontPath);
  await page.waitForFunction(() => document.querySelector("#brand-font").value === "font_1.ttf");
  summary.font_sample = await text(page, "#brand-font-sample");
  await page.waitForSelector('.card[data-asset="font_1.ttf"] .font-sample');
  summary.font_card = await text(page, '.card[data-asset="font_1.ttf"] .font-sample');
  await page.waitForFunction(() => /studio-/.test(document.querySelector('.card[data-asset="font_1.ttf"] .font-sample').style.fontFamily));
  summary.font_card_face = await page.evaluate(() => document.fonts.check('16px "' + document.querySelector('.card[data-asset="font_1.ttf"] .font-sample').style.fontFamily.split('"')[1] + '"'));

  // The watermark on without a logo: the server's 422 said in plain words
  // next to the watermark; nothing saved.
  await page.click("#brand-watermark");
  await page.click('#brand-corners [data-corner="top_left"]');
  await page.click("#brand-save");
  await page.waitForFunction(() => document.querySelector('[data-error-for="brand.watermark"]').textContent !== "");
  summary.watermark_error = await text(page, '[data-error-for="brand.watermark"]');
  summary.refused_field = await page.getAttribute("#brand-panel", "data-refused");
  summary.status_after_error = await text(page, "#brand-status");
  summary.source_after_error = (await savedKit()).source;
  await page.locator("#brand-watermark").scrollIntoViewIfNeeded();
  await snap(page, "watermark-refused");

  // The logo, uploaded through the panel; the colours, the corner, width and
  // opacity; saved, then the preview of the middle of the video.
  await page.setInputFiles("#brand-logo-file", logoPath);
  await page.waitForFunction(() => document.querySelector("#brand-logo").value === "image_2.png");
  summary.logo_thumb = await page.$eval("#brand-logo-thumb", (img) => !img.hidden && new URL(img.src).pathname);
  for (const [key, value] of [["text", "#ffff00"], ["accent", "#00ffff"], ["background", "#101020"]]) await page.fill(`#brand-color-${key}`, value);
  await page.fill("#brand-mark-width", "0.2");
  await page.fill("#brand-mark-opacity", "1");
  summary.corner_pressed = await page.getAttribute('#brand-corners [data-corner="top_left"]', "aria-pressed");
  summary.dirty_status = await text(page, "#brand-status");
  await page.click("#brand-save");
  await page.waitForSelector('#brand-still[data-state="ready"]');
  summary.saved_kit = await savedKit();
  summary.source_after = await page.getAttribute("#brand-panel", "data-source");
  summary.source_text_after = await text(page, "#brand-source");
  summary.errors_after_save = await errors(page);
  // The logo in the top-left corner (3 % in, 20 % wide); the opposite corner plain.
  summary.preview = await stillPixels(page, "#brand-still", { logo: [0.06, 0.08, 0.12, 0.15], opposite: [0.8, 0.7, 0.12, 0.15] });
  await snap(page, "kit-saved-preview");
  // "Preview" again: the same still.
  await page.click("#brand-preview");
  await page.waitForSelector('#brand-still[data-state="ready"]');
  summary.preview_again = (await stillPixels(page, "#brand-still", {})).t;

  // The overlay lane: a selected overlay shows the still at its start.
  await page.click("#brand-close");
  summary.panel_hidden_after_close = await page.isHidden("#brand-panel");
  await page.click('#overlay-lane .ov-bar[data-overlay="0"]');
  await page.waitForSelector('#overlay-still[data-state="ready"]');
  const regions = { logo: [0.06, 0.08, 0.12, 0.15], bottom_left: [0.05, 0.85, 0.25, 0.04], top_right: [0.75, 0.05, 0.2, 0.15] };
  summary.overlay_still = await stillPixels(page, "#overlay-still", regions);
  await page.locator("#overlay-still").scrollIntoViewIfNeeded();
  await snap(page, "overlay-still");
  // A saved change draws it again: the start moved to 2 s, then the top-right preset.
  let v = await version(page);
  await page.fill('#overlay-edit input[data-key="start"]', "2");
  await page.press('#overlay-edit input[data-key="start"]', "Enter");
  await savedAfter(page, v);
  await page.waitForFunction(() => document.querySelector("#overlay-still").dataset.t === "2.10" && document.querySelector("#overlay-still").dataset.state === "ready");
  summary.overlay_still_moved = (await stillPixels(page, "#overlay-still", {})).t;
  v = await version(page);
  const before = await page.$eval("#overlay-still img", (img) => img.src);
  await page.click('#overlay-edit [data-preset="top_right"]');
  await savedAfter(page, v);
  await page.waitForFunction((before) => document.querySelector("#overlay-still img").src !== before && document.querySelector("#overlay-still").dataset.state === "ready", before);
  summary.overlay_still_top_right = await stillPixels(page, "#overlay-still", regions);
  await snap(page, "overlay-still-top-right");
  // Deselected: the still goes with the panel.
  await page.click('#overlay-lane .ov-bar[data-overlay="0"]');
  summary.still_after_deselect = await page.locator("#overlay-still").count();

  // On a phone: the panel over the page, every new control big enough to tap.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  await page.click('#overlay-lane .ov-bar[data-overlay="0"]');
  await page.waitForSelector('#overlay-still[data-state="ready"]');
  await page.locator("#overlay-still").scrollIntoViewIfNeeded();
  await snap(page, "phone-overlay-still");
  await page.locator("#brand-open").scrollIntoViewIfNeeded();
  await page.click("#brand-open");
  await page.waitForSelector("#brand-panel:not([hidden])");
  const tall = () => page.evaluate(() => {
    const nodes = [...document.querySelectorAll('#brand-panel button, #brand-panel input, #brand-panel select, #brand-open, .card[data-asset="font_1.ttf"] .use-font')]
      .filter((n) => n.offsetParent !== null || n.closest("#brand-panel:not([hidden])") && n.getClientRects().length);
    const short = nodes.filter((n) => n.getBoundingClientRect().height < 40 || n.getBoundingClientRect().width < 40)
      .map((n) => n.id || n.dataset.corner || n.dataset.color || n.className || n.textContent.trim());
    const panel = document.querySelector("#brand-panel").getBoundingClientRect();
    return { controls: nodes.length, short, panel_width: Math.round(panel.width), fits: document.documentElement.scrollWidth <= window.innerWidth };
  });
  summary.phone = await tall();
  await snap(page, "phone-panel");
  await page.locator("#brand-still").scrollIntoViewIfNeeded();
  await snap(page, "phone-panel-preview");
  await page.click("#brand-close");

  // A session with nothing in it: the preview says so in plain words.
  const empty = await context.newPage();
  empty.on("pageerror", (e) => pageErrors.push(String(e)));
  await empty.goto(`${base}/?session=${session}-empty`);
  await empty.waitForSelector("#studio:not([hidden])");
  await empty.click("#brand-open");
  await empty.waitForSelector("#brand-panel[data-source]");
  summary.empty_source = await empty.getAttribute("#brand-panel", "data-source");
  await empty.click("#brand-preview");
  await empty.waitForSelector('#brand-still[data-state="nothing"]');
  summary.nothing_yet = await text(empty, "#brand-still figcaption");
  summary.nothing_image_hidden = await empty.isHidden("#brand-still img");
  await snap(empty, "nothing-yet");

  summary.page_errors = pageErrors;
  console.log(JSON.stringify(summary));
} catch (e) {
  summary.error = String(e);
  console.log(JSON.stringify(summary));
  process.exitCode = 1;
} finally {
  writeFileSync(`${shots}/brand-summary.json`, JSON.stringify(summary, null, 2));
  await browser.close();
}
