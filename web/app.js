// Content Studio in the browser: plain JavaScript over the HTTP API.
"use strict";

const $ = (sel) => document.querySelector(sel);
const state = { session: null, assets: [], timeline: [], refresh: null };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) node.setAttribute(k, v);
  }
  for (const c of children.flat()) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function showError(where, message) {
  const target = document.querySelector(`[data-error-for="${where}"]`) || $("#session-error");
  target.textContent = message || "";
}

async function api(method, path, body) {
  const opts = { method, headers: {} };
  if (body instanceof FormData) opts.body = body;
  else if (body !== undefined) { opts.body = JSON.stringify(body); opts.headers["content-type"] = "application/json"; }
  const resp = await fetch(path, opts);
  const text = await resp.text();
  const data = text ? JSON.parse(text) : null;
  if (!resp.ok) throw new Error(data && data.error ? data.error.message : `HTTP ${resp.status}`);
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

function openSession(id) {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
    showError("session", "Session ids are 1 to 64 letters, digits, '_' or '-'.");
    return;
  }
  showError("session", "");
  state.session = id;
  state.timeline = [];
  $("#session-id").value = id;
  const url = new URL(location.href);
  url.searchParams.set("session", id);
  history.replaceState(null, "", url);
  $("#studio").hidden = false;
  refreshAssets();
  clearInterval(state.refresh);
  state.refresh = setInterval(refreshAssets, 4000);
  renderTimeline();
}

$("#new-session").addEventListener("click", () =>
  busy($("#new-session"), "session", async () => openSession((await api("POST", "/api/v1/sessions")).session_id)));
$("#open-session").addEventListener("click", () => openSession($("#session-id").value.trim()));
$("#session-id").addEventListener("keydown", (e) => { if (e.key === "Enter") openSession(e.target.value.trim()); });

// ---- assets ---------------------------------------------------------------

async function refreshAssets() {
  if (!state.session) return;
  try {
    state.assets = await api("GET", `${base()}/assets`);
  } catch (e) {
    state.assets = []; // a new session has no assets until the first one is made
  }
  renderGallery();
  renderMusic();
  renderTimeline();
}

const seconds = (a) => a && a.metadata && a.metadata.duration_seconds ? a.metadata.duration_seconds : 0;

function renderGallery() {
  const gallery = $("#gallery");
  const cards = state.assets.map((a) => {
    let media;
    if (a.type === "image") media = el("img", { src: a.url, alt: a.metadata.prompt || a.name, loading: "lazy" });
    else if (a.type === "audio") media = el("audio", { src: a.url, controls: "", preload: "none" });
    else if (a.type === "video") media = el("video", { src: a.url, controls: "", preload: "metadata" });
    else if (a.type === "social") media = el("pre", { class: "post" }, a.metadata.title || "");
    else media = el("span", { class: "meta" }, a.mime_type);
    const actions = el("div", { class: "actions" });
    if (["image", "audio", "video"].includes(a.type)) {
      actions.append(el("button", { type: "button", onclick: () => addToTimeline(a.name) }, "Add"));
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
      await api("DELETE", `${base()}/assets/${encodeURIComponent(a.name)}`);
      state.timeline = state.timeline.filter((t) => t.asset_id !== a.name);
      refreshAssets();
    }) }, "Delete"));
    const meta = [a.type, seconds(a) ? `${seconds(a).toFixed(1)} s` : "", a.metadata.role === "music" ? "music" : ""].filter(Boolean).join(" · ");
    return el("div", { class: "card", "data-asset": a.name }, media, el("div", { class: "name" }, a.name), el("div", { class: "meta" }, meta), actions);
  });
  gallery.replaceChildren(...cards);
}

function renderMusic() {
  const select = $("#music-select");
  const current = select.value;
  const options = state.assets.filter((a) => a.type === "audio").map((a) => el("option", { value: a.name }, a.name + (a.metadata.role === "music" ? " (music)" : "")));
  select.replaceChildren(el("option", { value: "" }, "none"), ...options);
  select.value = state.assets.some((a) => a.name === current) ? current : "";
}

// ---- uploads --------------------------------------------------------------

async function upload(files) {
  for (const file of files) {
    const form = new FormData();
    form.append("file", file, file.name);
    if ($("#as-music").checked) form.append("role", "music");
    await busy(null, "upload", () => api("POST", `${base()}/uploads`, form));
  }
  refreshAssets();
}

const drop = $("#drop-zone");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); upload(e.dataTransfer.files); });
$("#file-input").addEventListener("change", (e) => upload(e.target.files));

// ---- generation forms -----------------------------------------------------

function formJson(form) {
  return Object.fromEntries(new FormData(form).entries());
}

function bindForm(id, where, route) {
  const form = $(id);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(form.querySelector("button"), where, async () => {
      await api("POST", `${base()}/${route}`, formJson(form));
      refreshAssets();
    });
  });
}
bindForm("#image-form", "image", "image");
bindForm("#voice-form", "voice", "audio");
bindForm("#social-form", "social", "social");

async function loadVoices() {
  try {
    const voices = await api("GET", "/api/v1/voices");
    const select = $("#voice-select");
    select.replaceChildren(...voices.map((v) => el("option", { value: v.name }, `${v.name} · ${v.language_code}${v.gender ? " · " + v.gender : ""} (${v.provider})`)));
    select.value = "en-US-Neural2-D";
  } catch (e) { showError("voice", e.message); }
}

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
  if (asset.type === "audio") return [el("audio", { src: asset.url, controls: "" })];
  if (asset.type === "video") return [el("video", { src: asset.url, controls: "" })];
  return [];
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
    if (reply.result && reply.result.status_url) {
      const bar = el("progress", { max: 1, value: 0 });
      line.append(bar);
      const job = await followJob(reply.result, (v) => { bar.value = v.progress; });
      if (job.status === "succeeded") line.append(...assetPreview(job.result.video));
      else line.append(el("div", { class: "error" }, job.error ? job.error.message : job.status));
    }
    refreshAssets();
  });
});

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

// ---- timeline -------------------------------------------------------------

function addToTimeline(name) {
  state.timeline.push({ asset_id: name });
  renderTimeline();
}

const assetNamed = (name) => state.assets.find((a) => a.name === name);
const isVisual = (a) => a && (a.type === "image" || a.type === "video");

/// The video's length by the timeline rules (scenes from visuals, their audio after them).
function totalLength() {
  let total = 0; let scene = null;
  const close = () => { if (scene) total += scene.given ?? (scene.audio > 0 ? scene.audio : scene.own || 3); };
  for (const item of state.timeline) {
    const a = assetNamed(item.asset_id);
    if (isVisual(a)) {
      close();
      scene = { given: item.duration ? Number(item.duration) : null, audio: 0, own: a.type === "video" ? seconds(a) : 0 };
      if (item.transition && state.timeline.indexOf(item) > 0) total -= 0.5;
    } else if (a && scene) {
      scene.audio += item.duration ? Math.min(Number(item.duration), seconds(a)) : seconds(a);
    }
  }
  close();
  return Math.max(total, 0);
}

function renderTimeline() {
  const list = $("#timeline");
  const items = state.timeline.map((item, i) => {
    const a = assetNamed(item.asset_id);
    const visual = isVisual(a);
    const set = (key) => (e) => { item[key] = e.target.value || undefined; renderTotal(); };
    const row = el("li", { draggable: "true", "data-index": i },
      el("span", { class: "name" }, item.asset_id),
      el("label", {}, "Duration ", el("input", { type: "number", min: "0.1", step: "0.1", value: item.duration ?? "", placeholder: visual ? "auto" : "full", onchange: set("duration") })));
    if (visual && a.type === "image") {
      const effect = el("select", { onchange: set("effect") }, ...["none", "zoom_in", "zoom_out", "pan_left", "pan_right"].map((x) => el("option", { value: x }, x.replace("_", " "))));
      effect.value = item.effect || "none";
      row.append(effect);
    }
    if (visual) {
      const transition = el("select", { onchange: (e) => { item.transition = e.target.value ? { type: e.target.value } : undefined; renderTotal(); } },
        el("option", { value: "" }, "cut"), ...["fade", "crossfade", "slide_left", "slide_right", "wipe"].map((x) => el("option", { value: x }, x.replace("_", " "))));
      transition.value = item.transition ? item.transition.type : "";
      row.append(transition);
    }
    row.append(
      el("button", { type: "button", title: "Move up", onclick: () => move(i, i - 1) }, "↑"),
      el("button", { type: "button", title: "Move down", onclick: () => move(i, i + 1) }, "↓"),
      el("button", { type: "button", title: "Remove", onclick: () => { state.timeline.splice(i, 1); renderTimeline(); } }, "✕"));
    row.addEventListener("dragstart", (e) => { e.dataTransfer.setData("text/plain", String(i)); row.classList.add("dragging"); });
    row.addEventListener("dragend", () => row.classList.remove("dragging"));
    row.addEventListener("dragover", (e) => e.preventDefault());
    row.addEventListener("drop", (e) => { e.preventDefault(); move(Number(e.dataTransfer.getData("text/plain")), i); });
    return row;
  });
  list.replaceChildren(...items);
  renderTotal();
}

function move(from, to) {
  if (to < 0 || to >= state.timeline.length || from === to) return;
  const [item] = state.timeline.splice(from, 1);
  state.timeline.splice(to, 0, item);
  renderTimeline();
}

function renderTotal() { $("#total-length").textContent = `${totalLength().toFixed(1)} s`; }

$("#compose").addEventListener("click", () => busy($("#compose"), "compose", async () => {
  const body = {
    timeline: state.timeline.map((t) => ({ ...t, duration: t.duration ? Number(t.duration) : undefined })),
    captions: $("#captions").checked,
    output: { aspect_ratio: $("#output-ratio").value },
    async: true,
  };
  if ($("#music-select").value) body.music = { asset_id: $("#music-select").value };
  const accepted = await api("POST", `${base()}/compose`, body);
  const bar = $("#compose-progress");
  bar.hidden = false; bar.value = 0;
  $("#result").replaceChildren();
  const job = await followJob(accepted, (v) => { bar.value = v.progress; $("#compose-status").textContent = `${v.status} ${Math.round(v.progress * 100)}%`; });
  if (job.status !== "succeeded") throw new Error(job.error ? job.error.message : `the render ${job.status}`);
  const video = job.result;
  $("#compose-status").textContent = `done: ${video.name} (${seconds(video).toFixed(1)} s)`;
  $("#result").replaceChildren(
    el("video", { src: video.url, controls: "", id: "result-video" }),
    el("p", {}, el("a", { href: video.url, download: video.name }, `Download ${video.name}`)));
  refreshAssets();
}));

// ---- start ----------------------------------------------------------------

loadVoices();
const fromUrl = new URL(location.href).searchParams.get("session");
if (fromUrl) openSession(fromUrl);
