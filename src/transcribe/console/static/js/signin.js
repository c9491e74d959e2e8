// Signing in: paste a JWT of an application (the console acts as that application).

import { api, claims, signIn, signOut } from "./api.js";
import { h } from "./dom.js";

export function signInView(view, { notice, onSignedIn }) {
  document.title = "Sign in · transcribe console";
  const input = h("textarea", {
    id: "token",
    name: "token",
    dataset: { test: "token-input" },
    spellcheck: "false",
    autocomplete: "off",
    required: true,
    "aria-describedby": "token-help",
  });
  const error = h("p.error", { role: "alert" }, notice || "");
  const button = h("button.primary", { type: "submit", dataset: { test: "sign-in" } }, "Sign in");

  const form = h(
    "form.signin",
    {
      onsubmit: async (event) => {
        event.preventDefault();
        const jwt = input.value.trim();
        if (!claims(jwt)?.application_id) {
          error.textContent = "That is not an application's token: a JWT with an application_id claim.";
          return;
        }
        button.disabled = true;
        error.textContent = "";
        signIn(jwt);
        try {
          await api("/v1/recordings?limit=1");
          onSignedIn();
        } catch (failure) {
          signOut();
          error.textContent = `The service refused the token: ${failure.message}`;
          button.disabled = false;
        }
      },
    },
    h("h1", {}, "Sign in"),
    h(
      "p",
      { id: "token-help" },
      "The console acts as one application, with a token (a JWT) signed by that " +
        "application's private key, the same kind of token the API takes. Mint one with:",
    ),
    h("pre", {}, "transcribe token --application-id <id> --private-key private.pem --ttl 3600"),
    h(
      "p.muted",
      {},
      "--ttl is in seconds (the service takes tokens living up to a day). The token stays in " +
        "this tab only and is forgotten when you close it or sign out.",
    ),
    h("label", { for: "token" }, "Token"),
    input,
    h("div.actions", {}, button),
    error,
  );
  view.append(form);
  input.focus();
}
