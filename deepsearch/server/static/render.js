// Safe rendering of untrusted text: answers (Markdown), quotes, titles and URLs.
// Markdown goes through marked, then DOMPurify; everything else is built with textContent.

import { marked } from "./marked.esm.js";
import DOMPurify from "./purify.es.js";

const FOOTNOTE = /\[\^(\d+)\]/g;
const FOOTNOTE_DEFINITION = /^\[\^\d+\]:.*$/gm;
const URL_IN_TEXT = /https?:\/\/[^\s<>"'`)\]]+/g;

marked.use({ gfm: true, breaks: false });

/** Return `url` as an absolute http(s) URL string, or null for any other scheme. */
export function safeHttpUrl(url) {
  try {
    const parsed = new URL(String(url));
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

/** Create an element with optional class and text (text is never parsed as HTML). */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

/** A link to an http(s) URL opening in a new tab, or plain text for any other URL. */
export function link(url, text) {
  const href = safeHttpUrl(url);
  const label = text || String(url);
  if (!href) return el("span", "unsafe-url", label);
  const a = el("a", null, label);
  a.href = href;
  a.target = "_blank";
  a.rel = "noopener noreferrer nofollow";
  return a;
}

/** Append `text` to `parent`, turning the http(s) URLs in it into links. */
export function appendLinkified(parent, text) {
  let last = 0;
  for (const match of text.matchAll(URL_IN_TEXT)) {
    parent.append(document.createTextNode(text.slice(last, match.index)));
    parent.append(link(match[0]));
    last = match.index + match[0].length;
  }
  parent.append(document.createTextNode(text.slice(last)));
}

/** Turn Markdown from an untrusted source into a sanitised DocumentFragment. */
export function markdownFragment(markdown) {
  const html = marked.parse(markdown, { async: false });
  const fragment = DOMPurify.sanitize(html, {
    RETURN_DOM_FRAGMENT: true,
    FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "iframe"],
    FORBID_ATTR: ["style", "id", "name"],
  });
  for (const a of fragment.querySelectorAll("a")) {
    a.replaceWith(link(a.getAttribute("href") || "", a.textContent));
  }
  // Remote images would leak the reader's address to whoever wrote the page: link them instead.
  for (const img of fragment.querySelectorAll("img")) {
    const alt = img.getAttribute("alt") || "image";
    img.replaceWith(link(img.getAttribute("src") || "", `[${alt}]`));
  }
  for (const table of fragment.querySelectorAll("table")) {
    const wrapper = el("div", "table-scroll");
    table.replaceWith(wrapper);
    wrapper.append(table);
  }
  return fragment;
}

/** Render an answer into `container`, with footnote markers as buttons that open citations. */
export function renderAnswer(container, markdown, citations, onFootnote) {
  const text = citations.length ? markdown.replace(FOOTNOTE_DEFINITION, "") : markdown;
  const fragment = markdownFragment(text);
  const walker = document.createTreeWalker(fragment, NodeFilter.SHOW_TEXT);
  const textNodes = [];
  while (walker.nextNode()) textNodes.push(walker.currentNode);
  for (const node of textNodes) {
    if (node.parentElement && node.parentElement.closest("code, pre")) continue;
    if (!FOOTNOTE.test(node.data)) continue;
    FOOTNOTE.lastIndex = 0;
    const parts = document.createDocumentFragment();
    let last = 0;
    for (const match of node.data.matchAll(FOOTNOTE)) {
      parts.append(document.createTextNode(node.data.slice(last, match.index)));
      parts.append(footnoteMarker(Number(match[1]), citations[Number(match[1]) - 1], onFootnote));
      last = match.index + match[0].length;
    }
    parts.append(document.createTextNode(node.data.slice(last)));
    node.replaceWith(parts);
  }
  container.replaceChildren(fragment);
}

function footnoteMarker(n, citation, onFootnote) {
  const sup = el("sup", "footnote");
  const button = el("button", "footnote-marker", String(n));
  button.type = "button";
  button.setAttribute("aria-label", `Reference ${n}`);
  if (citation) {
    const title = citation.title || citation.url || "";
    button.title = citation.exactQuote ? `${title}: “${citation.exactQuote}”` : title;
    button.setAttribute("aria-expanded", "false");
    button.addEventListener("click", () => onFootnote(n, button));
  } else {
    button.disabled = true;
  }
  sup.append(button);
  return sup;
}

/** Return the url_citation objects of a chunk's annotations, in footnote order. */
export function citationsOf(annotations) {
  return (annotations || [])
    .filter((a) => a && a.type === "url_citation" && a.url_citation)
    .map((a) => a.url_citation);
}

/** Build the card that shows one citation: number, title, date, quote and source link. */
export function citationCard(n, citation) {
  const card = el("div", "citation");
  const head = el("p", "citation-head");
  head.append(el("span", "citation-number", `[${n}] `));
  head.append(link(citation.url, citation.title || citation.url));
  if (citation.dateTime) head.append(el("span", "citation-date", ` · ${citation.dateTime}`));
  card.append(head);
  if (citation.exactQuote) card.append(el("blockquote", "citation-quote", citation.exactQuote));
  const source = el("p", "citation-url");
  source.append(link(citation.url));
  card.append(source);
  return card;
}

/** Render a list of URLs as links. */
export function urlList(urls) {
  const list = el("ul", "url-list");
  for (const url of urls || []) {
    const item = el("li");
    item.append(link(url));
    list.append(item);
  }
  return list;
}
