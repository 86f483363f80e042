// One assistant turn on screen: the live thinking panel, the answer, its references and URLs.

import {
  appendLinkified,
  citationCard,
  citationsOf,
  el,
  renderAnswer,
  urlList,
} from "./render.js";

const TOKENS_IN_TEXT = /(\d[\d,_]*)\s*\/\s*(\d[\d,_]*)\s*tokens/i;
const STEP_IN_TEXT = /\bstep\s*#?(\d+)/i;

function lineKind(text) {
  if (/\b(reject|fail|error|cannot|could not)/i.test(text)) return "bad";
  if (/\b(pass|accepted|verdict|answer)/i.test(text)) return "verdict";
  if (/https?:\/\//.test(text)) return "read";
  if (/\b(search|quer)/i.test(text)) return "search";
  return "note";
}

const toNumber = (digits) => Number(String(digits).replace(/[,_]/g, ""));

export class AssistantTurn {
  /** Build the turn's elements at the end of `conversation`; `budget` is the expected budget. */
  constructor(conversation, budget) {
    this.budget = budget;
    this.tokensUsed = 0;
    this.step = 0;
    this.thinkText = "";
    this.answerText = "";
    this.citations = [];
    this.lines = 0;
    this.renderQueued = false;

    this.root = el("article", "turn assistant");
    this.root.setAttribute("aria-label", "DeepSearch's answer");
    this.thinking = el("details", "thinking");
    this.thinking.open = true;
    this.summary = el("summary", null);
    this.summaryLabel = el("span", "thinking-label", "Thinking…");
    this.meter = el("progress", "budget-meter");
    this.meter.max = budget;
    this.meter.value = 0;
    this.meter.setAttribute("aria-label", "Tokens used of the budget");
    this.meterText = el("span", "budget-text", "");
    this.summary.append(this.summaryLabel, this.meter, this.meterText);
    this.log = el("ol", "think-log");
    this.log.setAttribute("role", "log");
    this.log.setAttribute("aria-live", "polite");
    this.log.setAttribute("aria-label", "Reasoning steps");
    this.thinking.append(this.summary, this.log);

    this.answer = el("div", "answer markdown");
    this.answer.setAttribute("aria-live", "polite");
    this.answer.setAttribute("aria-busy", "true");
    this.citationSlot = el("div", "citation-slot");
    this.citationSlot.setAttribute("aria-live", "polite");
    this.footer = el("div", "turn-footer");
    this.root.append(this.thinking, this.answer, this.citationSlot, this.footer);
    conversation.append(this.root);
    this.updateMeter();
  }

  /** Add streamed reasoning text; each line becomes one entry of the thinking log. */
  addThink(text) {
    if (!text) return;
    this.thinkText += text;
    const lines = this.thinkText.split("\n");
    this.thinkText = lines.pop();
    for (const line of lines) this.addLine(line);
    this.showPartialLine();
  }

  addLine(line, progress) {
    if (!line.trim()) return;
    const item = el("li", `think-line ${lineKind(line)}`);
    appendLinkified(item, line.trim());
    if (this.partial) {
      this.partial.replaceWith(item);
      this.partial = null;
    } else {
      this.log.append(item);
    }
    this.lines += 1;
    const tokens = line.match(TOKENS_IN_TEXT);
    if (tokens) this.setTokens(toNumber(tokens[1]), toNumber(tokens[2]));
    const step = line.match(STEP_IN_TEXT);
    if (step) this.step = Math.max(this.step, Number(step[1]));
    if (progress) this.applyProgress(progress);
    this.updateMeter();
  }

  showPartialLine() {
    if (!this.thinkText.trim()) return;
    if (!this.partial) {
      this.partial = el("li", "think-line partial");
      this.log.append(this.partial);
    }
    this.partial.textContent = this.thinkText.trim();
  }

  /** Use a structured progress event when the server sends one alongside the text. */
  applyProgress(progress) {
    if (typeof progress.step === "number") this.step = Math.max(this.step, progress.step);
    if (typeof progress.tokens_used === "number") {
      this.setTokens(progress.tokens_used, progress.budget_tokens || this.budget);
    }
    this.updateMeter();
  }

  setTokens(used, budget) {
    this.tokensUsed = Math.max(this.tokensUsed, used);
    if (budget) this.budget = budget;
  }

  updateMeter() {
    this.meter.max = this.budget;
    this.meter.value = Math.min(this.tokensUsed, this.budget);
    const used = this.tokensUsed.toLocaleString("en");
    this.meterText.textContent = ` ${used} / ${this.budget.toLocaleString("en")} tokens`;
    const step = this.step ? ` · step ${this.step}` : "";
    const lines = `${this.lines} note${this.lines === 1 ? "" : "s"}`;
    this.summaryLabel.textContent = this.done
      ? `Reasoning (${lines}${step})`
      : `Thinking… (${lines}${step})`;
  }

  /** Add streamed answer text (rendered as Markdown at most once per frame). */
  addAnswer(text) {
    if (!text) return;
    this.answerText += text;
    this.queueRender();
  }

  queueRender() {
    if (this.renderQueued) return;
    this.renderQueued = true;
    requestAnimationFrame(() => {
      this.renderQueued = false;
      this.render();
    });
  }

  render() {
    let text = this.answerText;
    if (this.json) text = "```json\n" + text + "\n```";
    renderAnswer(this.answer, text, this.citations, (n, button) => this.showCitation(n, button));
  }

  showCitation(n, button) {
    const open = button.getAttribute("aria-expanded") === "true";
    for (const b of this.answer.querySelectorAll(".footnote-marker[aria-expanded]")) {
      b.setAttribute("aria-expanded", "false");
    }
    this.citationSlot.replaceChildren();
    if (open) return;
    button.setAttribute("aria-expanded", "true");
    const card = citationCard(n, this.citations[n - 1]);
    card.classList.add("popover");
    const close = el("button", "close", "Close");
    close.type = "button";
    close.addEventListener("click", () => {
      this.citationSlot.replaceChildren();
      button.setAttribute("aria-expanded", "false");
      button.focus();
    });
    card.append(close);
    this.citationSlot.append(card);
  }

  /** Apply the final chunk: citations, URL lists and usage. */
  finish(chunk, annotations) {
    this.citations = citationsOf(annotations);
    if (this.citations.length) {
      const refs = el("section", "references");
      refs.append(el("h3", null, "References"));
      const list = el("ol", "reference-list");
      this.citations.forEach((c, i) => {
        const item = el("li");
        item.append(citationCard(i + 1, c));
        list.append(item);
      });
      refs.append(list);
      this.footer.append(refs);
    }
    const read = chunk.readURLs || [];
    const visited = chunk.visitedURLs || [];
    if (read.length || visited.length) {
      const box = el("details", "url-lists");
      box.append(el("summary", null, `Sources: ${read.length} read, ${visited.length} visited`));
      box.append(el("h4", null, `Read (${read.length})`), urlList(read));
      box.append(el("h4", null, `Visited (${visited.length})`), urlList(visited));
      this.footer.append(box);
    }
    if (chunk.usage && chunk.usage.total_tokens) {
      this.tokensUsed = chunk.usage.total_tokens; // the final count is authoritative
      this.footer.append(
        el("p", "usage", `${chunk.usage.total_tokens.toLocaleString("en")} tokens used`),
      );
    }
  }

  /** Mark the turn finished; collapse the thinking panel once an answer is shown. */
  complete() {
    const rest = this.thinkText;
    this.thinkText = "";
    if (rest.trim()) this.addLine(rest);
    this.done = true;
    this.updateMeter();
    this.render();
    this.answer.setAttribute("aria-busy", "false");
    if (this.answerText.trim()) this.thinking.open = false;
    this.root.classList.add("done");
  }

  /** Show a note under the turn (stopped, error). */
  note(text, kind) {
    const p = el("p", `turn-note ${kind}`, text);
    if (kind === "error") p.setAttribute("role", "alert");
    this.footer.append(p);
  }
}
