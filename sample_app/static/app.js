// The sample app's pages, in plain JavaScript: no build step, no library.
//
// POST /auth answers with the tokens as cookies. The access token's cookie
// is HttpOnly: this script cannot read it, and neither can a script an
// attacker manages to inject. The browser sends it with every request to
// this origin. A request that changes something (POST, PUT, PATCH, DELETE)
// must also send the CSRF value, which is in the readable cookie
// csrf_access_token, in the X-CSRF-Token header: another site can make a
// browser send the cookie, but cannot read the value to send it back.
//
// The access token lasts minutes, the refresh token days. The refresh
// token's cookie goes only to /auth/refresh and /auth/revoke: when a request
// is refused for want of a valid access token, call() gets new cookies at
// /auth/refresh (with the CSRF value of csrf_refresh_token) and tries once
// more.
"use strict";

// The value of the cookie `name`, or null.
function getCookie(name) {
  for (const pair of document.cookie.split("; ")) {
    const eq = pair.indexOf("=");
    if (eq > 0 && pair.slice(0, eq) === name) {
      return decodeURIComponent(pair.slice(eq + 1));
    }
  }
  return null;
}

// fetch with the cookies; the JSON body, or null when there is none.
async function request(url, options = {}) {
  const response = await fetch(url, { credentials: "same-origin", ...options });
  let body = null;
  if ((response.headers.get("Content-Type") || "").startsWith("application/json")) {
    body = await response.json();
  }
  return { response, body };
}

// The request's options with the CSRF value of `cookie`, if it changes
// something.
function withCsrf(options, cookie) {
  const method = (options.method || "GET").toUpperCase();
  const csrf = getCookie(cookie);
  if (["GET", "HEAD", "OPTIONS"].includes(method) || csrf === null) {
    return options;
  }
  return { ...options, headers: { ...options.headers, "X-CSRF-Token": csrf } };
}

// New token cookies for the refresh cookie (204, no body); whether that
// worked.
async function refresh() {
  if (getCookie("csrf_refresh_token") === null) {
    return false;  // logged out, or never logged in
  }
  const options = withCsrf({ method: "POST" }, "csrf_refresh_token");
  const { response } = await request("/auth/refresh", options);
  return response.ok;
}

// request() with the access token, refreshed once if need be.
async function call(url, options = {}) {
  const send = () => request(url, withCsrf(options, "csrf_access_token"));
  let result = await send();
  if (result.response.status === 401 && (await refresh())) {
    result = await send();  // with the new CSRF value, too
  }
  return result;
}

function describe(response, body) {
  if (body && body.description) {
    return body.error ? `${body.error}: ${body.description}` : body.description;
  }
  return `${response.status} ${response.statusText}`;
}

function showLogin() {
  document.getElementById("profile-section").hidden = true;
  document.getElementById("login-section").hidden = false;
  document.getElementById("username").focus();
}

// Shows the profile if the access cookie is valid, else the login form.
async function showProfile() {
  const { response, body } = await call("/api/me");
  if (!response.ok) {
    showLogin();
    return;
  }
  document.getElementById("profile-user").textContent = body.user;
  document.getElementById("profile-roles").textContent =
    body.roles.length ? body.roles.join(", ") : "none";
  document.getElementById("login-section").hidden = true;
  document.getElementById("profile-section").hidden = false;
}

async function logIn(event) {
  event.preventDefault();
  const form = event.target;
  const error = document.getElementById("login-error");
  error.textContent = "";
  const response = await fetch("/auth", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      username: form.elements.username.value,
      password: form.elements.password.value,
    }),
  });
  if (!response.ok) {
    // "Invalid credentials", for a wrong password and an unknown user alike.
    const body = await response.json().catch(() => null);
    error.textContent = body && body.description
      ? body.description
      : describe(response, body);
    return;
  }
  // The body has the tokens too, for API clients: this page never reads
  // it, and relies on the HttpOnly cookies.
  form.reset();
  await showProfile();
}

async function logOut() {
  // Revokes the tokens of this login and clears the cookies. With the CSRF
  // value of the access token; once that has expired, the refresh token's
  // cookie (and so its CSRF value) does.
  const csrf = getCookie("csrf_access_token") ?? getCookie("csrf_refresh_token");
  let failure = null;
  try {
    const { response, body } = await request("/auth/revoke", {
      method: "POST",
      headers: csrf === null ? {} : { "X-CSRF-Token": csrf },
    });
    // 401: nothing left to revoke (the cookies were gone already).
    if (!response.ok && response.status !== 401) {
      failure = describe(response, body);
    }
  } catch (exc) {
    failure = `The server cannot be reached: ${exc}`;
  }
  if (failure !== null) {
    document.getElementById("logout-error").textContent = failure;
    return;  // still logged in: say so, rather than pretend
  }
  showLogin();
}

async function showAdmin() {
  const result = document.getElementById("admin-result");
  const { response, body } = await call("/api/admin");
  result.className = response.ok ? "ok" : "error";
  if (response.ok) {
    result.textContent = body.message;
  } else if (response.status === 401) {
    result.textContent = "You are not logged in.";
  } else {
    // 403 for a user without the admin role.
    result.textContent = describe(response, body);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("login-form");
  if (form) {
    form.addEventListener("submit", logIn);
    document.getElementById("logout-button").addEventListener("click", logOut);
    showProfile();
  }
  if (document.getElementById("admin-result")) {
    showAdmin();
  }
});
