// The agent desk: follows GET /events with the agent's key and shows each call.
//
// EventSource cannot send a header, so the stream is read from fetch()'s body. Every value
// reaches the page through textContent (never innerHTML), and the biometric scores in the
// data (voice_llr, liveness_llr) are never rendered: agents see a confidence figure, a
// liveness word and reasons. The key lives in sessionStorage, never in a URL.

const KEY_ITEM = "voiceauth.desk.key";
const ENDED_KEPT_MS = 60_000;
const EID_POLL_MS = 2_000;
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;
const FINAL_EID = new Set(["approved", "denied", "expired", "error"]);
const FIELDS = [
  "caller", "customer", "level", "route", "voice_state", "confidence", "liveness",
  "net_speech", "factors", "reasons",
];
const MEANING = {
  401: "the API key was refused",
  403: "this key's scope does not allow it",
  404: "not found",
  409: "not possible now",
  429: "too many attempts",
  502: "the provider could not be reached",
};

const $ = (id) => document.getElementById(id);
const path = (...parts) => "/" + parts.map(encodeURIComponent).join("/");
const rows = new Map(); // call id -> entry (see newEntry)
let key = sessionStorage.getItem(KEY_ITEM);
let stream = null; // the AbortController of the running connection

class HttpError extends Error {
  constructor(status, detail) {
    const meaning = MEANING[status] ?? "the request failed";
    super(`${meaning}${detail ? ` (${detail})` : ""}, HTTP ${status}`);
    this.status = status;
  }
}

async function httpError(response) {
  let detail = "";
  try {
    const body = await response.json();
    if (typeof body.detail === "string") detail = body.detail;
  } catch {
    // not JSON: the status says enough
  }
  return new HttpError(response.status, detail);
}

async function api(method, url, body) {
  const headers = { "X-API-Key": key };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method, headers, cache: "no-store", body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw await httpError(response);
  return response.status === 204 ? null : response.json();
}

function say(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

function connection(state, text) {
  $("connection").dataset.state = state;
  $("connection").textContent = text;
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

// --- the live stream ---------------------------------------------------------------------

async function connect() {
  stream?.abort();
  const controller = new AbortController();
  stream = controller;
  let retry = FIRST_RETRY_MS;
  connection("connecting", "connecting");
  while (!controller.signal.aborted) {
    try {
      const reason = await follow(controller.signal);
      retry = FIRST_RETRY_MS;
      say(`The live stream closed${reason ? ` (${reason})` : ""}; reconnecting.`, true);
    } catch (error) {
      if (controller.signal.aborted) return;
      if (error instanceof HttpError && (error.status === 401 || error.status === 403)) {
        forget();
        say(`Connecting: ${error.message}. Enter an agent key.`, true);
        return;
      }
      say(`Connection lost: ${error.message}`, true);
    }
    connection("reconnecting", `reconnecting in ${Math.round(retry / 1000)} s`);
    await sleep(retry, controller.signal);
    retry = Math.min(retry * 2, MAX_RETRY_MS);
  }
}

/** Show the stream's calls until it ends; returns the server's reason for closing it. */
async function follow(signal) {
  const response = await fetch("/events", {
    headers: { "X-API-Key": key }, cache: "no-store", signal,
  });
  if (!response.ok) throw await httpError(response);
  connection("live", "live");
  say("Connected: new calls appear as they start.");
  for (const [id, entry] of rows) if (!entry.call.ended) refresh(id); // missed while away
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return null;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const message = parse(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (message.event === "state") show(JSON.parse(message.data));
      else if (message.event === "closed") return JSON.parse(message.data).reason;
    }
  }
}

/** One server-sent event (the `event:` and `data:` fields of the SSE format). */
function parse(block) {
  const message = { event: "message", data: "" };
  for (const line of block.split("\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue; // a comment or a field without value
    const field = line.slice(0, colon);
    const value = line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") message.event = value;
    else if (field === "data") message.data += (message.data ? "\n" : "") + value;
  }
  return message;
}

async function refresh(id) {
  try {
    show(await api("GET", path("calls", id)));
  } catch (error) {
    if (error instanceof HttpError && error.status === 404) drop(id);
    else say(`Reading call ${id}: ${error.message}`, true);
  }
}

// --- the table ---------------------------------------------------------------------------

function show(call) {
  let entry = rows.get(call.call_id);
  if (!entry) {
    entry = newEntry(call.call_id);
    rows.set(call.call_id, entry);
    $("calls").tBodies[0].prepend(entry.row);
  }
  entry.call = call;
  render(entry);
  if (call.ended && !entry.removal) {
    entry.removal = setTimeout(() => drop(call.call_id), ENDED_KEPT_MS);
  } else if (!call.ended && entry.removal) {
    clearTimeout(entry.removal);
    entry.removal = 0;
  }
}

function drop(id) {
  const entry = rows.get(id);
  if (!entry) return;
  clearTimeout(entry.removal);
  entry.row.remove();
  rows.delete(id);
}

function newEntry(id) {
  const row = document.createElement("tr");
  row.dataset.callId = id;
  const header = document.createElement("th");
  header.scope = "row";
  header.textContent = id;
  row.append(header);
  const cells = {};
  for (const field of FIELDS) {
    cells[field] = row.insertCell();
    cells[field].dataset.field = field;
  }
  const actions = row.insertCell();
  actions.dataset.field = "actions";
  const entry = { row, cells, actions, call: null, removal: 0, busy: false, eidRunning: false };
  entry.buttons = {
    otp: button(actions, "Send code", `Send a one-time code, call ${id}`, () => sendCode(entry)),
    eid: button(actions, "Start eID", `Start an eID check, call ${id}`, () => startEid(entry)),
    consent: button(actions, "Record consent", `Record consent, call ${id}`, () => openConsent(entry)),
  };
  entry.eid = document.createElement("p");
  entry.eid.className = "eid";
  entry.eid.dataset.field = "eid";
  actions.append(entry.eid);
  return entry;
}

function button(parent, text, label, onClick) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = text;
  element.setAttribute("aria-label", label);
  element.addEventListener("click", onClick);
  parent.append(element);
  return element;
}

function render(entry) {
  const { call, cells, buttons } = entry;
  const level = call.level;
  cells.caller.textContent = maskedAni(call.ani);
  cells.customer.textContent = call.customer_id ?? "unidentified";
  cells.level.textContent = level ? `${level.level} · ${level.name}` : "—";
  cells.route.textContent = level ? level.route : "—";
  cells.voice_state.textContent = call.ended ? `${call.voice_state} · ended` : call.voice_state;
  cells.confidence.textContent =
    call.confidence == null ? "—" : `${Math.round(call.confidence * 100)} %`;
  cells.liveness.textContent = liveness(call);
  cells.net_speech.textContent = `${call.net_speech_s.toFixed(1)} s`;
  cells.factors.textContent = call.factors_verified?.length
    ? call.factors_verified.join(", ")
    : "none";
  bullets(cells.reasons, [...(level?.reasons ?? []), ...call.reasons]);
  entry.row.classList.toggle("ended", call.ended);
  const noClaim = call.customer_id == null;
  buttons.otp.disabled = noClaim || call.ended || entry.busy;
  buttons.eid.disabled = noClaim || call.ended || entry.busy || entry.eidRunning;
  buttons.consent.disabled = noClaim || entry.busy;
}

/** The caller's number down to its last four digits: enough to confirm, not to copy. */
function maskedAni(ani) {
  const digits = (ani ?? "").replace(/\D/g, "");
  return digits ? `…${digits.slice(-4)}` : "withheld";
}

/** Liveness as a word: the countermeasure's score itself stays off the page. */
function liveness(call) {
  if (call.voice_state === "spoof") return "spoof suspected";
  if (call.liveness_llr == null) return "not yet";
  return call.liveness_llr > 0 ? "live" : "uncertain";
}

function bullets(cell, items) {
  const list = document.createElement("ul");
  for (const item of items) {
    const bullet = document.createElement("li");
    bullet.textContent = item;
    list.append(bullet);
  }
  cell.replaceChildren(...(items.length ? [list] : []));
}

// --- step-ups and consent ----------------------------------------------------------------

/** Run one agent action with the row's buttons held; a failure goes to the status line. */
async function act(entry, label, work) {
  entry.busy = true;
  render(entry);
  try {
    await work();
  } catch (error) {
    say(`${label}: ${error.message}`, true);
  } finally {
    entry.busy = false;
    render(entry);
  }
}

function sendCode(entry) {
  const id = entry.call.call_id;
  return act(entry, `Sending a code on call ${id}`, async () => {
    const { sent } = await api("POST", path("calls", id, "otp"));
    if (sent) say(`Code sent on call ${id}.`);
    else say(`No code sent on call ${id}: no destination on file, or the call's codes are used up.`, true);
  });
}

function startEid(entry) {
  const id = entry.call.call_id;
  return act(entry, `Starting eID on call ${id}`, async () => {
    const check = await api("POST", path("calls", id, "eid"), {});
    say(`eID check started on call ${id}.`);
    followEid(entry, check);
  });
}

/** Poll the eID check until it is final (the call's new level then comes on the stream). */
async function followEid(entry, first) {
  const id = entry.call.call_id;
  entry.eidRunning = true;
  let check = first;
  try {
    showEid(entry, check);
    while (!FINAL_EID.has(check.status) && rows.get(id) === entry) {
      await sleep(EID_POLL_MS);
      check = await api("GET", path("calls", id, "eid"));
      showEid(entry, check);
    }
  } catch (error) {
    say(`eID on call ${id}: ${error.message}`, true);
  } finally {
    entry.eidRunning = false;
    render(entry);
  }
}

function showEid(entry, check) {
  const parts = [`eID (${check.method}): ${check.status}`];
  if (check.binding_message) parts.push(`code to compare: ${check.binding_message}`);
  if (check.reason) parts.push(check.reason);
  entry.eid.textContent = parts.join(" · ");
}

function openConsent(entry) {
  if (entry.actions.querySelector("form")) return;
  const form = $("consent-form").content.firstElementChild.cloneNode(true);
  form.setAttribute("aria-label", `Consent of customer ${entry.call.customer_id}`);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    recordConsent(entry, form);
  });
  form.querySelector("[data-action=cancel]").addEventListener("click", () => form.remove());
  entry.actions.append(form);
  form.elements.evidence.focus();
}

function recordConsent(entry, form) {
  const customer = entry.call.customer_id;
  return act(entry, `Recording consent for ${customer}`, async () => {
    await api("POST", path("customers", customer, "consent"), {
      text_version: form.elements.text_version.value.trim(),
      channel: "agent",
      evidence: form.elements.evidence.value.trim(),
    });
    form.remove();
    say(`Consent recorded for customer ${customer}.`);
  });
}

// --- the key -----------------------------------------------------------------------------

function forget() {
  stream?.abort();
  stream = null;
  key = null;
  sessionStorage.removeItem(KEY_ITEM);
  for (const id of [...rows.keys()]) drop(id);
  connection("off", "not connected");
}

$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  key = $("api-key").value.trim();
  $("api-key").value = "";
  sessionStorage.setItem(KEY_ITEM, key);
  connect();
});
$("forget-key").addEventListener("click", () => {
  forget();
  say("Key forgotten.");
});
if (key) connect();
