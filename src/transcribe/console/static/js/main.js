// The console's router: #/recordings, #/recordings/<uuid>, #/deliveries, #/search?q=.
// Each view draws into <main> and gets an AbortSignal that fires when the user leaves it
// (its requests, timers and player loop stop then).

import { claims, signOut, token } from "./api.js";
import { when } from "./dom.js";
import { deliveriesView } from "./deliveries.js";
import { recordingView } from "./recording.js";
import { recordingsView } from "./recordings.js";
import { searchView } from "./search.js";
import { signInView } from "./signin.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const searchForm = document.getElementById("search");
const searchInput = document.getElementById("search-q");
const who = document.getElementById("who");

const ROUTES = [
  [/^\/recordings\/([0-9a-fA-F-]{36})$/, recordingView, "#/recordings"],
  [/^\/recordings$/, recordingsView, "#/recordings"],
  [/^\/deliveries$/, deliveriesView, "#/deliveries"],
  [/^\/search$/, searchView, null],
];

let leaving = null;
let notice = "";

function route() {
  const hash = location.hash.replace(/^#/, "") || "/recordings";
  const [path, search = ""] = hash.split("?");
  return { path, params: new URLSearchParams(search) };
}

function signedIn() {
  const jwt = token();
  if (!jwt) return false;
  const exp = claims(jwt)?.exp;
  if (typeof exp === "number" && exp * 1000 <= Date.now()) {
    signOut();
    notice = "Your token has expired: mint a new one.";
    return false;
  }
  return true;
}

function showChrome(visible, active) {
  nav.hidden = searchForm.hidden = who.hidden = !visible;
  if (!visible) return;
  const app = claims(token()) || {};
  document.getElementById("who-text").textContent =
    `Application ${String(app.application_id || "?").slice(0, 8)}…, token until ${
      app.exp ? when(new Date(app.exp * 1000).toISOString()) : "?"
    }`;
  for (const link of nav.querySelectorAll("a")) {
    if (link.getAttribute("href") === active) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function render() {
  leaving?.abort();
  const controller = new AbortController();
  leaving = controller;
  const view = document.createElement("div");
  main.replaceChildren(view);
  const { path, params } = route();
  if (!signedIn()) {
    showChrome(false);
    signInView(view, { notice, onSignedIn: render });
    notice = "";
    return;
  }
  const match = ROUTES.find(([pattern]) => pattern.test(path));
  if (!match) {
    location.replace("#/recordings");
    return;
  }
  const [pattern, draw, active] = match;
  showChrome(true, active);
  if (path !== "/search") searchInput.value = "";
  document.title = "transcribe console";
  try {
    await draw(view, { params, args: path.match(pattern).slice(1), signal: controller.signal });
  } catch (error) {
    if (error.name === "AbortError" || controller.signal.aborted) return;
    if (error.status === 401) return; // console:unauthorized redraws the sign-in
    view.replaceChildren();
    const message = document.createElement("p");
    message.className = "error";
    message.setAttribute("role", "alert");
    message.textContent = error.message;
    view.append(message);
  }
}

searchForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const q = searchInput.value.trim();
  if (q) location.hash = `#/search?q=${encodeURIComponent(q)}`;
});

document.getElementById("sign-out").addEventListener("click", () => {
  signOut();
  render();
});

window.addEventListener("console:unauthorized", (event) => {
  notice = `The service refused the token: ${event.detail}`;
  render();
});

window.addEventListener("hashchange", () => {
  render();
  main.focus({ preventScroll: true }); // the next Tab starts in the new page
});

render();
