"use strict";
// Shared by both label pages (the server writes it into each). The run's token comes from the URL
// the server printed and goes with every request: as a header on API calls, in the query of image
// URLs. Bodies are JSON: the server refuses anything else (see label/guard.py).
const TOKEN = new URLSearchParams(location.search).get("token") || "";
const $ = (id) => document.getElementById(id);

function withToken(path) {  // an address the page loads without fetch (img src, links)
  return `${path}${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(TOKEN)}`;
}

async function call(path, options) {
  const headers = {Authorization: `token ${TOKEN}`, ...((options || {}).headers || {})};
  const r = await fetch(path, {...options, headers});
  const payload = await r.json();
  if (!r.ok) throw new Error(payload.error || `HTTP ${r.status}`);
  return payload;
}

function getState() { return call("/api/state"); }

function post(path, body) {
  return call(path, {method: "POST", headers: {"Content-Type": "application/json"},
                     body: JSON.stringify(body || {})});
}

let writes = Promise.resolve();  // decisions and undos reach the server in key order
function serially(write) {
  const next = writes.then(write);
  writes = next.catch(() => {});
  return next;
}

function banner(text, error) {
  const b = $("banner");
  b.textContent = text || "";
  b.className = error ? "error" : "";
  b.style.display = text ? "block" : "none";
}

function modelBanner(state) {  // the model's progress or why it cannot be asked
  const model = state.model;
  const waiting = state.items.filter((i) => i.label === undefined).length;
  if (model.state === "down") banner(model.message, true);
  else if (model.state !== "done") banner(`asking ${state.task.endpoint} at ${state.task.url}: ` +
    `${model.done} of ${model.done + waiting} images`);
  else banner("");
}

function showSkipped(state) {
  const sk = $("skipped");
  sk.style.display = state.skipped.length ? "block" : "none";
  sk.querySelector("ul").replaceChildren(...state.skipped.map((s) => {
    const li = document.createElement("li");
    li.textContent = `${s.file}: ${s.reason}`;
    return li;
  }));
}

function painted(started, timings, footer, what) {  // key press -> the next view on screen
  requestAnimationFrame(() => setTimeout(() => {
    timings.push(performance.now() - started);
    const sorted = [...timings].sort((a, b) => a - b);
    $(footer).textContent = `next ${what} on screen in ${timings.at(-1).toFixed(1)} ms ` +
      `(median ${sorted[sorted.length >> 1].toFixed(1)} ms over ${timings.length})`;
  }, 0));
}
