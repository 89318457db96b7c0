// The editor tidied (issue #26, items 8, 9 and 12), in headless Chromium
// against the real server: uploads keep their file names; previews and
// exports sit in a Renders section, newest first, with their size, ratio
// and timeline version, their subtitles a link on the card; the Music menu
// offers music and uploaded audio, not voice-overs; a reordered scene
// leaves its transition at its cut (the video never opens with one); on a
// phone the editor comes first, the gallery is folded, every control is at
// least 40 px, and a card dragged to the strip's edge scrolls the strip.
// Usage: node tidy.mjs BASE_URL SESSION SCREENSHOT_DIR   (prints a JSON summary)
import { launch, savedAfter, version } from "./browser.mjs";
import { mkdirSync } from "node:fs";

const [base, session, shots] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const browser = await launch();
const summary = { steps: [] };
let shot = 0;
const snap = async (page, name, fullPage = false) => {
  shot += 1;
  await page.screenshot({ path: `${shots}/tidy-${String(shot).padStart(2, "0")}-${name}.png`, fullPage });
  summary.steps.push(name);
};
const s = `${base}/api/v1/sessions/${session}`;

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  await page.goto(`${base}/?session=${session}`);
  await page.waitForSelector('#timeline .scene[data-scene="2"]');
  await page.waitForSelector("#renders .card");

  // 9. Names, renders, music.
  summary.upload_name = await page.textContent('#gallery .card[data-asset="image_1.png"] .name');
  summary.gallery_kinds = await page.$$eval("#gallery .card", (cards) => [...new Set(cards.map((c) => c.dataset.asset.split("_")[0]))].sort());
  summary.renders = await page.$$eval("#renders .card", (cards) => cards.map((c) => ({
    asset: c.dataset.asset, meta: c.querySelector(".meta").textContent, subtitles: Boolean(c.querySelector("a.subtitles")),
  })));
  summary.music_options = await page.$$eval("#music-select option", (o) => o.map((x) => x.textContent));
  // 11. A render's card shows its first scene (0.5 s in, past an opening fade),
  // and plays from the start.
  await page.waitForFunction(() => document.querySelector("#renders .card video").readyState >= 1);
  summary.poster_time = await page.$eval("#renders .card video", (v) => v.currentTime);
  summary.play_from = await page.$eval("#renders .card video", async (v) => { v.muted = true; await v.play(); const t = v.currentTime; v.pause(); return t < 0.3; });
  await snap(page, "gallery-and-renders", true);

  // 7. Estimates from the pace of the scenes rendered, not of the steps before.
  summary.estimates = await page.evaluate(() => {
    const at = (s) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    const job = (step, progress, s) => ({ job_id: "estimate-test", kind: "pipeline", status: "running", step, progress, created_at: at(0), updated_at: at(s) });
    return [job("voice-over 3 of 5", 0.5, 4), job("rendering scene 1 of 4", 0.7, 5), job("rendering scene 2 of 4", 0.75, 15),
      job("social post", 0.96, 60)].map(timeLeft);
  });

  // 12. Scene 2 (with the crossfade into it) moved first: the cut keeps it.
  const v = await version(page);
  await page.click('#timeline .scene[data-scene="1"] button[aria-label="Move earlier"]');
  await savedAfter(page, v);
  const saved = await (await fetch(`${s}/timeline`)).json();
  summary.after_move = saved.timeline.map((i) => [i.asset_id, i.transition ? i.transition.type : null]);
  await snap(page, "moved");

  // 10, 11. "make it vertical": the reply gives the size, the export preset follows,
  // and the scene cards show what a vertical frame keeps of each picture.
  summary.thumb_before = await page.$eval('#timeline .scene[data-scene="0"] > img', (i) => { const r = i.getBoundingClientRect(); return Math.round(100 * r.width / r.height) / 100; });
  await page.fill("#chat-message", "make it vertical");
  await page.click("#chat-form button");
  const reply = await page.waitForSelector('#chat-log .msg.bot:has-text("Your video")', { timeout: 120000 });
  summary.vertical_reply = (await reply.textContent()).trim();
  await page.waitForFunction(() => document.querySelector("#export-preset").value === "9:16");
  summary.preset_after_chat = await page.inputValue("#export-preset");
  await page.waitForFunction(() => { const i = document.querySelector('#timeline .scene[data-scene="0"] > img'); const r = i.getBoundingClientRect(); return r.width / r.height < 0.7; });
  summary.thumb_vertical = await page.$eval('#timeline .scene[data-scene="0"] > img', (i) => { const r = i.getBoundingClientRect(); return Math.round(100 * r.width / r.height) / 100; });
  await snap(page, "vertical");

  // 8. A phone.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  const top = (sel) => page.$eval(sel, (n) => n.getBoundingClientRect().top + window.scrollY);
  summary.editor_before_gallery = (await top("#editor-panel")) < (await top("#gallery-panel"));
  summary.gallery_folded = !(await page.isVisible("#gallery"));
  summary.fold_button = await page.textContent("#gallery-fold");
  summary.small_controls = await page.$$eval("#studio button, #studio select, #studio input", (nodes) => nodes
    .filter((n) => n.offsetParent !== null && n.getClientRects().length)
    .map((n) => { const r = n.getBoundingClientRect(); return { what: n.id || n.getAttribute("aria-label") || n.textContent.trim().slice(0, 20) || n.type, w: Math.round(r.width), h: Math.round(r.height) }; })
    .filter((b) => b.w < 40 || b.h < 40));
  await snap(page, "phone", true);
  await page.click("#gallery-fold");
  summary.gallery_shown_after_tap = await page.isVisible("#gallery");

  // A card held at the strip's right edge scrolls the strip.
  await page.$eval("#strip-wrap", (n) => n.scrollIntoView({ block: "center" }));
  const strip = await page.$eval("#strip-wrap", (n) => { const r = n.getBoundingClientRect(); return { left: r.left, right: r.right, top: r.top, scroll: n.scrollLeft, overflow: n.scrollWidth > n.clientWidth }; });
  summary.strip_overflows = strip.overflow;
  const head = await page.$('#timeline .scene[data-scene="0"] .scene-head');
  const box = await head.boundingBox();
  await page.mouse.move(box.x + 20, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + 60, box.y + box.height / 2, { steps: 4 });
  await page.mouse.move(strip.right - 8, box.y + box.height / 2, { steps: 8 });
  await page.waitForTimeout(600);
  summary.strip_scrolled = (await page.$eval("#strip-wrap", (n) => n.scrollLeft)) > strip.scroll + 50;
  await page.mouse.move(strip.right - 8, box.y - 200, { steps: 4 }); // off the strip: dropped nowhere
  await page.mouse.up();
  summary.page_errors = pageErrors;
} catch (e) {
  summary.error = String(e);
  process.exitCode = 1;
} finally {
  await browser.close();
}
console.log(JSON.stringify(summary));
