// End-to-end test of the web studio in headless Chromium, as a person uses it:
// open the page, create a session, generate an image and a voice-over through
// the forms, build a two-item timeline, compose, wait for the progress bar,
// and check that the video element loads with the expected duration.
// Usage: node e2e.mjs BASE_URL SCREENSHOT_DIR   (prints a JSON summary)
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";

const [base, shots] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"],
});
const summary = {};
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const consoleErrors = [];
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  await page.goto(base + "/");
  await page.screenshot({ path: `${shots}/1-start.png`, fullPage: true });

  await page.click("#new-session");
  await page.waitForSelector("#studio:not([hidden])");
  summary.session = await page.inputValue("#session-id");
  summary.url_has_session = page.url().includes(`session=${summary.session}`);

  // A bad request shows a readable error next to its form.
  await page.fill("#image-form input[name=prompt]", "   ");
  await page.evaluate(() => document.querySelector("#image-form input[name=prompt]").removeAttribute("required"));
  await page.click("#image-form button");
  await page.waitForSelector('[data-error-for="image"]:not(:empty)');
  summary.form_error = await page.textContent('[data-error-for="image"]');

  await page.fill("#image-form input[name=prompt]", "A lighthouse at night by the sea");
  await page.click("#image-form button");
  await page.waitForSelector('.card[data-asset="image_1.png"] img');
  await page.waitForSelector("#voice-select option[value='en-US-Neural2-D']", { state: "attached" });
  await page.fill("#voice-form textarea[name=text]", "Hello from the browser. This video was made in a real browser test.");
  await page.click("#voice-form button");
  await page.waitForSelector('.card[data-asset^="audio_1."]');
  await page.screenshot({ path: `${shots}/2-assets.png`, fullPage: true });

  const audioName = await page.getAttribute('.card[data-asset^="audio_1."]', "data-asset");
  const audio = await (await fetch(`${base}/api/v1/sessions/${summary.session}/assets/${audioName}`)).json();
  summary.expected_duration = audio.metadata.duration_seconds;

  await page.click('.card[data-asset="image_1.png"] button:text("Add")');
  await page.click(`.card[data-asset="${audioName}"] button:text("Add")`);
  summary.timeline_items = await page.locator("#timeline li").count();
  summary.total_shown = await page.textContent("#total-length");

  await page.click("#compose");
  await page.waitForSelector("#compose-progress:not([hidden])");
  const video = await page.waitForSelector("#result-video", { timeout: 120000 });
  summary.progress_at_end = await page.evaluate(() => document.querySelector("#compose-progress").value);
  summary.video_duration = await video.evaluate((v) => new Promise((resolve) => {
    if (v.readyState >= 1) resolve(v.duration);
    v.addEventListener("loadedmetadata", () => resolve(v.duration));
    v.addEventListener("error", () => resolve(-1));
  }));
  await page.screenshot({ path: `${shots}/3-composed.png`, fullPage: true });

  // Phone width: the same page, one column.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `${shots}/4-phone.png`, fullPage: true });
  summary.fits_phone = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
  summary.page_errors = consoleErrors;
  console.log(JSON.stringify(summary));
} catch (e) {
  summary.error = String(e);
  console.log(JSON.stringify(summary));
  process.exitCode = 1;
} finally {
  await browser.close();
}
