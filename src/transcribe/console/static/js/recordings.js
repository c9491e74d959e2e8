// The list of recordings, newest first, a page at a time. Each row is a link: Tab reaches
// it, Enter opens it. Pages in progress refresh themselves until their work is done.

import { api, query } from "./api.js";
import { badge, duration, h, when, put } from "./dom.js";

const PAGE = 20;
const STATUSES = ["recording", "queued", "rendering", "ready", "failed"];
const COLUMNS = ["Created", "Status", "Duration", "Channels", "Transcription", "Expires"];

export async function recordingsView(view, { params, signal }) {
  document.title = "Recordings · transcribe console";
  // The cursors of the pages before this one, so "Newer" can go back without the API
  // having to page backwards.
  const trail = (params.get("trail") || "").split(",").filter(Boolean);
  const status = params.get("status") || "";
  const cursor = trail.at(-1);

  const filter = h(
    "select",
    {
      id: "status-filter",
      onchange: (event) => {
        location.hash = `#/recordings${query({ status: event.target.value })}`;
      },
    },
    h("option", { value: "" }, "All statuses"),
    STATUSES.map((s) => h("option", { value: s, selected: s === status }, s)),
  );
  const list = h("ul.rows", { "aria-label": "Recordings" });
  const pager = h("nav.pager", { "aria-label": "Pages" });
  view.append(
    h(
      "div.toolbar",
      {},
      h("h1", {}, "Recordings"),
      h("label.visually-hidden", { for: "status-filter" }, "Status"),
      filter,
    ),
    list,
    pager,
  );

  const load = async () => {
    const page = await api(`/v1/recordings${query({ limit: PAGE, cursor, status })}`, { signal });
    const focused = document.activeElement?.dataset?.uuid;
    put(list,
      h("li.rows-head", { "aria-hidden": "true" }, COLUMNS.map((c) => h("span", {}, c))),
      page.items.map(row),
    );
    if (!page.items.length) {
      list.append(h("li.notice", {}, empty(status, cursor)));
    }
    if (focused) list.querySelector(`[data-uuid="${focused}"]`)?.focus();
    put(pager,
      trail.length
        ? h("a", { href: `#/recordings${query({ status, trail: trail.slice(0, -1).join(",") })}` }, "← Newer")
        : null,
      page.next_cursor
        ? h(
            "a",
            { href: `#/recordings${query({ status, trail: [...trail, page.next_cursor].join(",") })}` },
            "Older →",
          )
        : null,
    );
    return page.items.some(inProgress);
  };

  if (await load()) poll(load, signal);
}

function row(r) {
  const t = r.transcription;
  const cells = [
    when(r.created_at),
    badge(r.status),
    duration(r.duration),
    r.channels ?? "—",
    t ? badge(t.status) : h("span.muted", {}, "not asked"),
    when(r.expires_at),
  ];
  return h(
    "li",
    {},
    h(
      "a.row",
      {
        href: `#/recordings/${r.recording_uuid}`,
        dataset: { test: "recording-row", uuid: r.recording_uuid },
      },
      cells.map((value, i) => h("span.cell", {}, h("span.cell-label", {}, COLUMNS[i]), value)),
    ),
  );
}

function inProgress(r) {
  const t = r.transcription?.status;
  return ["recording", "queued", "rendering"].includes(r.status) || t === "queued" || t === "running";
}

function empty(status, cursor) {
  if (status || cursor) return "No recordings here.";
  return [
    "No recordings yet. Upload a call with POST /v1/transcriptions, record one with an NCCO, ",
    "or render legs with POST /v1/recordings (see the README).",
  ].join("");
}

/** Run `load` every few seconds while it says work is in progress and the view is open. */
export function poll(load, signal, everyMs = 3000) {
  const tick = async () => {
    if (signal.aborted) return;
    try {
      if (await load()) setTimeout(tick, everyMs);
    } catch {
      if (!signal.aborted) setTimeout(tick, everyMs * 2);
    }
  };
  setTimeout(tick, everyMs);
}
