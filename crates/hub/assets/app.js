// Partner Hub — the little script the pages need: copy buttons, confirmations, closing menus.
document.addEventListener("click", (event) => {
  const copy = event.target.closest("[data-copy]");
  if (copy) {
    const text = copy.getAttribute("data-copy");
    const done = () => { const old = copy.textContent; copy.textContent = "Copied"; setTimeout(() => { copy.textContent = old; }, 1500); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, () => {});
    } else {
      const area = document.createElement("textarea");
      area.value = text; document.body.appendChild(area); area.select();
      try { document.execCommand("copy"); done(); } finally { area.remove(); }
    }
    return;
  }
  document.querySelectorAll("details.menu[open]").forEach((menu) => {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  });
});
document.addEventListener("submit", (event) => {
  const message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) event.preventDefault();
});
// A page answered to a form that needs corrections: stay at the form's own address, so the
// address bar is right and reloading shows the page instead of sending the form again.
(() => {
  const page = document.querySelector("meta[name='form-page']");
  if (page && window.history.replaceState) {
    window.history.replaceState(null, "", page.content + window.location.hash);
  }
})();
// On narrow screens the menu is a horizontal strip: bring the current page's entry into view.
document.addEventListener("DOMContentLoaded", () => {
  const current = document.querySelector(".sidebar [aria-current='page']");
  const strip = current && current.closest(".sidebar");
  if (strip && strip.scrollWidth > strip.clientWidth) {
    strip.scrollLeft = current.offsetLeft - (strip.clientWidth - current.offsetWidth) / 2;
  }
});
// Filter selects marked data-autosubmit apply at once; the Apply button remains for keyboards and no-JS.
document.addEventListener("change", (event) => {
  const select = event.target.closest("select[data-autosubmit]");
  if (select && select.form) select.form.requestSubmit ? select.form.requestSubmit() : select.form.submit();
});
// Pages waiting on a background step (a number being set up) reload themselves to show progress.
document.addEventListener("DOMContentLoaded", () => {
  const waiting = document.querySelector("[data-reload-after]");
  const seconds = waiting && Number(waiting.getAttribute("data-reload-after"));
  // A GET of the same address, never a re-sent form.
  if (seconds > 0) setTimeout(() => window.location.replace(window.location.href), seconds * 1000);
});
