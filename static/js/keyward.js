// Screen readers hear "Copied" from a live region of its own: never the secret, never by
// re-reading the panel that holds it.
function announce(text) {
  let region = document.getElementById("kw-announcer");
  if (!region) {
    region = document.createElement("p");
    region.id = "kw-announcer";
    region.className = "visually-hidden";
    region.setAttribute("aria-live", "polite");
    document.body.append(region);
  }
  region.textContent = "";
  setTimeout(() => { region.textContent = text; }, 50);
}

// Copy buttons: <button data-copy="#element-id">Copy</button> copies that element's text.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source) return;
  await navigator.clipboard.writeText(source.textContent.trim());
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  button.textContent = "Copied";
  // A secret panel announces through its own small live region, saying what was copied.
  const status = button.closest("[data-secret-panel]")?.querySelector("[data-copy-status]");
  if (status) {
    const what = button.dataset.copy.includes("curl") ? "The curl line" : "The secret";
    status.textContent = "";
    setTimeout(() => { status.textContent = `${what} was copied to the clipboard.`; }, 50);
    setTimeout(() => { status.textContent = ""; }, 4000);
  } else {
    announce("Copied to the clipboard.");
  }
  setTimeout(() => { button.textContent = label; }, 1500);
});

// Form errors come back as 400 with the form re-rendered and X-Form-Errors (accounts/http.py);
// htmx swaps them in place (the htmx-config meta in base.html). Under DEBUG, django-htmx's
// script takes every 400 for an error page and replaces the whole document with it: this
// capture listener on window runs first and keeps form answers from reaching it.
window.addEventListener("htmx:beforeOnLoad", (event) => {
  const xhr = event.detail.xhr;
  if (xhr && xhr.status === 400 && xhr.getResponseHeader("X-Form-Errors")) event.stopPropagation();
}, true);

// Scope picker. Without JavaScript the server expands "All of <domain>" and the role presets;
// with it, they also tick the boxes they stand for, and follow the boxes as they change.
function scopeBoxes(root) {
  return [...root.querySelectorAll('input[name="scopes"]:not([data-preset]):not(:disabled)')];
}

function syncScopePicker(picker) {
  const checked = new Set(scopeBoxes(picker).filter((box) => box.checked).map((box) => box.value));
  picker.querySelectorAll("[data-domain]").forEach((domain) => {
    const boxes = scopeBoxes(domain);
    const on = boxes.filter((box) => box.checked).length;
    const toggle = domain.querySelector("[data-domain-toggle]");
    if (!toggle || toggle.disabled) return;
    toggle.checked = boxes.length > 0 && on === boxes.length;
    toggle.indeterminate = on > 0 && on < boxes.length;
  });
  picker.querySelectorAll("[data-preset]:not(:disabled)").forEach((preset) => {
    preset.checked = preset.dataset.preset.split(" ").every((name) => checked.has(name));
  });
}

document.addEventListener("change", (event) => {
  const box = event.target;
  const picker = box.closest("[data-scope-picker]");
  if (!picker) return;
  if (box.matches("[data-domain-toggle]")) {
    scopeBoxes(box.closest("[data-domain]")).forEach((b) => { b.checked = box.checked; });
  } else if (box.matches("[data-preset]")) {
    const names = new Set(box.dataset.preset.split(" "));
    scopeBoxes(picker).forEach((b) => { if (names.has(b.value)) b.checked = box.checked; });
  }
  syncScopePicker(picker);
});

// Picking a date means "expires on a date".
document.addEventListener("input", (event) => {
  if (event.target.id !== "id_expires_on" || !event.target.value) return;
  const expiry = document.getElementById("id_expiry");
  if (expiry && [...expiry.options].some((o) => o.value === "date")) expiry.value = "date";
});

// A new secret takes the focus, so keyboard and screen-reader users land on it. The panel
// stops being a live region: focus reads it once, and "Copied" must not read it again.
function focusSecret(panel) {
  panel.removeAttribute("role");
  panel.removeAttribute("aria-live");
  // A panel that is focusable itself (labelled by its title) takes the focus; else the secret does.
  const target = panel.hasAttribute("tabindex") ? panel : panel.querySelector("[data-secret], .secret-row > code") || panel;
  if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
  target.focus({ preventScroll: false });
}

// One new secret on the page at a time: a newer panel (a rotation after a creation) removes
// the one shown before, so #new-token-secret stays unique and Copy copies the newest secret.
document.addEventListener("htmx:load", (event) => {
  const elt = event.detail.elt;
  const fresh = elt.matches?.("[data-secret-panel]") ? elt : elt.querySelector?.("[data-secret-panel]");
  if (!fresh) return;
  document.querySelectorAll("[data-secret-panel]").forEach((panel) => {
    if (panel !== fresh) panel.remove();
  });
  focusSecret(fresh);
});

// The current page in every tab bar, for navs whose template did not mark it: the link to
// this very path, else the longest one this path lies under.
function markCurrent() {
  document.querySelectorAll("nav.tabs").forEach((nav) => {
    if (nav.querySelector("[aria-current]")) return;
    const here = location.pathname;
    let best = null;
    nav.querySelectorAll("a[href]").forEach((link) => {
      const path = new URL(link.href, location.href).pathname;
      if (here === path || (here.startsWith(path) && path !== "/")) {
        if (!best || path.length > new URL(best.href, location.href).pathname.length) best = link;
      }
    });
    if (best) best.setAttribute("aria-current", "page");
  });
  // On a phone the tab bar scrolls in its own box: bring the current tab into it.
  document.querySelectorAll("nav.tabs").forEach((nav) => {
    const current = nav.querySelector("[aria-current]");
    if (current && nav.scrollWidth > nav.clientWidth) {
      nav.scrollLeft = current.offsetLeft - nav.offsetLeft - 12;
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  markCurrent();
  const panel = document.querySelector("[data-secret-panel]");
  if (panel) focusSecret(panel);
});

// After a form error the focus goes to what is wrong: the form's error summary when it has one,
// else its first invalid field, so keyboard and screen-reader users land on the problem rather
// than at the top of the page (WCAG 3.3.1). Full page answers (no JavaScript on the way in,
// or a 400 page) and htmx swaps alike.
function focusFirstError(root) {
  const target = root.querySelector(".error-summary, form [role='alert']") || root.querySelector("[aria-invalid='true']");
  if (!target) return;
  if (!target.matches("input, select, textarea, button") && !target.hasAttribute("tabindex")) {
    target.setAttribute("tabindex", "-1");
  }
  target.focus();
}

document.addEventListener("DOMContentLoaded", () => {
  if (!document.querySelector("[data-secret-panel]")) focusFirstError(document.getElementById("main") || document);
});

document.addEventListener("htmx:afterSettle", (event) => {
  if (event.detail.xhr && event.detail.xhr.status === 400) focusFirstError(document.getElementById("main") || document);
});

// The expiry preview under the token form's lifetime: the date a token made now expires on
// (the server renders it for the first choice; this follows the select and the date field).
function updateExpiryPreview() {
  const select = document.getElementById("id_expiry");
  const preview = document.getElementById("expiry-preview");
  if (!select || !preview) return;
  const option = select.selectedOptions[0];
  const strong = (text) => { const b = document.createElement("strong"); b.textContent = text; return b; };
  preview.replaceChildren();
  if (option?.dataset.expiresOn) {
    preview.append("This token expires on ", strong(option.dataset.expiresOn), ".");
  } else if (select.value === "date") {
    const picked = document.getElementById("id_expires_on")?.valueAsDate;
    if (picked) {
      const day = picked.toLocaleDateString(undefined, { weekday: "long", year: "numeric", month: "long", day: "numeric", timeZone: "UTC" });
      preview.append("This token expires on ", strong(day), ".");
    } else {
      preview.append("Pick the date it expires on.");
    }
  } else if (select.value === "none") {
    preview.append("This token never expires: it works until revoked.");
  }
}

document.addEventListener("change", (event) => {
  if (event.target.id === "id_expiry" || event.target.id === "id_expires_on") updateExpiryPreview();
});
document.addEventListener("input", (event) => {
  if (event.target.id === "id_expires_on") updateExpiryPreview();
});
