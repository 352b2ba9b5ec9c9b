// Copy buttons: <button data-copy="#element-id">Copy</button> copies that element's text.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source) return;
  await navigator.clipboard.writeText(source.textContent.trim());
  const label = button.textContent;
  button.textContent = "Copied";
  setTimeout(() => { button.textContent = label; }, 1500);
});

// Form errors come back as 400 with the form re-rendered: htmx should show them, not drop them.
document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.xhr.status === 400) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

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

// One new secret on the page at a time: a newer panel (a rotation after a creation) removes
// the one shown before, so #new-token-secret stays unique and Copy copies the newest secret.
document.addEventListener("htmx:load", (event) => {
  const elt = event.detail.elt;
  const fresh = elt.matches?.("[data-secret-panel]") ? elt : elt.querySelector?.("[data-secret-panel]");
  if (!fresh) return;
  document.querySelectorAll("[data-secret-panel]").forEach((panel) => {
    if (panel !== fresh) panel.remove();
  });
});
