// The /v1 API as the console uses it, with the application's JWT.
//
// The token lives in this tab's sessionStorage: it goes only where this code sends it (the
// Authorization header of same-origin requests), so no other site can make the browser use
// it (no cookie, no CSRF), and it is gone when the tab closes.

const KEY = "transcribe.console.token";

export function token() {
  return sessionStorage.getItem(KEY);
}

export function signIn(jwt) {
  sessionStorage.setItem(KEY, jwt);
}

export function signOut() {
  sessionStorage.removeItem(KEY);
}

/** The token's claims, unverified (the service verifies it): to show who is signed in and
 * until when. null when it is not a JWT. */
export function claims(jwt) {
  try {
    const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const payload = JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "=")));
    return payload && typeof payload === "object" ? payload : null;
  } catch {
    return null;
  }
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** A JSON request to the API; a problem answer becomes an ApiError. A 401 also signs out
 * (the token expired or was refused) and tells the page, which asks for a new one. */
export async function api(path, { method = "GET", signal } = {}) {
  const response = await fetch(path, {
    method,
    signal,
    headers: { Authorization: `Bearer ${token()}`, Accept: "application/json" },
  });
  if (!response.ok) {
    let problem = {};
    try {
      problem = await response.json();
    } catch {
      problem = { title: response.statusText };
    }
    const error = new ApiError(response.status, problem);
    if (response.status === 401) {
      signOut();
      window.dispatchEvent(new CustomEvent("console:unauthorized", { detail: error.message }));
    }
    throw error;
  }
  return response.status === 204 ? null : response.json();
}

/** The path and query of a URL the API handed out (recording_url, transcription_url, a file
 * link): the console asks the server it came from, whatever TRANSCRIBE__PUBLIC_URL says. */
export function pathOf(url) {
  const parsed = new URL(url, location.href);
  return parsed.pathname + parsed.search;
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
