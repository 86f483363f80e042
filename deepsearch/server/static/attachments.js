// Attachments: images become `image_url` parts, text and PDF files become `file` parts.

import { el } from "./render.js";

const MAX_BYTES = 10 * 1024 * 1024;
const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp"];
const FILE_TYPES = { "text/plain": ".txt", "application/pdf": ".pdf" };

function mediaType(file) {
  if (file.type) return file.type;
  const name = file.name.toLowerCase();
  for (const [type, ext] of Object.entries(FILE_TYPES)) if (name.endsWith(ext)) return type;
  return "";
}

function readDataUrl(file, type) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^;,]*/, `data:${type}`));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

export class Attachments {
  /** Manage the pending attachments shown in `list`; `onError` reports rejected files. */
  constructor(list, onError) {
    this.list = list;
    this.onError = onError;
    this.items = [];
  }

  /** Read the chosen files as data URIs, rejecting unsupported or oversized ones. */
  async add(files) {
    for (const file of files) {
      const type = mediaType(file);
      if (!IMAGE_TYPES.includes(type) && !(type in FILE_TYPES)) {
        this.onError(`${file.name}: only PNG, JPEG, WebP images, text and PDF files can be attached.`);
        continue;
      }
      if (file.size > MAX_BYTES) {
        this.onError(`${file.name} is larger than 10 MB.`);
        continue;
      }
      const dataUrl = await readDataUrl(file, type);
      this.items.push({ name: file.name, image: IMAGE_TYPES.includes(type), dataUrl });
    }
    this.show();
  }

  show() {
    this.list.replaceChildren();
    this.items.forEach((item, index) => {
      const li = el("li", "attachment");
      if (item.image) {
        const thumb = el("img", "thumb");
        thumb.src = item.dataUrl;
        thumb.alt = "";
        li.append(thumb);
      }
      li.append(el("span", "attachment-name", item.name));
      const remove = el("button", "remove", "×");
      remove.type = "button";
      remove.setAttribute("aria-label", `Remove ${item.name}`);
      remove.addEventListener("click", () => {
        this.items.splice(index, 1);
        this.show();
      });
      li.append(remove);
      this.list.append(li);
    });
  }

  /** Return the message content for `text` plus the attachments, and clear them. */
  take(text) {
    if (!this.items.length) return { content: text, names: [] };
    const parts = [{ type: "text", text }];
    for (const item of this.items) {
      if (item.image) parts.push({ type: "image_url", image_url: { url: item.dataUrl } });
      else parts.push({ type: "file", file: { filename: item.name, file_data: item.dataUrl } });
    }
    const names = this.items.map((item) => item.name);
    this.items = [];
    this.show();
    return { content: parts, names };
  }
}
