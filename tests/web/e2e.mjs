// End-to-end test of the web studio in headless Chromium, as a person uses it:
// make and upload assets, build a timeline of scene cards, edit in place,
// reload and find everything intact, undo and redo, drag to reorder, preview,
// export, keep a video playing while assets arrive, keep a half-typed value,
// meet another tab's edit as a conflict, and fit a phone.
// Usage: node e2e.mjs BASE_URL SCREENSHOT_DIR   (prints a JSON summary)
import { launch, savedAfter, version } from "./browser.mjs";
import { mkdirSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";

const [base, shots] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const browser = await launch();
const summary = { steps: [] };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const api = async (method, path, body) => {
  const resp = await fetch(base + path, { method, headers: { "content-type": "application/json" }, body: body && JSON.stringify(body) });
  return resp.json();
};
let shot = 0;
const snap = async (page, name) => { shot += 1; await page.screenshot({ path: `${shots}/${String(shot).padStart(2, "0")}-${name}.png`, fullPage: true }); summary.steps.push(name); };
const saved = (page) => page.waitForFunction(() => /^saved/.test(document.querySelector("#save-status").textContent));
const videoReady = (handle) => handle.evaluate((v) => new Promise((resolve) => {
  const done = () => resolve({ duration: v.duration, width: v.videoWidth, height: v.videoHeight });
  if (v.readyState >= 1) done();
  v.addEventListener("loadedmetadata", done);
  v.addEventListener("error", () => resolve({ duration: -1 }));
}));

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) pageErrors.push(m.text()); });
  await page.goto(base + "/");
  await snap(page, "start");

  await page.click("#new-session");
  await page.waitForSelector("#studio:not([hidden])");
  const session = await page.inputValue("#session-id");
  summary.url_has_session = page.url().includes(`session=${session}`);
  const s = `/api/v1/sessions/${session}`;

  // A bad request shows a readable error next to its form.
  await page.fill("#image-form input[name=prompt]", "   ");
  await page.evaluate(() => document.querySelector("#image-form input[name=prompt]").removeAttribute("required"));
  await page.click("#image-form button[type=submit]");
  await page.waitForSelector('[data-error-for="image"]:not(:empty)');
  summary.form_error = await page.textContent('[data-error-for="image"]');

  // Assets: forms, the voice menu, uploads (music lands in the Music menu).
  await page.fill("#image-form input[name=prompt]", "A lighthouse at night by the sea");
  await page.click("#image-form button[type=submit]");
  await page.waitForSelector('.card[data-asset="image_1.png"] img');
  await page.waitForSelector("#voice-select option[value='en-US-Neural2-D']", { state: "attached" });
  summary.voice_groups = await page.$$eval("#voice-select optgroup", (gs) => gs.map((g) => g.label));
  summary.voices_before_more = await page.$$eval("#voice-select option", (o) => o.length);
  await page.check("#more-voices");
  summary.voices_after_more = await page.$$eval("#voice-select option", (o) => o.length);
  await page.uncheck("#more-voices");
  const sampled = page.waitForResponse((r) => r.url().includes("/api/v1/voices/") && r.url().endsWith("/sample"));
  await page.click("#voice-sample");
  const sample = await sampled;
  summary.sample = { status: sample.status(), type: sample.headers()["content-type"] };
  await sleep(500);
  summary.sample_stored = await page.locator('.card[data-asset^="audio_"]').count();
  await page.fill("#voice-form textarea[name=text]", "Hello from the browser. This video was made in a real browser test.");
  await page.click("#voice-form button[type=submit]");
  await page.waitForSelector('.card[data-asset^="audio_1."]');
  const audioName = await page.getAttribute('.card[data-asset^="audio_1."]', "data-asset");
  await api("POST", `${s}/image`, { prompt: "A harbour with fishing boats at dawn", width: 640, height: 360 });
  const music = `${shots}/music.mp3`;
  execFileSync("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=330:duration=4", music]);
  await page.check("#as-music");
  await page.setInputFiles("#file-input", music);
  await page.waitForSelector('.card[data-asset="audio_2.mp3"]');
  await page.waitForFunction(() => document.querySelector("#music-select").value === "audio_2.mp3");
  summary.music_box_cleared = !(await page.isChecked("#as-music"));
  summary.music_chosen = await page.inputValue("#music-select");
  await page.waitForSelector('.card[data-asset="image_2.png"]');
  await snap(page, "assets");

  // Build the timeline: two scenes, the first narrated.
  await page.click('.card[data-asset="image_1.png"] button:text("Add")');
  await page.click(`.card[data-asset="${audioName}"] button:text("Add")`);
  await page.click('.card[data-asset="image_2.png"] button:text("Add")');
  summary.scene_cards = await page.locator("#timeline .scene").count();
  summary.narration_shown = await page.textContent('#timeline .scene[data-scene="0"] .narration');
  summary.thumbnails = await page.$$eval("#timeline .scene img", (imgs) => imgs.map((i) => new URL(i.src).pathname.split("/").at(-2)));
  const widths = await page.$$eval("#timeline .scene", (n) => n.map((x) => x.getBoundingClientRect().width));
  await page.fill('#timeline .scene[data-scene="1"] input.duration', "8");
  await page.press('#timeline .scene[data-scene="1"] input.duration', "Tab");
  await saved(page);
  const widths2 = await page.$$eval("#timeline .scene", (n) => n.map((x) => x.getBoundingClientRect().width));
  summary.width_follows_length = widths2[1] > widths[1];
  await page.selectOption("#caption-style", "karaoke");
  await saved(page);
  await page.selectOption('#timeline .transition select >> nth=0', "crossfade");
  await page.fill('#timeline .scene[data-scene="1"] input[aria-label="Title"]', "The harbour");
  await page.press('#timeline .scene[data-scene="1"] input[aria-label="Title"]', "Tab");
  await saved(page);
  summary.total_shown = await page.textContent("#total-length");
  summary.banner_visible_before = await page.isVisible("#conflict");
  const serverTimeline = await api("GET", `${s}/timeline`);
  summary.saved_items = serverTimeline.timeline.map((i) => i.asset_id);
  summary.saved_scene2 = serverTimeline.timeline[2];
  summary.saved_music = serverTimeline.music && serverTimeline.music.asset_id;
  summary.saved_captions = serverTimeline.captions;
  await snap(page, "timeline");

  // The conversation, then a reload: everything comes back.
  await page.fill("#chat-message", "which images do I have?");
  await page.click("#chat-form button");
  await page.waitForSelector("#chat-log .msg.bot");
  await page.reload();
  await page.waitForSelector('#timeline .scene[data-scene="1"]');
  // The conversation loads beside the timeline: wait for it (or time out
  // and count what is there).
  await page.waitForSelector("#chat-log .msg.bot", { timeout: 15000 }).catch(() => {});
  summary.after_reload = {
    scenes: await page.locator("#timeline .scene").count(),
    duration: await page.inputValue('#timeline .scene[data-scene="1"] input.duration'),
    title: await page.inputValue('#timeline .scene[data-scene="1"] input[aria-label="Title"]'),
    transition: await page.inputValue("#timeline .transition select >> nth=0"),
    music: await page.inputValue("#music-select"),
    chat: await page.locator("#chat-log .msg").count(),
  };
  await snap(page, "reloaded");

  // Undo (also across the reload, over the saved versions) and redo.
  let before = await version(page);
  await page.click("#undo");
  await savedAfter(page, before);
  summary.undo_title = await page.inputValue('#timeline .scene[data-scene="1"] input[aria-label="Title"]');
  await page.click("body");
  before = await version(page);
  await page.keyboard.press("Control+Shift+Z");
  await savedAfter(page, before);
  summary.redo_title = await page.inputValue('#timeline .scene[data-scene="1"] input[aria-label="Title"]');

  // Drag the second scene before the first (pointer events).
  const from = await page.locator('#timeline .scene[data-scene="1"] .scene-head strong').boundingBox();
  const to = await page.locator('#timeline .scene[data-scene="0"] img').boundingBox();
  await page.mouse.move(from.x + 3, from.y + 3);
  await page.mouse.down();
  await page.mouse.move(to.x + 20, to.y + 20, { steps: 5 });
  await page.mouse.up();
  await saved(page);
  summary.after_drag = (await api("GET", `${s}/timeline`)).timeline.map((i) => i.asset_id);
  await page.keyboard.press("Control+z");
  await saved(page);
  summary.after_drag_undo = (await api("GET", `${s}/timeline`)).timeline.map((i) => i.asset_id);

  // Preview: a draft, played in the page; the status tells the steps.
  await page.evaluate(() => {
    window.statuses = [];
    new MutationObserver(() => window.statuses.push(document.querySelector("#compose-status").textContent))
      .observe(document.querySelector("#compose-status"), { childList: true, characterData: true, subtree: true });
  });
  await page.click("#preview");
  const preview = await page.waitForSelector('#result-video[data-quality="draft"]', { timeout: 120000 });
  summary.preview = await videoReady(preview);
  summary.preview_status = await page.textContent("#compose-status");
  summary.progress_at_end = await page.evaluate(() => document.querySelector("#compose-progress").value);
  summary.statuses = await page.evaluate(() => [...new Set(window.statuses)]);
  await snap(page, "preview");

  // Export for Shorts: 9:16.
  await page.selectOption("#export-preset", "9:16");
  await page.click("#export");
  const exported = await page.waitForSelector('#result-video[data-quality="standard"]', { timeout: 180000 });
  summary.export = await videoReady(exported);
  await snap(page, "exported");

  // A video in the gallery keeps playing while new assets arrive.
  const galleryVideo = await page.waitForSelector('.card[data-asset="video_1.mp4"] video');
  await galleryVideo.evaluate((v) => { v.muted = true; v.dataset.marker = "same"; return v.play(); });
  const started = await galleryVideo.evaluate((v) => v.currentTime);
  for (let i = 0; i < 2; i++) {
    await api("POST", `${s}/image`, { prompt: `A new picture number ${i}`, width: 320, height: 176 });
    await sleep(5000);
  }
  await page.waitForSelector('.card[data-asset="image_4.png"]');
  summary.playback = await page.evaluate((t0) => {
    const v = document.querySelector('.card[data-asset="video_1.mp4"] video');
    return { same_element: v.dataset.marker === "same", advanced: v.currentTime - t0, paused: v.paused };
  }, started);

  // A half-typed value survives 10 s of waiting (polls included).
  await page.click('#timeline .scene[data-scene="0"] input.duration');
  await page.keyboard.type("5.5");
  await sleep(10000);
  summary.typed_survives = await page.inputValue('#timeline .scene[data-scene="0"] input.duration');
  await page.press('#timeline .scene[data-scene="0"] input.duration', "Tab");
  await saved(page);

  // Two tabs: the second saves first, the first gets a conflict, not an overwrite.
  const other = await context.newPage();
  await other.goto(`${base}/?session=${session}`);
  await other.waitForSelector('#timeline .scene[data-scene="1"]');
  await other.fill('#timeline .scene[data-scene="1"] input[aria-label="Title"]', "From the other tab");
  await other.press('#timeline .scene[data-scene="1"] input[aria-label="Title"]', "Tab");
  await saved(other);
  await page.fill('#timeline .scene[data-scene="1"] input[aria-label="Title"]', "From the first tab");
  await page.press('#timeline .scene[data-scene="1"] input[aria-label="Title"]', "Tab");
  await page.waitForSelector("#conflict", { state: "visible" });
  summary.conflict_shown = true;
  summary.server_title_during_conflict = (await api("GET", `${s}/timeline`)).timeline.find((i) => i.text)?.text;
  await snap(page, "conflict");
  await page.click("#conflict-load");
  await page.waitForFunction(() => document.querySelector("#conflict").hidden
    && document.querySelector('#timeline .scene[data-scene="1"] input[aria-label="Title"]').value !== "From the first tab", null, { timeout: 10000 }).catch(() => {});
  summary.banner_visible_after = await page.isVisible("#conflict");
  summary.title_after_resolve = await page.inputValue('#timeline .scene[data-scene="1"] input[aria-label="Title"]');
  await other.close();

  // Phone width: one column, nothing wider than the screen, controls on one line.
  await page.setViewportSize({ width: 390, height: 844 });
  await sleep(300);
  await snap(page, "phone");
  summary.fits_phone = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
  // (One line of 40 px controls: a second line would make it 80 px or more.)
  summary.scene_head_one_line = await page.$$eval(".scene-head", (hs) => hs.every((h) => h.getBoundingClientRect().height < 64));
  summary.page_errors = pageErrors;
  console.log(JSON.stringify(summary));
} catch (e) {
  summary.error = String(e);
  console.log(JSON.stringify(summary));
  process.exitCode = 1;
} finally {
  writeFileSync(`${shots}/summary.json`, JSON.stringify(summary, null, 2));
  await browser.close();
}
