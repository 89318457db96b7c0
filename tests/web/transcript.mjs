// The transcript panel (issue #22), in headless Chromium against the real
// server: a scene's voice-over opens as words; a click plays from a word; a
// word selected and deleted is cut (saved as the item's cuts, struck
// through); undo brings it back, redo cuts it again, Delete on a cut word
// restores it; a shift-click range is cut with "Cut selected"; "Remove
// fillers" and "Tighten pauses" keep the words already cut; a voice-over
// without a transcript is transcribed from the panel, and audio without
// speech says so; on a phone the controls are big enough to tap.
// Usage: node transcript.mjs BASE_URL SESSION AUDIO WORD_INDEX SCREENSHOT_DIR
//   (prints a JSON summary)
import { launch, savedAfter, version } from "./browser.mjs";
import { mkdirSync, writeFileSync } from "node:fs";

const [base, session, audio, wordArg, shots] = process.argv.slice(2);
const target = Number(wordArg);
mkdirSync(shots, { recursive: true });
const browser = await launch();
const summary = { steps: [] };
let shot = 0;
const snap = async (page, name) => { shot += 1; await page.screenshot({ path: `${shots}/transcript-${String(shot).padStart(2, "0")}-${name}.png`, fullPage: true }); summary.steps.push(name); };
const s = `${base}/api/v1/sessions/${session}`;
/// The saved timeline's item for `name`: its cuts (null when none).
const savedCuts = async (name) => {
  const saved = await (await fetch(`${s}/timeline`)).json();
  const item = saved.timeline.find((i) => i.asset_id === name);
  return item.cuts ?? null;
};
const word = (i) => `#transcript-words .word[data-i="${i}"]`;
const struck = (page) => page.$$eval("#transcript-words .word.cut", (spans) => spans.map((s) => Number(s.dataset.i)));

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  await page.goto(`${base}/?session=${session}`);
  await page.waitForSelector('#timeline .scene[data-scene="1"]');
  summary.buttons = await page.$$eval("#timeline .transcript-open", (bs) => bs.map((b) => [b.closest(".scene").dataset.scene, b.textContent]));
  summary.length_before = await page.textContent('#timeline .scene[data-scene="0"] .scene-head .muted');

  // Open scene 1's voice-over as words.
  await page.click('#timeline .scene[data-scene="0"] .transcript-open');
  await page.waitForSelector(`${word(target)}`);
  summary.words_shown = await page.locator("#transcript-words .word").count();
  summary.word_text = await page.textContent(word(target));
  summary.removed_before = await page.textContent("#transcript-removed");
  await snap(page, "opened");

  // A click plays from the word.
  await page.click(word(target));
  await page.waitForTimeout(400);
  summary.player = await page.$eval("#transcript-media", (m) => ({ src: new URL(m.src).pathname, time: m.currentTime, paused: m.paused }));
  await page.$eval("#transcript-media", (m) => m.pause());

  // Delete cuts it: saved as the item's cuts, struck through.
  let v = await version(page);
  await page.keyboard.press("Delete");
  await savedAfter(page, v);
  summary.after_cut = await savedCuts(audio);
  summary.struck_after_cut = await struck(page);
  summary.removed_after_cut = await page.textContent("#transcript-removed");
  summary.length_after_cut = await page.textContent('#timeline .scene[data-scene="0"] .scene-head .muted');
  await snap(page, "word-cut");

  // Undo: the cut is gone from the saved timeline and the word is back.
  v = await version(page);
  await page.click("#undo");
  await savedAfter(page, v);
  summary.after_undo = await savedCuts(audio);
  summary.struck_after_undo = await struck(page);
  // Redo (Ctrl+Shift+Z) cuts it again.
  v = await version(page);
  await page.keyboard.press("Control+Shift+Z");
  await savedAfter(page, v);
  summary.after_redo = await savedCuts(audio);
  summary.struck_after_redo = await struck(page);

  // Delete on the struck word restores it.
  await page.click(word(target));
  await page.$eval("#transcript-media", (m) => m.pause());
  v = await version(page);
  await page.keyboard.press("Backspace");
  await savedAfter(page, v);
  summary.after_restore = await savedCuts(audio);
  summary.struck_after_restore = await struck(page);

  // Dragging over words selects them (Escape lets go).
  const box = async (i) => (await page.locator(word(i)).boundingBox());
  const [from, to] = [await box(5), await box(7)];
  await page.mouse.move(from.x + 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 5 });
  await page.mouse.up();
  summary.dragged = await page.$$eval("#transcript-words .word.selected", (spans) => spans.map((s) => Number(s.dataset.i)));
  await page.keyboard.press("Escape");
  summary.after_escape = await page.locator("#transcript-words .word.selected").count();

  // A range: click, shift-click, "Cut selected".
  await page.click(word(1));
  await page.$eval("#transcript-media", (m) => m.pause());
  await page.click(word(3), { modifiers: ["Shift"] });
  summary.selected_range = await page.$$eval("#transcript-words .word.selected", (spans) => spans.map((s) => Number(s.dataset.i)));
  v = await version(page);
  await page.click("#transcript-cut");
  await savedAfter(page, v);
  summary.after_range = await savedCuts(audio);
  summary.struck_after_range = await struck(page);

  // And the target again, with the range kept.
  await page.click(word(target));
  await page.$eval("#transcript-media", (m) => m.pause());
  v = await version(page);
  await page.keyboard.press("Delete");
  await savedAfter(page, v);
  summary.struck_before_fillers = await struck(page);

  // Remove fillers, then Tighten pauses: the words cut stay cut.
  await page.click("#transcript-fillers");
  // Done when the button is back; saved unless nothing was a filler.
  await page.waitForFunction(() => !document.querySelector("#transcript-fillers").disabled
    && document.querySelector("#save-status").textContent.startsWith("saved"));
  summary.after_fillers = await savedCuts(audio);
  summary.struck_after_fillers = await struck(page);
  const removedBeforePauses = await page.textContent("#transcript-removed");
  v = await version(page);
  await page.click("#transcript-pauses");
  await savedAfter(page, v);
  summary.after_pauses = await savedCuts(audio);
  summary.struck_after_pauses = await struck(page);
  summary.removed_before_pauses = removedBeforePauses;
  summary.removed_after_pauses = await page.textContent("#transcript-removed");
  summary.errors_shown = await page.textContent('[data-error-for="transcript"]');
  await snap(page, "fillers-and-pauses");

  // A voice-over without a transcript: transcribed from the panel.
  const second = await page.$$eval('#timeline .scene[data-scene="1"] .transcript-open', (bs) => bs.map((b) => b.textContent));
  summary.second_scene_buttons = second;
  await page.click('#timeline .scene[data-scene="1"] .transcript-open >> nth=0');
  await page.waitForSelector("#transcript-transcribe:not([hidden])");
  summary.before_transcribe = await page.textContent("#transcript-status");
  await page.click("#transcript-transcribe");
  summary.while_transcribing = await page.textContent("#transcript-status");
  await page.waitForSelector('#transcript-words .word[data-i="0"]', { timeout: 120000 });
  summary.transcribed_words = await page.$$eval("#transcript-words .word", (spans) => spans.map((s) => s.textContent));
  summary.transcribe_hidden_after = await page.isHidden("#transcript-transcribe");
  await snap(page, "transcribed");

  // Audio without speech says so.
  await page.click('#timeline .scene[data-scene="1"] .transcript-open >> nth=1');
  await page.waitForFunction(() => /speech/.test(document.querySelector("#transcript-status").textContent));
  summary.silent_status = await page.textContent("#transcript-status");
  summary.silent_words = await page.locator("#transcript-words .word").count();
  summary.silent_can_transcribe = await page.isVisible("#transcript-transcribe");

  // On a phone: the panel fits and its controls can be tapped.
  await page.click('#timeline .scene[data-scene="0"] .transcript-open');
  await page.waitForSelector(word(target));
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  summary.phone = await page.evaluate(() => {
    const panel = document.querySelector("#transcript-panel");
    const visible = [...panel.querySelectorAll("button, .word")].filter((n) => n.offsetParent !== null);
    const short = visible.filter((n) => n.getBoundingClientRect().height < 40).map((n) => n.id || n.textContent);
    const openers = [...document.querySelectorAll(".transcript-open")].filter((n) => n.getBoundingClientRect().height < 40).length;
    return { short, openers_short: openers, fits: panel.getBoundingClientRect().right <= window.innerWidth && document.documentElement.scrollWidth <= window.innerWidth };
  });
  await page.locator("#transcript-panel").scrollIntoViewIfNeeded();
  await snap(page, "phone");

  summary.page_errors = pageErrors;
  console.log(JSON.stringify(summary));
} catch (e) {
  summary.error = String(e);
  console.log(JSON.stringify(summary));
  process.exitCode = 1;
} finally {
  writeFileSync(`${shots}/transcript-summary.json`, JSON.stringify(summary, null, 2));
  await browser.close();
}
