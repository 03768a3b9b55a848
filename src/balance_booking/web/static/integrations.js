/* /admin/settings/integrations: the banner for bookings whose Google Calendar write is parked. */
(function () {
  "use strict";
  const banner = document.getElementById("parked");
  if (!banner || !window.BB) return;
  const BB = window.BB;
  const zone = banner.dataset.timezone;
  const locale = BB.locale(banner.dataset.lang);

  async function check() {
    // Recent and upcoming bookings (the API allows 62 days per query).
    const today = BB.localDate(new Date(), zone);
    const query = new URLSearchParams({ from: BB.addDays(today, -7), to: BB.addDays(today, 54) });
    const answer = await BB.request("GET", `/api/admin/appointments?${query}`);
    if (!answer.ok || !answer.data) return;
    const parked = answer.data.appointments.filter(
      (a) => a.calendar_event && a.calendar_event.state === "failed" && a.status !== "cancelled"
    );
    if (!parked.length) return;
    const format = new Intl.DateTimeFormat(locale, {
      timeZone: zone,
      weekday: "short",
      day: "numeric",
      month: "short",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    const list = BB.el(
      "ul",
      {},
      parked.map((a) => BB.el("li", { text: `${BB.capitalize(format.format(new Date(a.start)))} · ${a.client_name}` }))
    );
    banner.replaceChildren(
      BB.el("p", {}, [BB.el("strong", { text: banner.dataset.title }), " ", banner.dataset.hint]),
      list,
      BB.el("p", {}, [BB.el("a", { href: "/admin/schedule/#appointments-section", text: banner.dataset.link })])
    );
    banner.dataset.count = String(parked.length);
    banner.hidden = false;
  }

  check();
})();

/* "Disconnect" asks first: the question opens as a modal dialog (Escape or "Keep connected"
   closes it and focus returns to the button); only its own form sends confirm=yes. Without
   JavaScript the button posts without it and the server shows the same question inline. */
(function () {
  "use strict";
  const start = document.getElementById("disconnect-start");
  const dialog = document.getElementById("disconnect-dialog");
  if (!start || !dialog || typeof dialog.showModal !== "function") return;
  const opener = document.getElementById("disconnect-button");
  const cancel = document.getElementById("disconnect-cancel");

  let reopening = false; // the close of an inline question turned modal is not a "no"

  function close() {
    dialog.close();
  }

  function ask() {
    if (dialog.open) {
      // Shown inline (the no-JS answer, ?confirm=disconnect): ask it as the modal it is.
      reopening = true;
      dialog.close();
    }
    dialog.showModal();
    cancel.focus(); // the safe choice first
  }

  start.addEventListener("submit", (event) => {
    event.preventDefault();
    ask();
  });
  cancel.addEventListener("click", (event) => {
    if (!dialog.open) return;
    event.preventDefault();
    close();
  });
  dialog.addEventListener("close", () => {
    if (reopening) {
      reopening = false;
      return;
    }
    if (opener) opener.focus();
  });
  if (dialog.open) ask();
  // A click on the backdrop (outside the dialog's box) is a "no" as well.
  dialog.addEventListener("click", (event) => {
    if (event.target !== dialog) return;
    const box = dialog.getBoundingClientRect();
    const inside =
      event.clientX >= box.left && event.clientX <= box.right &&
      event.clientY >= box.top && event.clientY <= box.bottom;
    if (!inside) close();
  });
})();
