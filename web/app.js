// Content Studio in the browser: plain JavaScript over the HTTP API.
// The timeline is the session's saved timeline: every edit is saved
// (debounced, conditional on the version it started from), undo and redo
// walk the saved versions, and nothing on the page is rebuilt while it is
// in use (the gallery is updated card by card).
"use strict";

const $ = (sel) => document.querySelector(sel);
const state = {
  session: null,
  assets: [],
  doc: fields({}),     // the timeline being edited (the saved document's fields)
  version: 0,          // the saved version this tab's edits build on
  committed: "",       // JSON of `doc` at the last edit
  undo: [], redo: [],  // JSON documents
  olderThan: 0,        // undo fetches the saved version before this one when its stack is empty
  saveTimer: null, saving: null, dirty: false,
  poll: null, job: null,
};


function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function showError(where, message) {
  const target = document.querySelector(`[data-error-for="${where}"]`) || $("#session-error");
  target.textContent = message || "";
}

class ApiError extends Error {
  constructor(status, body) {
    super(status === 401 ? "This studio needs an API key: enter it above."
      : body && body.error ? body.error.message : `HTTP ${status}`);
    this.status = status; this.code = body && body.error ? body.error.code : null;
    this.field = body && body.error ? body.error.field : null;
  }
}

// ---- API key ----------------------------------------------------------------
// When the server needs a key, the page asks once and keeps it in this
// browser: sent as a bearer token by `api`, and as a same-site cookie so that
// images, videos and event streams (which cannot send headers) carry it too.

const KEY = "studio_key";
function useKey(key) {
  if (key) localStorage.setItem(KEY, key); else localStorage.removeItem(KEY);
  document.cookie = key
    ? `${KEY}=${encodeURIComponent(key)}; path=/; SameSite=Strict`
    : `${KEY}=; path=/; max-age=0; SameSite=Strict`;
}
if (localStorage.getItem(KEY)) useKey(localStorage.getItem(KEY));

function askForKey(message) {
  // A later keyless call (the session poll) keeps the reason shown.
  if (message || $("#key-form").hidden) showError("key", message || "");
  $("#key-form").hidden = false;
  $("#key-input").focus();
}
$("#key-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  useKey($("#key-input").value.trim());
  try {
    await api("GET", "/api/v1/sessions?limit=1");
    $("#key-form").hidden = true;
    $("#key-input").value = "";
    // What failed for want of a key is said no more.
    document.querySelectorAll("[data-error-for]").forEach((node) => { node.textContent = ""; });
    loadVoices();
    if (state.session) openSession(state.session);
  } catch (err) {
    if (err.status !== 401) $("#key-form").hidden = true;
  }
});

async function api(method, path, body, contentType) {
  const opts = { method, headers: {} };
  if (body instanceof FormData) opts.body = body;
  else if (contentType) { opts.body = body; opts.headers["content-type"] = contentType; }
  else if (body !== undefined) { opts.body = JSON.stringify(body); opts.headers["content-type"] = "application/json"; }
  const key = localStorage.getItem(KEY);
  if (key) opts.headers.authorization = `Bearer ${key}`;
  const resp = await fetch(path, opts);
  const text = await resp.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  // A refusal counts only for the key still in use: an answer to a request
  // sent before a key was entered says nothing about that key.
  if (resp.status === 401 && localStorage.getItem(KEY) === key) {
    if (key) useKey(null);
    askForKey(key ? "That key was refused (unknown or revoked); enter another." : "");
  }
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

const base = () => `/api/v1/sessions/${encodeURIComponent(state.session)}`;

async function busy(button, where, work) {
  showError(where, "");
  if (button) button.disabled = true;
  try { return await work(); }
  catch (e) { showError(where, e.message); }
  finally { if (button) button.disabled = false; }
}

// ---- session --------------------------------------------------------------

async function openSession(id) {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
    showError("session", "Session ids are 1 to 64 letters, digits, '_' or '-'.");
    return;
  }
  showError("session", "");
  state.session = id;
  $("#session-id").value = id;
  const url = new URL(location.href);
  url.searchParams.set("session", id);
  history.replaceState(null, "", url);
  $("#studio").hidden = false;
  $("#welcome").hidden = true;
  $("#gallery").replaceChildren();
  $("#chat-log").replaceChildren();
  await refreshAssets();
  await loadTimeline();
  await loadConversation();
  resetBrand();
  clearInterval(state.poll);
  state.poll = setInterval(poll, 3000);
}

$("#new-session").addEventListener("click", () =>
  busy($("#new-session"), "session", async () => openSession((await api("POST", "/api/v1/sessions")).session_id)));
$("#open-session").addEventListener("click", () => openSession($("#session-id").value.trim()));
$("#session-id").addEventListener("keydown", (e) => { if (e.key === "Enter") openSession(e.target.value.trim()); });

async function poll() {
  await refreshAssets();
  // Another tab, device or the automatic pipeline saved a newer timeline:
  // adopt it when this tab has nothing unsaved and nobody is typing in it.
  if (state.dirty || state.saving || $("#editor-panel").contains(document.activeElement)) return;
  try {
    const saved = await api("GET", `${base()}/timeline`);
    if (saved.version > state.version) adopt(saved);
  } catch { /* the next poll tries again */ }
}

// ---- assets: a live gallery, updated card by card ----------------------------

async function refreshAssets() {
  if (!state.session) return;
  try {
    state.assets = await api("GET", `${base()}/assets`);
    if ($("#session-error").textContent.startsWith("Nothing in this session")) showError("session", "");
  } catch (e) {
    // A new session has no assets until the first one is made; with a key,
    // a session made without it (or with another key) is not visible.
    state.assets = [];
    if (e.status === 404 && localStorage.getItem(KEY)) {
      showError("session", "Nothing in this session for your key yet: it starts when you make something here. " +
        "Sessions made without a key, or with another key, are not visible with this one.");
    }
  }
  renderGallery();
  renderMusic();
  renderBrandChoices();
}

/// The scenes whose items use an asset: ["scene 2", "scene 4"].
function scenesUsing(name) {
  const items = state.doc.timeline;
  return scenes().flatMap((g, k) => [g.visual, ...g.audio].some((i) => i !== null && items[i].asset_id === name)
    ? [g.visual === null ? "the intro" : `scene ${k + 1}`] : []);
}

/// An error of a compose or timeline save, in scene terms.
function inSceneTerms(e) {
  const o = e && e.field && /^overlays\[(\d+)\]/.exec(e.field);
  if (o) return `${overlayName(Number(o[1]))}: ${e.message.replace(/^overlays\[\d+\][.\w[\]]*: (overlay \d+: )?/, "")}`;
  const m = e && e.field && /^timeline\[(\d+)\]/.exec(e.field);
  if (!m) return e.message;
  const index = Number(m[1]);
  const k = scenes().findIndex((g) => g.visual === index || g.audio.includes(index));
  const where = k < 0 ? "A scene" : scenes()[k].visual === null ? "The intro" : `Scene ${k + 1}`;
  const text = e.message.replace(/^timeline\[\d+\][.\w]*: (item \d+: )?/, "");
  return `${where}: ${text}`;
}

/// Items whose asset is gone, as the sentence a person reads.
function missingItems() {
  const items = state.doc.timeline;
  for (const [k, g] of scenes().entries()) {
    if (g.visual !== null && !assetNamed(items[g.visual].asset_id)) return `Scene ${k + 1}'s picture was deleted — replace it or remove the scene.`;
    for (const i of g.audio) if (!assetNamed(items[i].asset_id)) return `${g.visual === null ? "The intro" : `Scene ${k + 1}`}'s voice-over ${items[i].asset_id} was deleted — remove it from the scene or add another.`;
  }
  for (const [i, o] of (state.doc.overlays || []).entries()) {
    if (o.asset_id && !assetNamed(o.asset_id)) return `${overlayName(i)} was deleted from the assets — remove the overlay (select its bar, then Delete).`;
  }
  return null;
}

const seconds = (a) => a && a.metadata && a.metadata.duration_seconds ? a.metadata.duration_seconds : 0;
const assetNamed = (name) => state.assets.find((a) => a.name === name);
const isVisual = (a) => a && (a.type === "image" || a.type === "video");

function card(a) {
  let media;
  if (a.type === "image") media = el("img", { src: a.url, alt: a.metadata.prompt || a.name, loading: "lazy" });
  else if (a.type === "audio") media = el("audio", { src: a.url, controls: true, preload: "none" });
  else if (a.type === "video") media = withPoster(el("video", { src: a.url, controls: true, preload: "metadata" }));
  else if (a.type === "social") media = el("div", { class: "post" }, el("strong", {}, a.metadata.title || ""), el("span", {}, a.metadata.hashtags || ""));
  else if (a.type === "font") media = fontSample(a);
  else media = el("span", { class: "meta" }, a.mime_type);
  const actions = el("div", { class: "actions" });
  if (["image", "audio", "video"].includes(a.type)) {
    actions.append(el("button", { type: "button", onclick: () => addToTimeline(a) }, "Add"));
  }
  if (isVisual(a)) {
    actions.append(el("button", { type: "button", class: "as-overlay", title: "Lay it over the scenes: a logo in a corner, a clip in a bubble", onclick: () => addAsOverlay(a) }, "Add as overlay"));
  }
  if (a.type === "font") {
    actions.append(el("button", { type: "button", class: "use-font", title: "Titles, text overlays and captions in this font", onclick: () => useInBrand({ font: a.name }) }, "Use in brand kit"));
  }
  if (a.type === "social") {
    actions.append(el("button", { type: "button", onclick: async (e) => {
      const post = await (await fetch(a.url)).json();
      const text = `${post.title}\n\n${post.description}\n\n${post.hashtags}`;
      try { await navigator.clipboard.writeText(text); e.target.textContent = "Copied"; }
      catch { e.target.textContent = "Copy failed"; }
    } }, "Copy"));
  }
  actions.append(el("a", { href: a.url, download: a.name }, "Download"));
  actions.append(el("button", { type: "button", onclick: () => busy(null, "upload", async () => {
    const used = scenesUsing(a.name);
    if (used.length && !confirm(`${a.name} is used in ${used.join(" and ")}. Delete it anyway? ` +
      "It cannot be brought back; the scene will need another " + (isVisual(a) ? "picture." : "voice-over."))) return;
    await api("DELETE", `${base()}/assets/${encodeURIComponent(a.name)}`);
    await refreshAssets();
    if (used.length) renderEditor();
  }) }, "Delete"));
  if (isRender(a)) {
    const captions = a.metadata.captions && assetNamed(a.metadata.captions);
    if (captions) actions.append(el("a", { href: captions.url, download: captions.name, class: "subtitles" }, "Subtitles (.srt)"));
  }
  const shown = displayName(a);
  const meta = isRender(a) ? renderFacts(a)
    : [a.type, seconds(a) ? `${seconds(a).toFixed(1)} s` : "", a.metadata.role === "music" ? "music" : "",
      shown !== a.name ? a.name : ""].filter(Boolean).join(" · ");
  return el("div", { class: "card", "data-asset": a.name },
    media, el("div", { class: "name", title: a.name }, shown), el("div", { class: "meta" }, meta), actions);
}

/// A video that shows its first scene before it plays, not the black of
/// its opening fade: it waits at 0.5 s (or its middle, if shorter), and
/// plays from the start when asked to.
function withPoster(video) {
  video.preload = "metadata";
  video.addEventListener("loadedmetadata", () => {
    if (!video.dataset.played && video.currentTime === 0) video.currentTime = Math.min(0.5, video.duration / 2);
  }, { once: true });
  video.addEventListener("play", () => {
    if (!video.dataset.played) { video.dataset.played = "1"; video.currentTime = 0; }
  }, { once: true });
  return video;
}

/// What a person calls an asset: an upload by its file's name.
const displayName = (a) => a.metadata.original_filename || a.name;
/// A finished video of a preview or an export (and its subtitles).
const isRender = (a) => a.source === "compose";
const RATIOS = [["16:9", 16 / 9], ["9:16", 9 / 16], ["1:1", 1], ["4:5", 4 / 5]];

/// "1080×1920 · 9:16 · version 4 · 12.3 s · draft"
function renderFacts(a) {
  const m = a.metadata;
  const ratio = m.width && m.height && RATIOS.find(([, r]) => Math.abs(m.width / m.height - r) < 0.02);
  return [m.width && m.height ? `${m.width}×${m.height}` : "", ratio ? ratio[0] : "",
    m.timeline_version ? `version ${m.timeline_version}` : "", seconds(a) ? `${seconds(a).toFixed(1)} s` : "",
    m.quality && m.quality !== "standard" ? m.quality : ""].filter(Boolean).join(" · ");
}

/// Adds cards for new assets and removes those of deleted ones; a card that
/// did not change is never touched (a playing video keeps playing). The
/// previews and exports go to Renders, newest first; their subtitles are a
/// link on the video's card.
function renderGallery() {
  const renders = state.assets.filter((a) => isRender(a) && a.type === "video").reverse();
  syncCards($("#gallery"), state.assets.filter((a) => !isRender(a)));
  syncCards($("#renders"), renders);
  $("#renders-section").hidden = !renders.length;
  $("#asset-count").textContent = state.assets.length ? `(${state.assets.length})` : "";
}

function syncCards(container, list) {
  const existing = new Map([...container.children].map((c) => [c.dataset.asset, c]));
  const wanted = new Set(list.map((a) => a.name));
  for (const [name, node] of existing) if (!wanted.has(name)) node.remove();
  let previous = null;
  for (const a of list) {
    let node = existing.get(a.name);
    if (!node) node = card(a);
    // In order (a new render goes first); an unmoved card is not touched.
    if (previous ? previous.nextElementSibling !== node : container.firstElementChild !== node) {
      if (previous) previous.after(node); else container.prepend(node);
    }
    previous = node;
  }
}

// On a phone the editor comes first and the gallery starts folded.
const phone = window.matchMedia("(max-width: 760px)");
function foldGallery(folded) {
  $("#gallery-panel").classList.toggle("folded", folded);
  $("#gallery-fold").setAttribute("aria-expanded", String(!folded));
  $("#gallery-fold").textContent = folded ? "Show" : "Hide";
}
foldGallery(phone.matches);
phone.addEventListener("change", (e) => foldGallery(e.matches));
$("#gallery-fold").addEventListener("click", () => foldGallery(!$("#gallery-panel").classList.contains("folded")));

/// Music is music: uploads marked as music and uploaded audio, not the
/// voice-overs (and whatever the timeline uses now).
function renderMusic() {
  const select = $("#music-select");
  const current = state.doc.music ? state.doc.music.asset_id : "";
  const choices = state.assets.filter((a) => a.type === "audio" && (a.metadata.role === "music" || a.source === "upload" || a.name === current));
  const names = choices.map((a) => a.name);
  const shown = [...select.options].map((o) => o.value).slice(1);
  if (shown.join() !== names.join()) {
    select.replaceChildren(el("option", { value: "" }, "none"), ...choices
      .map((a) => el("option", { value: a.name }, displayName(a) + (a.metadata.role === "music" ? " (music)" : ""))));
  }
  select.value = names.includes(current) ? current : "";
}

// ---- uploads --------------------------------------------------------------

async function upload(files) {
  const asMusic = $("#as-music").checked;
  let music = null;
  for (const file of files) {
    const form = new FormData();
    form.append("file", file, file.name);
    if (asMusic) form.append("role", "music");
    const asset = await busy(null, "upload", () => api("POST", `${base()}/uploads`, form));
    if (asset && asMusic && asset.type === "audio") music = asset.name;
  }
  $("#as-music").checked = false;
  await refreshAssets();
  if (music) edit(() => { state.doc.music = { asset_id: music }; }, true);
}

const drop = $("#drop-zone");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); upload(e.dataTransfer.files); });
drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); $("#file-input").click(); } });
$("#file-input").addEventListener("change", (e) => upload(e.target.files));

// ---- generation forms -----------------------------------------------------

function formJson(form) {
  return Object.fromEntries(new FormData(form).entries());
}

function bindForm(id, where, route) {
  const form = $(id);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(form.querySelector("button[type=submit]"), where, async () => {
      await api("POST", `${base()}/${route}`, formJson(form));
      await refreshAssets();
    });
  });
}
bindForm("#image-form", "image", "image");
bindForm("#voice-form", "voice", "audio");
bindForm("#social-form", "social", "social");

// Voices: the best installed ones first, the long espeak-ng list on request.
let voices = [];
const engineName = (p) => (p === "builtin" ? "espeak-ng" : p);
function renderVoices() {
  const select = $("#voice-select");
  const current = select.value || "en-US-Neural2-D";
  const googleStyle = (v) => /^[a-z]{2,3}-[A-Z]{2}-/.test(v.name);
  const label = (v) => `${v.name}${v.gender ? " · " + v.gender : ""} (${engineName(v.provider)})`;
  const group = (title, list) => list.length ? el("optgroup", { label: title }, ...list.map((v) => el("option", { value: v.name }, label(v)))) : null;
  const best = voices.filter((v) => v.provider !== "builtin" && !googleStyle(v));
  const common = voices.filter(googleStyle);
  const more = $("#more-voices").checked ? voices.filter((v) => v.provider === "builtin" && !googleStyle(v)) : [];
  select.replaceChildren(...[group("Best voices", best), group("Common voices", common), group("More voices (espeak-ng)", more)].filter(Boolean));
  select.value = [...select.options].some((o) => o.value === current) ? current : "en-US-Neural2-D";
}
async function loadVoices() {
  try { voices = await api("GET", "/api/v1/voices"); renderVoices(); }
  catch (e) { if (e.status !== 401) showError("voice", e.message); } // the key form asks
}
$("#more-voices").addEventListener("change", renderVoices);
$("#voice-sample").addEventListener("click", () => busy($("#voice-sample"), "voice", async () => {
  const url = `/api/v1/voices/${encodeURIComponent($("#voice-select").value)}/sample`;
  const resp = await fetch(url);
  if (!resp.ok) throw new ApiError(resp.status, await resp.json().catch(() => null));
  const player = new Audio(URL.createObjectURL(await resp.blob()));
  player.id = "voice-sample-player";
  await player.play().catch(() => {});
}));

// ---- chat -----------------------------------------------------------------

function chatLine(cls, ...content) {
  const line = el("div", { class: `msg ${cls}` }, ...content);
  $("#chat-log").append(line);
  line.scrollIntoView({ block: "nearest" });
  return line;
}

function assetPreview(asset) {
  if (!asset || !asset.url) return [];
  if (asset.type === "image") return [el("img", { src: asset.url, alt: asset.name })];
  if (asset.type === "audio") return [el("audio", { src: asset.url, controls: true })];
  if (asset.type === "video") return [withPoster(el("video", { src: asset.url, controls: true, preload: "metadata" }))];
  return [];
}

async function loadConversation() {
  try {
    const { messages } = await api("GET", `${base()}/messages`);
    $("#chat-log").replaceChildren();
    for (const m of messages) chatLine(m.role === "user" ? "user" : "bot", m.text, ...assetPreview(m.result));
  } catch { /* a new session has no conversation yet */ }
}

$("#chat-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const message = $("#chat-message").value.trim();
  if (!message) return;
  const mode = document.querySelector('input[name="mode"]:checked').value;
  chatLine("user", message);
  busy($("#chat-form button"), "chat", async () => {
    const reply = await api("POST", `${base()}/agent`, { message, mode });
    $("#chat-message").value = "";
    const line = chatLine("bot", reply.reply, ...assetPreview(reply.result));
    await refreshAssets();
    followChatPreset(reply.result);
    if (reply.result && reply.result.status_url) {
      const bar = el("progress", { max: 1, value: 0 });
      const step = el("div", { class: "muted" });
      line.append(bar, step);
      const job = await followJob(reply.result, (v) => { bar.value = v.progress; step.textContent = describe(v); });
      step.textContent = describe(job);
      if (job.status === "succeeded") {
        const video = job.result.video;
        const done = chatLine("bot", `Your video is ready: ${video.name} (${seconds(video).toFixed(1)} s).`, ...assetPreview(video),
          el("div", { class: "muted" }, "The draft is now your timeline: change a line, swap a picture, preview again."));
        await refreshAssets();
        adopt(await api("GET", `${base()}/timeline`));
        $("#result").replaceChildren(
          withPoster(el("video", { src: video.url, controls: true, id: "result-video", "data-quality": "automatic" })),
          el("p", {}, el("a", { href: video.url, download: video.name }, `Download ${video.name}`)));
        // The result in sight: the chat scrolled to its start.
        const log = $("#chat-log");
        log.scrollTop = done.offsetTop - log.offsetTop;
      } else chatLine("bot", el("span", { class: "error" }, job.error ? job.error.message : `The video was ${job.status}.`));
    }
  });
});

/// A video the chat made in another shape ("make it vertical") makes
/// that shape the export's too, saved with the timeline.
function followChatPreset(result) {
  const m = result && result.type === "video" && result.metadata;
  if (!m || !m.width || !m.height) return;
  const ratio = RATIOS.find(([, r]) => Math.abs(m.width / m.height - r) < 0.02);
  if (!ratio || $("#export-preset").value === ratio[0]) return;
  $("#export-preset").value = ratio[0];
  $("#export-preset").dispatchEvent(new Event("change"));
}

// ---- jobs -----------------------------------------------------------------

function followJob(accepted, onUpdate) {
  return new Promise((resolve) => {
    const source = new EventSource(accepted.events_url);
    source.addEventListener("job", (e) => {
      const job = JSON.parse(e.data);
      onUpdate(job);
      if (["succeeded", "failed", "cancelled"].includes(job.status)) { source.close(); resolve(job); }
    });
    source.onerror = async () => {
      source.close();
      resolve(await api("GET", accepted.status_url)); // the stream ended: read the outcome
    };
  });
}

/// "running · rendering scene 3 of 12 · 40% · about 12 s left"
function describe(job) {
  const parts = [job.status];
  if (job.step && job.status === "running") parts.push(job.step);
  parts.push(`${Math.round(job.progress * 100)}%`);
  const left = timeLeft(job);
  if (left) parts.push(left);
  return parts.join(" · ");
}

/// Where each followed job's render stood when its scenes started.
const renderSeen = new Map();
const RENDERING = /^(rendering scene \d+ of \d+|joining scenes)/;

/// Time left, from the pace of the scenes rendered so far (progress before
/// the render — scripts, voice-overs, pictures — says nothing of how long
/// the render takes): "estimating…" until there is a pace to go by.
function timeLeft(job) {
  if (job.status !== "running") return null;
  if (!RENDERING.test(job.step || "")) return job.progress >= 0.95 ? "almost done" : "estimating…";
  const now = Date.parse(job.updated_at);
  const seen = renderSeen.get(job.job_id);
  if (!seen) { renderSeen.set(job.job_id, { t: now, p: job.progress }); return "estimating…"; }
  const dt = (now - seen.t) / 1000, dp = job.progress - seen.p;
  if (dt < 1.5 || dp < 0.01) return "estimating…";
  // A render ends at 99 % (joining), a whole video's at 95 % (the post).
  const end = job.kind === "pipeline" ? 0.95 : 0.99;
  return `about ${Math.max(1, Math.round(Math.max(0, end - job.progress) / (dp / dt)))} s left`;
}

// ---- the timeline: a saved document ---------------------------------------

function docJson() { return JSON.stringify(state.doc); }

function adopt(saved) {
  state.version = saved.version;
  state.olderThan = saved.version;
  state.doc = fields(saved);
  state.committed = docJson();
  state.dirty = false;
  renderEditor();
  setSaveStatus(saved.version ? `saved · version ${saved.version}` : "");
}

async function loadTimeline() {
  state.undo = []; state.redo = [];
  try { adopt(await api("GET", `${base()}/timeline`)); }
  catch { adopt({ version: 0, timeline: [] }); }
}

function setSaveStatus(text) { $("#save-status").textContent = text; }

/// Applies a change to the document, records it for undo and saves it soon.
function edit(change, structural = false) {
  change();
  const now = docJson();
  if (now === state.committed) return;
  state.undo.push(state.committed);
  state.redo = [];
  state.committed = now;
  if (structural) renderEditor(); else { resizeScenes(); renderTotal(); renderOptions(); renderHistory(); syncTranscript(); renderOverlays(); }
  scheduleSave();
}

function scheduleSave(delay = 600) {
  state.dirty = true;
  setSaveStatus("editing…");
  clearTimeout(state.saveTimer);
  state.saveTimer = setTimeout(save, delay);
}

/// Saves the document, conditional on the version this tab started from.
async function save(force = false) {
  clearTimeout(state.saveTimer);
  if (state.saving) { await state.saving; if (!state.dirty) return; }
  if (!state.dirty && !force) return;
  const body = { ...state.doc, version: state.version };
  state.dirty = false;
  setSaveStatus("saving…");
  state.saving = api("PUT", `${base()}/timeline`, body).then((saved) => {
    state.version = saved.version;
    renderHistory();
    setSaveStatus(`saved · version ${saved.version}`);
    showError("compose", "");
    stillsAfterSave();
  }).catch((e) => {
    state.dirty = true;
    if (e.code === "version_conflict") { $("#conflict").hidden = false; setSaveStatus("not saved: conflict"); }
    else { setSaveStatus("not saved"); showError("compose", inSceneTerms(e)); }
  }).finally(() => { state.saving = null; });
  await state.saving;
}

$("#conflict-load").addEventListener("click", async () => {
  $("#conflict").hidden = true;
  state.undo.push(state.committed);
  adopt(await api("GET", `${base()}/timeline`));
});
$("#conflict-keep").addEventListener("click", async () => {
  $("#conflict").hidden = true;
  const latest = await api("GET", `${base()}/timeline`);
  state.version = latest.version; // overwrite on purpose, knowing theirs
  state.dirty = true;
  await save();
});

async function undo() {
  setSaveStatus("undoing…");
  if (!state.undo.length && state.olderThan > 1) {
    // After a reload: the versions saved before the loaded one, one by one
    // (each undo saves a new version, so the cursor, not the current
    // version, says which comes next).
    const version = state.olderThan - 1;
    try {
      const older = await api("GET", `${base()}/timeline?version=${version}`);
      state.undo.push(JSON.stringify(fields(older)));
      state.olderThan = version;
    } catch { state.olderThan = 0; /* pruned */ }
  }
  if (!state.undo.length) { setSaveStatus(`saved · version ${state.version}`); return; }
  state.redo.push(state.committed);
  restore(state.undo.pop());
}
function redo() {
  if (!state.redo.length) return;
  state.undo.push(state.committed);
  restore(state.redo.pop());
}
/// The editable fields of a saved timeline document.
function fields(saved) { return { timeline: saved.timeline || [], output: saved.output ?? null, fit: saved.fit ?? null, captions: saved.captions ?? null, music: saved.music ?? null, overlays: saved.overlays ?? null }; }
function restore(json) {
  state.doc = JSON.parse(json);
  state.committed = json;
  renderEditor();
  scheduleSave(0);
}
$("#undo").addEventListener("click", undo);
$("#redo").addEventListener("click", redo);
document.addEventListener("keydown", (e) => {
  if (!(e.ctrlKey || e.metaKey) || !state.session) return;
  const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
  if (typing) return;
  const key = e.key.toLowerCase();
  if (key === "z" && !e.shiftKey) { e.preventDefault(); undo(); }
  else if ((key === "z" && e.shiftKey) || key === "y") { e.preventDefault(); redo(); }
});

// ---- the timeline: scenes -------------------------------------------------

/// Groups the flat item list into scenes: a visual and the audio after it
/// (audio before the first visual forms a leading group without a visual).
function scenes() {
  const groups = [];
  state.doc.timeline.forEach((item, index) => {
    const a = assetNamed(item.asset_id);
    const visual = a ? isVisual(a) : /^(image|video)_/.test(item.asset_id);
    if (visual || !groups.length) groups.push({ visual: visual ? index : null, audio: [] });
    if (!visual) groups[groups.length - 1].audio.push(index);
  });
  return groups;
}

/// Each scene's length by the timeline rules: its duration, else its
/// narration (lengthened by a transition's overlap, as narration never
/// overlaps), else a clip's length, else 3 s.
function sceneLengths() {
  const items = state.doc.timeline;
  const lengths = [];
  scenes().forEach((g, k) => {
    if (g.visual === null) { lengths.push(0); return; }
    const audio = g.audio.reduce((t, i) => t + (items[i].duration ? Math.min(Number(items[i].duration), playedSeconds(items[i]) || Infinity) : playedSeconds(items[i])), 0);
    const v = items[g.visual];
    const t = v.transition;
    const overlap = t && k > 0 && lengths[k - 1] ? Math.min(t.duration || 0.5, lengths[k - 1] / 2) : 0;
    const a = assetNamed(v.asset_id);
    lengths.push(v.duration ? Number(v.duration) : audio > 0 ? audio + overlap : a && a.type === "video" ? playedSeconds(v) : 3);
  });
  return lengths;
}

/// The video's length: scenes in a row, transitions overlapping them.
function totalLength() {
  const items = state.doc.timeline;
  const lengths = sceneLengths();
  let total = 0;
  scenes().forEach((g, k) => {
    total += lengths[k];
    const t = g.visual !== null && items[g.visual].transition;
    if (t && k > 0) total -= Math.min(t.duration || 0.5, lengths[k - 1] / 2, lengths[k] / 2);
  });
  return Math.max(total, 0);
}

function renderTotal() { $("#total-length").textContent = `${totalLength().toFixed(1)} s`; }

function renderOptions() {
  const d = state.doc;
  $("#caption-style").value = !d.captions ? "" : d.captions === true ? "plain" : d.captions.style || "plain";
  $("#fit-select").value = d.fit || "cover";
  const ratio = d.output && d.output.aspect_ratio;
  if (ratio) $("#export-preset").value = ratio;
  // The thumbnails take the export's shape: what a vertical video keeps
  // of each picture (or, fitted whole, where the bars go) shows on its card.
  $("#timeline").dataset.frame = $("#export-preset").value;
  $("#timeline").dataset.fit = d.fit || "cover";
  renderMusic();
}

function addToTimeline(a) {
  edit(() => state.doc.timeline.push({ asset_id: a.name }), true);
}

/// Moves a scene. A transition belongs to the cut between two places, not
/// to the scene that happened to follow it: the cuts stay where they were
/// and the scenes move past them (so the video never opens with a
/// transition from nothing).
function moveScene(from, to) {
  const groups = scenes();
  if (to < 0 || to >= groups.length || from === to) return;
  edit(() => {
    const items = state.doc.timeline;
    const cuts = groups.map((g) => (g.visual !== null ? items[g.visual].transition : undefined));
    const take = (g) => [g.visual, ...g.audio].filter((i) => i !== null).map((i) => items[i]);
    const blocks = groups.map(take);
    const [moved] = blocks.splice(from, 1);
    blocks.splice(to, 0, moved);
    blocks.forEach((block, k) => {
      const visual = block[0];
      if (!visual || !groups.some((g) => g.visual !== null && items[g.visual] === visual)) return;
      if (cuts[k]) visual.transition = cuts[k]; else delete visual.transition;
    });
    state.doc.timeline = blocks.flat();
    firstSceneCutsIn();
  }, true);
}

/// The first scene starts the video: it has no transition into it.
function firstSceneCutsIn() {
  const first = scenes().find((g) => g.visual !== null);
  if (first) delete state.doc.timeline[first.visual].transition;
}

function removeScene(k) {
  const g = scenes()[k];
  const drop = new Set([g.visual, ...g.audio]);
  edit(() => {
    state.doc.timeline = state.doc.timeline.filter((_, i) => !drop.has(i));
    firstSceneCutsIn();
  }, true);
}

function numberField(label, value, attrs, onchange) {
  return el("label", {}, label, el("input", { type: "number", value: value ?? "", ...attrs, onchange: (e) => onchange(e.target.value === "" ? undefined : Number(e.target.value)) }));
}

const sceneWidth = (length) => Math.round(Math.min(420, Math.max(200, length * 36)));

/// Updates each card's width, length label and cut warning in place (no
/// input is rebuilt).
function resizeScenes() {
  const groups = scenes();
  sceneLengths().forEach((length, k) => {
    const node = document.querySelector(`#timeline .scene[data-scene="${k}"]`);
    if (!node) return;
    node.style.width = `${sceneWidth(length)}px`;
    node.querySelector(".scene-head .muted").textContent = `${length.toFixed(1)} s`;
    const duration = node.querySelector("input.duration");
    if (duration) duration.placeholder = length.toFixed(1);
    const old = node.querySelector(".warning");
    const now = cutWarning(groups[k]);
    if (old && now) old.replaceWith(now);
    else if (old) old.remove();
    else if (now) node.querySelector(".narration").after(now);
  });
}

/// A scene made shorter than its narration cuts the narration: say so on
/// the card, with the fix (the length goes, so the scene lasts its voice).
function cutWarning(g) {
  const items = state.doc.timeline;
  const item = g.visual !== null ? items[g.visual] : null;
  if (!item || !item.duration) return null;
  const spoken = g.audio.reduce((t, i) => t + playedSeconds(items[i]), 0);
  if (spoken <= Number(item.duration) + 0.05) return null;
  return el("p", { class: "warning", role: "status" },
    `voice-over ${spoken.toFixed(1)} s will be cut at ${Number(item.duration).toFixed(1)} s `,
    el("button", { type: "button", class: "fit-voice", onclick: () => edit(() => { delete item.duration; }, true) }, "Fit to voice"));
}

function sceneCard(g, k, count) {
  const items = state.doc.timeline;
  const item = g.visual !== null ? items[g.visual] : null;
  const a = item ? assetNamed(item.asset_id) : null;
  const length = sceneLengths()[k];
  const width = sceneWidth(length);
  const set = (target, key) => (value) => edit(() => { if (value === undefined || value === "") delete target[key]; else target[key] = value; });
  let thumb;
  if (a && a.type === "image") thumb = el("img", { src: a.url, alt: a.metadata.prompt || a.name, draggable: "false" });
  else if (a && a.type === "video") thumb = el("video", { src: a.url, preload: "metadata", muted: true });
  else if (item) {
    // Pictures and clips of one's own (not the studio's renders).
    const visuals = state.assets.filter((v) => isVisual(v) && v.source !== "compose");
    const replace = el("select", { "aria-label": "Replace the picture", onchange: (e) => e.target.value && edit(() => { item.asset_id = e.target.value; }, true) },
      el("option", { value: "" }, "Replace with…"), ...visuals.map((v) => el("option", { value: v.name }, v.name)));
    thumb = el("div", { class: "thumb-missing" }, `Scene ${k + 1}'s picture (${item.asset_id}) was deleted — replace it or remove the scene.`, replace);
  } else thumb = el("div", { class: "thumb-missing" }, "narration before the first scene");
  const narration = g.audio.map((i) => {
    const au = assetNamed(items[i].asset_id);
    return !au ? `${items[i].asset_id} (deleted)` : au.metadata.text ? au.metadata.text : items[i].asset_id;
  }).join(" ");
  const cut = cutWarning(g);
  const fields = el("div", { class: "fields" });
  if (item) {
    fields.append(numberField("Length (s)", item.duration, { min: "0.1", step: "0.1", placeholder: length.toFixed(1), class: "duration" }, set(item, "duration")));
    if (!a || a.type === "image") {
      const effect = el("select", { "aria-label": "Motion", onchange: (e) => set(item, "effect")(e.target.value === "none" ? undefined : e.target.value) },
        ...["none", "zoom_in", "zoom_out", "pan_left", "pan_right"].map((x) => el("option", { value: x }, x === "none" ? "still" : x.replace("_", " "))));
      effect.value = item.effect || "none";
      fields.append(el("label", {}, "Motion", effect));
    }
    const title = el("input", { type: "text", value: item.text || "", placeholder: "Title", maxlength: "300", "aria-label": "Title", onchange: (e) => set(item, "text")(e.target.value.trim()) });
    fields.append(title);
  }
  for (const i of g.audio) {
    const au = assetNamed(items[i].asset_id);
    const label = au && au.metadata.role === "music" ? "Music volume" : au && au.type === "video" ? "Clip volume" : "Voice volume";
    fields.append(numberField(label, items[i].volume, { min: "0", max: "4", step: "0.1", placeholder: "1", title: items[i].asset_id }, set(items[i], "volume")));
  }
  const head = el("div", { class: "scene-head" },
    el("span", { class: "grip", title: "Drag to reorder", "aria-hidden": "true" }, "⠿"),
    el("strong", {}, item ? `${k + 1}` : "intro"),
    el("span", { class: "muted" }, `${length.toFixed(1)} s`),
    el("span", { class: "spacer" }),
    el("button", { type: "button", class: "icon", title: "Move earlier", "aria-label": "Move earlier", onclick: () => moveScene(k, k - 1), disabled: k === 0 }, "←"),
    el("button", { type: "button", class: "icon", title: "Move later", "aria-label": "Move later", onclick: () => moveScene(k, k + 1), disabled: k === count - 1 }, "→"),
    el("button", { type: "button", class: "icon", title: "Remove scene", "aria-label": "Remove scene", onclick: () => removeScene(k) }, "✕"));
  const words = transcriptButtons(g);
  const node = el("div", { class: "scene", role: "listitem", "data-scene": k },
    head, thumb, el("p", { class: "narration" }, narration || el("span", { class: "muted" }, "no voice-over")), cut, fields,
    words.length ? el("div", { class: "words-actions" }, words) : null);
  node.style.width = `${width}px`; // CSSOM: allowed by the strict CSP, unlike a style attribute
  dragToReorder(node, k);
  return node;
}

function transitionMarker(g) {
  const item = state.doc.timeline[g.visual];
  const t = item.transition;
  const select = el("select", { "aria-label": "Transition", onchange: (e) => edit(() => {
    if (e.target.value) item.transition = { type: e.target.value, duration: (t && t.duration) || 0.5 }; else delete item.transition;
  }, true) }, el("option", { value: "" }, "cut"), ...["fade", "crossfade", "slide_left", "slide_right", "wipe"].map((x) => el("option", { value: x }, x.replace("_", " "))));
  select.value = t ? t.type : "";
  const marker = el("div", { class: "transition" + (t ? " on" : "") }, select);
  if (t) marker.append(el("input", { type: "number", min: "0.1", max: "5", step: "0.1", value: t.duration ?? 0.5, "aria-label": "Transition seconds",
    onchange: (e) => edit(() => { item.transition.duration = Number(e.target.value) || 0.5; }) }));
  return marker;
}

function renderEditor() {
  const groups = scenes();
  const strip = $("#timeline");
  const nodes = [];
  groups.forEach((g, k) => {
    if (g.visual !== null && (k > 0 || state.doc.timeline[g.visual].transition)) nodes.push(transitionMarker(g));
    nodes.push(sceneCard(g, k, groups.length));
  });
  strip.replaceChildren(...nodes);
  if (!groups.length) strip.append(el("p", { class: "muted empty" }, "Add pictures, clips and voice-overs from the assets above: each picture starts a scene."));
  renderTotal();
  renderOptions();
  renderHistory();
  syncTranscript();
  renderLane();
  renderOverlayPanel();
}

/// Whether the timeline has a picture or a clip (a scene to draw).
const hasScene = () => state.doc.timeline.some((item) => isVisual(assetNamed(item.asset_id)) || /^(image|video)_/.test(item.asset_id));

function renderHistory() {
  $("#undo").disabled = !state.undo.length && state.olderThan <= 1;
  $("#redo").disabled = !state.redo.length;
  // Nothing to render yet: Preview and Export wait for a scene.
  const empty = !hasScene();
  if (!state.job) { $("#preview").disabled = empty; $("#export").disabled = empty; }
}

/// Drag a scene by its card with mouse, pen or touch (pointer events).
function dragToReorder(node, k) {
  const grip = node.querySelector(".scene-head");
  grip.addEventListener("pointerdown", (e) => {
    if (e.target.closest("button")) return;
    e.preventDefault();
    grip.setPointerCapture(e.pointerId);
    node.classList.add("dragging");
    const target = (ev) => {
      const under = document.elementFromPoint(ev.clientX, ev.clientY);
      const scene = under && under.closest(".scene");
      return scene ? Number(scene.dataset.scene) : null;
    };
    // Held near the strip's edge, the card scrolls the strip to the
    // scenes out of sight (and the drop target follows).
    const strip = $("#strip-wrap");
    let last = e, edge = 0, frame = null;
    const scroll = () => {
      frame = null;
      if (!edge) return;
      strip.scrollLeft += edge;
      mark(last);
      frame = requestAnimationFrame(scroll);
    };
    const mark = (ev) => {
      document.querySelectorAll(".scene.drop").forEach((n) => n.classList.remove("drop"));
      const t = target(ev);
      if (t !== null && t !== k) document.querySelector(`.scene[data-scene="${t}"]`).classList.add("drop");
    };
    const move = (ev) => {
      last = ev;
      const box = strip.getBoundingClientRect();
      const zone = Math.min(60, box.width / 5);
      edge = ev.clientX < box.left + zone ? -12 : ev.clientX > box.right - zone ? 12 : 0;
      if (edge && frame === null) frame = requestAnimationFrame(scroll);
      mark(ev);
    };
    const up = (ev) => {
      edge = 0;
      if (frame !== null) cancelAnimationFrame(frame);
      grip.removeEventListener("pointermove", move);
      node.classList.remove("dragging");
      document.querySelectorAll(".scene.drop").forEach((n) => n.classList.remove("drop"));
      const t = target(ev);
      if (t !== null) moveScene(k, t);
    };
    grip.addEventListener("pointermove", move);
    grip.addEventListener("pointerup", up, { once: true });
  });
}

// ---- the timeline: overlays ------------------------------------------------
// Text, logos and clips over the scenes (`overlays` of the saved timeline): a
// lane under the scene cards on their time scale, one bar per overlay from
// its start to its end. Drag a bar to move it in time, its right edge to
// change its end; select it to edit it below. Every change is an edit().

const ov = { selected: null };
const PRESETS = ["top_left", "top", "top_right", "left", "center", "right", "bottom_left", "bottom", "bottom_right"];
const ARROWS = ["↖", "↑", "↗", "←", "•", "→", "↙", "↓", "↘"];
const overlays = () => state.doc.overlays || [];
const snap = (t) => Math.round(t * 10) / 10;
const clamp = (x, lo, hi) => Math.min(Math.max(x, lo), hi);

/// "Overlay 2 (“Your name”)", "Overlay 1 (image_2.png)".
function overlayName(i) {
  const o = overlays()[i];
  if (!o) return `Overlay ${i + 1}`;
  return `Overlay ${i + 1} (${o.asset_id || `“${o.text || ""}”`})`;
}

/// Where an overlay ends: its `end`, else a clip's own length, else the video's end.
function endOf(o, total) {
  if (o.end !== undefined && o.end !== null) return Math.min(Number(o.end), total);
  const a = o.asset_id ? assetNamed(o.asset_id) : null;
  if (a && a.type === "video" && seconds(a)) return Math.min((Number(o.start) || 0) + seconds(a), total);
  return total;
}

/// Each drawn scene: its times and its card's place in the strip (the cards'
/// real widths, so the phone layout's narrower cards are followed).
function sceneSpans() {
  const items = state.doc.timeline;
  const lengths = sceneLengths();
  const spans = [];
  let t = 0;
  scenes().forEach((g, k) => {
    const tr = g.visual !== null && items[g.visual].transition;
    if (tr && k > 0) t -= Math.min(tr.duration || 0.5, lengths[k - 1] / 2, lengths[k] / 2);
    const node = document.querySelector(`#timeline .scene[data-scene="${k}"]`);
    if (g.visual !== null && lengths[k] > 0 && node) spans.push({ start: t, length: lengths[k], left: node.offsetLeft, width: node.offsetWidth });
    t += lengths[k];
  });
  return spans;
}

/// The pixel of a time in the strip, and the time of a pixel.
function xOf(t, spans) {
  let span = spans[0];
  for (const s of spans) if (s.start <= t) span = s;
  if (!span) return 0;
  return span.left + clamp((t - span.start) / span.length, 0, 1) * span.width;
}
function tOf(x, spans) {
  if (!spans.length) return 0;
  const span = spans.find((s) => x < s.left + s.width) || spans[spans.length - 1];
  return span.start + clamp((x - span.left) / span.width, 0, 1) * span.length;
}

function placeBar(bar, start, end, spans) {
  const left = xOf(start, spans);
  bar.style.left = `${left}px`;
  bar.style.width = `${Math.max(24, xOf(end, spans) - left)}px`;
}

function renderOverlays() { renderLane(); syncOverlayPanel(); }

function renderLane() {
  const lane = $("#overlay-lane");
  const list = overlays();
  if (ov.selected !== null && !list[ov.selected]) ov.selected = null;
  lane.hidden = !list.length;
  if (!list.length) { lane.replaceChildren(); return; }
  const spans = sceneSpans();
  const total = totalLength();
  lane.style.width = `${$("#timeline").scrollWidth}px`;
  lane.replaceChildren(...list.map((o, i) => overlayRow(o, i, spans, total)));
}
window.addEventListener("resize", () => state.session && renderLane());

function overlayRow(o, i, spans, total) {
  const a = o.asset_id ? assetNamed(o.asset_id) : null;
  const label = !o.asset_id ? [el("span", { class: "ov-kind", "aria-hidden": "true" }, "T"), el("span", {}, o.text || "(no text)")]
    : [a && a.type === "image" ? el("img", { src: a.url, alt: "", draggable: "false" }) : el("span", { class: "ov-kind", "aria-hidden": "true" }, a ? "▶" : "!"),
      el("span", {}, a ? o.asset_id : `${o.asset_id} (deleted)`)];
  const start = Number(o.start) || 0;
  const end = endOf(o, total);
  const bar = el("div", { class: `ov-bar${ov.selected === i ? " selected" : ""}${o.asset_id && !a ? " missing" : ""}`, role: "button", tabindex: "0",
    "data-overlay": i, "aria-pressed": String(ov.selected === i),
    "aria-label": `${overlayName(i)}, ${start.toFixed(1)}–${end.toFixed(1)} s: drag to move it, arrow keys move it by 0.1 s`,
    title: `${start.toFixed(1)}–${end.toFixed(1)} s` },
  ...label, el("span", { class: "ov-end", title: "Drag to change the end", "aria-hidden": "true" }));
  placeBar(bar, start, end, spans);
  dragInTime(bar, i);
  bar.addEventListener("keydown", (e) => {
    const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
    if (step) { e.preventDefault(); moveOverlay(i, start + step * (e.shiftKey ? 1 : 0.1)); refocus(i); }
    else if (e.key === "Enter" || e.key === " ") { e.preventDefault(); selectOverlay(i); refocus(i); }
    else if (e.key === "Delete" || e.key === "Backspace") { e.preventDefault(); deleteOverlay(i); }
  });
  return el("div", { class: "ov-row", role: "listitem" }, bar);
}

const refocus = (i) => { const b = document.querySelector(`.ov-bar[data-overlay="${i}"]`); if (b) b.focus({ preventScroll: true }); };

/// Moves an overlay to start at `to`, keeping its length, within the video.
function moveOverlay(i, to) {
  const o = overlays()[i];
  const total = totalLength();
  const start = Number(o.start) || 0;
  const length = endOf(o, total) - start;
  const next = snap(clamp(to, 0, Math.max(0, total - length)));
  edit(() => {
    o.start = next;
    const a = o.asset_id ? assetNamed(o.asset_id) : null;
    const toTheEnd = o.end === undefined || o.end === null;
    // "To the end" stays so while it still reaches the end (a clip plays its length).
    if (!toTheEnd || (!(a && a.type === "video") && next + length < total - 0.05)) o.end = snap(next + length);
  });
}

/// Drag a bar (mouse, pen or touch): the bar moves in time, its right edge
/// moves its end; a press without a move selects it.
function dragInTime(bar, i) {
  bar.addEventListener("pointerdown", (e) => {
    if (e.button > 0) return;
    e.preventDefault();
    bar.focus({ preventScroll: true });
    bar.setPointerCapture(e.pointerId);
    const o = overlays()[i];
    const spans = sceneSpans();
    const total = totalLength();
    const start = Number(o.start) || 0;
    const end = endOf(o, total);
    const resizing = e.target.classList.contains("ov-end");
    const x0 = e.clientX;
    let moved = false;
    let next = null;
    const move = (ev) => {
      const dx = ev.clientX - x0;
      if (Math.abs(dx) > 3) moved = true;
      if (!moved) return;
      if (resizing) next = { start, end: snap(clamp(tOf(xOf(end, spans) + dx, spans), start + 0.1, total)) };
      else {
        const s = snap(clamp(tOf(xOf(start, spans) + dx, spans), 0, Math.max(0, total - (end - start))));
        next = { start: s, end: s + end - start };
      }
      bar.classList.add("dragging");
      placeBar(bar, next.start, next.end, spans);
    };
    const up = (ev) => {
      bar.removeEventListener("pointermove", move);
      bar.removeEventListener("pointerup", up);
      bar.removeEventListener("pointercancel", up);
      bar.classList.remove("dragging");
      if (ev.type === "pointercancel") { renderLane(); return; }
      if (!moved) { selectOverlay(i); refocus(i); return; }
      if (!next) return;
      if (resizing) edit(() => { o.end = next.end; });
      else moveOverlay(i, next.start);
      ov.selected = i;
      renderLane();
      renderOverlayPanel();
      refocus(i);
    };
    bar.addEventListener("pointermove", move);
    bar.addEventListener("pointerup", up);
    bar.addEventListener("pointercancel", up);
  });
}

function selectOverlay(i) {
  ov.selected = ov.selected === i ? null : i;
  renderLane();
  renderOverlayPanel();
}

function addOverlay(o) {
  const total = totalLength();
  if (!total) { showError("overlays", "Add a picture or a clip first: overlays are drawn over the scenes."); return; }
  showError("overlays", "");
  $("#overlay-choices").hidden = true;
  $("#overlay-add-asset").setAttribute("aria-expanded", "false");
  if (o.end !== undefined && o.end !== null && o.end > total) { o.end = snap(total); o.start = Math.min(o.start, snap(Math.max(0, total - 1))); }
  ov.selected = overlays().length;
  edit(() => { state.doc.overlays = [...overlays(), o]; });
  renderLane();
  renderOverlayPanel();
}

function addAsOverlay(a) {
  if (a.type === "video") {
    const length = seconds(a) ? snap(Math.min(seconds(a), totalLength())) : undefined;
    addOverlay({ asset_id: a.name, start: 0, end: length, position: "bottom_left", width: 0.3, shape: "circle" });
  } else addOverlay({ asset_id: a.name, start: 0, position: "top_right", width: 0.15 });
  const bar = document.querySelector(`.ov-bar[data-overlay="${ov.selected}"]`);
  if (bar) bar.scrollIntoView({ block: "nearest" });
}

function deleteOverlay(i) {
  ov.selected = null;
  edit(() => { const rest = overlays().filter((_, k) => k !== i); state.doc.overlays = rest.length ? rest : null; });
  renderLane();
  renderOverlayPanel();
}

$("#overlay-add-text").addEventListener("click", () => addOverlay({ text: "Your name", style: "lower_third", start: 1, end: 4 }));
$("#overlay-add-asset").addEventListener("click", (e) => {
  const box = $("#overlay-choices");
  if (!box.hidden) { box.hidden = true; e.target.setAttribute("aria-expanded", "false"); return; }
  const visuals = state.assets.filter((a) => isVisual(a) && a.source !== "compose");
  if (!visuals.length) { showError("overlays", "No pictures or clips yet: upload a logo or a clip (drop it in Assets above) or generate an image, then add it here."); return; }
  showError("overlays", "");
  box.replaceChildren(...visuals.map((a) => el("button", { type: "button", class: "ov-choice", "data-asset": a.name, onclick: () => addAsOverlay(a) },
    a.type === "image" ? el("img", { src: a.url, alt: "", loading: "lazy" }) : el("span", { class: "ov-kind" }, "▶"), a.name)));
  box.hidden = false;
  e.target.setAttribute("aria-expanded", "true");
});

/// The selected overlay's fields, built when the selection changes.
function renderOverlayPanel() {
  const box = $("#overlay-edit");
  const i = ov.selected;
  const o = i === null ? null : overlays()[i];
  if (!o) { box.hidden = true; box.replaceChildren(); delete box.dataset.overlay; stopOverlayStill(); return; }
  const a = o.asset_id ? assetNamed(o.asset_id) : null;
  const current = () => overlays()[i];
  const set = (key) => (value) => edit(() => { if (value === undefined || value === "") delete current()[key]; else current()[key] = value; });
  const presets = el("div", { class: "ov-presets", role: "group", "aria-label": "Position" },
    PRESETS.map((p, k) => el("button", { type: "button", "data-preset": p, title: p.replace("_", " "), "aria-label": p.replace("_", " "),
      "aria-pressed": String(o.position === p), onclick: () => set("position")(p) }, ARROWS[k])));
  const parts = [el("div", { class: "ov-head" }, el("strong", {}, overlayName(i)),
    el("button", { type: "button", class: "icon", "aria-label": "Close", title: "Close", onclick: () => selectOverlay(i) }, "✕")),
  el("div", { class: "ov-where" }, el("span", { class: "muted" }, "Position"), presets)];
  const fieldsBox = el("div", { class: "ov-fields" });
  if (!o.asset_id) {
    fieldsBox.append(
      el("label", {}, "Text", el("input", { type: "text", "data-key": "text", value: o.text || "", maxlength: "200",
        onchange: (e) => { if (!e.target.value.trim()) { showError("overlays", "A text overlay needs some text: type it, or delete the overlay."); e.target.value = current().text || ""; return; } showError("overlays", ""); set("text")(e.target.value.trim()); } })),
      el("label", {}, "Subtitle", el("input", { type: "text", "data-key": "subtitle", value: o.subtitle || "", maxlength: "200", placeholder: "optional",
        onchange: (e) => set("subtitle")(e.target.value.trim()) })),
      el("label", {}, "Style", choice("style", o.style || "lower_third", [["lower_third", "lower third"], ["title", "title"], ["label", "label"]], set("style"))));
  } else {
    const width = Number(o.width) || 0.2;
    const shown = el("output", { "data-for": "width" }, `${Math.round(width * 100)} %`);
    fieldsBox.append(
      el("label", {}, "Width", el("input", { type: "range", min: "0.05", max: "1", step: "0.01", value: width, "data-key": "width",
        oninput: (e) => { shown.textContent = `${Math.round(Number(e.target.value) * 100)} %`; },
        onchange: (e) => set("width")(Number(e.target.value)) }), shown),
      el("label", {}, "Shape", choice("shape", o.shape || "rect", [["rect", "rectangle"], ["rounded", "rounded"], ["circle", "circle"]], set("shape"))));
    if (!a) fieldsBox.append(el("p", { class: "error" }, `${o.asset_id} was deleted from the assets: delete this overlay.`));
  }
  // Times are checked here, in plain words; a refused one shows the saved value again.
  const refuse = (message) => { showError("overlays", message); syncOverlayPanel(true); };
  const timing = (key) => (value) => {
    const total = totalLength();
    const start = key === "start" ? value : Number(current().start) || 0;
    const end = key === "end" ? value : current().end;
    if (key === "start" && value === undefined) return refuse("An overlay needs a start time (0 for the beginning).");
    if (value !== undefined && (value < 0 || value > total)) return refuse(`The video is ${total.toFixed(1)} s long: times go from 0 to ${total.toFixed(1)} s.`);
    if (end !== undefined && end !== null && end <= start) return refuse(`An overlay must end after it starts (${start.toFixed(1)} s): make the end later or the start earlier.`);
    showError("overlays", "");
    set(key)(value === undefined ? undefined : snap(value));
  };
  fieldsBox.append(
    numberField("Start (s)", o.start ?? 0, { min: "0", step: "0.1", "data-key": "start" }, timing("start")),
    numberField("End (s)", o.end ?? "", { min: "0", step: "0.1", placeholder: "end", "data-key": "end", title: "Empty: to the end" }, timing("end")));
  parts.push(fieldsBox, el("button", { type: "button", class: "ov-delete", onclick: () => deleteOverlay(i) }, "Delete overlay"), ovStill.figure);
  box.replaceChildren(...parts);
  scheduleOverlayStill();
  box.dataset.overlay = i;
  box.dataset.kind = o.asset_id ? "asset" : "text";
  box.hidden = false;
}

function choice(key, value, options, onchange) {
  const select = el("select", { "data-key": key, onchange: (e) => onchange(e.target.value) }, options.map(([v, label]) => el("option", { value: v }, label)));
  select.value = value;
  return select;
}

/// After an edit, the open panel shows the overlay's values in place (a field
/// being typed in is left alone); another overlay or kind builds it anew.
function syncOverlayPanel(force = false) {
  const box = $("#overlay-edit");
  const o = ov.selected === null ? null : overlays()[ov.selected];
  if (!o || box.dataset.overlay !== String(ov.selected) || box.dataset.kind !== (o.asset_id ? "asset" : "text")) { renderOverlayPanel(); return; }
  box.querySelectorAll("[data-key]").forEach((node) => {
    if (node === document.activeElement && !force) return;
    const key = node.dataset.key;
    const fallback = { style: "lower_third", shape: "rect", width: 0.2, start: 0 }[key] ?? "";
    node.value = o[key] ?? fallback;
  });
  const width = box.querySelector('output[data-for="width"]');
  if (width) width.textContent = `${Math.round((Number(o.width) || 0.2) * 100)} %`;
  box.querySelectorAll("[data-preset]").forEach((b) => b.setAttribute("aria-pressed", String(o.position === b.dataset.preset)));
  box.querySelector(".ov-head strong").textContent = overlayName(ov.selected);
}

// ---- stills: a frame of the saved timeline --------------------------------------
// `GET .../frame?t=` draws the saved timeline at a moment (draft size, no
// render). A still box asks again whenever what it shows may have changed;
// an answer to an older question is dropped.

function makeStill(figure) {
  return { figure, img: figure.querySelector("img"), caption: figure.querySelector("figcaption"), seq: 0, url: null };
}

async function fetchStill(t) {
  const key = localStorage.getItem(KEY);
  const resp = await fetch(`${base()}/frame?t=${t.toFixed(2)}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  if (!resp.ok) throw new ApiError(resp.status, await resp.json().catch(() => null));
  return resp.blob();
}

/// Why there is no still, in plain words.
function stillTrouble(e) {
  if (e.field === "timeline" && e.status === 422) return "Nothing to show yet: the timeline has not been saved. Add a picture or a clip to it first.";
  if (e.field === "t") return "That moment is past the end of the video: nothing to show there.";
  return `No still to show: ${inSceneTerms(e)}`;
}

/// Shows the saved video's frame at `t` in `box` ("what" names it in the caption).
async function showStill(box, t, what) {
  const seq = ++box.seq;
  const mine = () => seq === box.seq;
  const say = (text, phase) => { box.caption.textContent = text; box.figure.dataset.state = phase; };
  box.figure.hidden = false;
  if (!hasScene()) {
    box.img.hidden = true;
    say("Nothing to show yet: add a picture or a clip to the timeline, and a still of it shows here.", "nothing");
    return;
  }
  say(`drawing the frame at ${t.toFixed(1)} s…`, "loading"); // the last still stays until the next one is ready
  try {
    await save();
    const blob = await fetchStill(t);
    if (!mine()) return;
    const url = URL.createObjectURL(blob);
    const probe = new Image();
    probe.src = url;
    await probe.decode();
    if (!mine()) { URL.revokeObjectURL(url); return; }
    box.img.src = url;
    if (box.url) URL.revokeObjectURL(box.url);
    box.url = url;
    box.img.hidden = false;
    box.figure.dataset.t = t.toFixed(2);
    say(`${what} · the saved video at ${t.toFixed(1)} s`, "ready");
  } catch (e) {
    if (!mine()) return;
    box.img.hidden = true;
    say(e instanceof ApiError ? stillTrouble(e) : `No still to show: ${e.message}`, "nothing");
  }
}

// The selected overlay's still: its start (+0.1 s), asked again (debounced)
// after each saved change.
const ovStill = makeStill(el("figure", { class: "still ov-still", id: "overlay-still", hidden: true },
  el("img", { alt: "The video at the overlay's start", hidden: true }), el("figcaption", { class: "muted" })));
let ovStillTimer = null;

function scheduleOverlayStill(delay = 250) {
  clearTimeout(ovStillTimer);
  ovStillTimer = setTimeout(() => {
    const i = ov.selected;
    const o = i === null ? null : overlays()[i];
    // An unsaved change: its save asks again.
    if (!o || state.dirty || state.saving) return;
    const t = clamp((Number(o.start) || 0) + 0.1, 0, Math.max(0, totalLength() - 0.05));
    showStill(ovStill, t, overlayName(i));
  }, delay);
}

function stopOverlayStill() {
  clearTimeout(ovStillTimer);
  ovStill.seq += 1; // an answer on its way is no longer wanted
}

function stillsAfterSave() {
  if (ov.selected !== null) scheduleOverlayStill();
  if (!$("#brand-panel").hidden && !brandStill.figure.hidden) scheduleBrandStill();
}

// ---- the brand kit: a side panel --------------------------------------------------
// The session's kit (`GET .../brand`: its own, else its key's default): logo,
// font, three colours and the watermark, saved whole with `PUT .../brand`. A
// refused field is named by the server (`colors.accent`, `watermark`) and
// said in plain words next to it. Preview draws the saved video's middle.

const brand = { session: null, view: null, kit: null, dirty: false, lastMark: null, loading: null, timer: null };
const brandStill = makeStill($("#brand-still"));
const COLOURS = [
  ["text", "Text", "titles, text overlays, captions", "#ffffff", "white"],
  ["accent", "Accent", "lower-third bar, karaoke's lit word", "#ffcc00", "yellow"],
  ["background", "Background", "band behind lower thirds", "#000000", "black, see-through"],
];
const MARK = { position: "bottom_right", width: 0.1, opacity: 0.7 };
const fontFaces = new Map();

/// Loads a font asset into the page once: the CSS family name to use, or null.
function fontFace(a) {
  if (!fontFaces.has(a.url)) {
    const family = `studio-${state.session}-${a.name}`.replace(/[^\w-]/g, "_");
    fontFaces.set(a.url, new FontFace(family, `url("${a.url}")`).load()
      .then((face) => { document.fonts.add(face); return family; }).catch(() => null));
  }
  return fontFaces.get(a.url);
}

/// "Aa — DejaVu Sans Mono", in the font itself once it has loaded.
function fontSample(a) {
  const aa = el("span", { class: "aa" }, "Aa");
  const node = el("div", { class: "font-sample", title: a.metadata.family || a.name }, aa, el("span", { class: "dash" }, " — "), el("span", { class: "family" }, a.metadata.family || a.name));
  fontFace(a).then((family) => { if (family) node.style.fontFamily = `"${family}", system-ui, sans-serif`; });
  return node;
}

const brandOpen = () => !$("#brand-panel").hidden;

function resetBrand() {
  Object.assign(brand, { session: null, view: null, kit: null, dirty: false, loading: null });
  brandStill.seq += 1;
  brandStill.figure.hidden = true;
  document.querySelectorAll('[data-error-for^="brand."]').forEach((n) => { n.textContent = ""; });
  if (brandOpen()) loadBrand();
}

/// The kit the page edits, from what the server answered.
function takeBrand(view) {
  const foreign = view.session_id && view.session_id !== state.session;
  brand.view = view;
  brand.kit = {
    // A default kit's logo and font are assets of the session it names.
    logo: foreign ? null : view.logo || null,
    font: foreign ? null : view.font || null,
    colors: { ...(view.colors || {}) },
    watermark: view.watermark ? { ...view.watermark } : null,
  };
  brand.lastMark = view.watermark ? { ...view.watermark } : brand.lastMark;
  brand.dirty = false;
  brand.session = state.session;
  renderBrand();
}

async function loadBrand() {
  if (brand.session === state.session && brand.kit) return;
  const session = state.session;
  brand.loading = brand.loading || api("GET", `${base()}/brand`)
    .then((view) => { if (state.session === session) takeBrand(view); })
    .catch((e) => { if (state.session === session) { setBrandStatus(""); showError("brand.kit", `The brand kit could not be loaded: ${e.message}`); } })
    .finally(() => { brand.loading = null; });
  await brand.loading;
}

function openBrand() {
  if (templateOpen()) closeTemplates();
  $("#brand-panel").hidden = false;
  document.body.classList.add("brand-open");
  $("#brand-open").setAttribute("aria-expanded", "true");
  renderLane();
  $("#brand-close").focus({ preventScroll: true });
  return loadBrand();
}
function closeBrand() {
  $("#brand-panel").hidden = true;
  document.body.classList.remove("brand-open");
  $("#brand-open").setAttribute("aria-expanded", "false");
  renderLane();
  $("#brand-open").focus({ preventScroll: true });
}
$("#brand-open").addEventListener("click", () => (brandOpen() ? closeBrand() : openBrand()));
$("#brand-close").addEventListener("click", closeBrand);
$("#brand-panel").addEventListener("keydown", (e) => { if (e.key === "Escape") closeBrand(); });

/// From a gallery card: opens the panel with this font (or logo) chosen, to save.
async function useInBrand(change) {
  await openBrand();
  if (!brand.kit) return;
  Object.assign(brand.kit, change);
  brandChanged();
}

function setBrandStatus(text) { $("#brand-status").textContent = text; }

function brandChanged() {
  brand.dirty = true;
  setBrandStatus("changes not saved yet");
  renderBrand();
}

/// The pictures and fonts to choose from, rebuilt only when they change.
function renderBrandChoices() {
  if (!brand.kit) return;
  const fill = (select, first, list, label) => {
    const wanted = [first[0], ...list.map((a) => a.name)];
    const chosen = select === $("#brand-logo") ? brand.kit.logo : brand.kit.font;
    // A chosen asset that is gone stays listed, so saving says what is wrong.
    if (chosen && !wanted.includes(chosen)) wanted.push(chosen);
    const shown = [...select.options].map((o) => o.value);
    if (shown.length !== wanted.length || shown.join("\n") !== wanted.join("\n")) {
      select.replaceChildren(el("option", { value: first[0] }, first[1]), ...list.map((a) => el("option", { value: a.name }, label(a))),
        chosen && !list.some((a) => a.name === chosen) ? el("option", { value: chosen }, `${chosen} (not in this session)`) : null);
    }
    select.value = chosen || "";
  };
  fill($("#brand-logo"), ["", "No logo"], state.assets.filter((a) => a.type === "image"),
    (a) => a.metadata.original_filename && a.metadata.original_filename !== a.name ? `${a.name} · ${a.metadata.original_filename}` : a.name);
  fill($("#brand-font"), ["", "The studio's font"], state.assets.filter((a) => a.type === "font"),
    (a) => `${a.metadata.family || a.name} (${a.name})`);
}

function renderBrand() {
  const k = brand.kit;
  const panel = $("#brand-panel");
  if (!k) return;
  const v = brand.view;
  const source = v.source;
  panel.dataset.source = source;
  const when = v.updated_at ? new Date(v.updated_at).toLocaleString([], { dateStyle: "medium", timeStyle: "short" }) : "";
  const foreign = v.session_id && v.session_id !== state.session && (v.logo || v.font);
  $("#brand-source").textContent = source === "session" ? `This session's own kit${when ? ` · saved ${when}` : ""}.`
    : source === "default" ? "From your key's default kit: every session without a kit of its own wears it. Saving here makes it this session's own kit." +
      (foreign ? ` Its logo and font belong to session ${v.session_id}: pick this session's own to keep them.` : "")
    : "No kit yet: videos have the studio's own look. Pick a logo, a font or colours, then save.";
  $("#brand-source").className = `brand-source ${source}`;
  renderBrandChoices();
  // Logo
  const logo = k.logo ? assetNamed(k.logo) : null;
  $("#brand-logo-thumb").hidden = !logo;
  if (logo && $("#brand-logo-thumb").getAttribute("src") !== logo.url) $("#brand-logo-thumb").src = logo.url;
  $("#brand-logo-none").hidden = Boolean(logo);
  $("#brand-logo-none").textContent = k.logo && !logo ? `${k.logo} is not in this session any more` : "No logo";
  // Font
  const font = k.font ? assetNamed(k.font) : null;
  const sample = $("#brand-font-sample");
  sample.querySelector(".family").textContent = font ? font.metadata.family || font.name : k.font ? `${k.font} (not in this session)` : "the studio's font";
  sample.style.fontFamily = "";
  if (font) fontFace(font).then((family) => { if (family && brand.kit && brand.kit.font === font.name) sample.style.fontFamily = `"${family}", system-ui, sans-serif`; });
  // Colours
  for (const [key, , , fallback, name] of COLOURS) {
    const row = document.querySelector(`.brand-colour[data-color="${key}"]`);
    const value = k.colors[key];
    row.querySelector("input").value = value || fallback;
    row.querySelector(".hex").textContent = value ? value : `studio's (${name})`;
    row.querySelector("button").hidden = !value;
    row.classList.toggle("set", Boolean(value));
  }
  // Watermark
  const on = Boolean(k.watermark);
  const mark = { ...MARK, ...(k.watermark || brand.lastMark || {}) };
  const sw = $("#brand-watermark");
  sw.setAttribute("aria-checked", String(on));
  sw.textContent = on ? "Watermark on: the logo on every video" : "Watermark off";
  $("#brand-watermark-settings").hidden = !on;
  document.querySelectorAll("#brand-corners [data-corner]").forEach((b) => b.setAttribute("aria-pressed", String(mark.position === b.dataset.corner)));
  $("#brand-mark-width").value = mark.width;
  $("#brand-mark-width-shown").textContent = `${Math.round(mark.width * 100)} %`;
  $("#brand-mark-opacity").value = mark.opacity;
  $("#brand-mark-opacity-shown").textContent = `${Math.round(mark.opacity * 100)} %`;
  panel.dataset.dirty = String(brand.dirty);
}

// The colour rows and the corner grid, built once.
$("#brand-colours").replaceChildren(...COLOURS.map(([key, label, use]) => el("div", { class: "brand-colour", "data-color": key },
  el("input", { type: "color", id: `brand-color-${key}`, "data-color": key, oninput: (e) => { brand.kit.colors[key] = e.target.value; brandChanged(); } }),
  el("label", { for: `brand-color-${key}` }, el("strong", {}, label), el("span", { class: "muted" }, use), el("span", { class: "hex muted" })),
  el("button", { type: "button", class: "reset", title: `Back to the studio's ${label.toLowerCase()} colour`, "aria-label": `Reset the ${label.toLowerCase()} colour`,
    onclick: () => { delete brand.kit.colors[key]; brandChanged(); } }, "Reset"))));
$("#brand-corners").replaceChildren(...PRESETS.map((p, k) => el("button", { type: "button", "data-corner": p, title: p.replace("_", " "), "aria-label": p.replace("_", " "), "aria-pressed": "false",
  onclick: () => { brand.kit.watermark = { ...MARK, ...(brand.kit.watermark || {}), position: p }; brandChanged(); } }, ARROWS[k])));

$("#brand-logo").addEventListener("change", (e) => { brand.kit.logo = e.target.value || null; showError("brand.logo", ""); brandChanged(); });
$("#brand-font").addEventListener("change", (e) => { brand.kit.font = e.target.value || null; showError("brand.font", ""); brandChanged(); });
$("#brand-watermark").addEventListener("click", () => {
  if (brand.kit.watermark) { brand.lastMark = brand.kit.watermark; brand.kit.watermark = null; showError("brand.watermark", ""); }
  else brand.kit.watermark = { ...MARK, ...(brand.lastMark || {}) };
  brandChanged();
});
for (const key of ["width", "opacity"]) {
  $(`#brand-mark-${key}`).addEventListener("input", (e) => {
    if (!brand.kit.watermark) return;
    brand.kit.watermark[key] = Number(e.target.value);
    brandChanged();
  });
}

/// Uploads a logo or a font from the panel and chooses it.
async function brandUpload(input, kind) {
  const file = input.files[0];
  input.value = "";
  if (!file) return;
  const where = kind === "font" ? "brand.font" : "brand.logo";
  const session = state.session;
  showError(where, "");
  setBrandStatus(`uploading ${file.name}…`);
  const form = new FormData();
  form.append("file", file, file.name);
  let asset;
  try { asset = await api("POST", `${base()}/uploads`, form); }
  catch (e) {
    setBrandStatus(brand.dirty ? "changes not saved yet" : "");
    showError(where, e.status === 415
      ? (kind === "font" ? `${file.name} is not a font the studio can read: upload a TrueType (.ttf) or OpenType (.otf) file.`
        : `${file.name} is not a picture the studio can read: upload a PNG, JPEG, WebP or GIF.`)
      : `${file.name} could not be uploaded: ${e.message}`);
    return;
  }
  await refreshAssets();
  if (state.session !== session || !brand.kit) return;
  if (asset.type !== (kind === "font" ? "font" : "image")) {
    setBrandStatus(brand.dirty ? "changes not saved yet" : "");
    showError(where, `${file.name} is not a ${kind === "font" ? "font" : "picture"}: it was kept in the assets as ${asset.name}.`);
    return;
  }
  brand.kit[kind] = asset.name;
  brandChanged();
}
$("#brand-logo-upload").addEventListener("click", () => $("#brand-logo-file").click());
$("#brand-font-upload").addEventListener("click", () => $("#brand-font-file").click());
$("#brand-logo-file").addEventListener("change", (e) => brandUpload(e.target, "logo"));
$("#brand-font-file").addEventListener("change", (e) => brandUpload(e.target, "font"));

/// The whole kit as `PUT .../brand` takes it.
function kitBody() {
  const k = brand.kit;
  const body = {};
  if (k.logo) body.logo = k.logo;
  if (k.font) body.font = k.font;
  const colors = Object.fromEntries(Object.entries(k.colors).filter(([, v]) => v));
  if (Object.keys(colors).length) body.colors = colors;
  if (k.watermark) body.watermark = { ...k.watermark };
  return body;
}

/// Where a refused field's message goes, and what it says in plain words.
function brandSlot(field) {
  const f = field || "";
  if (f === "logo" || f === "font") return `brand.${f}`;
  if (f.startsWith("colors")) return "brand.colors";
  if (f.startsWith("watermark")) return "brand.watermark";
  return "brand.kit";
}
function brandTrouble(e) {
  const k = brand.kit;
  const colour = /^colors\.(\w+)/.exec(e.field || "");
  if (e.field === "logo") return `This session has no picture named ${k.logo} any more (was it deleted?): choose another logo or upload one.`;
  if (e.field === "font") return `This session has no font named ${k.font} any more (was it deleted?): choose another font or upload one.`;
  if (colour) return `The ${colour[1]} colour was not understood: pick it again.`;
  if (e.field === "watermark") return "The watermark shows your logo: choose a logo above first, or turn the watermark off.";
  if (e.field === "watermark.position") return "Pick one of the nine places for the watermark.";
  if (e.field === "watermark.width") return "The watermark's width goes from 1 % to 100 % of the frame.";
  if (e.field === "watermark.opacity") return "The watermark's opacity goes from 0 to 100 %.";
  return `The kit was not saved: ${e.message}`;
}

async function saveBrand() {
  if (!brand.kit) await loadBrand();
  if (!brand.kit) return false;
  document.querySelectorAll('[data-error-for^="brand."]').forEach((n) => { n.textContent = ""; });
  setBrandStatus("saving…");
  const session = state.session;
  try {
    const view = await api("PUT", `${base()}/brand`, kitBody());
    if (state.session !== session) return false;
    takeBrand(view);
    setBrandStatus("saved");
    if (ov.selected !== null) scheduleOverlayStill(0);
    return true;
  } catch (e) {
    setBrandStatus("not saved");
    showError(brandSlot(e.field), brandTrouble(e));
    $("#brand-panel").dataset.refused = e.field || "";
    return false;
  }
}

/// The saved video's middle, with the saved kit.
function brandPreview() {
  clearTimeout(brand.timer);
  return showStill(brandStill, totalLength() / 2, "Preview");
}
function scheduleBrandStill() {
  clearTimeout(brand.timer);
  brand.timer = setTimeout(() => { if (!state.dirty && !state.saving) brandPreview(); }, 250);
}
$("#brand-save").addEventListener("click", () => busy($("#brand-save"), "brand.kit", async () => {
  if (!(await saveBrand())) return;
  await brandPreview();
  brandStill.figure.scrollIntoView({ block: "nearest" });
}));
$("#brand-preview").addEventListener("click", () => busy($("#brand-preview"), "brand.kit", async () => {
  if (brand.dirty && !(await saveBrand())) return;
  await brandPreview();
  brandStill.figure.scrollIntoView({ block: "nearest" });
}));

// ---- the timeline: cutting by words ------------------------------------------
// A clip's or an audio item's transcript, word by word: click a word to hear
// it, select words and press Delete to cut them. The cuts are the item's
// `cuts` (seconds of its media), made by the server from the words and saved
// by edit() like every other change; a word is shown cut when its middle lies
// in a cut, so undo, redo and another tab's edits show as they are.

const tx = { asset: null, index: null, words: [], selected: new Set(), anchor: null, heardFrom: null, busy: false, retry: null };

/// Audio, or a clip with a sound track: something with words to cut.
const hasSound = (a) => a && (a.type === "audio" || (a.type === "video" && a.metadata.has_audio !== false));

/// Seconds an item's media plays: its length less its trim and its cuts.
function playedSeconds(item) {
  const length = seconds(assetNamed(item.asset_id));
  const trim = Number(item.trim_start) || 0;
  const cut = (item.cuts || []).reduce((t, c) => t + Math.max(0, Math.min(c.end, length) - Math.max(c.start, trim)), 0);
  return Math.max(0, length - trim - cut);
}

/// The Transcript buttons of a scene's clip and audio items.
function transcriptButtons(g) {
  const items = state.doc.timeline;
  const spoken = [g.visual, ...g.audio].filter((i) => i !== null && hasSound(assetNamed(items[i].asset_id)));
  return spoken.map((i) => el("button", { type: "button", class: "transcript-open", "data-item": i, title: `Words of ${items[i].asset_id}`,
    "aria-expanded": tx.asset === items[i].asset_id && tx.index === i ? "true" : "false", onclick: () => openTranscript(i) },
  spoken.length > 1 ? `Transcript · ${items[i].asset_id}` : "Transcript"));
}

/// The item the panel shows, found again after edits that move it.
function transcriptItem() {
  const items = state.doc.timeline;
  if (tx.asset === null) return null;
  if (!items[tx.index] || items[tx.index].asset_id !== tx.asset) tx.index = items.findIndex((i) => i.asset_id === tx.asset);
  return tx.index >= 0 ? items[tx.index] : null;
}

function openTranscript(index) {
  const item = state.doc.timeline[index];
  const a = assetNamed(item.asset_id);
  if (!a) return;
  if (tx.asset === item.asset_id && tx.index === index) { closeTranscript(); return; } // the button toggles
  Object.assign(tx, { asset: item.asset_id, index, words: [], selected: new Set(), anchor: null, heardFrom: null });
  transcriptTitle();
  const player = el(a.type === "video" ? "video" : "audio", { src: a.url, controls: true, preload: "metadata", id: "transcript-media" });
  player.addEventListener("timeupdate", followPlayback);
  $("#transcript-player").replaceChildren(player);
  $("#transcript-words").replaceChildren();
  showError("transcript", "");
  $("#transcript-panel").hidden = false;
  document.querySelectorAll(".transcript-open").forEach((b) => b.setAttribute("aria-expanded", String(Number(b.dataset.item) === index)));
  $("#transcript-panel").scrollIntoView({ block: "nearest" });
  loadTranscript();
}

/// "Transcript · audio_1.mp3 · scene 2" (the scene as it is now).
function transcriptTitle() {
  const k = scenes().findIndex((g) => g.visual === tx.index || g.audio.includes(tx.index));
  const where = k < 0 ? "" : scenes()[k].visual === null ? " · the intro" : ` · scene ${k + 1}`;
  $("#transcript-title").textContent = `Transcript · ${tx.asset}${where}`;
}

function closeTranscript() {
  clearTimeout(tx.retry);
  tx.asset = null;
  $("#transcript-player").replaceChildren(); // stops it playing
  $("#transcript-panel").hidden = true;
  document.querySelectorAll(".transcript-open").forEach((b) => b.setAttribute("aria-expanded", "false"));
}
$("#transcript-close").addEventListener("click", closeTranscript);

function transcriptStatus(text, canTranscribe = false) {
  $("#transcript-status").textContent = text;
  $("#transcript-transcribe").hidden = !canTranscribe;
}

/// The kept transcript; without one, what the asset's status says: being
/// made after the upload (asked again shortly), no speech, or none yet.
async function loadTranscript() {
  const name = tx.asset;
  clearTimeout(tx.retry);
  transcriptStatus("loading the words…");
  try {
    const t = await api("GET", `${base()}/assets/${encodeURIComponent(name)}/transcript`);
    if (tx.asset === name) showWords(t);
  } catch (e) {
    if (tx.asset !== name) return;
    if (e.status !== 404) { transcriptStatus(""); showError("transcript", `The words of ${name} could not be loaded: ${e.message}`); return; }
    await refreshAssets();
    const status = (assetNamed(name) || { metadata: {} }).metadata.transcript_status;
    if (status === "pending") {
      transcriptStatus("transcribing… (started when it was uploaded)");
      tx.retry = setTimeout(() => tx.asset === name && loadTranscript(), 2000);
    } else if (status === "none") transcriptStatus("No speech heard in it: nothing to cut by words.");
    else if (status === "failed") transcriptStatus("Transcribing it failed after the upload: try again.", true);
    else transcriptStatus("No transcript yet: transcribe it to cut it by its words.", true);
  }
}

function showWords(t) {
  tx.words = t.words || [];
  if (!tx.words.length) transcriptStatus("No speech heard in it: nothing to cut by words.");
  else transcriptStatus(`${tx.words.length} words · ${t.engine || ""} · click a word to hear it`.replace(" ·  ·", " ·"));
  $("#transcript-words").replaceChildren(...tx.words.flatMap((w, i) =>
    [el("span", { class: "word", role: "option", "data-i": i, title: `${w.start.toFixed(2)}–${w.end.toFixed(2)} s` }, w.text), " "]));
  markCuts();
}

$("#transcript-transcribe").addEventListener("click", () => {
  const name = tx.asset;
  busy($("#transcript-transcribe"), "transcript", async () => {
    transcriptStatus("transcribing…", true);
    let t;
    try {
      const answer = await api("POST", `${base()}/transcripts`, { asset_id: name, async: true });
      if (answer.status_url) {
        const job = await followJob(answer, (v) => tx.asset === name && transcriptStatus(`transcribing… ${Math.round(v.progress * 100)}%`, true));
        if (job.status !== "succeeded") throw new Error(job.error ? job.error.message : `the transcription was ${job.status}`);
        t = job.result;
      } else t = answer;
    } catch (e) {
      if (tx.asset === name) transcriptStatus("", true);
      throw new Error(`${name} could not be transcribed: ${e.message}`);
    }
    if (tx.asset === name) showWords(t);
    await refreshAssets();
  });
});

const cutsOf = (item) => (item && item.cuts) || [];
const middle = (w) => (w.start + w.end) / 2;
const inCut = (t, cuts) => cuts.some((c) => c.start <= t && t < c.end);
/// Indices of the words the item's cuts remove.
const cutWords = (cuts) => tx.words.flatMap((w, i) => (inCut(middle(w), cuts) ? [i] : []));

/// Shows which words are cut and selected, what the cuts remove, and which
/// buttons apply (nothing is rebuilt: the player keeps playing).
function markCuts() {
  const item = transcriptItem();
  const cuts = cutsOf(item);
  const cut = new Set(cutWords(cuts));
  document.querySelectorAll("#transcript-words .word").forEach((span) => {
    const i = Number(span.dataset.i);
    span.classList.toggle("cut", cut.has(i));
    span.classList.toggle("selected", tx.selected.has(i));
    span.setAttribute("aria-selected", String(tx.selected.has(i)));
  });
  const removed = item ? seconds(assetNamed(item.asset_id)) - (Number(item.trim_start) || 0) - playedSeconds(item) : 0;
  $("#transcript-removed").textContent = !tx.words.length ? "" : removed > 0.005 ? `removed ${removed.toFixed(1)} s` : "nothing cut";
  const none = !tx.words.length || tx.busy;
  $("#transcript-cut").disabled = none || ![...tx.selected].some((i) => !cut.has(i));
  $("#transcript-restore").disabled = none || ![...tx.selected].some((i) => cut.has(i));
  $("#transcript-fillers").disabled = none;
  $("#transcript-pauses").disabled = none;
}

/// After any edit, undo or reload: the panel follows its item, or closes
/// when the item is gone.
function syncTranscript() {
  if (tx.asset === null) return;
  if (!transcriptItem()) closeTranscript(); else { transcriptTitle(); markCuts(); }
}

/// Asks the server for the cuts that remove `params.remove_words` (and
/// fillers or long pauses), keeps the cuts of no word (pauses tightened
/// before) and stores them on the item as one edit.
async function recut(params, button) {
  const name = tx.asset;
  if (tx.busy || !transcriptItem()) return;
  tx.busy = true;
  markCuts();
  await busy(button, "transcript", async () => {
    const before = cutsOf(transcriptItem());
    const pauses = before.filter((c) => !tx.words.some((w) => c.start <= middle(w) && middle(w) < c.end));
    let plan;
    try { plan = await api("POST", `${base()}/transcripts/${encodeURIComponent(name)}/cuts`, params); }
    catch (e) { throw new Error(`Could not cut ${name}: ${e.message}`); }
    const item = tx.asset === name && transcriptItem();
    if (!item) return;
    const cuts = mergeSpans([...plan.cuts, ...pauses]);
    edit(() => { if (cuts.length) item.cuts = cuts; else delete item.cuts; });
  }).finally(() => { tx.busy = false; markCuts(); });
}

/// Spans sorted, overlapping ones joined.
function mergeSpans(spans) {
  const merged = [];
  for (const s of [...spans].sort((a, b) => a.start - b.start)) {
    const last = merged[merged.length - 1];
    if (last && s.start <= last.end + 1e-6) last.end = Math.max(last.end, s.end);
    else merged.push({ start: s.start, end: s.end });
  }
  return merged;
}

const removedNow = () => cutWords(cutsOf(transcriptItem()));
function cutSelected() {
  takeTextSelection();
  if (!tx.selected.size) return;
  recut({ remove_words: [...new Set([...removedNow(), ...tx.selected])].sort((a, b) => a - b) }, $("#transcript-cut"));
}
function restoreSelected() {
  takeTextSelection();
  if (!tx.selected.size) return;
  recut({ remove_words: removedNow().filter((i) => !tx.selected.has(i)) }, $("#transcript-restore"));
}
$("#transcript-cut").addEventListener("click", cutSelected);
$("#transcript-restore").addEventListener("click", restoreSelected);
$("#transcript-fillers").addEventListener("click", () => recut({ remove_words: removedNow(), remove_fillers: true }, $("#transcript-fillers")));
$("#transcript-pauses").addEventListener("click", () => recut({ remove_words: removedNow(), max_pause: 0.4 }, $("#transcript-pauses")));

/// Words selected by dragging over them (or a long press on a phone).
function takeTextSelection() {
  const sel = getSelection();
  const box = $("#transcript-words");
  if (!sel || sel.isCollapsed || !box.contains(sel.anchorNode) || !box.contains(sel.focusNode)) return false;
  const chosen = [...box.querySelectorAll(".word")].filter((span) => sel.containsNode(span, true)).map((span) => Number(span.dataset.i));
  sel.removeAllRanges();
  if (!chosen.length) return false;
  tx.selected = new Set(chosen);
  tx.anchor = chosen[0];
  markCuts();
  return true;
}

/// Plays from a word; while playing, cut spans are skipped (except the one
/// playing started in, so a cut word can be heard before restoring it).
function hear(i) {
  const player = $("#transcript-media");
  if (!player || !tx.words[i]) return;
  tx.heardFrom = tx.words[i].start;
  player.currentTime = tx.words[i].start;
  player.play().catch(() => { /* the browser wants a gesture first */ });
}
function followPlayback(e) {
  const player = e.target;
  const t = player.currentTime;
  const skip = cutsOf(transcriptItem()).find((c) => c.start <= t && t < c.end && !(c.start <= tx.heardFrom && tx.heardFrom < c.end));
  if (skip && !player.paused) player.currentTime = skip.end;
  document.querySelectorAll("#transcript-words .word.now").forEach((s) => s.classList.remove("now"));
  const now = tx.words.findIndex((w) => w.start <= t && t < w.end);
  if (now >= 0 && !player.paused) document.querySelector(`#transcript-words .word[data-i="${now}"]`).classList.add("now");
}

$("#transcript-words").addEventListener("click", (e) => {
  if (takeTextSelection()) return;
  const span = e.target.closest(".word");
  if (!span) return;
  const i = Number(span.dataset.i);
  if (e.shiftKey && tx.anchor !== null) {
    const [a, b] = [Math.min(tx.anchor, i), Math.max(tx.anchor, i)];
    tx.selected = new Set(Array.from({ length: b - a + 1 }, (_, k) => a + k));
    getSelection().removeAllRanges();
  } else if (e.ctrlKey || e.metaKey) {
    if (tx.selected.has(i)) tx.selected.delete(i); else tx.selected.add(i);
    tx.anchor = i;
  } else {
    tx.selected = new Set([i]);
    tx.anchor = i;
    hear(i);
  }
  $("#transcript-words").focus({ preventScroll: true });
  markCuts();
});
$("#transcript-words").addEventListener("keydown", (e) => {
  if (e.key === "Delete" || e.key === "Backspace") {
    e.preventDefault();
    takeTextSelection();
    // Delete cuts the selection; on words all cut already, it restores them.
    const cut = new Set(removedNow());
    if ([...tx.selected].every((i) => cut.has(i))) restoreSelected(); else cutSelected();
  } else if (e.key === "Escape") {
    tx.selected = new Set();
    markCuts();
  }
});

$("#caption-style").addEventListener("change", (e) => edit(() => {
  const style = e.target.value;
  state.doc.captions = !style ? false : style === "plain" ? true : { style };
}));
$("#fit-select").addEventListener("change", (e) => edit(() => { state.doc.fit = e.target.value === "cover" ? null : e.target.value; }));
$("#music-select").addEventListener("change", (e) => edit(() => { state.doc.music = e.target.value ? { asset_id: e.target.value } : null; }));
$("#export-preset").addEventListener("change", (e) => edit(() => { state.doc.output = { ...(state.doc.output || {}), aspect_ratio: e.target.value }; }));

// ---- preview and export ------------------------------------------------------

async function render(button, quality) {
  await busy(button, "compose", async () => {
    if (!state.doc.timeline.length) throw new Error("Add a picture or a clip first: each one starts a scene.");
    const missing = missingItems();
    if (missing) throw new Error(missing);
    await save();
    if (state.dirty) throw new Error("the timeline could not be saved; see above");
    const output = { aspect_ratio: $("#export-preset").value };
    if (quality) output.quality = quality;
    let accepted;
    try { accepted = await api("POST", `${base()}/compose`, { output, async: true }); }
    catch (e) { throw new Error(inSceneTerms(e)); }
    state.job = accepted;
    const bar = $("#compose-progress");
    bar.hidden = false; bar.value = 0;
    $("#cancel-job").hidden = false;
    $("#result").replaceChildren();
    const job = await followJob(accepted, (v) => { bar.value = v.progress; $("#compose-status").textContent = describe(v); });
    state.job = null;
    $("#cancel-job").hidden = true;
    bar.value = job.progress;
    $("#compose-status").textContent = describe(job);
    if (job.status !== "succeeded") throw new Error(job.error ? inSceneTerms({ ...job.error, message: job.error.message }) : `the render ${job.status}`);
    const video = job.result;
    const r = video.metadata.render || {};
    $("#compose-status").textContent = `${quality === "draft" ? "preview" : "export"} ready: ${video.name} · ${seconds(video).toFixed(1)} s · ${r.scenes_rendered ?? "?"} of ${r.scenes ?? "?"} scenes rendered in ${(r.seconds ?? 0).toFixed(1)} s`;
    $("#result").replaceChildren(
      withPoster(el("video", { src: video.url, controls: true, id: "result-video", "data-quality": quality || "standard" })),
      el("p", {}, el("a", { href: video.url, download: video.name }, `Download ${video.name}`)));
    await refreshAssets();
  });
}
$("#preview").addEventListener("click", () => render($("#preview"), "draft"));
$("#export").addEventListener("click", () => render($("#export"), null));
$("#cancel-job").addEventListener("click", () => state.job && api("DELETE", state.job.status_url).catch(() => {}));

// ---- the first screen ---------------------------------------------------------

const SAMPLE = `Lighthouses have guided sailors for more than two thousand years. The first famous one stood at Alexandria, a tower of stone with a fire burning at its top.

Later towers used oil lamps and mirrors. In 1822 the Fresnel lens bent the light into a beam that could be seen from twenty miles away.

Today most lighthouses run on their own, watched from afar. Their lights still sweep the dark water every night.`;

$("#welcome-sample").addEventListener("click", () => { $("#welcome-text").value = SAMPLE; $("#welcome-text").focus(); });
$("#welcome-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("#welcome-text").value.trim();
  if (!text) return;
  busy($("#welcome-form button[type=submit]"), "welcome", async () => {
    await openSession((await api("POST", "/api/v1/sessions")).session_id);
    $("#chat-message").value = text;
    document.querySelector('input[name="mode"][value="automatic"]').checked = true;
    $("#chat-form").requestSubmit();
  });
});

// ---- templates: a side panel ------------------------------------------------
// Saves the session's timeline as a template (its {{name}} placeholders are
// the fields), renders one row of values in this session (whose pictures
// the template names), or many rows
// (CSV, the first line naming the fields) as a batch whose rows are
// followed here until each has its video; the rest of a batch can be
// cancelled.

const tpl = { list: [], batch: null, timer: null, labels: [] };
const templateOpen = () => !$("#template-panel").hidden;

function openTemplates() {
  if (brandOpen()) closeBrand();
  $("#template-panel").hidden = false;
  document.body.classList.add("template-open");
  $("#template-open").setAttribute("aria-expanded", "true");
  if (!$("#template-name").value) $("#template-name").value = state.session ? `From ${state.session}` : "";
  $("#template-close").focus({ preventScroll: true });
  return loadTemplates();
}
function closeTemplates() {
  $("#template-panel").hidden = true;
  document.body.classList.remove("template-open");
  $("#template-open").setAttribute("aria-expanded", "false");
  $("#template-open").focus({ preventScroll: true });
}
$("#template-open").addEventListener("click", () => (templateOpen() ? closeTemplates() : openTemplates()));
$("#template-close").addEventListener("click", closeTemplates);
$("#template-panel").addEventListener("keydown", (e) => { if (e.key === "Escape") closeTemplates(); });

async function loadTemplates(chosen) {
  try {
    tpl.list = (await api("GET", "/api/v1/templates")).templates;
  } catch (e) {
    showError("template.render", `The templates could not be loaded: ${e.message}`);
    return;
  }
  const select = $("#template-select");
  const keep = chosen || select.value;
  select.replaceChildren(...(tpl.list.length
    ? tpl.list.map((t) => el("option", { value: t.template_id }, t.name))
    : [el("option", { value: "" }, "No templates yet")]));
  if (keep && tpl.list.some((t) => t.template_id === keep)) select.value = keep;
  renderTemplateFields();
}
$("#template-select").addEventListener("change", renderTemplateFields);

const chosenTemplate = () => tpl.list.find((t) => t.template_id === $("#template-select").value);

function renderTemplateFields() {
  const t = chosenTemplate();
  const names = t ? Object.keys(t.fields) : [];
  $("#template-about").textContent = !t ? "Save a template above first."
    : names.length ? `Its fields: ${names.join(", ")}.` : "It has no fields: every video it makes is the same.";
  $("#template-fields").replaceChildren(...names.map((name) => {
    const f = t.fields[name];
    const hint = f.type === "asset" ? `the name of a ${f.kind || "file"} of the session` : f.default ? `default: ${f.default}` : "";
    return el("label", {}, name, el("input", { "data-field": name, placeholder: hint, maxlength: f.max_length || 5000 }));
  }));
  $("#template-csv").value = names.length ? `${names.join(",")}\n` : "";
  $("#template-render").disabled = !t;
  $("#template-batch").disabled = !t;
}

/// A refusal in the panel's words: the field it names, and why.
function templateTrouble(e) {
  if (e.field === "timeline") return "The timeline is empty: add scenes first, then save it as a template.";
  const m = e.field && e.field.match(/^merges?(?:\[(\d+)\])?\.(\w+)$/);
  if (m) return `${m[1] !== undefined ? `Row ${Number(m[1]) + 1}: ` : ""}${m[2]} — ${e.message}`;
  if (e.field === "merges") return `The rows: ${e.message}`;
  return e.message;
}

$("#template-save").addEventListener("click", () => busy($("#template-save"), "template.save", async () => {
  const name = $("#template-name").value.trim() || `From ${state.session}`;
  if (state.dirty || state.saving) await save();
  try {
    const made = await api("POST", `${base()}/timeline/template`, { name });
    await loadTemplates(made.template_id);
    const names = Object.keys(made.fields);
    $("#template-about").textContent = `Saved “${made.name}”. ${names.length ? `Its fields: ${names.join(", ")}.` : "It has no fields: put {{name}} in a title or a voice-over's words to make one."}`;
  } catch (e) { throw new Error(templateTrouble(e)); }
}));

function videoLink(asset, session) {
  const watch = el("a", { href: asset.url, target: "_blank", rel: "noopener", class: "row-video" }, "Watch the video");
  return session === state.session ? watch
    : el("span", {}, watch, " · ", el("a", { href: `?session=${encodeURIComponent(session)}` }, "open its session"));
}

$("#template-render").addEventListener("click", () => busy($("#template-render"), "template.render", async () => {
  const t = chosenTemplate();
  if (!t) return;
  const merge = {};
  document.querySelectorAll("#template-fields [data-field]").forEach((input) => {
    if (input.value.trim()) merge[input.dataset.field] = input.value.trim();
  });
  $("#template-row-result").replaceChildren();
  let started;
  // In this session: a template made of its timeline names its pictures.
  try { started = await api("POST", `/api/v1/templates/${t.template_id}/renders`, { merge, session_id: state.session }); }
  catch (e) { throw new Error(templateTrouble(e)); }
  const status = $("#template-row-status");
  status.textContent = "waiting for a worker…";
  const job = await followJob(started, (j) => {
    status.textContent = j.status === "running" ? `rendering… ${Math.round(j.progress * 100)} %` : "waiting for a worker…";
  });
  status.textContent = job.status === "succeeded" ? "done" : job.status;
  if (job.status === "succeeded") {
    $("#template-row-result").replaceChildren(withPoster(el("video", { src: job.result.url, controls: true, preload: "metadata", class: "row-player" })),
      videoLink(job.result, started.session_id));
  } else if (job.error) throw new Error(job.error.message);
}));

$("#template-batch").addEventListener("click", () => busy($("#template-batch"), "template.batch", async () => {
  const t = chosenTemplate();
  if (!t) return;
  const csv = $("#template-csv").value.trim();
  const lines = csv.split("\n").slice(1).filter((l) => l.trim());
  if (!lines.length) throw new Error("Add a line of values under the field names: one line per video.");
  let batch;
  const where = `session_id=${encodeURIComponent(state.session)}`;
  try { batch = await api("POST", `/api/v1/templates/${t.template_id}/renders?${where}`, `${csv}\n`, "text/csv"); }
  catch (e) { throw new Error(templateTrouble(e)); }
  tpl.batch = batch;
  tpl.labels = lines.map((l) => l.trim().slice(0, 40));
  $("#template-batch-cancel").hidden = false;
  $("#template-batch-progress").hidden = false;
  followBatch(batch.batch_id);
}));

$("#template-batch-cancel").addEventListener("click", () => busy($("#template-batch-cancel"), "template.batch", async () => {
  if (!tpl.batch) return;
  renderBatch(await api("DELETE", tpl.batch.status_url));
}));

async function followBatch(id) {
  clearTimeout(tpl.timer);
  if (!tpl.batch || tpl.batch.batch_id !== id) return;
  try {
    const view = await api("GET", tpl.batch.status_url);
    renderBatch(view);
    if (view.status !== "finished") tpl.timer = setTimeout(() => followBatch(id), 700);
  } catch (e) {
    showError("template.batch", `The batch could not be followed: ${e.message}`);
  }
}

function renderBatch(view) {
  const c = view.counts;
  const done = c.succeeded + c.failed + c.cancelled;
  $("#template-batch-progress").value = view.progress;
  $("#template-batch-status").textContent = view.status === "finished"
    ? `Finished: ${c.succeeded} of ${view.total} made${c.failed ? `, ${c.failed} failed` : ""}${c.cancelled ? `, ${c.cancelled} cancelled` : ""}.`
    : `${done} of ${view.total} done · ${c.running} rendering · ${c.queued} waiting`;
  $("#template-batch-cancel").hidden = view.status === "finished";
  $("#template-batch-rows").replaceChildren(...view.rows.map((r) => {
    const label = tpl.labels[r.row] || `Row ${r.row + 1}`;
    const what = r.status === "succeeded" ? videoLink(r.result, r.session_id)
      : r.status === "running" ? `rendering… ${Math.round(r.progress * 100)} %`
      : r.status === "queued" ? "waiting"
      : r.status === "failed" ? `failed: ${r.error ? r.error.message : "unknown error"}` : "cancelled";
    return el("li", { "data-status": r.status, class: r.status }, el("strong", {}, label), " — ", what);
  }));
}

// ---- start ----------------------------------------------------------------

loadVoices();
const fromUrl = new URL(location.href).searchParams.get("session");
if (fromUrl) openSession(fromUrl);
else { $("#welcome").hidden = false; $("#welcome-text").focus(); }
