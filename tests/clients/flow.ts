// The main flow, through a TypeScript client: types generated from the live
// OpenAPI document by openapi-typescript, calls made with openapi-fetch.
// tests/clients.rs generates `schema.d.ts` beside this file, type-checks it
// with tsc (a mistyped route or field fails the test) and runs it:
//
//     node flow.js <base url> <picture to upload> <out.mp4>
import { readFile, writeFile } from "node:fs/promises";
import createClient from "openapi-fetch";
import type { paths } from "./schema.js";

const [base, picture, out] = process.argv.slice(2);
const client = createClient<paths>({ baseUrl: base });

function must<T>(result: { data?: T; error?: unknown; response: Response }, what: string): T {
  if (result.data === undefined) {
    throw new Error(`${what}: HTTP ${result.response.status} ${JSON.stringify(result.error)}`);
  }
  return result.data;
}

const session = must(await client.POST("/api/v1/sessions"), "session").session_id;
const path = { session_id: session };

const image = must(
  await client.POST("/api/v1/sessions/{session_id}/image", {
    params: { path },
    body: { prompt: "A lighthouse at dusk" },
  }),
  "image",
);
const voice = must(
  await client.POST("/api/v1/sessions/{session_id}/audio", {
    params: { path },
    body: { text: "A lighthouse keeps the ships safe.", voice_name: "en-US-Neural2-D" },
  }),
  "voice-over",
);
const post = must(
  await client.POST("/api/v1/sessions/{session_id}/social", {
    params: { path },
    body: { text: "Lighthouses guide ships along dangerous coasts at night." },
  }),
  "post",
);
if (!post.title || !post.hashtags.startsWith("#")) throw new Error(`post: ${JSON.stringify(post)}`);

const form = new FormData();
form.append("file", new Blob([await readFile(picture)], { type: "image/png" }), "mine.png");
const uploaded = must(
  await client.POST("/api/v1/sessions/{session_id}/uploads", {
    params: { path },
    // The generated type says `file: string` (format: binary); the body is a form.
    body: form as unknown as { file: string },
    bodySerializer: (body) => body as unknown as FormData,
  }),
  "upload",
);

const assets = must(await client.GET("/api/v1/sessions/{session_id}/assets", { params: { path } }), "assets");
for (const name of [image.name, voice.name, uploaded.name]) {
  if (!assets.some((a) => a.name === name)) throw new Error(`${name} is not listed`);
}

const composed = await client.POST("/api/v1/sessions/{session_id}/compose", {
  params: { path },
  body: {
    timeline: [
      { asset_id: image.name },
      { asset_id: voice.name },
      { asset_id: uploaded.name, duration: 1 },
    ],
    output: { quality: "draft" },
    async: true,
  },
});
if (composed.response.status !== 202 || !composed.data || !("job_id" in composed.data)) {
  throw new Error(`compose: HTTP ${composed.response.status}`);
}
const jobId = composed.data.job_id;

const deadline = Date.now() + 300_000;
let job;
for (;;) {
  job = must(
    await client.GET("/api/v1/sessions/{session_id}/jobs/{job_id}", {
      params: { path: { session_id: session, job_id: jobId } },
    }),
    "job",
  );
  if (["succeeded", "failed", "cancelled"].includes(job.status)) break;
  if (Date.now() > deadline) throw new Error("the render did not end in time");
  await new Promise((resolve) => setTimeout(resolve, 200));
}
if (job.status !== "succeeded") throw new Error(`job: ${JSON.stringify(job)}`);
const video = (job.result as { name: string }).name;

const content = await client.GET("/api/v1/sessions/{session_id}/assets/{name}/content", {
  params: { path: { session_id: session, name: video } },
  parseAs: "arrayBuffer",
});
if (content.response.status !== 200 || !content.data) throw new Error(`content: HTTP ${content.response.status}`);
await writeFile(out, Buffer.from(content.data as ArrayBuffer));
console.log(`typescript client: ${session} ${video} ${(content.data as ArrayBuffer).byteLength} bytes`);
