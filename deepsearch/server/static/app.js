// The chat page: conversation, request options, streaming runs, stop, errors and the API key.

import { Attachments } from "./attachments.js";
import { el } from "./render.js";
import { chunkError, sseData, ThinkSplitter } from "./sse.js";
import { AssistantTurn } from "./turn.js";

const ENDPOINT = "/v1/chat/completions";
const KEY_NAME = "deepsearch.apiKey";
const EFFORT_BUDGET = { low: 100000, medium: 500000, high: 1000000 };

const $ = (id) => document.getElementById(id);
const ui = {
  conversation: $("conversation"),
  hint: $("empty-hint"),
  status: $("status"),
  error: $("error"),
  form: $("composer"),
  question: $("question"),
  files: $("files"),
  send: $("send"),
  stop: $("stop"),
  keyDialog: $("key-dialog"),
  keyInput: $("key-input"),
  keyRemember: $("key-remember"),
  keyReason: $("key-reason"),
};

const history = []; // the messages of finished exchanges, sent with every new question
let controller = null;
const attachments = new Attachments($("attachments"), showError);

// --- the API key, kept in this browser only ---------------------------------------------
function storedKey() {
  return sessionStorage.getItem(KEY_NAME) || localStorage.getItem(KEY_NAME) || "";
}

function saveKey(key, remember) {
  sessionStorage.removeItem(KEY_NAME);
  localStorage.removeItem(KEY_NAME);
  if (key) (remember ? localStorage : sessionStorage).setItem(KEY_NAME, key);
}

/** Ask for the key; resolve true when one was saved. */
function askForKey(reason) {
  ui.keyReason.textContent = reason;
  ui.keyInput.value = storedKey();
  ui.keyRemember.checked = Boolean(localStorage.getItem(KEY_NAME));
  ui.keyDialog.showModal();
  ui.keyInput.focus();
  return new Promise((resolve) => {
    ui.keyDialog.addEventListener(
      "close",
      () => {
        const saved = ui.keyDialog.returnValue === "save" && ui.keyInput.value.trim();
        if (saved) saveKey(ui.keyInput.value.trim(), ui.keyRemember.checked);
        ui.keyDialog.returnValue = "";
        resolve(Boolean(saved));
      },
      { once: true },
    );
  });
}

$("key-cancel").addEventListener("click", () => ui.keyDialog.close("cancel"));
$("key-forget").addEventListener("click", () => {
  saveKey("");
  ui.keyDialog.close("forget");
  announce("The API key was removed from this browser.");
});
$("set-key").addEventListener("click", () =>
  askForKey("The key is sent only to this server and stays in this browser."),
);

// --- messages to the user ---------------------------------------------------------------
function announce(text) {
  ui.status.textContent = text;
}

function showError(text) {
  ui.error.textContent = text;
  ui.error.hidden = !text;
}

function describeHttpError(status, body) {
  const message = (body && body.error && body.error.message) || "";
  if (status === 401) return "The server needs a valid API key.";
  if (status === 429) return `The server is busy: ${message || "too many requests"}.`;
  if (status >= 500) return `The server could not run DeepSearch: ${message || `HTTP ${status}`}`;
  return message || `The request failed with HTTP ${status}.`;
}

// --- the request ------------------------------------------------------------------------
function hostnames(id) {
  return $(id)
    .value.split(/[\s,]+/)
    .map((h) => h.trim())
    .filter(Boolean);
}

function requestOptions() {
  const options = { reasoning_effort: $("reasoning_effort").value };
  const budget = parseInt($("budget_tokens").value, 10);
  if (budget > 0) options.budget_tokens = budget;
  const team = parseInt($("team_size").value, 10);
  if (team > 1) options.team_size = team;
  if ($("no_direct_answer").checked) options.no_direct_answer = true;
  for (const id of ["boost_hostnames", "bad_hostnames", "only_hostnames"]) {
    const hosts = hostnames(id);
    if (hosts.length) options[id] = hosts;
  }
  if ($("search_provider").value) options.search_provider = $("search_provider").value;
  return options;
}

function expectedBudget(options) {
  return options.budget_tokens || EFFORT_BUDGET[options.reasoning_effort] || 500000;
}

function setRunning(running) {
  ui.send.disabled = running;
  ui.stop.hidden = !running;
  ui.form.setAttribute("aria-busy", String(running));
  if (!running) ui.question.focus();
}

function userTurn(text, names) {
  const article = el("article", "turn user");
  article.setAttribute("aria-label", "Your question");
  article.append(el("p", "user-text", text));
  if (names.length) article.append(el("p", "user-files", `Attached: ${names.join(", ")}`));
  ui.conversation.append(article);
}

/** Stream one run into `turn`; return "done", "stopped", "failed" or "unauthorized". */
async function streamRun(messages, options, turn) {
  const headers = { "Content-Type": "application/json", Accept: "text/event-stream" };
  const key = storedKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  const body = JSON.stringify({ model: "jina-deepsearch-v1", messages, stream: true, ...options });
  let response;
  try {
    response = await fetch(ENDPOINT, { method: "POST", headers, body, signal: controller.signal });
  } catch (err) {
    if (err.name === "AbortError") return "stopped";
    turn.note(`Network error: could not reach the DeepSearch server (${err.message}).`, "error");
    return "failed";
  }
  if (!response.ok) {
    const data = await response.json().catch(() => null);
    if (response.status === 401) return "unauthorized";
    turn.note(describeHttpError(response.status, data), "error");
    return "failed";
  }
  const splitter = new ThinkSplitter();
  let outcome = "failed";
  const errors = [];
  try {
    for await (const data of sseData(response)) {
      if (data === "[DONE]") {
        if (outcome !== "error") outcome = "done";
        break;
      }
      const chunk = JSON.parse(data);
      const choice = (chunk.choices && chunk.choices[0]) || {};
      const delta = choice.delta || {};
      const content = typeof delta.content === "string" ? delta.content : "";
      const kind = delta.type || chunk.type; // the server puts `type` on the delta
      const error =
        chunkError(chunk) ?? (kind === "error" ? content.replace(/<\/?think>/g, "") : null);
      if (error !== null) {
        turn.addThink(splitter.flush().think);
        if (error.trim() && !errors.includes(error.trim())) {
          errors.push(error.trim());
          turn.note(`DeepSearch stopped with an error: ${error.trim()}`, "error");
        }
        outcome = "error";
        continue;
      }
      const parts = splitter.push(content);
      turn.addThink(parts.think);
      turn.addAnswer(parts.answer);
      const progress = delta.progress || chunk.progress;
      if (progress) turn.applyProgress(progress);
      if (kind === "json") turn.json = true;
      if (choice.finish_reason || chunk.visitedURLs || delta.annotations) {
        const rest = splitter.flush();
        turn.addThink(rest.think);
        turn.addAnswer(rest.answer);
        turn.finish(chunk, delta.annotations);
      }
    }
  } catch (err) {
    if (err.name === "AbortError") return "stopped";
    turn.note(`The connection broke before the answer was complete (${err.message}).`, "error");
    return "failed";
  }
  if (outcome === "failed") turn.note("The stream ended before the answer was complete.", "error");
  if (outcome === "error" && !errors.length) turn.note("DeepSearch stopped with an error.", "error");
  return outcome === "done" ? "done" : "failed";
}

async function ask(text) {
  const { content, names } = attachments.take(text);
  const message = { role: "user", content };
  const messages = [...history, message];
  const options = requestOptions();
  showError("");
  ui.hint.hidden = true;
  userTurn(text, names);
  setRunning(true);
  announce("DeepSearch is researching your question.");
  controller = new AbortController();
  for (;;) {
    const turn = new AssistantTurn(ui.conversation, expectedBudget(options));
    const outcome = await streamRun(messages, options, turn);
    turn.complete();
    if (outcome === "unauthorized") {
      turn.root.remove();
      const reason = storedKey()
        ? "The server rejected this API key. Enter a valid one."
        : "This server requires an API key. It stays in this browser only.";
      if (await askForKey(reason)) continue;
      showError("The server needs a valid API key (use the “API key” button).");
    } else if (outcome === "stopped") {
      turn.note("Stopped. The run was cancelled.", "stopped");
      announce("Stopped.");
    } else if (outcome === "done") {
      history.push(message, { role: "assistant", content: turn.answerText });
      announce("The answer is ready.");
    } else {
      announce("The run failed.");
    }
    break;
  }
  controller = null;
  setRunning(false);
}

// --- wiring -----------------------------------------------------------------------------
ui.form.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = ui.question.value.trim();
  if (!text || controller) return;
  ui.question.value = "";
  ask(text);
});

ui.question.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ui.form.requestSubmit();
  }
});

ui.stop.addEventListener("click", () => controller && controller.abort());
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && controller && !ui.keyDialog.open) controller.abort();
});

ui.files.addEventListener("change", async () => {
  showError("");
  await attachments.add([...ui.files.files]);
  ui.files.value = "";
});

$("new-chat").addEventListener("click", () => {
  if (controller) controller.abort();
  history.length = 0;
  ui.conversation.replaceChildren(ui.hint);
  ui.hint.hidden = false;
  showError("");
  ui.question.focus();
});

document.body.classList.add("ready");
