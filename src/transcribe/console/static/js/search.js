// Search over every call of this application (GET /v1/search): each result opens its
// recording at the sentence that matched.

import { ApiError, api, query } from "./api.js";
import { clock, h, marked, shortId, put } from "./dom.js";
import { channelName } from "./transcript.js";

export async function searchView(view, { params, signal }) {
  const q = (params.get("q") || "").trim();
  document.getElementById("search-q").value = q;
  document.title = `Search: ${q} · transcribe console`;
  const list = h("ul.results", { "aria-label": "Results" });
  const more = h("div.pager");
  const summary = h("p.muted", { role: "status" });
  view.append(h("div.toolbar", {}, h("h1", {}, "Search")), summary, list, more);
  if (!q) {
    summary.textContent = "Type words said in a call in the search box above.";
    return;
  }
  const terms = q.split(/\s+/);
  let count = 0;
  const load = async (cursor) => {
    let page;
    try {
      page = await api(`/v1/search${query({ q, cursor })}`, { signal });
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && !cursor) {
        summary.textContent = "Search is not available on this server (GET /v1/search answered 404).";
        return;
      }
      throw error;
    }
    count += page.items.length;
    list.append(...page.items.map((item) => result(item, terms)));
    summary.textContent = count ? `${count}${page.next_cursor ? "+" : ""} matching sentences for “${q}”` : `Nothing found for “${q}”.`;
    put(more,
      page.next_cursor
        ? h("button", { type: "button", onclick: () => load(page.next_cursor) }, "More results")
        : [],
    );
  };
  await load(null);
}

function result(item, terms) {
  const at = { channel: item.channel, t: item.timestamp };
  if (Number.isInteger(item.sentence)) at.s = item.sentence;
  const text = item.snippet || (typeof item.sentence === "string" ? item.sentence : "");
  return h(
    "li",
    {},
    h(
      "a.result",
      { href: `#/recordings/${item.recording_uuid}${query(at)}`, dataset: { test: "search-result" } },
      h("div", {}, marked(text, terms)),
      h("div.where", {}, `Recording ${shortId(item.recording_uuid)} · ${channelName(item.channel)} · ${clock(item.timestamp)}`),
    ),
  );
}
