// One recording: its facts, the audio player, the transcript following the player, the
// questions, answers and action items, and the webhooks sent about it.
//
// The player plays a signed link (POST /v1/files/{uuid}/link): an <audio> element fetches
// its source itself, with Range requests, and cannot send the Authorization header.
// A link lives 15 minutes; when the player finds it refused, the page asks for a new one and
// carries on from where it was.

import { api, pathOf } from "./api.js";
import { deliveryList } from "./deliveries.js";
import { badge, clock, duration, h, shortId, when, put } from "./dom.js";
import { poll } from "./recordings.js";
import { Follower, channelName, sentimentBadge, transcriptGrid } from "./transcript.js";

export async function recordingView(view, { args: [uuid], params, signal }) {
  let recording = await api(`/v1/recordings/${uuid}`, { signal });
  document.title = `Recording ${shortId(uuid)} · transcribe console`;

  const meta = h("dl.meta");
  const player = h("audio", { controls: true, preload: "metadata", dataset: { test: "player" } });
  const follow = h("input", { type: "checkbox", id: "follow", checked: true });
  const playerBox = h(
    "section.player",
    { "aria-label": "Player" },
    player,
    h(
      "div.options",
      {},
      h("label", { for: "follow" }, follow, " Keep the spoken word in view"),
      h("span", {}, "Click a word to play from there."),
    ),
  );
  const transcriptBox = h("section", { "aria-label": "Transcript" });
  const side = h("aside.panel", { "aria-label": "Questions, answers and action items" });
  const hooks = h("section", { "aria-label": "Webhooks" });
  view.append(
    h("a.back", { href: "#/recordings" }, "← Recordings"),
    h("h1", {}, `Recording ${shortId(uuid)}`, h("span.muted", {}, ` · ${when(recording.created_at)}`)),
    meta,
    playerBox,
    h("div.layout", {}, transcriptBox, side),
    hooks,
  );

  const seek = (ms, { play = false } = {}) => {
    player.currentTime = ms / 1000;
    follower?.update(ms);
    if (play) player.play().catch(() => {});
  };
  let follower = null;
  let audioReady = false;

  const showMeta = () =>
    put(meta, facts(recording).map(([k, v, css = "div"]) => h(css, {}, h("dt", {}, k), h("dd", {}, v))));
  showMeta();

  // The audio.
  const loadAudio = async () => {
    if (!recording.recording_url || audioReady) return;
    audioReady = true;
    const fileUuid = pathOf(recording.recording_url).split("/").pop();
    const link = await api(`/v1/files/${fileUuid}/link`, { method: "POST", signal });
    player.src = pathOf(link.url);
  };
  let relinking = false;
  player.addEventListener("error", async () => {
    // Most likely the link expired: a new one, from where the player was.
    if (relinking || signal.aborted || !recording.recording_url) return;
    relinking = true;
    const at = player.currentTime;
    const playing = !player.paused;
    audioReady = false;
    try {
      player.addEventListener("loadedmetadata", () => {
        player.currentTime = at;
        if (playing) player.play().catch(() => {});
      }, { once: true });
      await loadAudio();
    } catch (error) {
      if (!signal.aborted) playerBox.prepend(h("p.notice.error", { role: "alert" }, `The audio cannot be played: ${error.message}`));
    } finally {
      setTimeout(() => (relinking = false), 5000);
    }
  });
  if (!recording.recording_url) {
    playerBox.prepend(h("p.notice", {}, audioNotice(recording)));
  }
  await loadAudio();

  // The transcript.
  const drawTranscript = async () => {
    const t = recording.transcription;
    if (!t) {
      put(transcriptBox, h("p.notice", {}, "No transcription was asked for this recording."));
      return false;
    }
    if (t.status === "failed") {
      put(transcriptBox, h("p.notice.error", {}, `The transcription failed: ${t.error || "no reason given"}`));
      return false;
    }
    if (t.status !== "done" || !t.transcription_url) {
      put(transcriptBox, h("p.notice", { role: "status" }, `Transcription ${t.status}… this page updates itself.`));
      return true;
    }
    const doc = await api(pathOf(t.transcription_url), { signal });
    const grid = transcriptGrid(doc, seek);
    const warnings = (doc.warnings || []).map((w) => h("p.notice.error", {}, w.message));
    const empty = doc.channels.every((c) => !c.transcript.length)
      ? h("p.notice", {}, "Nobody spoke: every channel is silent.")
      : null;
    put(transcriptBox, ...warnings, empty ?? grid);
    put(side, ...analytics(doc, seek));
    follower = new Follower(grid);
    land(grid, params, doc, player);
    return false;
  };
  if (await drawTranscript()) {
    poll(async () => {
      recording = await api(`/v1/recordings/${uuid}`, { signal });
      showMeta();
      await loadAudio();
      return drawTranscript();
    }, signal, 2000);
  }

  // The highlight follows the player, frame by frame while it plays.
  let frame = 0;
  const tick = () => {
    const moved = follower?.update(player.currentTime * 1000);
    if (moved && follow.checked && !player.paused) moved.closest(".sentence").scrollIntoView({ block: "nearest" });
    frame = player.paused || signal.aborted ? 0 : requestAnimationFrame(tick);
  };
  player.addEventListener("play", () => { if (!frame) frame = requestAnimationFrame(tick); });
  for (const name of ["timeupdate", "seeked", "pause"]) {
    player.addEventListener(name, () => follower?.update(player.currentTime * 1000));
  }
  signal.addEventListener("abort", () => {
    cancelAnimationFrame(frame);
    player.pause();
    player.removeAttribute("src");
  });

  hooks.append(h("h2", {}, "Webhooks"));
  hooks.append(await deliveryList({ recordingUuid: uuid, signal }));
}

function facts(r) {
  const t = r.transcription;
  return [
    ["Status", [badge(r.status), r.error ? h("span.error", {}, ` ${r.error}`) : null]],
    ["Duration", duration(r.duration)],
    ["Channels", r.channels ?? "—"],
    ["Format", r.format ?? "—"],
    ["Transcription", t ? badge(t.status) : "not asked"],
    ["Language", t?.language ?? "—"],
    ["Ended by", r.end_reason ?? "—"],
    ["Created", when(r.created_at)],
    ["Expires", when(r.expires_at)],
    ["Conversation", h("code", {}, r.conversation_uuid), "div.wide"],
  ];
}

function audioNotice(r) {
  if (r.status === "failed") return `No audio: the recording failed (${r.error || "no reason given"}).`;
  if (r.status === "ready") return "The audio file has been deleted.";
  return `The audio is not stored yet (${r.status}).`;
}

/** Questions, answers (with the question they answer) and action items, each a link into
 * the transcript; the average sentiment of each channel where the document has one. */
function analytics(doc, seek) {
  const sentence = (c, i) => doc.channels[c]?.transcript[i];
  const item = (c, i, text) => {
    const s = sentence(c, i);
    if (!s) return null;
    return h(
      "li",
      {},
      h("span.when", {}, `${clock(s.timestamp)} · ${channelName(c)} `),
      h("button.link", { type: "button", onclick: () => jump(c, i, s, seek) }, text),
    );
  };
  const collect = (key) =>
    doc.channels.flatMap((ch, c) => ch.transcript.flatMap((s, i) => (s[key] || []).map((text) => [s.timestamp, c, i, text])))
      .sort((x, y) => x[0] - y[0])
      .map(([, c, i, text]) => item(c, i, text));

  const out = [];
  const section = (title, items, none) => {
    out.push(h("h2", {}, title), items.length ? h("ul", {}, items) : h("p.muted", {}, none));
  };
  section("Questions", collect("questions"), "No questions.");
  const pairs = (doc.qa_pairs || []).map((p) =>
    h(
      "li",
      {},
      item(p.question.channel, p.question.sentence, p.question.text) ?? p.question.text,
      h("ul", {}, item(p.answer.channel, p.answer.sentence, p.answer.text)),
    ),
  );
  section("Answers", pairs.length ? pairs : collect("answers"), "No answers.");
  section("Action items", collect("action_items"), "No action items.");

  const moods = doc.channels
    .map((ch, c) => [c, ch.transcript.map((s) => s.sentiment).filter((v) => typeof v === "number")])
    .filter(([, values]) => values.length);
  if (moods.length) {
    out.push(
      h("h2", {}, "Sentiment"),
      h(
        "ul",
        {},
        moods.map(([c, values]) =>
          h("li", {}, `${channelName(c)}: `, sentimentBadge(values.reduce((a, b) => a + b, 0) / values.length), " on average"),
        ),
      ),
    );
  }
  return out;
}

function jump(c, i, s, seek) {
  const el = document.getElementById(`s-${c}-${i}`);
  el?.scrollIntoView({ block: "center" });
  el?.querySelector("button.time")?.focus({ preventScroll: true });
  seek(s.timestamp);
}

/** Opened from a search result (?channel=&t=, and &s= the sentence's index when known): mark
 * that sentence, bring it into view, and put the player there. */
function land(grid, params, doc, player) {
  if (!params.has("t")) return;
  const channel = Number(params.get("channel") || 0);
  const t = Number(params.get("t"));
  let el = params.has("s") ? grid.querySelector(`#s-${channel}-${Number(params.get("s"))}`) : null;
  if (!el) {
    const candidates = [...grid.querySelectorAll(`.sentence[data-channel="${channel}"]`)];
    el = candidates.filter((c) => Number(c.dataset.timestamp) <= t).at(-1) ?? candidates[0];
  }
  if (!el) return;
  el.classList.add("target");
  el.dataset.target = "true";
  el.scrollIntoView({ block: "center" });
  el.querySelector("button.time")?.focus({ preventScroll: true });
  const at = Number(el.dataset.timestamp) / 1000;
  if (player.readyState >= 1) player.currentTime = at;
  else player.addEventListener("loadedmetadata", () => (player.currentTime = at), { once: true });
}
