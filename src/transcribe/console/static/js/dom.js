// Building the page without innerHTML: every text from the API (a transcript, an error, a
// URL) becomes a text node, never markup.

/** h("a.row", {href: "#/x", dataset: {test: "recording-row"}}, "text", child, ...) */
export function h(tag, attrs = {}, ...children) {
  const [name, ...classes] = tag.split(".");
  const el = document.createElement(name);
  if (classes.length) el.className = classes.join(" ");
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "className") el.className = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** 83456 ms -> "1:23"; 3723000 -> "1:02:03". */
export function clock(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const s = String(total % 60).padStart(2, "0");
  const m = Math.floor(total / 60) % 60;
  const hours = Math.floor(total / 3600);
  return hours ? `${hours}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** Seconds (a float, as the API gives durations) -> "1:23", or an em dash when unknown. */
export function duration(seconds) {
  return seconds === null || seconds === undefined ? "—" : clock(seconds * 1000);
}

const DATE = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function when(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : DATE.format(date);
}

export function badge(status, label = status) {
  return h(`span.badge.${String(status).replace(/[^a-z_]/gi, "")}`, {}, label);
}

export function shortId(uuid) {
  return uuid ? uuid.slice(0, 8) : "";
}

/** Text with <mark>…</mark> spans (a search snippet) as nodes: the marks become <mark>
 * elements, everything else stays text. Without marks, `terms` are highlighted instead. */
export function marked(text, terms = []) {
  const out = [];
  if (/<mark>/i.test(text)) {
    const parts = text.split(/(<mark>|<\/mark>)/i);
    let inside = false;
    for (const part of parts) {
      if (/^<mark>$/i.test(part)) inside = true;
      else if (/^<\/mark>$/i.test(part)) inside = false;
      else if (part) out.push(inside ? h("mark", {}, part) : part);
    }
    return out;
  }
  const words = terms.filter((t) => t.length > 1).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  if (!words.length) return [text];
  const pattern = new RegExp(`(${words.join("|")})`, "gi");
  for (const [i, part] of text.split(pattern).entries()) {
    if (part) out.push(i % 2 ? h("mark", {}, part) : part);
  }
  return out;
}

/** Replace an element's children (arrays flattened, null and false left out). */
export function put(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}
