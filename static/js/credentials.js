// The credential pages (tokens, API keys, OAuth clients).

// A form re-rendered with its errors answers 400 with X-Form-Errors (accounts/http.py) and
// htmx swaps it in place (the htmx-config meta in base.html). Under DEBUG, django-htmx's
// script takes every 400 for an error page and replaces the whole document with it; this
// capture listener on window runs first and keeps form answers from reaching it.
window.addEventListener("htmx:beforeOnLoad", (event) => {
  const xhr = event.detail.xhr;
  if (xhr && xhr.status === 400 && xhr.getResponseHeader("X-Form-Errors")) event.stopPropagation();
}, true);
