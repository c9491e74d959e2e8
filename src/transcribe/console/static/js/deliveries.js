// The webhook delivery log: every event sent to this application, with each attempt, and
// "Send again" (POST /v1/webhooks/deliveries/{id}/redeliver).

import { api, query } from "./api.js";
import { badge, h, shortId, when, put } from "./dom.js";

const LIMIT = 100;

export async function deliveriesView(view, { signal }) {
  document.title = "Webhooks · transcribe console";
  view.append(
    h("div.toolbar", {}, h("h1", {}, "Webhooks")),
    h(
      "p.muted",
      {},
      `The newest ${LIMIT} events sent to this application, each with its attempts. ` +
        "Send again gives an event a fresh 24 hours of retries.",
    ),
    await deliveryList({ signal }),
  );
}

/** The deliveries (of one recording, or all), as a live list. */
export async function deliveryList({ recordingUuid, signal }) {
  const list = h("div.deliveries");
  const path = `/v1/webhooks/deliveries${query({ recording_uuid: recordingUuid, limit: LIMIT })}`;
  const items = await api(path, { signal });
  if (!items.length) {
    list.append(h("p.notice", {}, recordingUuid ? "No webhooks were sent for this recording." : "No webhooks sent yet."));
  }
  for (const d of items) list.append(deliveryRow(d, { showRecording: !recordingUuid, signal }));
  return list;
}

function deliveryRow(d, options) {
  const row = h("article.delivery", { dataset: { test: "delivery-row", id: d.id } });
  fill(row, d, options);
  return row;
}

function fill(row, d, { showRecording, signal }) {
  const status = h("p.muted", { role: "status" });
  const resend = h(
    "button.resend",
    {
      type: "button",
      dataset: { test: "resend" },
      "aria-label": `Send the ${d.event} event again`,
      onclick: async () => {
        resend.disabled = true;
        status.textContent = "Sending again…";
        try {
          const fresh = await api(`/v1/webhooks/deliveries/${d.id}/redeliver`, { method: "POST", signal });
          fill(row, fresh, { showRecording, signal });
          follow(row, fresh, d.attempts.length, { showRecording, signal });
          row.querySelector("button.resend").focus();
        } catch (error) {
          status.textContent = `Not sent: ${error.message}`;
          resend.disabled = false;
        }
      },
    },
    "Send again",
  );
  put(row,
    h(
      "div.head",
      {},
      h("strong", {}, d.event),
      badge(d.status),
      h("span.muted", {}, when(d.created_at)),
      showRecording && d.recording_uuid
        ? h("a", { href: `#/recordings/${d.recording_uuid}` }, `recording ${shortId(d.recording_uuid)}`)
        : null,
      resend,
    ),
    h("div.url", {}, `${d.method} ${d.url}`),
    d.next_attempt_at ? h("div.muted", {}, `Next attempt ${when(d.next_attempt_at)}`) : null,
    attempts(d.attempts),
    h("details", {}, h("summary", {}, "Payload"), h("pre", {}, JSON.stringify(d.payload, null, 2))),
    status,
  );
}

function attempts(list) {
  if (!list.length) return h("p.muted", {}, "No attempt yet.");
  return h(
    "table",
    {},
    h("caption.visually-hidden", {}, "Attempts"),
    h("thead", {}, h("tr", {}, h("th", {}, "Attempt"), h("th", {}, "When"), h("th", {}, "Answer"), h("th", {}, "Took"))),
    h(
      "tbody",
      {},
      list.map((a, i) =>
        h(
          "tr",
          { dataset: { test: "attempt" } },
          h("td", {}, `#${i + 1}`),
          h("td", {}, when(a.at)),
          h("td", {}, a.status_code ? `HTTP ${a.status_code}` : "", a.error ? h("span.error", {}, ` ${a.error}`) : ""),
          h("td", {}, `${a.duration_ms} ms`),
        ),
      ),
    ),
  );
}

/** After a resend, refresh the row until the new attempt shows up (or a minute passes). */
function follow(row, d, before, options) {
  const deadline = Date.now() + 60_000;
  const tick = async () => {
    if (options.signal.aborted || !row.isConnected || Date.now() > deadline) return;
    const path = `/v1/webhooks/deliveries${query({ recording_uuid: d.recording_uuid, limit: LIMIT })}`;
    const fresh = (await api(path, { signal: options.signal }).catch(() => [])).find((x) => x.id === d.id);
    if (fresh) fill(row, fresh, options);
    if (!fresh || (fresh.attempts.length <= before && fresh.status === "pending")) setTimeout(tick, 1000);
  };
  setTimeout(tick, 500);
}
