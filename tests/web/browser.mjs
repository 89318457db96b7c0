// What the browser scripts share: headless Chromium started the way this
// machine's closed network needs (no background connections), and helpers
// that wait for the editor's saves.
import { chromium } from "playwright-core";

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"],
  });
}

/// The saved version the editor's status shows (0: none yet).
export const version = (page) => page.evaluate(() => Number((document.querySelector("#save-status").textContent.match(/version (\d+)/) || [])[1] || 0));

/// Waits until a save newer than version `v` is done.
export const savedAfter = (page, v) => page.waitForFunction((v) => {
  const m = document.querySelector("#save-status").textContent.match(/^saved · version (\d+)/);
  return m && Number(m[1]) > v;
}, v);
