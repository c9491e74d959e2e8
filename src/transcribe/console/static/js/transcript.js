// A transcription document drawn as the channels side by side: every sentence in time order,
// in its channel's column, each word a clickable span that knows when it was said.

import { clock, h } from "./dom.js";

const KINDS = [
  ["questions", "q", "question", "Question"],
  ["answers", "a", "answer", "Answer"],
  ["action_items", "ai", "action", "Action item"],
];

/** The sentences of every channel, in time order (channel order on a tie). */
export function sentences(doc) {
  const all = doc.channels.flatMap((channel, c) =>
    channel.transcript.map((s, index) => ({ ...s, channel: c, index })),
  );
  return all.sort((x, y) => x.timestamp - y.timestamp || x.channel - y.channel);
}

export function channelName(c) {
  return `Channel ${c + 1}`;
}

/** The transcript grid; `onSeek(ms)` is called when a word or a sentence's time is clicked. */
export function transcriptGrid(doc, onSeek) {
  const grid = h("div.transcript", { role: "list", "aria-label": "Transcript" });
  grid.style.setProperty("--channels", String(Math.max(1, doc.channels.length)));
  doc.channels.forEach((_, c) => {
    const head = h("div.channel-head", { "aria-hidden": "true" }, channelName(c));
    head.style.gridColumn = String(c + 1);
    head.style.gridRow = "1";
    grid.append(head);
  });
  // One sentence a row, in time order: reading down is hearing the call.
  sentences(doc).forEach((s, row) => {
    const el = sentenceElement(s, onSeek);
    el.style.gridRow = String(row + 2);
    grid.append(el);
  });
  grid.addEventListener("click", (event) => {
    const word = event.target.closest("[data-test=transcript-word]");
    if (word) onSeek(Number(word.dataset.startMs));
  });
  return grid;
}

function sentenceElement(s, onSeek) {
  const badges = KINDS.filter(([key]) => s[key]?.length).map(([, , css, label]) =>
    h(`span.badge.${css}`, {}, label),
  );
  if (typeof s.sentiment === "number") badges.push(sentimentBadge(s.sentiment));
  const el = h(
    "article.sentence",
    {
      role: "listitem",
      id: `s-${s.channel}-${s.index}`,
      dataset: { channel: s.channel, index: s.index, timestamp: s.timestamp },
    },
    h(
      "div.head",
      {},
      h(
        "button.time",
        {
          type: "button",
          "aria-label": `Play from ${clock(s.timestamp)}, ${channelName(s.channel)}`,
          onclick: () => onSeek(s.timestamp, { play: true }),
        },
        clock(s.timestamp),
      ),
      h("span.who", {}, channelName(s.channel)),
      badges,
    ),
    h("p", {}, words(s)),
  );
  el.style.gridColumn = String(s.channel + 1);
  return el;
}

export function sentimentBadge(value) {
  const tone = value >= 0.05 ? "positive" : value <= -0.05 ? "negative" : "neutral";
  const signed = `${value > 0 ? "+" : ""}${value.toFixed(2)}`;
  return h(
    `span.badge.${tone}`,
    { dataset: { test: "sentiment" }, title: "Sentiment, from -1 (negative) to +1 (positive)" },
    `sentiment ${signed}`,
  );
}

/** The sentence as written (capitals, punctuation), each written token over the recognised
 * words it stands for; where the two do not line up, the recognised words themselves. */
function words(s) {
  const tokens = align(s.sentence, s.words);
  const spans = [];
  const marks = markRanges(s);
  for (const token of tokens ?? s.words.map((w) => ({ text: w.word, words: [w] }))) {
    const first = token.words[0];
    const last = token.words.at(-1);
    const classes = tokens ? marks.filter(([from, to]) => token.start < to && token.end > from) : [];
    const span = h(
      "span.w",
      {
        dataset: { test: "transcript-word", startMs: first.start_time, endMs: last.end_time },
        title: `${clock(first.start_time)} · confidence ${Math.round(first.confidence * 100)}%`,
      },
      token.text,
    );
    for (const [, , css] of classes) span.classList.add(css);
    if (spans.length) spans.push(" ");
    spans.push(span);
  }
  return spans;
}

/** Character ranges of the sentence's questions, answers and action items, with their class. */
function markRanges(s) {
  const out = [];
  for (const [key, css] of KINDS) {
    for (const span of s[key] ?? []) {
      const from = s.sentence.indexOf(span);
      if (from >= 0) out.push([from, from + span.length, css]);
    }
  }
  return out;
}

/** Written tokens of `sentence` paired with the document's words, as `document.py` made the
 * words from them (lower case, punctuation dropped, compounds split); null if they differ. */
export function align(sentence, docWords) {
  const tokens = [];
  let next = 0;
  for (const match of sentence.matchAll(/\S+/g)) {
    const parts = normalise(match[0]);
    if (!parts.length) {
      if (tokens.length) tokens.at(-1).text += ` ${match[0]}`; // a lone dash: keep it visible
      continue;
    }
    const taken = docWords.slice(next, next + parts.length);
    if (taken.length !== parts.length || taken.some((w, i) => w.word !== parts[i])) return null;
    next += parts.length;
    tokens.push({ text: match[0], start: match.index, end: match.index + match[0].length, words: taken });
  }
  return next === docWords.length && tokens.length ? tokens : null;
}

function normalise(text) {
  return text
    .toLowerCase()
    .split(/[\s\-–—/]+/u)
    .map((part) =>
      part
        .replace(/[^\p{L}\p{N}\p{M}'.]/gu, "")
        .replace(/(?<!\d)\.|\.(?!\d)/g, "")
        .replace(/^'+|'+$/g, ""),
    )
    .filter(Boolean);
}

/** Follows the player: the word being spoken on each channel gets aria-current="true". */
export class Follower {
  constructor(grid) {
    this.channels = new Map();
    for (const el of grid.querySelectorAll("[data-test=transcript-word]")) {
      const channel = el.closest(".sentence").dataset.channel;
      if (!this.channels.has(channel)) this.channels.set(channel, []);
      this.channels.get(channel).push({ start: +el.dataset.startMs, end: +el.dataset.endMs, el });
    }
    for (const list of this.channels.values()) list.sort((x, y) => x.start - y.start);
    this.current = new Map();
  }

  /** Mark the words spoken at `ms`; returns the element of a word newly current, if any. */
  update(ms) {
    let moved = null;
    for (const [channel, list] of this.channels) {
      const word = spokenAt(list, ms);
      const before = this.current.get(channel);
      if (word === before) continue;
      before?.el.removeAttribute("aria-current");
      if (word) {
        word.el.setAttribute("aria-current", "true");
        moved = word.el;
      }
      this.current.set(channel, word);
    }
    return moved;
  }
}

function spokenAt(list, ms) {
  let lo = 0;
  let hi = list.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].start <= ms) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found >= 0 && ms < list[found].end ? list[found] : null;
}
