// Reading the server's Server-Sent Events and splitting the <think> block from the answer.

const OPEN = "<think>";
const CLOSE = "</think>";

/** Yield the `data` payload of each SSE event in a fetch Response, as a string. */
export async function* sseData(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).replace(/^ /, ""))
        .join("\n");
      if (data) yield data;
    }
  }
}

/** Length of the longest suffix of `text` that is a proper prefix of `tag`. */
function partialTagLength(text, tag) {
  for (let n = Math.min(tag.length - 1, text.length); n > 0; n--) {
    if (tag.startsWith(text.slice(-n))) return n;
  }
  return 0;
}

/**
 * Route streamed content into the thinking text and the answer text.
 *
 * The stream starts with `<think>`, reasoning follows, then `</think>\n\n` and the answer.
 * Tags may arrive split across chunks, so a possible partial tag is held back.
 */
export class ThinkSplitter {
  constructor() {
    this.state = "start"; // start -> think -> answer
    this.pending = "";
  }

  /** Feed a content delta; return the {think, answer} text it adds. */
  push(text) {
    const out = { think: "", answer: "" };
    this.pending += text;
    for (;;) {
      if (this.state === "start") {
        const trimmed = this.pending.trimStart();
        if (trimmed.startsWith(OPEN)) {
          this.pending = trimmed.slice(OPEN.length);
          this.state = "think";
        } else if (OPEN.startsWith(trimmed)) {
          return out; // could still become "<think>"
        } else {
          this.state = "answer";
        }
      } else if (this.state === "think") {
        const close = this.pending.indexOf(CLOSE);
        if (close < 0) {
          const hold = partialTagLength(this.pending, CLOSE);
          out.think += this.pending.slice(0, this.pending.length - hold);
          this.pending = this.pending.slice(this.pending.length - hold);
          return out;
        }
        out.think += this.pending.slice(0, close);
        this.pending = this.pending.slice(close + CLOSE.length).replace(/^\n+/, "");
        this.state = "answer";
        this.answerStarted = this.pending.length > 0;
      } else {
        if (!this.answerStarted) {
          this.pending = this.pending.replace(/^\n+/, "");
          this.answerStarted = this.pending.length > 0;
        }
        out.answer += this.pending;
        this.pending = "";
        return out;
      }
    }
  }

  /** Return whatever is still held back (the stream ended). */
  flush() {
    const rest = this.pending;
    this.pending = "";
    if (this.state === "think") return { think: rest, answer: "" };
    return { think: "", answer: rest };
  }
}

/** Return the error message carried by a parsed chunk, or null. */
export function chunkError(chunk) {
  if (chunk && chunk.error) {
    const err = chunk.error;
    return typeof err === "string" ? err : err.message || JSON.stringify(err);
  }
  return null;
}
