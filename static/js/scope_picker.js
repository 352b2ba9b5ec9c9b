// The compact scope picker of the credential pages (tokens, API keys); keyward.js does the rest.

// Scope picker, compact: each domain's access level (none / read / write / all) ticks the
// boxes it stands for; "read only" ticks every read scope; the filter narrows the list.
// keyward.js keeps the presets and "All of …" toggles in step with the boxes.
const LEVEL_RANK = { none: 0, read: 1, write: 2, all: 3 };

function domainBoxes(domain) {
  return [...domain.querySelectorAll('input[name="scopes"][data-level]:not(:disabled)')];
}

// The levels whose scopes are exactly the boxes ticked (several when a domain has, say, no
// delete scopes, so that "write" and "all" stand for the same boxes).
function levelsOf(domain) {
  const boxes = domainBoxes(domain);
  const on = new Set(boxes.filter((b) => b.checked));
  if (on.size === 0) return ["none"];
  return ["read", "write", "all"].filter((level) => {
    const wanted = boxes.filter((b) => LEVEL_RANK[b.dataset.level] <= LEVEL_RANK[level]);
    return wanted.length === on.size && wanted.every((b) => on.has(b));
  });
}

function showLevels(picker) {
  picker.querySelectorAll("[data-domain]").forEach((domain) => {
    const levels = levelsOf(domain);
    const current = domain.querySelector("[data-level-choice]:checked")?.value;
    const toggle = domain.querySelector("[data-domain-toggle]");
    let level = levels[0] || null; // null: a hand-picked mix
    if (levels.includes(current)) level = current;
    else if (levels.includes("all") && toggle?.checked) level = "all";
    domain.querySelectorAll("[data-level-choice]").forEach((radio) => { radio.checked = radio.value === level; });
    const count = domain.querySelector("[data-domain-count]");
    const on = domainBoxes(domain).filter((b) => b.checked).length;
    if (count) count.textContent = on ? ` · ${on} picked${level ? "" : " (custom)"}` : "";
  });
}

function setUpPickers(root) {
  root.querySelectorAll("[data-scope-picker]").forEach((picker) => {
    picker.querySelectorAll("[data-js-only]").forEach((el) => { el.hidden = false; });
    showLevels(picker);
  });
}

document.addEventListener("DOMContentLoaded", () => setUpPickers(document));
document.addEventListener("htmx:load", (event) => setUpPickers(event.detail.elt));

document.addEventListener("change", (event) => {
  const input = event.target;
  const picker = input.closest("[data-scope-picker]");
  if (!picker) return;
  if (input.matches("[data-level-choice]")) {
    const domain = input.closest("[data-domain]");
    const rank = LEVEL_RANK[input.value];
    domainBoxes(domain).forEach((b) => { b.checked = LEVEL_RANK[b.dataset.level] <= rank; });
    // Let keyward.js bring "All of …" and the presets in step, as after a click on a box.
    domainBoxes(domain)[0]?.dispatchEvent(new Event("change", { bubbles: true }));
  }
  showLevels(picker);
});

document.addEventListener("input", (event) => {
  const filter = event.target;
  if (!filter.matches("[data-scope-filter]")) return;
  const picker = filter.closest("[data-scope-picker]");
  const words = filter.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
  picker.querySelectorAll("[data-domain]").forEach((domain) => {
    const name = domain.querySelector(".domain-name").textContent.toLowerCase();
    let shown = 0;
    domain.querySelectorAll("[data-scope-text]").forEach((label) => {
      const text = `${name} ${label.dataset.scopeText}`;
      const match = words.every((w) => text.includes(w));
      label.hidden = !match;
      if (match) shown += 1;
    });
    domain.hidden = shown === 0;
    const details = domain.querySelector("details");
    if (details && words.length) details.open = shown > 0;
  });
});
