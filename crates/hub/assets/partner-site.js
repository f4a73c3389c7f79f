// Partner Hub — the development partner site (/dev/partner-site/{partner_id}), a stand-in for a
// partner's own website: "Connect" opens Integrated Onboarding in a popup, like the vendor's
// connect button; the redirect page posts its query string back to this window and closes.
(() => {
  const site = document.getElementById("partner-site");
  if (!site) return;
  const show = (query) => {
    const params = new URLSearchParams(query);
    const list = (value) => (value || "").replace(/^\[|\]$/g, "").split(",").filter(Boolean);
    const result = { client: params.get("client") || "", channels: list(params.get("channels")) };
    if (params.get("revoked")) result.revoked = list(params.get("revoked"));
    if (params.get("state")) result.state = params.get("state");
    document.getElementById("site-client").textContent = result.client;
    document.getElementById("site-channels").textContent = result.channels.join(", ");
    document.getElementById("site-revoked").textContent = (result.revoked || []).join(", ");
    document.getElementById("site-result").hidden = false;
    document.getElementById("site-json").textContent = JSON.stringify(result);
  };
  if (site.dataset.role === "callback") {
    // The popup landed on the partner's redirect page: hand the result to the opener.
    // The target origin keeps the result from any opener but this site's own page.
    if (window.opener) {
      window.opener.postMessage(window.location.search, window.location.origin);
      window.close();
    } else if (window.location.search) {
      show(window.location.search);
    }
    return;
  }
  window.addEventListener("message", (event) => {
    if (event.origin !== window.location.origin || typeof event.data !== "string") return;
    show(event.data);
  });
  document.getElementById("connect").addEventListener("click", () => {
    const back = `${window.location.origin}${site.dataset.callback}`;
    const url = `${site.dataset.onboarding}?redirect_url=${encodeURIComponent(back)}&state=${encodeURIComponent(site.dataset.state)}`;
    window.open(url, "partner-hub-connect", "toolbar=no, menubar=no, width=600, height=920, top=100, left=100");
  });
})();
